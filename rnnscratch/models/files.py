"""The package's files: read without running code, written all or nothing.

load_weights(path)      the book's weights format (a pickled list of float16
                        arrays, common/base_model.py) read by a restricted
                        unpickler: only lists, tuples, NumPy arrays, dtypes
                        and scalars can be built. The opcodes are read first
                        (pickletools.genops, which builds nothing): a file
                        that names any other global (os.system, builtins.eval,
                        a class, ...) is refused before any object is built,
                        and find_class refuses it again while loading, so a
                        crafted file cannot run code; the error is a
                        ValueError naming the file. Truncated or garbage
                        files: ValueError too.
safe_unpickle(f, name)  the same unpickler over an open binary file.
atomic_write(path, write, mode="wb")
                        write(f) into a temporary file in the same folder,
                        flush, fsync, os.replace over `path`, then fsync of
                        the folder (where the OS supports it). A reader sees
                        the old file or the new one, never a part; an
                        exception or a signal during write(f) leaves the old
                        file as it was and no temporary behind.

Every file the package writes goes through atomic_write: save_params (the
book's weights), and `train`'s best checkpoint, state, log.csv and plot.
"""
import io
import os
import pickle

import numpy as np

__all__ = ["load_weights", "safe_unpickle", "atomic_write", "UnsafePickleError"]


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle names a global that the book's weights format never holds."""


def _numpy_globals():
    """(module, name) -> object, for the names NumPy's pickles of arrays,
    dtypes and scalars use, under NumPy 1.x and 2.x module names."""
    try:
        from numpy._core import multiarray, numeric  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import multiarray, numeric
    out = {}
    for mod in ("numpy.core", "numpy._core"):
        out[(mod + ".multiarray", "_reconstruct")] = multiarray._reconstruct
        out[(mod + ".multiarray", "scalar")] = _scalar(multiarray.scalar)
        out[(mod + ".numeric", "_frombuffer")] = _frombuffer(numeric._frombuffer)
    out[("numpy", "ndarray")] = np.ndarray
    out[("numpy", "dtype")] = _dtype
    out[("builtins", "list")] = list
    out[("builtins", "tuple")] = tuple
    out[("_codecs", "encode")] = _latin1  # protocol 0-2 pickles of bytes
    return out


def _dtype(*args):
    dt = np.dtype(*args)
    if dt.hasobject:
        raise UnsafePickleError(f"an array of Python objects (dtype {dt}), not numbers")
    return dt


def _scalar(scalar):
    def make(dtype, *args):
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            raise UnsafePickleError("a NumPy scalar of Python objects")
        return scalar(dtype, *args)
    return make


def _frombuffer(frombuffer):
    def make(buf, dtype, *args):
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            raise UnsafePickleError("an array of Python objects")
        return frombuffer(buf, dtype, *args)
    return make


def _latin1(text, encoding="latin1", *rest):
    if not isinstance(text, str) or encoding != "latin1" or rest:
        raise UnsafePickleError("_codecs.encode with other arguments than a pickle of bytes")
    return text.encode("latin1")


_ALLOWED = None


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        global _ALLOWED
        if _ALLOWED is None:
            _ALLOWED = _numpy_globals()
        obj = _ALLOWED.get((module, name))
        if obj is None:
            raise UnsafePickleError(
                f"it names {module}.{name}, which the book's weights format (a list of "
                f"NumPy arrays) never holds; refused without running it")
        return obj

    def persistent_load(self, pid):
        raise UnsafePickleError("it holds a persistent id, which the book's weights format "
                                "never does")


_STRINGS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
            "BINSTRING", "STRING"}
_GETS = {"GET", "BINGET", "LONG_BINGET"}
_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}


def _check_globals(data):
    """Every global the pickle `data` names, read from its opcodes without
    building anything (pickletools.genops), must be an allowed one:
    UnsafePickleError otherwise. STACK_GLOBAL takes its names from the two
    pushes before it; when those are not plain strings (a crafted stack),
    the file is refused (fail closed). find_class checks again when loading."""
    import pickletools

    global _ALLOWED
    if _ALLOWED is None:
        _ALLOWED = _numpy_globals()
    memo, pushed = {}, []  # pushed: the values of the latest pushes we can name
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name in ("GLOBAL", "INST"):
            module, _, attr = arg.partition(" ")
            if (module, attr) not in _ALLOWED:
                raise UnsafePickleError(f"it names {module}.{attr}, which the book's weights "
                                        f"format (a list of NumPy arrays) never holds; "
                                        f"refused without running it")
        elif name == "STACK_GLOBAL":
            if len(pushed) < 2 or not all(isinstance(x, str) for x in pushed[-2:]):
                raise UnsafePickleError("it names a global through a crafted stack")
            module, attr = pushed[-2], pushed[-1]
            if (module, attr) not in _ALLOWED:
                raise UnsafePickleError(f"it names {module}.{attr}, which the book's weights "
                                        f"format (a list of NumPy arrays) never holds; "
                                        f"refused without running it")
        elif name in ("OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4",
                      "PERSID", "BINPERSID"):
            if name.startswith("EXT") or "PERSID" in name:
                raise UnsafePickleError(f"it holds a {name} opcode, which the book's weights "
                                        f"format never does")
        if name in _STRINGS:
            pushed.append(arg if isinstance(arg, str) else None)
        elif name in _GETS:
            pushed.append(memo.get(arg))
        elif name in _PUTS:
            memo[arg] = pushed[-1] if pushed else None
        elif name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif name not in ("FRAME", "PROTO"):
            pushed.append(None)  # anything else: a value we do not name


def safe_unpickle(f, name="<file>"):
    """Unpickle from the binary file object `f` allowing only lists, tuples,
    dicts, strings, numbers and NumPy arrays/dtypes/scalars (never objects of
    other classes, never a call of anything else). ValueError naming `name`
    on any refusal or damage."""
    try:
        data = f.read()
        _check_globals(data)  # before anything is built
        return _Unpickler(io.BytesIO(data)).load()
    except UnsafePickleError as e:
        raise ValueError(f"{name}: not a safe pickle: {e}") from None
    except MemoryError:
        raise ValueError(f"{name}: damaged: it asks for more memory than there is") from None
    except Exception as e:  # truncated, garbage, bad opcodes, bad array data
        what = str(e) or type(e).__name__
        if isinstance(e, EOFError):
            what = "it ends early (truncated)"
        raise ValueError(f"{name}: not a readable pickle ({type(e).__name__}: {what})") from None


def load_weights(path):
    """The list of arrays in a weights file of the book's format, read safely
    (see the module docstring). ValueError naming the file when it is not
    one: any other content, a truncated or garbage file."""
    name = os.fspath(path)
    with open(name, "rb") as f:
        data = f.read()
    obj = safe_unpickle(io.BytesIO(data), name)  # the opcodes checked, then loaded
    if isinstance(obj, (list, tuple)) and not all(isinstance(a, np.ndarray) for a in obj):
        bad = next(i for i, a in enumerate(obj) if not isinstance(a, np.ndarray))
        raise ValueError(f"{name}: not the book's weights format: entry {bad} is a "
                         f"{type(obj[bad]).__name__}, expected a NumPy array")
    return obj


def _fsync_dir(folder):
    """fsync of a folder, so that a rename in it survives a power cut (POSIX;
    a no-op where folders cannot be opened, as on Windows)."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:
        return
    try:
        fd = os.open(folder or ".", os.O_RDONLY | flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, write, mode="wb"):
    """Write a file all or nothing: write(f) into `path`'s temporary sibling
    (same folder, so the rename cannot cross file systems), flush, fsync,
    os.replace over `path`, fsync of the folder. On any exception (a
    KeyboardInterrupt included) the temporary is removed and `path` is left
    as it was. mode: "wb", or "w" for text (UTF-8, newline="")."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.tmp")
    kw = {"encoding": "utf-8", "newline": ""} if "b" not in mode else {}
    try:
        with open(tmp, mode, **kw) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)
