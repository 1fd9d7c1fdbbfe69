"""Threads and build configuration of the compiled kernels."""
import platform
import sys

import numpy as np

from ._loader import _core


def set_num_threads(n):
    """Use at most n threads in the kernels (n >= 1).

    The results do not depend on n: every output element is summed by one
    thread in a fixed order. The default is the number of CPUs this process
    may run on (on Apple silicon: its performance cores), capped by
    $RNNSCRATCH_NUM_THREADS or else $OMP_NUM_THREADS when set.
    """
    _core.set_num_threads(n)


def get_num_threads():
    """The current thread limit of the kernels."""
    return _core.get_num_threads()


def config():
    """The kernel path, threads, compiler and flags, as a dict."""
    from . import __version__

    logical, cores = _core._cpu_topology()
    return {
        "version": __version__,
        "extension": _core.__file__,
        "kernel_path": _core.get_simd_path(),
        "available_paths": _core.available_simd_paths(),
        "threads": _core.get_num_threads(),
        "cpus": logical,
        "cores": cores,
        "gemm_blocking": _core._gemm_blocking(),
        "compiler": _core.compiler,
        "build_flags": _core.build_flags,
        "blas": getattr(_core, "blas", "none"),
        "blas_min_flops": getattr(_core, "blas_min_flops", None),
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
        f"threads: {c['threads']} ({c['cpus']} CPUs on {c['cores']} cores for this process)",
        "caches: L1d {l1d} KB, L2 {l2} KB per core, L3 {l3} MB; gemm blocks (kc, mc, nc): "
        "float32 {float32}, float64 {float64}".format(
            **dict(c["gemm_blocking"], l1d=c["gemm_blocking"]["l1d"] >> 10,
                   l2=c["gemm_blocking"]["l2"] >> 10, l3=c["gemm_blocking"]["l3"] >> 20)),
        "gemm backend: " + ("our kernels (no CBLAS)" if c["blas"] == "none" else
                            "our kernels; products of >= %.3g flops: CBLAS %s"
                            % (c["blas_min_flops"], c["blas"])),
        f"compiler: {c['compiler']}",
        f"flags: {c['build_flags']}",
        f"numpy {c['numpy']}, Python {c['python']}, {c['machine']}",
    ]
    print("\n".join(lines), file=file or sys.stdout)


# --------------------------------------------------------------------------
# environment variables: a value that cannot be read is ignored, with a warning
# --------------------------------------------------------------------------

def _thread_count(text, allow_list=False):
    text = text.strip()
    if allow_list:
        text = text.split(",")[0].strip()
    try:
        v = int(text, 10)
    except ValueError:
        return None
    return v if v >= 1 else None


def _flops(text):
    try:
        v = float(text)
    except ValueError:
        return None
    return v if 0 <= v < 1e300 else None


def environment_problems(environ=None):
    """[(variable, message)] for every rnnscratch-related environment variable
    whose value cannot be read (the kernels then ignore it)."""
    import os

    env = os.environ if environ is None else environ
    out = []
    v = env.get("RNNSCRATCH_NUM_THREADS")
    if v is not None and v.strip() and _thread_count(v) is None:
        out.append(("RNNSCRATCH_NUM_THREADS",
                    "RNNSCRATCH_NUM_THREADS=%r is not a whole number of threads >= 1; "
                    "ignored" % v))
    v = env.get("OMP_NUM_THREADS")
    if (v is not None and v.strip() and _thread_count(v, allow_list=True) is None
            and not (env.get("RNNSCRATCH_NUM_THREADS") or "").strip()):
        out.append(("OMP_NUM_THREADS",
                    "OMP_NUM_THREADS=%r is not a whole number of threads >= 1; ignored by "
                    "rnnscratch" % v))
    v = env.get("RNNSCRATCH_PAR_FLOPS")
    if v is not None and v.strip() and _flops(v) is None:
        out.append(("RNNSCRATCH_PAR_FLOPS",
                    "RNNSCRATCH_PAR_FLOPS=%r is not a number >= 0; ignored (default 1e7)" % v))
    v = env.get("RNNSCRATCH_DATA")
    if v and not os.path.isdir(os.path.expanduser(v)):
        out.append(("RNNSCRATCH_DATA",
                    "RNNSCRATCH_DATA=%r is not a directory; the PTB loader looks in the "
                    "other places" % v))
    return out


def check_environment():
    """Warn (RuntimeWarning) about environment values that cannot be read."""
    import warnings

    for _, message in environment_problems():
        warnings.warn("rnnscratch: " + message, RuntimeWarning, stacklevel=3)
