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

setup(
    ext_modules=[
        Extension(
            "rnnscratch._core",
            sources=sources,
            include_dirs=[numpy.get_include(), "csrc"],
            depends=sorted(glob.glob(os.path.join("csrc", "*.h"))),
            define_macros=[("NPY_TARGET_VERSION", "NPY_1_23_API_VERSION"),
                           ("RS_BUILD_FLAGS", '"%s"' % " ".join(extra_compile_args))],
            extra_compile_args=extra_compile_args,
            extra_link_args=extra_link_args,
        )
    ],
)
