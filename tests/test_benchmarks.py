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


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bench_l2h_fresh_process_table(capsys, tmp_path):
    """--fresh-process: a row per size with the listing (run, or extrapolated from the
    largest size it ran at with the same K), l2h.fit in new processes, their ratio, whether
    the steps agree, and first runs: with an empty kernel cache and after `l2h precompile`."""
    load("bench_l2h").main(
        ["--fresh-process", "--sizes", "600x12", "1200x12", "--repeat", "1"]
        + ["--listing-max-elements", "8000", "--data-dir", str(tmp_path)]
    )
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if "x12 " in line + " "}
    assert set(rows) == {"600x12", "1200x12"}, out
    measured, extrapolated = rows["600x12"], rows["1200x12"]
    assert measured[4] == "True" and float(measured[3]) > 0  # same steps as the listing
    assert extrapolated[1].startswith("~")  # extrapolated linearly in N
    assert abs(float(extrapolated[1][1:]) - 2 * float(measured[1])) < 0.002
    for row in (measured, extrapolated):
        assert float(row[5]) > 0 and float(row[7]) > 0  # empty cache, after precompile
        assert abs(float(row[6]) - (float(row[5]) - float(row[2]))) < 0.02  # what each adds
        assert abs(float(row[8]) - (float(row[7]) - float(row[2]))) < 0.02
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "logits_1200x12_seed0.npy",
        "logits_600x12_seed0.npy",
    ]


def test_bench_metrics_small_run(capsys):
    load("bench_metrics").main(["--rows", "20000", "--clusters", "50", "--points", "300"])
    out = capsys.readouterr().out
    assert "dendrogram_purity" in out and "DP, point-level tree" in out
