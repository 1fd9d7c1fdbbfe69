"""available_simd_paths() lists every path this CPU can run, so that the
suites that loop over "every SIMD path" never shrink in silence: a CPU flag
the dispatch misses fails here. The flags are read from the operating
system (/proc/cpuinfo on Linux, sysctl on macOS), not from _core."""
import platform
import subprocess
import sys

import pytest

from rnnscratch import _core


def _cpu_flags():
    if sys.platform.startswith("linux"):
        with open("/proc/cpuinfo") as f:
            for line in f:
                key = line.split(":")[0].strip()
                if key in ("flags", "Features"):
                    return set(line.split(":", 1)[1].split())
        return set()
    if sys.platform == "darwin":
        out = subprocess.run(["sysctl", "-a"], capture_output=True, text=True).stdout
        return {w.lower().replace("hw.optional.", "").split(":")[0]
                for w in out.splitlines() if w.startswith("hw.optional.") and w.rstrip().endswith("1")}
    pytest.skip("no portable way to read the CPU's flags on %s" % sys.platform)


def expected_paths():
    machine = platform.machine().lower()
    paths = ["portable"]
    if machine in ("x86_64", "amd64"):
        flags = _cpu_flags()
        if {"avx2", "fma"} <= flags:
            paths.append("avx2")
            if {"avx512f", "avx512dq", "avx512vl", "avx512bw"} <= flags:
                paths.append("avx512")
    elif machine in ("aarch64", "arm64"):
        # Advanced SIMD is part of the aarch64 base ISA (no flag to read: under
        # qemu user emulation /proc/cpuinfo is the host's)
        paths.append("neon")
    return paths


def test_every_path_the_cpu_supports_is_available():
    available = _core.available_simd_paths()
    for path in expected_paths():
        assert path in available, (path, available)
    assert available[0] == "portable"


def test_each_available_path_can_be_forced():
    before = _core.get_simd_path()
    try:
        for path in _core.available_simd_paths():
            _core.set_simd_path(path)
            assert _core.get_simd_path() == path
    finally:
        _core.set_simd_path(before)
