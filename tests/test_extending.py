"""Extending the benchmark takes one module and one registry line (docs/extending.md).

Throwaway entries of the four kinds are registered here, in this module only (a model class, a
baseline function, a dataset loader and a backbone, each followed by its registry line), and
then: the shared contracts pass on them, the config schema and checks accept them (and catch
their typos), display names and labels read them, and the workflow's target functions plan
jobs for them, all without any other file knowing their names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from _contracts import check_backbone, check_baseline, check_dataset, check_model

from l2h.backbones import BACKBONES, BackboneInfo
from l2h.baselines import BASELINES, BaselineData, BaselineInfo
from l2h.config import ConfigError, check_study
from l2h.datasets import DATASETS, DatasetInfo, ImageDataset
from l2h.datasets._base import nothing_to_check
from l2h.hierarchy import Hierarchy
from l2h.models import MODELS, FlatModel, ModelInfo
from l2h.models._base import as_spaces, check_n_clusters
from l2h.names import display_name, method_label

ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- a new model


class NearestMean(FlatModel):
    """k-means in a few lines: ``n_iter`` Lloyd steps from K points drawn with ``seed``."""

    def __init__(self, n_clusters: int, seed: int = 0, *, n_iter: int = 10) -> None:
        self.n_clusters = check_n_clusters(n_clusters)
        self.seed = int(seed)
        self.n_iter = int(n_iter)

    def fit(self, spaces, progress=True, log_file=None) -> NearestMean:
        x = np.concatenate(as_spaces(spaces), axis=1).astype(np.float64)
        rng = np.random.default_rng(self.seed)
        self.centres_ = x[rng.choice(len(x), self.n_clusters, replace=False)]
        for _ in range(self.n_iter):
            labels = self._distances(x).argmin(axis=1)
            for k in np.unique(labels):
                self.centres_[k] = x[labels == k].mean(axis=0)
        self.space_dims_ = tuple(s.shape[1] for s in as_spaces(spaces))
        labels = self._distances(x).argmin(axis=1)
        self.n_empty_clusters_ = self._count_empty(labels)
        self.history_ = [float(self._distances(x).min(axis=1).mean())]
        return self

    def _distances(self, x: np.ndarray) -> np.ndarray:
        return ((x[:, None, :] - self.centres_[None]) ** 2).sum(axis=-1)

    def logits(self, spaces, batch_size=65_536, out=None) -> np.ndarray:
        self._check_fitted()
        x = np.concatenate(as_spaces(spaces), axis=1).astype(np.float64)
        return (-self._distances(x)).astype(np.float32)

    def save(self, path: str | os.PathLike) -> None:
        meta = json.dumps({"params": self.get_params(), "dims": self.space_dims_})
        with open(path, "wb") as f:
            np.savez(f, centres=self.centres_, meta=np.array(meta))

    @classmethod
    def load(cls, path: str | os.PathLike) -> NearestMean:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            model = cls(**meta["params"])
            model.centres_ = data["centres"]
        model.space_dims_ = tuple(meta["dims"])
        return model


NEAREST_MEAN = ModelInfo(__name__, "NearestMean", False, "Nearest mean", {"n_iter": 5})

# ----------------------------------------------------------------------------- a new baseline


def chain(
    fit: BaselineData, evaluate: BaselineData, *, n_clusters: int, seed: int = 0, start: int = 0
) -> tuple[Hierarchy, np.ndarray]:
    """Merge the flat clusters one after another from ``start`` (a caterpillar tree)."""
    order = [(start + i) % n_clusters for i in range(n_clusters)]
    steps, group = [], (order[0],)
    for k in order[1:]:
        steps.append((group, (k,)))
        group = group + (k,)
    leaves = np.argmax(evaluate.logits, axis=1).astype(np.int64)
    return Hierarchy(n_clusters, steps), leaves


CHAIN = BaselineInfo(
    f"{__name__}:chain", frozenset({"logits"}), "clusters merged in order", "Chain"
)

# ----------------------------------------------------------------------------- a new dataset


def load_blobs(split: str, root: Path | None, download: bool) -> ImageDataset:
    """Three 8x8 grey blobs per class (deterministic)."""
    rng = np.random.default_rng(0 if split == "train" else 1)
    labels = np.repeat(np.arange(3), 6)
    images = (labels[:, None, None] * 80 + rng.integers(0, 20, (18, 8, 8))).astype(np.uint8)
    return ImageDataset("blobs", split, images, labels.astype(np.int64), ("a", "b", "c"))


BLOBS = DatasetInfo("blobs", "Blobs", 3, "three grey blobs", load_blobs, nothing_to_check)

# ----------------------------------------------------------------------------- a new backbone


def load_tiny_net():
    import torch

    return torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten())


TINY_NET = BackboneInfo(
    "tiny_net",
    12,
    "no weights",
    "2x2 average pool",
    display_name="Tiny net",
    loader=f"{__name__}:load_tiny_net",
)


@pytest.fixture
def registered(monkeypatch):
    """The four throwaway entries, each one registry line."""
    monkeypatch.setitem(MODELS, "nearest_mean", NEAREST_MEAN)
    monkeypatch.setitem(BASELINES, "chain", CHAIN)
    monkeypatch.setitem(DATASETS, "blobs", BLOBS)
    monkeypatch.setitem(BACKBONES, "tiny_net", TINY_NET)


def test_the_shared_contracts_hold_for_new_entries(registered, tmp_path):
    check_model("nearest_mean", tmp_path)
    check_baseline("chain")
    check_dataset("blobs", tmp_path)
    pytest.importorskip("torch")
    check_backbone("tiny_net")


def _study(**changes) -> dict:
    config = {
        "study": "extended",
        "device": "cpu",
        "datasets": {"blobs": {"backbones": ["pixels", "tiny_net"]}},
        "models": {"nearest_mean": {"n_iter": 3}},
        "seeds": [0, 1],
        "aggregations": ["cluster_mean"],
        "baselines": {"chain": {"params": {"start": 1}}},
    }
    return {**config, **changes}


def test_the_config_knows_new_entries_and_checks_their_settings(registered):
    check_study(_study(), ROOT / "config" / "schema.yaml")
    with pytest.raises(ConfigError, match=r"models\.nearest_mean\.n_itr = 3: unknown setting"):
        check_study(_study(models={"nearest_mean": {"n_itr": 3}}), ROOT / "config" / "schema.yaml")
    with pytest.raises(ConfigError, match=r"baselines\.chain\.params\.start = 'one'.*expects int"):
        bad = _study(baselines={"chain": {"params": {"start": "one"}}})
        check_study(bad, ROOT / "config" / "schema.yaml")


def test_names_and_labels_read_new_entries(registered):
    assert display_name("dataset", "blobs") == "Blobs"
    assert display_name("backbone", "pixels+tiny_net") == "raw pixels + Tiny net"
    assert method_label("l2h", "nearest_mean") == "L2H-Nearest mean"
    assert method_label("chain", "nearest_mean") == "Chain (Nearest mean)"


def _workflow(config: dict) -> dict:
    """rules/common.smk's functions for ``config``, checked as the Snakefile checks it."""
    check_study(config, ROOT / "config" / "schema.yaml")
    namespace = {"config": config, "STUDY": config["study"]}
    exec(compile((ROOT / "rules" / "common.smk").read_text(), "common.smk", "exec"), namespace)
    return namespace


def test_the_workflow_plans_new_entries(registered):
    smk = _workflow(_study())
    runs = smk["model_runs"]()
    assert {(r["dataset"], r["backbone"], r["model"], r["k"]) for r in runs} == {
        ("blobs", "pixels+tiny_net", "nearest_mean", 3)
    }
    methods = {t["method"] for t in smk["all_trees"]()}
    assert methods == {"l2h_cluster_mean", "chain"}
    assert "nearest_mean" in smk["alternatives"](MODELS).split("|")
    assert smk["uses_gpu"]("fit_model", SimpleNamespace(model="nearest_mean")) is False
    assert smk["uses_gpu"]("embed", SimpleNamespace(space="tiny_net")) is True
    assert smk["gpus"](SimpleNamespace(space="tiny_net"), "embed") == 0  # the study's device: cpu
    params = smk["model_params"](SimpleNamespace(dataset="blobs", model="nearest_mean"))
    assert NearestMean(3, **params).n_iter == 3  # the job's keyword arguments are valid
