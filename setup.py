"""Build of the one C extension, rnnscratch._core, from csrc/*.c.

Portable flags only: no -march=native, no -ffast-math. SIMD paths are chosen
at run time (csrc/cpu.c) and compiled with per-function target attributes.
"""
import glob
import os
import sys

import numpy
from setuptools import Extension, setup

sources = sorted(glob.glob(os.path.join("csrc", "*.c")))

if sys.platform == "win32":
    extra_compile_args = ["/O2"]
    extra_link_args = []
else:
    # -ffp-contract=off: a*b+c is never fused behind our back (clang fuses by
    # default, gcc too outside ISO C mode); the SIMD paths fuse explicitly.
    extra_compile_args = ["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                          "-fno-math-errno", "-ffp-contract=off"]
    extra_link_args = []
    if sys.platform.startswith("linux"):
        extra_compile_args.append("-pthread")
        extra_link_args.append("-pthread")
    # extra flags for special builds (e.g. the sanitizer script)
    extra_compile_args += os.environ.get("RNNSCRATCH_CFLAGS", "").split()
    extra_link_args += os.environ.get("RNNSCRATCH_LDFLAGS", "").split()

# ---- the gemm's CBLAS backend for large products (csrc/blas.h) ----
# RNNSCRATCH_BLAS=openblas | accelerate | none; default: accelerate on macOS,
# none elsewhere. OpenBLAS is found with pkg-config (Debian: libopenblas-dev).
define_macros = [("NPY_TARGET_VERSION", "NPY_1_23_API_VERSION")]
include_dirs = [numpy.get_include(), "csrc"]
libraries = []
library_dirs = []
blas = os.environ.get("RNNSCRATCH_BLAS", "").strip().lower() or (
    "accelerate" if sys.platform == "darwin" else "none")
if blas not in ("openblas", "accelerate", "none"):
    sys.exit("setup.py: RNNSCRATCH_BLAS=%r: expected openblas, accelerate or none" % blas)
if blas == "accelerate":
    if sys.platform != "darwin":
        sys.exit("setup.py: RNNSCRATCH_BLAS=accelerate needs macOS")
    define_macros += [("RS_CBLAS", "1"), ("RS_CBLAS_ACCELERATE", "1"),
                      ("ACCELERATE_NEW_LAPACK", "1")]
    extra_link_args += ["-framework", "Accelerate"]
elif blas == "openblas":
    import shutil
    import subprocess

    def _pkg(flag):
        try:
            out = subprocess.run(["pkg-config", flag, "openblas"], capture_output=True,
                                 text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        return out.split()

    cflags, libs = _pkg("--cflags"), _pkg("--libs")
    if cflags is None or libs is None:
        if shutil.which("pkg-config") is None:
            sys.exit("setup.py: RNNSCRATCH_BLAS=openblas: pkg-config not found")
        sys.exit("setup.py: RNNSCRATCH_BLAS=openblas: pkg-config knows no 'openblas' "
                 "(Debian/Ubuntu: apt-get install libopenblas-dev)")
    include_dirs += [f[2:] for f in cflags if f.startswith("-I")]
    library_dirs += [f[2:] for f in libs if f.startswith("-L")]
    libraries += [f[2:] for f in libs if f.startswith("-l")]
    if sys.platform.startswith("linux"):
        extra_link_args += ["-Wl,-rpath," + d for d in library_dirs]
    define_macros += [("RS_CBLAS", "1"), ("RS_CBLAS_OPENBLAS", "1")]

if blas != "none" and os.environ.get("RNNSCRATCH_BLAS_MIN_FLOPS", "").strip():
    _v = os.environ["RNNSCRATCH_BLAS_MIN_FLOPS"].strip()
    try:
        if not 0 <= float(_v) < 1e300:
            raise ValueError
    except ValueError:
        sys.exit("setup.py: RNNSCRATCH_BLAS_MIN_FLOPS=%r: expected a number >= 0" % _v)
    define_macros.append(("RS_BLAS_MIN_FLOPS", repr(float(_v))))

setup(
    ext_modules=[
        Extension(
            "rnnscratch._core",
            sources=sources,
            include_dirs=include_dirs,
            depends=sorted(glob.glob(os.path.join("csrc", "*.h"))),
            define_macros=define_macros + [
                ("RS_BUILD_FLAGS", '"%s"' % " ".join(extra_compile_args))],
            extra_compile_args=extra_compile_args,
            extra_link_args=extra_link_args,
            libraries=libraries,
            library_dirs=library_dirs,
        )
    ],
)
