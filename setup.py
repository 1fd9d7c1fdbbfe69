"""Build of the one C extension, rnnscratch._core, from csrc/*.c.

Flags are chosen by the compiler that builds (build_ext's
compiler.compiler_type: "msvc", or "unix" / "mingw32" for gcc and clang), not
by the platform: a MinGW or MSYS2 Python on Windows gets gcc's flags.

Portable flags only: no -march=native, no -ffast-math. SIMD paths are chosen
at run time (csrc/cpu.c). gcc and clang compile them with per-function target
attributes; MSVC, which has none, compiles the loops it must vectorize itself
in their own translation units, csrc/simd/*.c, with /arch:AVX2 or
/arch:AVX512 (see csrc/compat.h, RS_SPLIT_TU). Per-file flags come from
FILE_FLAGS below.

Release builds (the default) carry no debug information and export only
PyInit__core. Environment:
  RNNSCRATCH_CFLAGS / RNNSCRATCH_LDFLAGS  extra flags (e.g. the sanitizer script)
  RNNSCRATCH_DEBUG=1                      keep debug info and symbols (also
                                          implied by -g in RNNSCRATCH_CFLAGS)
  RNNSCRATCH_SPLIT_TU=1                   gcc/clang: build the MSVC layout
                                          (one translation unit per SIMD path)
"""
import fnmatch
import glob
import os
import sys

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

GCC_LIKE = ("unix", "mingw32", "cygwin")

# Flags for every file, by compiler type.
COMPILE_FLAGS = {
    # C11 atomics (the thread pool) need /experimental:c11atomics (VS 2022 17.5+)
    "msvc": ["/O2", "/std:c11", "/experimental:c11atomics", "/fp:precise", "/W3",
             "/D_CRT_SECURE_NO_WARNINGS"],
    # -ffp-contract=off: a*b+c is never fused behind our back (clang fuses by
    # default, on ARM too; gcc outside ISO C mode); the SIMD paths fuse explicitly
    "gcc": ["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
            "-fno-math-errno", "-ffp-contract=off"],
}
# Release builds: no debug info, only the module's init function exported.
RELEASE_COMPILE_FLAGS = {
    "msvc": [],  # no /Zi: no debug info; a DLL exports only __declspec(dllexport)
    "gcc": ["-g0", "-fvisibility=hidden"],
}

# Per-file flags: (file pattern, {compiler kind: flags}); every matching row
# applies, in order. Add a row for a new translation unit with its own flags.
FILE_FLAGS = [
    ("csrc/simd/*_avx2.c", {"msvc": ["/arch:AVX2"],
                            "gcc": ["-mavx2", "-mfma", "-Wno-unused-function"]}),
    ("csrc/simd/*_avx512.c", {"msvc": ["/arch:AVX512"],
                              "gcc": ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw",
                                      "-mavx2", "-mfma", "-Wno-unused-function"]}),
]


def compiler_kind(compiler_type):
    return "msvc" if compiler_type == "msvc" else "gcc"


def env_flags(name):
    return os.environ.get(name, "").split()


def file_flags(path, kind):
    path = path.replace(os.sep, "/")
    out = []
    for pattern, table in FILE_FLAGS:
        if fnmatch.fnmatch(path, pattern):
            out += table.get(kind, [])
    return out


def split_tu(compiler_type):
    """SIMD paths in their own translation units: always under MSVC."""
    return compiler_type == "msvc" or os.environ.get("RNNSCRATCH_SPLIT_TU") == "1"


class BuildExt(build_ext):
    def build_extension(self, ext):
        ctype = self.compiler.compiler_type
        kind = compiler_kind(ctype)
        debug = os.environ.get("RNNSCRATCH_DEBUG") == "1" or any(
            f.startswith("-g") and f != "-g0" for f in env_flags("RNNSCRATCH_CFLAGS"))
        cflags = list(COMPILE_FLAGS[kind])
        ldflags = []
        if not debug:
            cflags += RELEASE_COMPILE_FLAGS[kind]
        if kind == "gcc":
            if ctype == "mingw32" or sys.platform == "win32":
                pass  # Win32 threads (csrc/threads.c): no -pthread
            else:
                cflags.append("-pthread")
                ldflags.append("-pthread")
            if not debug:
                # strip the symbol tables at link (macOS' ld: -x, local symbols)
                ldflags.append("-Wl,-x" if sys.platform == "darwin" else "-s")
        cflags += env_flags("RNNSCRATCH_CFLAGS")
        ldflags += env_flags("RNNSCRATCH_LDFLAGS")
        if split_tu(ctype):
            ext.sources = list(ext.sources) + sorted(glob.glob(os.path.join("csrc", "simd", "*.c")))
            if kind != "msvc":
                ext.define_macros.append(("RS_SPLIT_TU", "1"))
        ext.extra_compile_args = cflags
        ext.extra_link_args = ldflags + BLAS_LINK_ARGS
        shown = " ".join(cflags).replace('"', "'")
        ext.define_macros.append(("RS_BUILD_FLAGS", '"%s"' % shown))

        # compile file groups that share per-file flags together
        compile_all = self.compiler.compile

        def compile_grouped(sources, *args, **kwargs):
            groups = {}
            for src in sources:
                groups.setdefault(tuple(file_flags(src, kind)), []).append(src)
            objects = []
            for extra, srcs in groups.items():
                kw = dict(kwargs)
                kw["extra_postargs"] = list(kw.get("extra_postargs") or []) + list(extra)
                objects += compile_all(srcs, *args, **kw)
            return objects

        self.compiler.compile = compile_grouped
        try:
            super().build_extension(ext)
        finally:
            self.compiler.compile = compile_all


# ---- the gemm's CBLAS backend for large products (csrc/blas.h) ----
# RNNSCRATCH_BLAS=openblas | accelerate | none; default: accelerate on macOS,
# none elsewhere. OpenBLAS is found with pkg-config (Debian: libopenblas-dev).
define_macros = [("NPY_TARGET_VERSION", "NPY_1_23_API_VERSION")]
include_dirs = [numpy.get_include(), "csrc"]
libraries = []
library_dirs = []
BLAS_LINK_ARGS = []
blas = os.environ.get("RNNSCRATCH_BLAS", "").strip().lower() or (
    "accelerate" if sys.platform == "darwin" else "none")
if blas not in ("openblas", "accelerate", "none"):
    sys.exit("setup.py: RNNSCRATCH_BLAS=%r: expected openblas, accelerate or none" % blas)
if blas == "accelerate":
    if sys.platform != "darwin":
        sys.exit("setup.py: RNNSCRATCH_BLAS=accelerate needs macOS")
    define_macros += [("RS_CBLAS", "1"), ("RS_CBLAS_ACCELERATE", "1"),
                      ("ACCELERATE_NEW_LAPACK", "1")]
    BLAS_LINK_ARGS += ["-framework", "Accelerate"]
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
        BLAS_LINK_ARGS += ["-Wl,-rpath," + d for d in library_dirs]
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
    cmdclass={"build_ext": BuildExt},
    ext_modules=[
        Extension(
            "rnnscratch._core",
            sources=sorted(glob.glob(os.path.join("csrc", "*.c"))),
            include_dirs=include_dirs,
            depends=sorted(glob.glob(os.path.join("csrc", "*.h"))),
            define_macros=define_macros,
            libraries=libraries,
            library_dirs=library_dirs,
        )
    ],
)
