"""The compiled core, rnnscratch._core, loaded once: every module takes it
from here (``from .._loader import _core``).

Finding it when Python imports rnnscratch from a source tree:

`pip install .` in a clone builds rnnscratch._core into site-packages, but
`python -m rnnscratch ...` or `python -m pytest` run from the clone's root put
the clone first on sys.path, so `import rnnscratch` finds the source files,
which have no compiled extension next to them. Rather than fail, load the
extension that pip installed (built from this same tree).
"""
import importlib.machinery
import importlib.util
import os
import sys


def load_installed_core():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        pkg = os.path.join(os.path.abspath(entry or os.getcwd()), "rnnscratch")
        if os.path.normcase(pkg) == os.path.normcase(here):
            continue
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(pkg, "_core" + suffix)
            if os.path.isfile(path):
                spec = importlib.util.spec_from_file_location("rnnscratch._core", path)
                module = importlib.util.module_from_spec(spec)
                sys.modules["rnnscratch._core"] = module
                spec.loader.exec_module(module)
                return module
    raise ImportError(
        "rnnscratch._core, the compiled extension, is not built. Install the package "
        "with `pip install .` from the clone, or build it in place with "
        "`python setup.py build_ext --inplace`.")


try:
    from . import _core
except ImportError:  # a source checkout without an in-place build
    _core = load_installed_core()
