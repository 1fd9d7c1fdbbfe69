"""The book's course folder (ゼロから作るDeep Learning ❷'s repository, or a
student's copy): where it is, and its modules imported in isolation. The one
loader of the book's code: check, bench and the tests all use it.

    find_course_dir(course_dir=None, need=None)   DIR, $RNNSCRATCH_COURSE_DIR, or None
    isolated(course_dir, packages, paths=())      import inside, restored after
    load(course_dir, *modules, paths=())          the modules, as a namespace
"""
import contextlib
import importlib
import os
import sys
import types

__all__ = ["find_course_dir", "isolated", "load"]


def find_course_dir(course_dir=None, need=None):
    """``course_dir``, else $RNNSCRATCH_COURSE_DIR, when it holds the file
    ``need`` (a path relative to it, e.g. "ch06/better_rnnlm.py"); else None."""
    d = course_dir or os.environ.get("RNNSCRATCH_COURSE_DIR", "")
    if not d or not os.path.isdir(d):
        return None
    if need is not None and not os.path.isfile(os.path.join(d, need)):
        return None
    return d


@contextlib.contextmanager
def isolated(course_dir, packages, paths=()):
    """Inside: course_dir (and its subfolders ``paths``, e.g. "ch07" for the
    book's flat ``import seq2seq``) first on sys.path, the process's own
    modules named ``packages`` (and their submodules) set aside, patch()'s
    import hook off. After: sys.path, sys.modules and the hook as they were;
    the modules imported inside stay usable through the references kept."""
    from .. import patching

    def ours(k):
        return any(k == p or k.startswith(p + ".") for p in packages)

    saved = {k: v for k, v in sys.modules.items() if ours(k)}
    for k in saved:
        del sys.modules[k]
    old_path = list(sys.path)
    root = os.path.abspath(course_dir)
    sys.path[:0] = [root] + [os.path.join(root, p) for p in paths]
    finder = patching._state.finder
    hooked = finder is not None and finder in sys.meta_path
    if hooked:
        sys.meta_path.remove(finder)
    try:
        yield
    finally:
        for k in [k for k in sys.modules if ours(k)]:
            del sys.modules[k]
        sys.modules.update(saved)
        sys.path[:] = old_path
        if hooked:
            sys.meta_path.insert(0, finder)


def load(course_dir, *modules, paths=()):
    """The course's ``modules`` ("ch06.rnnlm", "common.trainer", ...) imported
    in isolation, as a namespace keyed by each name's last part (rnnlm,
    trainer, ...). The packages set aside are the modules' top-level names
    plus the flat modules the book imports from ``paths``."""
    flat = [os.path.splitext(f)[0] for p in paths
            for f in os.listdir(os.path.join(course_dir, p)) if f.endswith(".py")]
    packages = tuple(dict.fromkeys([m.split(".")[0] for m in modules] + ["common", "dataset"]
                                   + flat))
    with isolated(course_dir, packages, paths):
        return types.SimpleNamespace(**{m.split(".")[-1]: importlib.import_module(m)
                                        for m in modules})
