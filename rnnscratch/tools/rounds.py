"""The measurement protocol behind every figure of `python -m rnnscratch bench`.

On a shared machine one figure taken alone can say anything: on two cores the
host's other guests move a 2048² float32 matmul between 150 and 300 GFLOP/s
within minutes, and the contenders do not all suffer alike. So every workload
is timed in interleaved rounds. In each round NumPy's float32 2048² matmul
(the machine's rate, now), rnnscratch and each peer run back to back, each for
a block of calls (one untimed call first, so that caches and idle threads
are as in a training loop; then calls for about `target` seconds, the
median call kept). A ratio is formed per round, from times of the same round:

    speedup vs a peer   = peer's time / our time
    share of the rate   = (workload flops / our time) / (2·2048³ / matmul time)

and a figure is the median of its per-round values, printed with the
quartiles [q1-q3] of the rounds. The order of the contenders turns from round
to round (the matmul always first), and a pause before each block lets the
previous contender's idle threads (OpenBLAS, OpenMP, ours) stop spinning.

    times = run_rounds({"rnnscratch": ours, "torch": theirs}, rounds=9)
    s = summarize(times, flops=55.7e9)
    s["vs"]["torch"].median, s["share"].q1, s["ms"]["rnnscratch"].q3

machine() records what a figure depends on: the CPU model, its cores and
hyperthreads, the SIMD path, the thread count and the load average.
"""
import os
import platform
import statistics
import sys
import time
from collections import namedtuple

import numpy as np

MATMUL_N = 2048
MATMUL = "numpy matmul"
MATMUL_FLOPS = 2.0 * MATMUL_N ** 3


class Spread(namedtuple("Spread", "median q1 q3 n")):
    """The median of per-round values and their quartiles (n rounds)."""

    __slots__ = ()

    def fmt(self, spec=".2f", suffix=""):
        return (f"{format(self.median, spec)}{suffix} "
                f"[{format(self.q1, spec)}-{format(self.q3, spec)}]")

    def as_dict(self):
        return {"median": self.median, "q1": self.q1, "q3": self.q3, "rounds": self.n}


def spread(values):
    """Spread of a list of per-round values (at least one)."""
    xs = sorted(float(v) for v in values)
    if not xs:
        raise ValueError("spread: no values")
    if len(xs) == 1:
        return Spread(xs[0], xs[0], xs[0], 1)
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return Spread(q2, q1, q3, len(xs))


def matmul_step(n=MATMUL_N):
    """NumPy's float32 n×n matmul into a preallocated output: the rate that
    every share is of."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    out = np.empty((n, n), np.float32)
    return lambda: np.matmul(a, b, out=out)


def _block(step, reps, warm=0):
    """The median time of `reps` calls of step(), after `warm` untimed ones."""
    for _ in range(warm):
        step()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def run_rounds(steps, rounds, target=0.15, pause=0.2, warmup=1, matmul=True, warm=1):
    """Time every step of `steps` ({name: callable}, ours first) in `rounds`
    interleaved rounds, NumPy's matmul first in each (unless matmul=False).
    Each block starts with `warm` untimed calls: after the pause, the caches
    and the idle threads are as a training loop's next iteration finds them,
    not cold. Returns {name: [seconds per call, one per round]}."""
    if rounds < 1:
        raise ValueError(f"rounds: expected at least 1, got {rounds}")
    if os.environ.get("RNNSCRATCH_BENCH_SMOKE", "") not in ("", "0"):
        # the test suite's runs of the notebooks and the CLI: the code paths,
        # with blocks too short for the figures to mean anything
        target, pause = min(target, 0.005), 0.0
    allsteps = dict(steps)
    if matmul:
        allsteps = {MATMUL: matmul_step(), **allsteps}
    names = list(allsteps)
    # a warm-up, then one timed call sets the block size of each contender
    reps = {}
    for name in names:
        time.sleep(pause)
        for _ in range(warmup):
            allsteps[name]()
        t = _block(allsteps[name], 1)
        reps[name] = max(1, min(2000, int(target / max(t, 1e-7))))
    times = {name: [] for name in names}
    head = names[:1] if matmul else []
    rest = names[len(head):]
    for r in range(rounds):
        k = r % len(rest) if rest else 0
        for name in head + rest[k:] + rest[:k]:
            time.sleep(pause)
            times[name].append(_block(allsteps[name], reps[name], warm))
    return times


def summarize(times, flops=None, ours="rnnscratch"):
    """The figures of one run_rounds result: per contender its time (ms), and
    per round the speedup of ours against every other contender, the share of
    the matmul rate (with flops) and the matmul rate itself."""
    res = {"ms": {n: spread([t * 1e3 for t in ts]) for n, ts in times.items() if n != MATMUL},
           "vs": {}}
    mine = times[ours]
    for n, ts in times.items():
        if n not in (ours, MATMUL):
            res["vs"][n] = spread([tp / to for tp, to in zip(ts, mine)])
    if MATMUL in times:
        mm = times[MATMUL]
        res["matmul_gflops"] = spread([MATMUL_FLOPS / t / 1e9 for t in mm])
        if flops:
            res["share"] = spread([(flops / to) / (MATMUL_FLOPS / tm) for to, tm in zip(mine, mm)])
    if flops:
        res["gflops"] = spread([flops / t / 1e9 for t in mine])
    return res


def summary_dict(s):
    """summarize()'s result as plain JSON-able dicts."""
    out = {}
    for k, v in s.items():
        if isinstance(v, Spread):
            out[k] = v.as_dict()
        elif isinstance(v, dict):
            out[k] = {n: sp.as_dict() for n, sp in v.items()}
        else:
            out[k] = v
    return out


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average():
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):  # Windows
        return None


def machine():
    """What the figures depend on: CPU, cores, SIMD path, threads, versions,
    load average."""
    import rnnscratch
    from rnnscratch._loader import _core

    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    topo = _core._cpu_topology()
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": cpu_name(),
        "logical_cpus": topo[0],
        "cores": topo[1],
        "threads": rnnscratch.get_num_threads(),
        "simd_path": _core.get_simd_path(),
        "numpy": np.__version__,
        "torch": torch_version,
        "python": sys.version.split()[0],
        "load_average": load_average(),
    }


def machine_line(m):
    load = "-" if m["load_average"] is None else f"{m['load_average']:.2f}"
    return (f"{m['date']}  {m['cpu']}  {m['logical_cpus']} CPUs on {m['cores']} cores  "
            f"{m['threads']} thread(s)  SIMD path {m['simd_path']}  numpy {m['numpy']}  "
            f"torch {m['torch'] or '-'}  load average {load}")
