"""Every SIMD path. available_simd_paths() lists every path this CPU can run,
so that the loops over "every SIMD path" never shrink in silence: a CPU flag
the dispatch misses fails here (the flags are read from the operating system,
/proc/cpuinfo on Linux, sysctl on macOS, not from _core). Then every kernel of
the contract, on every path, at sizes off the SIMD grid: the oracle's numbers,
and the same bits for 1, 2 and 3 threads."""
import os
import platform
import subprocess
import sys
import textwrap

import pytest

from contract_calls import kernel_args
from rnnscratch import _core
from test_fuzz import CORE, call_core


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


# --------------------------------------------------------------------------
# every kernel of the contract, on every path: the oracle's numbers, and the
# same bits for any thread count
# --------------------------------------------------------------------------
# Sizes off every SIMD/blocking grid (odd, prime, a vector plus a remainder; D, K
# and V past one 64-wide block): the tail loops of each path run. The per-family
# suites had one such test per kernel family; this one is generic over the
# contract table (tests/core_contract.py) and the fuzz's oracle (test_fuzz.py).
OFF_GRID = ({"N": 3, "T": 4, "D": 19, "H": 37, "V": 41, "S": 7, "M": 5, "K": 19},
            {"N": 5, "T": 3, "D": 100, "H": 65, "V": 131, "S": 13, "M": 33, "K": 130})
# and for the thread counts: R*V, D*V past the fixed 262144-element split of the
# column sums and the transposition (RNNSCRATCH_PAR_FLOPS does not move those)
THREAD_DIMS = OFF_GRID + ({"N": 4, "T": 4, "D": 17, "H": 9, "V": 16411, "S": 5, "M": 3,
                           "K": 11},)
ACTIVATION_KERNELS = sorted(f for f in CORE if "activation" in CORE[f]["sig"])
ACCUMULATE_KERNELS = sorted(f for f in CORE if "accumulate" in CORE[f]["sig"])


def kernel_cases():
    """(kernel, dtype, scalar arguments): each activation of the recurrent kernels
    (relu in float64 only: a float32 pre-activation rounding to the other side of 0
    flips its derivative against the float64 oracle), accumulate both ways."""
    out = []
    for fname in sorted(CORE):
        for dtype in ("float32", "float64"):
            variants = [{}]
            if fname in ACTIVATION_KERNELS:
                variants = [{"activation": a} for a in ("tanh", "sigmoid", "relu")
                            if a != "relu" or dtype == "float64"]
            if fname in ACCUMULATE_KERNELS:
                variants = [dict(v, accumulate=acc) for v in variants for acc in (False, True)]
            out += [(fname, dtype, v) for v in variants]
    return out


KERNEL_CASES = kernel_cases()


def _case_id(c):
    return "-".join([c[0], c[1]] + ["%s=%s" % kv for kv in sorted(c[2].items())])


@pytest.mark.parametrize("case", KERNEL_CASES, ids=[_case_id(c) for c in KERNEL_CASES])
def test_every_kernel_on_every_path_matches_the_oracle(case):
    fname, dtype, scalars = case
    before = _core.get_simd_path()
    try:
        for path in _core.available_simd_paths():
            _core.set_simd_path(path)
            for k, dims in enumerate(OFF_GRID):
                kw = kernel_args(fname, dims, dtype, seed=k, **scalars)
                call_core(fname, kw)  # rejects, or checks against the oracle
    finally:
        _core.set_simd_path(before)


_THREADS_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, %r)
    from rnnscratch import _core
    from contract_calls import kernel_args
    from test_simd_paths import KERNEL_CASES, THREAD_DIMS
    from test_fuzz import CORE

    def results(fname, kw):
        r = getattr(_core, fname)(**kw)
        r = list(r) if isinstance(r, tuple) else [r]
        outs = [n for n, _, role in CORE[fname]["table"] if role.startswith("O")]
        return [np.asarray(v).tobytes() for v in r + [kw[n] for n in outs if n in kw]]

    bad = []
    for path in _core.available_simd_paths():
        _core.set_simd_path(path)
        for fname, dtype, scalars in KERNEL_CASES:
            for k, dims in enumerate(THREAD_DIMS):
                got = {}
                for n in (1, 2, 3):
                    _core.set_num_threads(n)
                    got[n] = results(fname, kernel_args(fname, dims, dtype, k, **scalars))
                if not got[1] == got[2] == got[3]:
                    bad.append("%%s %%s %%s %%s %%s" %% (path, fname, dtype, scalars, dims))
    print("\\n".join(bad) or "ok")
""")


def test_every_kernel_on_every_path_same_bits_for_any_thread_count():
    """RNNSCRATCH_PAR_FLOPS=0 (read once, at import: a child process) splits every
    product, however small, over the threads: 1, 2 and 3 threads give the same
    bits for every kernel, path, dtype and option."""
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, RNNSCRATCH_PAR_FLOPS="0")
    out = subprocess.run([sys.executable, "-c", _THREADS_SCRIPT % here], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "ok", "results differ by thread count:\n" + out.stdout
