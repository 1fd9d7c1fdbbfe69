"""The command line: python -m rnnscratch {info,check,bench}."""
import json
import statistics
import subprocess
import sys

import pytest

from rnnscratch.tools import bench
from rnnscratch.__main__ import main


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "kernel path:" in out and "threads:" in out and "compiler:" in out


def test_check_agrees(capsys):
    assert main(["check", "--batch", "3", "--time", "4", "--input", "5", "--hidden", "7"]) == 0
    out = capsys.readouterr().out
    assert "OK: every compiled class agrees with its NumPy reference" in out
    assert out.count(" matches ") >= 30  # every compiled layer and model (test_quickstart.py)


def _per_round(fig, peer, ours="rnnscratch"):
    """The per-round speedups of a bench figure, from its per-round times."""
    t = fig["times_s"]
    return [a / b for a, b in zip(t[peer], t[ours])]


def test_bench_small_run(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNSCRATCH_BENCH_SMOKE", "1")  # short blocks: the code, not the figures
    result = bench.run_bench(quick=True, sizes=[(2, 3, 4, 5)], dtypes=("float32",), out=lambda s: None)
    (row,) = result["rows"]
    assert row["rnnscratch_ms"] > 0 and row["reference_ms"] > 0
    fig = row["spread"]
    # the speedup is the median of the per-round ratios, with their quartiles
    assert row["speedup_vs_reference"] == pytest.approx(
        statistics.median(_per_round(fig, "reference")))
    vs = fig["vs"]["reference"]
    assert vs["q1"] <= vs["median"] <= vs["q3"] and vs["rounds"] == 3
    assert len(fig["times_s"]["numpy matmul"]) == 3
    assert 0 < fig["share"]["median"] and fig["matmul_gflops"]["median"] > 0
    info = result["info"]
    assert info["threads"] >= 1 and 1 <= info["cores"] <= info["logical_cpus"]
    assert info["simd_path"] and info["cpu"] and "load_average" in info


def test_unknown_command_fails():
    proc = subprocess.run([sys.executable, "-m", "rnnscratch", "frobnicate"], capture_output=True, text=True)
    assert proc.returncode != 0 and "invalid choice" in proc.stderr


def test_lm_bench_quick_run(monkeypatch):
    monkeypatch.setenv("RNNSCRATCH_BENCH_SMOKE", "1")
    lines = []
    res = bench.run_lm_bench(quick=True, out=lines.append)
    ch5, ptb = res["chapter5"], res["ptb_iteration"]
    assert ch5["words"] == 1000 and ch5["iters_per_epoch"] == 999 // 50
    assert ch5["speedup"] == pytest.approx(statistics.median(_per_round(ch5["spread"], "reference")))
    assert (ptb["V"], ptb["N"], ptb["T"]) == (10000, 20, 35) and ptb["rnnscratch_ms"] > 0
    assert ptb["speedup"] == pytest.approx(statistics.median(_per_round(ptb["spread"], "reference")))
    assert len(lines) == 2 and "chapter-5 loop" in lines[0] and "ms per iteration" in lines[1]


def test_bench_plot_needs_the_rnn_table(capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["--only", "lm", "--quick", "--plot", "x.png"])
    assert e.value.code == 2
    assert "argument --plot: it draws the TimeRNN table" in capsys.readouterr().err
