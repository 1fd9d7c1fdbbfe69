"""Threads and build configuration of the compiled kernels."""
import platform
import sys

import numpy as np

from . import _core


def set_num_threads(n):
    """Use at most n threads in the kernels (n >= 1).

    The results do not depend on n: every output element is summed by one
    thread in a fixed order. The default is the number of CPUs this process
    may run on, capped by
    $RNNSCRATCH_NUM_THREADS or else $OMP_NUM_THREADS when set.
    """
    _core.set_num_threads(n)


def get_num_threads():
    """The current thread limit of the kernels."""
    return _core.get_num_threads()


def config():
    """The kernel path, threads, compiler and flags, as a dict."""
    from . import __version__

    return {
        "version": __version__,
        "extension": _core.__file__,
        "kernel_path": _core.get_simd_path(),
        "available_paths": _core.available_simd_paths(),
        "threads": _core.get_num_threads(),
        "compiler": _core.compiler,
        "build_flags": _core.build_flags,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }


def show_config(file=None):
    """Print which kernel path was chosen, the thread count, compiler and flags."""
    c = config()
    lines = [
        f"rnnscratch {c['version']} ({c['extension']})",
        f"kernel path: {c['kernel_path']} (this CPU supports: {', '.join(c['available_paths'])})",
        f"threads: {c['threads']}",
        f"compiler: {c['compiler']}",
        f"flags: {c['build_flags']}",
        f"numpy {c['numpy']}, Python {c['python']}, {c['machine']}",
    ]
    print("\n".join(lines), file=file or sys.stdout)
