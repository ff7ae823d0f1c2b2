"""The Snakemake workflow, run through its command line as users run it.

The demo study (config/demo.yaml) runs for real once per session in a temporary working
directory (``--directory``), offline and on the CPU: digits -> k-means logits -> L2H trees ->
metrics.csv, Newick files and dendrograms. The other tests dry-run, lint, or break the config.
"""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.cluster.hierarchy as sch
import yaml

from l2h.data import cluster_names, majority_classes
from l2h.hierarchy import Hierarchy
from l2h.plots import plot_dendrogram

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "demo.yaml"
COLUMNS = [
    "dataset",
    "backbone",
    "model",
    "method",
    "aggregation",
    "n_clusters",
    "seed",
    "metric",
    "value",
]
AGGREGATIONS = ["cluster_mean", "point_sum", "point_mean"]
SEEDS = [0, 1]


def snakemake(*args: str | Path, workdir: Path, configfile: Path = DEMO, timeout: int = 300):
    """Run ``python -m snakemake`` on this repository's Snakefile in ``workdir``."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", ROOT / "Snakefile"]
    cmd += ["--directory", workdir, "--configfile", configfile, "--cores", "2", *args]
    return subprocess.run(
        [str(c) for c in cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_config(path: Path, **changes) -> Path:
    """The demo config with top-level keys replaced (a value of None deletes the key)."""
    config = yaml.safe_load(DEMO.read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Run the demo study once; return its working directory."""
    workdir = tmp_path_factory.mktemp("demo")
    result = snakemake(workdir=workdir)
    assert result.returncode == 0, result.stdout[-5000:]
    return workdir


@pytest.fixture(scope="module")
def metrics(demo_run):
    return pd.read_csv(demo_run / "results" / "demo" / "metrics.csv")


# ----------------------------------------------------------------------------- dry runs


def test_dry_run_builds_the_demo_dag(tmp_path):
    result = snakemake("--dry-run", workdir=tmp_path)
    assert result.returncode == 0, result.stdout
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, flags=re.MULTILINE))
    assert counts == {
        "load_dataset": "1",
        "fit_model": "2",
        "fit_l2h": "6",
        "evaluate_trees": "2",
        "plot_dendrograms": "2",
        "collect_metrics": "1",
        "all": "1",
        "total": "15",
    }
    assert not (tmp_path / "results").exists()


def test_registered_dataset_without_loader_dry_runs_then_fails_at_its_first_job(tmp_path):
    config = write_config(
        tmp_path / "cifar.yaml",
        study="cifar",
        datasets={"cifar10": {"backbone": "pixels", "n_clusters": [10]}},
        seeds=[0],
    )
    dry = snakemake("--dry-run", workdir=tmp_path, configfile=config)
    assert dry.returncode == 0, dry.stdout
    run = snakemake(workdir=tmp_path, configfile=config)
    assert run.returncode != 0
    log = (tmp_path / "results" / "cifar" / "logs" / "load_dataset" / "cifar10.log").read_text()
    assert "cifar10 not found" in log  # the load_dataset rule never downloads
    assert not (tmp_path / "results" / "cifar" / "data").exists()


# ----------------------------------------------------------------------------- config schema


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"sedes": [0]}, "sedes"),
        ({"datasets": {"digits": {"backbone": "pixels", "n_cluster": [10]}}}, "n_cluster"),
        ({"datasets": {"cifar11": {"backbone": "pixels", "n_clusters": [10]}}}, "cifar11"),
        ({"models": {"kmeans": {"n_inits": 10}}}, "n_inits"),
        ({"aggregations": ["cluster_mean", "point_max"]}, "point_max"),
        ({"seeds": [-1]}, "-1"),
        ({"study": None}, "study"),
    ],
)
def test_bad_config_fails_before_any_job_naming_the_key(tmp_path, changes, named):
    config = write_config(tmp_path / "bad.yaml", **changes)
    result = snakemake("--dry-run", workdir=tmp_path, configfile=config)
    assert result.returncode != 0
    assert "Error validating config file" in result.stdout
    message = result.stdout.split("ValidationError", 1)[1]
    assert named in message
    assert not (tmp_path / "results").exists()


def test_without_a_config_the_demo_study_is_planned():
    def dry_run(*extra: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "snakemake", "--cores", "1", "--dry-run", "--forceall"]
        return subprocess.run([*cmd, *extra], cwd=ROOT, capture_output=True, text=True, timeout=120)

    plain, demo = dry_run(), dry_run("--configfile", str(DEMO))
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "results/demo/metrics.csv" in plain.stdout

    def totals(result: subprocess.CompletedProcess) -> list[str]:
        return [line for line in result.stdout.splitlines() if line.startswith("total")]

    assert totals(plain) and totals(plain) == totals(demo)


def test_lint_is_clean():
    cmd = [sys.executable, "-m", "snakemake", "--lint", "--configfile", str(DEMO)]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean():
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent))
    if snakefmt is None:
        pytest.skip("snakefmt is not installed in this environment")
    cmd = [snakefmt, "--check", "Snakefile", "rules"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- real demo run


def test_metrics_csv_is_tidy_with_one_row_per_tree_and_metric(metrics):
    assert list(metrics.columns) == COLUMNS
    assert set(metrics["dataset"]) == {"digits"}
    assert set(metrics["backbone"]) == {"pixels"}
    assert set(metrics["model"]) == {"kmeans"}
    assert set(metrics["method"]) == {"l2h"}
    assert set(metrics["n_clusters"]) == {10}
    assert set(metrics["aggregation"]) == set(AGGREGATIONS)
    assert set(metrics["seed"]) == set(SEEDS)
    assert {"nmi", "ari", "acc", "dp", "lp"} <= set(metrics["metric"])
    keys = ["aggregation", "seed", "metric"]
    assert not metrics.duplicated(keys).any()
    per_tree = metrics.groupby(["aggregation", "seed"]).size()
    assert len(per_tree) == len(AGGREGATIONS) * len(SEEDS)
    assert per_tree.nunique() == 1


def test_metric_values_are_in_range(metrics):
    value = metrics.set_index("metric")["value"]
    assert np.isfinite(metrics["value"]).all()
    for name in ("nmi", "acc", "dp", "lp"):
        assert value[name].between(0, 1).all(), name
    assert value["ari"].between(-0.5, 1).all()
    # k-means on digits pixels is far from chance (NMI about 0.74, ACC about 0.79)
    assert (value["nmi"] > 0.6).all() and (value["acc"] > 0.6).all()


def test_flat_scores_do_not_depend_on_the_aggregation(metrics):
    flat = metrics[metrics["metric"].isin(["nmi", "ari", "acc"])]
    spread = flat.groupby(["seed", "metric"])["value"].agg(lambda v: v.max() - v.min())
    assert (spread == 0).all()


def test_every_tree_has_json_newick_and_a_dendrogram(demo_run):
    results = demo_run / "results" / "demo"
    for seed in SEEDS:
        for aggregation in AGGREGATIONS:
            stem = f"digits/kmeans/k10_seed{seed}_{aggregation}"
            tree = Hierarchy.load(results / "trees" / f"{stem}.json")
            assert tree.n_clusters == 10 and tree.aggregation == aggregation
            newick = (results / "trees" / f"{stem}.nwk").read_text()
            assert newick.endswith(";\n")
            assert re.sub(r"'[^']*'", "", newick).count("(") == 9  # K - 1 inner nodes
            assert sorted(re.findall(r"\(c(\d+)\)", newick), key=int) == [str(k) for k in range(10)]
            png = results / "figures" / f"dendrogram_digits_kmeans_10_seed{seed}_{aggregation}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_job_left_a_log_and_a_benchmark(demo_run):
    results = demo_run / "results" / "demo"
    logs = sorted((results / "logs").rglob("*.log"))
    benchmarks = sorted((results / "benchmarks").rglob("*.tsv"))
    assert len(logs) == len(benchmarks) == 14  # every job but `all`
    for log in logs:
        assert log.read_text().rstrip().endswith("done"), log
    assert not list(results.rglob(".*.tmp*"))  # atomic writes left no temporary file


def test_a_second_run_has_nothing_to_do(demo_run):
    result = snakemake("--dry-run", workdir=demo_run)
    assert result.returncode == 0, result.stdout
    assert "Nothing to be done" in result.stdout


def test_report_holds_the_metrics_table_and_every_dendrogram(demo_run):
    result = snakemake("--report", "report.zip", workdir=demo_run)
    assert result.returncode == 0, result.stdout
    with zipfile.ZipFile(demo_run / "report.zip") as archive:
        names = [Path(name).name for name in archive.namelist()]
    assert "metrics.csv" in names
    assert len([name for name in names if name.startswith("dendrogram_")]) == 6


def test_rerunning_a_model_run_gives_identical_outputs(demo_run, tmp_path):
    shutil.copytree(demo_run / "results", tmp_path / "results")
    target = "results/demo/metrics/digits/kmeans/k10_seed0.csv"
    logits = "results/demo/logits/digits/kmeans/k10_seed0.npy"
    before = {path: (tmp_path / path).read_bytes() for path in (target, logits)}
    result = snakemake("--forcerun", "fit_model", "--", target, workdir=tmp_path)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "rule fit_model" in result.stdout
    for path, content in before.items():
        assert (tmp_path / path).read_bytes() == content, path


# ----------------------------------------------------------------------------- figures library


def test_majority_classes_and_names():
    y_true = np.array([2, 2, 1, 0, 0, 1])
    y_pred = np.array([0, 0, 0, 2, 2, 2])
    assert majority_classes(y_true, y_pred, 4).tolist() == [2, -1, 0, -1]
    names = cluster_names(y_true, y_pred, ["cat", "dog", "fox"], 4)
    assert names == ["fox (c0)", "empty (c1)", "cat (c2)", "empty (c3)"]
    with pytest.raises(ValueError, match="cluster ids"):
        majority_classes(y_true, y_pred, 2)


def test_plot_dendrogram_writes_png_and_truncates_large_trees(tmp_path):
    points = np.random.default_rng(0).normal(size=(80, 2))
    tree = Hierarchy.from_linkage(sch.linkage(points, "average"))
    path = tmp_path / "big.png"
    plot_dendrogram(tree, [f"leaf {i}" for i in range(80)], path, max_leaves=20)
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="79 labels"):
        plot_dendrogram(tree, ["x"] * 79, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()
