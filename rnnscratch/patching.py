"""patch(): the book's own scripts and notebooks, run with the compiled classes.

    import rnnscratch
    rnnscratch.patch()            # before the book's imports
    from common.time_layers import *          # now rnnscratch's TimeRNN, ...

In the spirit of scikit-learn-intelex's ``patch_sklearn()``. From the call on,
the book's library modules of whatever ``common`` package the script imports
(``common.time_layers``, ``common.layers``, ``common.optimizer``,
``common.trainer``, ``common.util``, ``common.base_model``) have the classes
and functions rnnscratch has replaced by ours as soon as the module has run,
so a model file's ``from common.time_layers import *`` picks ours up, and
with it everything else the module defines (``np``, helpers, ``GPU``,
classes we do not have). Modules already imported are patched at once, and
names a module copied from them (``from common.time_layers import *`` run
before the patch, in a notebook's namespace for instance) are rebound.

``TABLE`` lists each book module and name with the rnnscratch attribute that
replaces it. A row whose rnnscratch attribute does not exist (a layer not
compiled yet) is not applied; ``patched()`` reports it as 'not available'.
Only compiled classes replace the book's, never rnnscratch.reference.

    patch(exclude=['TimeRNN'])    # keep the student's own TimeRNN
    patched()                     # what is replaced, pending, excluded, missing
    unpatch()                     # the book's classes back

``python -m rnnscratch run SCRIPT [ARGS]`` runs a script with the patch on,
as ``python SCRIPT [ARGS]`` would; ``%load_ext rnnscratch`` turns it on in
Jupyter.
"""
import builtins
import collections
import importlib.abc
import os
import sys
import threading
import tokenize
import traceback
import types
import warnings

__all__ = ["patch", "unpatch", "patched", "report", "is_patched", "TABLE", "PatchEntry",
           "PatchList", "run_path"]

# (module inside the book's package, name there, rnnscratch attribute that replaces it)
TABLE = (
    ("time_layers", "RNN", "RNN"),
    ("time_layers", "TimeRNN", "TimeRNN"),
    ("time_layers", "LSTM", "LSTM"),
    ("time_layers", "TimeLSTM", "TimeLSTM"),
    ("time_layers", "GRU", "GRU"),
    ("time_layers", "TimeGRU", "TimeGRU"),
    ("time_layers", "TimeEmbedding", "TimeEmbedding"),
    ("time_layers", "TimeAffine", "TimeAffine"),
    ("time_layers", "TimeSoftmaxWithLoss", "TimeSoftmaxWithLoss"),
    ("time_layers", "TimeDropout", "TimeDropout"),
    ("time_layers", "TimeBiLSTM", "TimeBiLSTM"),
    ("time_layers", "TimeSigmoidWithLoss", "TimeSigmoidWithLoss"),
    ("layers", "MatMul", "MatMul"),
    ("layers", "Affine", "Affine"),
    ("layers", "Softmax", "Softmax"),
    ("layers", "SoftmaxWithLoss", "SoftmaxWithLoss"),
    ("layers", "Sigmoid", "Sigmoid"),
    ("layers", "SigmoidWithLoss", "SigmoidWithLoss"),
    ("layers", "Dropout", "Dropout"),
    ("layers", "Embedding", "Embedding"),
    ("optimizer", "SGD", "SGD"),
    ("optimizer", "Momentum", "Momentum"),
    ("optimizer", "Nesterov", "Nesterov"),
    ("optimizer", "AdaGrad", "AdaGrad"),
    ("optimizer", "RMSprop", "RMSprop"),
    ("optimizer", "Adam", "Adam"),
    ("trainer", "Trainer", "Trainer"),
    ("trainer", "RnnlmTrainer", "RnnlmTrainer"),
    ("util", "clip_grads", "clip_grads"),
    ("util", "eval_perplexity", "eval_perplexity"),
    ("util", "eval_seq2seq", "eval_seq2seq"),
    ("base_model", "BaseModel", "BaseModel"),
)

PACKAGES = ("common",)

PatchEntry = collections.namedtuple("PatchEntry", "module name replacement status")
PatchEntry.__doc__ = """One row of patched(): the book's ``module`` and ``name``, the
``replacement`` ('rnnscratch.TimeRNN') and ``status``: 'replaced' (ours is in
the loaded module), 'pending' (the module is not imported yet; ours will be),
'excluded' (patch(exclude=...)), 'not available' (rnnscratch has no class of
that name yet), 'not compiled' (rnnscratch's class of that name is NumPy code,
like the book's: not swapped in), 'not defined' (the loaded module has no such name),
'off' (patch() is not on)."""

class PatchList(list):
    """patched()'s list of PatchEntry; shown as a table (report())."""

    def __repr__(self):
        return report(self)

    __str__ = __repr__


_lock = threading.RLock()


class _State:
    def __init__(self):
        self.active = False
        self.exclude = frozenset()
        self.packages = PACKAGES
        self.finder = None
        # (module, name, original, replacement) of every rebinding made
        self.records = []
        self.modules_before = frozenset()
        self.gpu_warned = set()


_state = _State()


def _replacement(attr):
    """The compiled rnnscratch object for a TABLE attribute, or None."""
    obj = _lookup(attr)
    if obj is None:
        return None
    if _numpy_only(obj):
        return None  # only compiled classes replace the book's
    return obj


def _numpy_only(obj):
    """Whether obj is NumPy code of rnnscratch.reference: a reference class, or
    a class of the package that runs the reference's forward (Softmax,
    Dropout, ... under their compiled-package names)."""
    module = getattr(obj, "__module__", "") or ""
    if module.startswith("rnnscratch.reference"):
        return True
    if isinstance(obj, type):
        forward = getattr(obj, "forward", None)
        return (getattr(forward, "__module__", "") or "").startswith("rnnscratch.reference")
    return False


def _exists(attr):
    """Whether rnnscratch has the attribute at all (compiled or not)."""
    return _lookup(attr) is not None


def _lookup(attr):
    """rnnscratch's object at the dotted TABLE attribute, or None."""
    import rnnscratch

    obj = rnnscratch
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _suffix_of(fullname):
    """'time_layers' for 'common.time_layers' (a patched package), else None."""
    pkg, _, suffix = fullname.rpartition(".")
    if pkg in _state.packages and any(suffix == row[0] for row in TABLE):
        return suffix
    return None


def _excluded(package, suffix, name):
    ex = _state.exclude
    return (name in ex or "%s.%s" % (suffix, name) in ex
            or "%s.%s.%s" % (package, suffix, name) in ex)


def _gpu_mode(package):
    config = sys.modules.get(package + ".config")
    return bool(getattr(config, "GPU", False))


def _apply(module, suffix):
    """Put ours into a book module (just executed, or already loaded)."""
    package = module.__name__.rpartition(".")[0]
    if _gpu_mode(package):
        if package not in _state.gpu_warned:  # once per package, not once per module
            _state.gpu_warned.add(package)
            warnings.warn("rnnscratch.patch(): %s/config.py says GPU is True (CuPy arrays), "
                          "and the compiled classes take NumPy arrays, so the book's classes "
                          "are left as they are. To use rnnscratch, set GPU = False in "
                          "%s/config.py." % (package.replace(".", "/"), package.replace(".", "/")),
                          RuntimeWarning, stacklevel=3)
        return []
    done = []
    for mod_suffix, name, attr in TABLE:
        if mod_suffix != suffix or _excluded(package, suffix, name):
            continue
        ours = _replacement(attr)
        if ours is None or name not in module.__dict__:
            continue
        current = module.__dict__[name]
        if current is ours:
            continue
        _state.records.append((module, name, current, ours))
        setattr(module, name, ours)
        done.append((name, current, ours))
    return done


def _is_own_module(name):
    return name == "rnnscratch" or name.startswith("rnnscratch.")


def _rebind_copies(done, skip):
    """Modules that copied a replaced original (``from common.time_layers
    import *`` run before patch()) get ours under the same name."""
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or mod is skip or _is_own_module(mod_name):
            continue
        d = getattr(mod, "__dict__", None)
        if not isinstance(d, dict):
            continue
        for name, original, ours in done:
            if d.get(name) is original:
                _state.records.append((mod, name, original, ours))
                d[name] = ours


class _Loader(importlib.abc.Loader):
    """Runs the book module with its own loader, then puts ours in."""

    def __init__(self, loader, suffix):
        self._loader = loader
        self._suffix = suffix

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # the module keeps its real loader (tracebacks, inspect, reload)
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        with _lock:
            if _state.active:
                _apply(module, self._suffix)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the book's modules with the other finders, wraps their loader."""

    def find_spec(self, fullname, path, target=None):
        suffix = _suffix_of(fullname)
        if suffix is None:
            return None
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, _Finder):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader, suffix)
        return spec


def _normalize_exclude(exclude):
    if exclude is None:
        return frozenset()
    if isinstance(exclude, str):
        exclude = [exclude]
    try:
        items = list(exclude)
    except TypeError:
        raise TypeError("exclude: expected a list of names such as ['TimeRNN'], got %s"
                        % type(exclude).__name__) from None
    known = {name for _, name, _ in TABLE}
    out = set()
    for item in items:
        if not isinstance(item, str):
            raise TypeError("exclude: expected names (str), got %r" % (item,))
        name = item.rpartition(".")[2]
        if name not in known:
            raise ValueError("exclude: %r is not a name patch() replaces; the names are: %s"
                             % (item, ", ".join(sorted(known))))
        out.add(item)
    return frozenset(out)


def _normalize_packages(packages):
    if isinstance(packages, str):
        packages = (packages,)
    packages = tuple(packages)
    for p in packages:
        if not isinstance(p, str) or not p or not all(s.isidentifier() for s in p.split(".")):
            raise ValueError("packages: expected package names such as 'common', got %r" % (p,))
    return packages


def patch(exclude=None, packages=PACKAGES):
    """Replace the book's classes by rnnscratch's, now and on every later import.

    exclude : names to leave alone ('TimeRNN', or 'time_layers.TimeRNN', or
        'common.time_layers.TimeRNN'), e.g. a class the student wrote.
    packages : the package names of the book's library (default ('common',)).
    Calling patch() again replaces the previous settings. Returns patched().
    """
    exclude = _normalize_exclude(exclude)
    packages = _normalize_packages(packages)
    with _lock:
        if _state.active:
            unpatch()
        _state.exclude = exclude
        _state.packages = packages
        _state.records = []
        _state.gpu_warned = set()
        _state.modules_before = frozenset(sys.modules)
        _state.finder = _Finder()
        sys.meta_path.insert(0, _state.finder)
        _state.active = True
        for package in packages:
            for suffix in dict.fromkeys(row[0] for row in TABLE):
                module = sys.modules.get("%s.%s" % (package, suffix))
                if module is not None:
                    done = _apply(module, suffix)
                    _rebind_copies(done, module)
    return patched()


def unpatch():
    """Put the book's classes back: in its modules, in the modules patch()
    rebound, and in modules imported while the patch was on (a model file
    that star-imported ours). Returns patched()."""
    with _lock:
        if not _state.active:
            return patched()
        if _state.finder in sys.meta_path:
            sys.meta_path.remove(_state.finder)
        originals = {}
        for module, name, original, ours in reversed(_state.records):
            if module.__dict__.get(name) is ours:
                setattr(module, name, original)
            originals[(name, id(ours))] = (original, ours)
        for mod_name, mod in list(sys.modules.items()):
            if (mod is None or _is_own_module(mod_name)
                    or (mod_name in _state.modules_before and mod_name != "__main__")):
                continue
            d = getattr(mod, "__dict__", None)
            if not isinstance(d, dict):
                continue
            for (name, _), (original, ours) in originals.items():
                if d.get(name) is ours:
                    d[name] = original
        _state.records = []
        _state.active = False
        _state.finder = None
    return patched()


def is_patched():
    """Whether patch() is on."""
    return _state.active


def patched():
    """A PatchEntry (module, name, replacement, status) for every TABLE row and
    book package: what is replaced, pending, excluded or not available (a
    list, printed as a table)."""
    out = PatchList()
    with _lock:
        current = {(m.__name__, n) for m, n, _, ours in _state.records
                   if m.__dict__.get(n) is ours}
        for package in _state.packages:
            for suffix, name, attr in TABLE:
                modname = "%s.%s" % (package, suffix)
                ours = _replacement(attr)
                module = sys.modules.get(modname)
                if ours is None:
                    status = "not compiled" if _exists(attr) else "not available"
                elif not _state.active:
                    status = "off"
                elif _excluded(package, suffix, name):
                    status = "excluded"
                elif (modname, name) in current:
                    status = "replaced"
                elif module is None:
                    status = "pending"
                elif name not in module.__dict__:
                    status = "not defined"
                elif _gpu_mode(package):
                    status = "not replaced (GPU mode)"
                else:
                    status = "replaced" if module.__dict__[name] is ours else "not replaced"
                out.append(PatchEntry(modname, name, "rnnscratch." + attr, status))
    return out


def report(entries=None):
    """patched() as a text table."""
    entries = patched() if entries is None else entries
    width = max((len(e.module) + len(e.name) + 1 for e in entries), default=10)
    lines = ["%-*s  %-34s  %s" % (width, "book", "rnnscratch", "status")]
    for e in entries:
        lines.append("%-*s  %-34s  %s" % (width, e.module + "." + e.name, e.replacement,
                                          e.status))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# running a script as `python SCRIPT` would, with the patch on
# --------------------------------------------------------------------------

def _script_traceback(exc, code_filename):
    """Print a traceback that starts at the script's frame, as `python SCRIPT`."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != code_filename:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb if tb is not None else exc.__traceback__)


# A module the book's scripts import, by the name pip installs it under when
# that differs from the module's (matplotlib comes with rnnscratch's `book` extra).
PIP_NAMES = {
    "matplotlib": '"rnnscratch[book]"',
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
}
# rnnscratch's own optional dependencies: a missing one is a missing module,
# wherever it is imported from (rnnscratch's RnnlmTrainer.plot imports matplotlib)
_OPTIONAL = ("matplotlib", "torch")


def _import_site(exc):
    """The file of the innermost frame that is not the import machinery."""
    site = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith("<frozen importlib"):
            site = filename
        tb = tb.tb_next
    return site


def _own_file(filename):
    here = os.path.dirname(os.path.realpath(__file__))
    return bool(filename) and os.path.realpath(filename).startswith(here + os.sep)


def _missing_module_line(exc, script, script_dir):
    """One line for a ModuleNotFoundError the script met (a module that is not
    installed, or a book module that is not on the path), or None when the
    error is rnnscratch's own and its traceback must show."""
    name = getattr(exc, "name", None)
    if not isinstance(exc, ModuleNotFoundError) or not name:
        return None
    top = name.partition(".")[0]
    if top == "rnnscratch":
        return None
    if _own_file(_import_site(exc)) and top not in _OPTIONAL:
        return None
    where = os.path.basename(script)
    if top == "cupy":
        return ("rnnscratch run: %s imports cupy (the book's common/config.py says GPU = True), "
                "which is not installed: set GPU = False in common/config.py to run on the "
                "CPU with rnnscratch" % where)
    if name != top:
        import importlib.util

        try:
            top_found = importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            top_found = False
        if top_found:  # a package without that submodule: not an install problem
            return None
    parent = os.path.dirname(script_dir)
    if os.path.isdir(os.path.join(parent, top)) or os.path.isfile(os.path.join(parent,
                                                                          top + ".py")):
        # the book's `sys.path.append('..')` counts from the working directory
        return ("rnnscratch run: No module named %r: the book's %s is in %s, which the "
                "script's sys.path.append('..') reaches only when run from its own folder: "
                "cd %s and run python -m rnnscratch run %s"
                % (top, top, parent, script_dir, where))
    # a module of the book that lives in another chapter's folder?
    try:
        siblings = sorted(os.listdir(parent))
    except OSError:
        siblings = []
    for d in siblings:
        folder = os.path.join(parent, d)
        if folder != script_dir and (os.path.isfile(os.path.join(folder, top + ".py"))
                                     or os.path.isfile(os.path.join(folder, top,
                                                                    "__init__.py"))):
            return ("rnnscratch run: No module named %r: it is the book's %s/%s.py, and "
                    "%s is not on sys.path (add sys.path.append('../%s') to %s)"
                    % (top, d, top, os.path.join("..", d), d, where))
    return ("rnnscratch run: %s needs the module %r, which is not installed: "
            "pip install %s" % (where, top, PIP_NAMES.get(top, top)))


def _imported_names(code_source, filename):
    """The top-level module names a script imports (at any depth of its code)."""
    import ast

    try:
        tree = ast.parse(code_source, filename)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.partition(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.partition(".")[0])
    return names


def _book_layout_paths(source, abspath, script_dir):
    """Folders to add for the book's ch08 layout: a script in ch08/ that imports
    chapter 7's modules (``from ch07.peeky_seq2seq import ...``, whose file
    imports ``seq2seq`` relative to ch07: the book's own bug) gets ../ch07."""
    if os.path.basename(script_dir) != "ch08":
        return []
    ch07 = os.path.join(os.path.dirname(script_dir), "ch07")
    if not os.path.isdir(ch07):
        return []
    names = _imported_names(source, abspath)
    if "ch07" in names or any(
            os.path.isfile(os.path.join(ch07, n + ".py"))
            and not os.path.isfile(os.path.join(script_dir, n + ".py")) for n in names):
        return [ch07]
    return []


def run_path(script, args=(), exclude=None, packages=PACKAGES, verbose=False):
    """Run SCRIPT with ARGS as ``python SCRIPT ARGS`` would, with patch() on.

    sys.argv = [SCRIPT, *ARGS]; sys.path[0] is the script's directory (in
    place of the directory ``python -m`` put there); the working directory is
    left as it is; the script runs as ``__main__`` with ``__file__`` set.
    Returns the exit status: 0, the script's sys.exit() code, or 1 after an
    uncaught exception (its traceback printed from the script's frame on).

    Two things differ from plain python, both for the book's repository:
    a script in ``ch08/`` that imports chapter 7's modules gets ``../ch07``
    at the end of sys.path (the book's ch07/peeky_seq2seq.py imports
    ``seq2seq`` relative to ch07, so ch08/train.py fails under plain python);
    and a module the script needs that is not installed (matplotlib, ...) is
    one line naming it and the pip command, status 1, no traceback. A
    ModuleNotFoundError raised in rnnscratch's own code keeps its traceback.
    ``verbose`` says what was added to sys.path (stderr).
    """
    path = os.fspath(script)
    abspath = os.path.abspath(path)
    with tokenize.open(abspath) as f:  # honours an encoding declaration
        source = f.read()
    code = compile(source, abspath, "exec", dont_inherit=True)

    import importlib.machinery

    main = types.ModuleType("__main__")
    main.__file__ = abspath
    main.__builtins__ = builtins
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", abspath)
    main.__spec__ = None
    main.__package__ = None
    main.__cached__ = None

    script_dir = os.path.dirname(os.path.realpath(abspath))
    cwd = os.getcwd()
    if sys.path and sys.path[0] in ("", cwd, "."):
        sys.path[0] = script_dir
    else:
        sys.path.insert(0, script_dir)
    for folder in _book_layout_paths(source, abspath, script_dir):
        if folder not in sys.path:
            sys.path.append(folder)
            if verbose:
                print("rnnscratch run: %s is in the book's ch08/ and imports chapter 7's "
                      "modules; ch07/peeky_seq2seq.py imports seq2seq relative to ch07 (the "
                      "book's own bug), so %s was added to sys.path"
                      % (os.path.basename(path), folder), file=sys.stderr)
    sys.argv = [path, *args]
    sys.modules["__main__"] = main

    patch(exclude=exclude, packages=packages)
    try:
        exec(code, main.__dict__)
    except SystemExit as e:
        code_ = e.code
        if code_ is None:
            return 0
        if isinstance(code_, int):
            return code_
        print(code_, file=sys.stderr)
        return 1
    except BaseException as e:  # as the interpreter: traceback, status 1
        sys.stdout.flush()
        line = _missing_module_line(e, path, script_dir) if isinstance(e, ImportError) else None
        if line is not None:
            print(line, file=sys.stderr)
            return 1
        _script_traceback(e, abspath)
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    finally:
        sys.stdout.flush()
    return 0
