"""The benchmark's measurement protocol (rnnscratch/tools/rounds.py), the pool's
latency probe and the CPU topology behind the default thread count."""
import os

import numpy as np
import pytest

from rnnscratch import _core
from rnnscratch.tools import bench, rounds


def test_rounds_interleave_every_contender_in_every_round():
    calls = []
    steps = {n: (lambda n=n: calls.append(n)) for n in ("rnnscratch", "book", "torch")}
    times = rounds.run_rounds(steps, rounds=4, target=0, pause=0, warmup=1, matmul=False, warm=0)
    assert {n: len(t) for n, t in times.items()} == {"rnnscratch": 4, "book": 4, "torch": 4}
    # warm-up + one calibration call each, then the rounds; target 0: one call per block
    body = calls[6:]
    assert len(body) == 12
    rounds_ = [body[i:i + 3] for i in range(0, 12, 3)]
    assert all(sorted(r) == ["book", "rnnscratch", "torch"] for r in rounds_)
    # the order turns, so no contender always follows the same one
    assert len({tuple(r) for r in rounds_}) == 3


def test_rounds_put_the_matmul_first_in_each_round():
    calls = []
    steps = {"rnnscratch": lambda: calls.append("ours")}
    times = rounds.run_rounds(steps, rounds=2, target=0, pause=0, matmul=True)
    assert list(times) == [rounds.MATMUL, "rnnscratch"] and len(times[rounds.MATMUL]) == 2


def test_summary_is_the_median_of_per_round_ratios():
    # round 2 is slow for everyone: ratios per round stay 2, 2, 2, while the
    # ratio of the medians would not be
    times = {rounds.MATMUL: [0.1, 0.4, 0.1],
             "rnnscratch": [1.0, 4.0, 1.5],
             "torch": [2.0, 8.0, 3.0]}
    s = rounds.summarize(times, flops=rounds.MATMUL_FLOPS)
    assert s["vs"]["torch"] == rounds.Spread(2.0, 2.0, 2.0, 3)
    assert s["share"].median == pytest.approx(0.1)        # 0.1/1.0, 0.4/4.0, 0.1/1.5
    assert s["ms"]["torch"].median == pytest.approx(3000)
    assert s["matmul_gflops"].median == pytest.approx(rounds.MATMUL_FLOPS / 0.1 / 1e9)
    d = rounds.summary_dict(s)
    assert d["vs"]["torch"] == {"median": 2.0, "q1": 2.0, "q3": 2.0, "rounds": 3}


def test_spread_quartiles():
    sp = rounds.spread([5, 1, 3, 2, 4])
    assert (sp.median, sp.q1, sp.q3, sp.n) == (3, 2, 4, 5)
    assert rounds.spread([7]) == rounds.Spread(7, 7, 7, 1)
    assert sp.fmt(".1f", "x") == "3.0x [2.0-4.0]"
    with pytest.raises(ValueError, match="no values"):
        rounds.spread([])
    with pytest.raises(ValueError, match="rounds: expected at least 1, got 0"):
        rounds.run_rounds({"rnnscratch": lambda: None}, rounds=0)


def test_machine_records_what_the_figures_depend_on():
    m = rounds.machine()
    for key in ("date", "cpu", "logical_cpus", "cores", "threads", "simd_path", "numpy",
                "load_average"):
        assert key in m
    line = rounds.machine_line(m)
    assert m["simd_path"] in line and "load average" in line and "thread(s)" in line


def _siblings_cores():
    """Cores of the CPUs this process may run on, read independently of the C code."""
    cores = set()
    for c in os.sched_getaffinity(0):
        path = f"/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list"
        try:
            text = open(path).read().strip()
        except OSError:
            return None
        first = int(text.replace("-", ",").split(",")[0])
        cores.add(min(first, c))
    return len(cores)


def test_cpu_topology_counts_cores_not_hyperthreads():
    logical, cores = _core._cpu_topology()
    assert 1 <= cores <= logical
    if hasattr(os, "sched_getaffinity"):
        assert logical == len(os.sched_getaffinity(0))
        want = _siblings_cores()
        if want is not None:
            assert cores == want


def test_pool_timing_reports_each_job():
    nt, wake, trip = _core._pool_timing(50, 0)
    assert nt == _core.get_num_threads()
    assert len(wake) == len(trip) == 50
    assert all(0 <= w <= t for w, t in zip(wake, trip))
    assert _core._pool_timing(0, 10.0)[1:] == ([], [])
    before = _core.get_num_threads()
    try:
        _core.set_num_threads(1)
        assert _core._pool_timing(3, 0)[0] == 1
    finally:
        _core.set_num_threads(before)


@pytest.mark.parametrize("args, exc, message", [
    ((-1, 0), ValueError, "jobs: expected a count from 0 to 1000000, got -1"),
    ((10 ** 7, 0), ValueError, "jobs: expected a count from 0 to 1000000"),
    ((1.5, 0), TypeError, "jobs"),
    ((1, "x"), TypeError, "gap_us: expected a number, got str"),
    ((1, -1.0), ValueError, "gap_us: expected microseconds from 0 to 1e6, got -1.0"),
    ((1, float("nan")), ValueError, "gap_us: expected microseconds"),
])
def test_pool_timing_errors(args, exc, message):
    with pytest.raises(exc, match=message.replace("(", r"\(").replace(")", r"\)")):
        _core._pool_timing(*args)


def test_pool_bench_prints_three_regimes():
    lines = []
    res = bench.run_pool_bench(jobs=40, out=lines.append)
    assert set(res) == {"gap_0us", "gap_100us", "gap_3000us"}
    for r in res.values():
        assert r["wake_us"]["median"] <= r["wake_us"]["max"]
        assert r["trip_us"]["median"] <= r["trip_us"]["p99"] <= r["trip_us"]["max"]
    assert len(lines) == 4 and "fork/join" in lines[1]


def test_targets_row_runs_with_its_goal_and_thread_check(monkeypatch):
    monkeypatch.setenv("RNNSCRATCH_BENCH_SMOKE", "1")
    lines = []
    res = bench.run_targets(rounds=2, only=["TimeLSTM 20x35x100x100"], out=lines.append)
    (row,) = res["rows"]
    fig = row["figures"]
    assert set(fig["ms"]) >= {"rnnscratch", "1 thread"}
    assert 0 <= row["rounds_two_threads_slower"] <= 2
    assert "2 threads slower than 1 in" in lines[-2]
    assert row["goal_vs"] == {"torch": 2.0}


@pytest.mark.parametrize("args, message", [
    (["--workload", "BetterRnnlm"], "argument --workload: goes with --only targets"),
    (["--only", "targets", "--workload", "Nope"],
     "argument --workload: expected one of 'BetterRnnlm'"),
    (["--rounds", "0"], "argument --rounds: must be at least 1"),
])
def test_bench_argument_mistakes(capsys, args, message):
    with pytest.raises(SystemExit) as e:
        bench.main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in err


def test_flop_counts_match_the_issue():
    """The issue's figures: BetterRnnlm 55.7 GFLOP, Rnnlm 4.54 GFLOP an iteration."""
    assert bench.lm_flops("BetterRnnlm", 10000, 650, 650) == pytest.approx(55.7e9, rel=1e-3)
    assert bench.lm_flops("Rnnlm", 10000, 100, 100) == pytest.approx(4.54e9, rel=1e-3)


def test_overhead_bench_splits_a_call_into_its_parts(monkeypatch):
    monkeypatch.setenv("RNNSCRATCH_BENCH_SMOKE", "1")
    lines = []
    res = bench.run_overhead_bench(rounds=2, out=lines.append)
    assert [r["kind"] for r in res["rows"]] == [k for k, _ in bench.OVERHEAD_SIZES]
    for row, line in zip(res["rows"], lines[2:]):
        us = row["us"]
        assert set(us) == {"class", "wrapper", "arguments", "kernels", "class, 1 thread"}
        assert us["class"]["median"] > 0 and us["arguments"]["median"] > 0
        assert line.startswith(row["kind"]) and "wrapper" in line and "kernels" in line
    assert "wrapper = class - _core" in lines[1]


def test_core_steps_compute_what_the_class_computes(monkeypatch):
    """The overhead bench's _core calls are the class's own: the same outputs
    as the class on the same data."""
    import rnnscratch
    from rnnscratch._loader import _core
    for kind, G in (("TimeRNN", 1), ("TimeLSTM", 4)):
        Wx, Wh, b, xs, dhs = bench.make_data(3, 4, 5, 6, np.float32, G=G)
        layer = getattr(rnnscratch, kind)(Wx, Wh, b)
        hs = layer.forward(xs)
        dxs = layer.backward(dhs)
        calls = {}
        for name in ("time_rnn_forward", "time_rnn_backward", "time_lstm_forward",
                     "time_lstm_backward"):
            def spy(*a, _real=getattr(_core, name), _name=name, **k):
                calls[_name.rsplit("_", 1)[1]] = r = _real(*a, **k)
                return r
            monkeypatch.setattr(_core, name, spy)
        bench._core_steps(kind, Wx, Wh, b, xs, dhs)()
        monkeypatch.undo()
        fwd = calls["forward"] if kind == "TimeRNN" else calls["forward"][0]
        assert np.array_equal(fwd, hs)
        assert np.array_equal(calls["backward"][0], dxs)
