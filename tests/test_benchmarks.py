"""The benchmark scripts run (tiny sizes) and report what the README quotes from them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bench_l2h_quick_run_compares_with_the_listing(capsys):
    load("bench_l2h").main(["--quick", "--memory"])
    out = capsys.readouterr().out
    lines = {line.split("  ")[0].strip(): line for line in out.splitlines()}
    for name in ("exp pass (1 thread)", "l2h.fit cluster_mean", "listing", "cached listing"):
        assert name in lines, out
    assert lines["l2h.fit cluster_mean"].rstrip().endswith("True")
    assert lines["listing"].rstrip().endswith("True")
    assert "peak extra memory" in out


def test_bench_metrics_small_run(capsys):
    load("bench_metrics").main(["--rows", "20000", "--clusters", "50", "--points", "300"])
    out = capsys.readouterr().out
    assert "dendrogram_purity" in out and "DP, point-level tree" in out
