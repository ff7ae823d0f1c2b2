"""What every registry entry must satisfy, as functions of its name.

``tests/test_registries.py`` runs them on every entry of the four registries (a new entry gets
them with no new test list); ``tests/test_extending.py`` runs them on throwaway entries, which
shows that a new model or baseline needs nothing beyond its module and its registry line.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from l2h.backbones import BACKBONES
from l2h.baselines import BASELINES, CALL_ARGUMENTS, INPUTS, BaselineData, run_baseline
from l2h.config import check_settings, registry_names
from l2h.datasets import DATASETS, DatasetNotAvailableError, check_available, load_tree
from l2h.hierarchy import Hierarchy
from l2h.models import MODELS, WORKFLOW_ARGUMENTS, FlatModel
from l2h.names import display_name, method_label
from l2h.taxonomy import Taxonomy

#: Points, clusters and dimensions of the synthetic data the contracts fit.
N, K, D = 240, 4, 12


def mixture(n: int = N, k: int = K, d: int = D, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` float32 points of ``k`` well separated Gaussian clusters, and their labels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    centres = rng.normal(size=(k, d)) * 6.0
    return (centres[labels] + rng.normal(size=(n, d))).astype(np.float32), labels


def _names_everywhere(kind: str, registry: str, name: str, display: str) -> None:
    assert display and display.strip() == display, f"{name}: display name {display!r}"
    assert display_name(kind, name) == display
    assert name in registry_names()[registry]  # the config schema's list and the rules' own


# ----------------------------------------------------------------------------- datasets


def check_dataset(name: str, tmp_path: Path) -> None:
    """Registry facts, availability check, tree reader and config names of a dataset."""
    info = DATASETS[name]
    assert info.name == name and info.n_classes >= 2 and info.description
    _names_everywhere("dataset", "datasets", name, info.display_name)
    assert (name in registry_names()["datasets_with_tree"]) == info.has_tree
    empty = tmp_path / f"{name}-empty"
    try:  # bundled or system data is available anywhere; anything else says how to get it
        check_available(name, empty, download=False)
    except DatasetNotAvailableError as err:
        assert len(str(err)) > 40, f"{name}: {err}"
    if info.needs_root:
        try:
            check_available(name, empty, download=True)
        except DatasetNotAvailableError:
            pass
        else:
            raise AssertionError(f"{name} needs a root but an empty one passed its check")
    try:
        tree = load_tree(name, empty)
    except FileNotFoundError:  # read from the dataset's own files (iNat21)
        assert info.has_tree
        return
    assert (tree is not None) == info.has_tree
    if tree is not None:
        assert isinstance(tree, Taxonomy) and tree.n_classes == info.n_classes


# ----------------------------------------------------------------------------- backbones


def check_backbone(name: str) -> None:
    """Registry facts of a backbone, and its stand-in's output size through the pipeline."""
    from l2h.datasets import load_dataset
    from l2h.embed import extract

    info = BACKBONES[name]
    assert info.name == name and info.source and info.preprocessing
    _names_everywhere("backbone", "backbones", name, info.display_name)
    assert isinstance(info.uses_gpu, bool)
    network = info.loader is not None
    assert network == info.needs_torch and (info.dim > 0) == network
    assert info.uses_gpu <= network  # only networks ask for a GPU
    images = load_dataset("digits", "test").subset(range(5))
    out = extract(images, name, device="cpu", progress=False, stand_in=True)
    assert out.shape == (5, info.dim if network else 64) and out.dtype == np.float32


# ----------------------------------------------------------------------------- models


def check_model(name: str, tmp_path: Path) -> None:
    """The shared interface of a flat model: signature, fit, logits, files, determinism."""
    info = MODELS[name]
    _names_everywhere("model", "models", name, info.display_name)
    assert isinstance(info.uses_gpu, bool)
    cls = info.load()
    assert inspect.isclass(cls) and issubclass(cls, FlatModel)
    signature = inspect.signature(cls).parameters
    assert list(signature)[:2] == ["n_clusters", "seed"] and signature["seed"].default == 0
    settings = info.hyperparameters()
    assert not set(settings) & set(WORKFLOW_ARGUMENTS) and set(info.quick) <= set(settings)
    check_settings({"models": {name: dict(info.quick)}})  # the workflow accepts its settings
    device = {"device": "cpu"} if "device" in settings else {}
    x, y = mixture()
    model = cls(n_clusters=K, seed=0, **info.quick, **device).fit([x], progress=False)
    assert model.get_params() == {"n_clusters": K, "seed": 0, **settings, **info.quick, **device}
    assert cls(**model.get_params()).get_params() == model.get_params()
    logits = model.logits([x])
    assert logits.shape == (N, K) and logits.dtype == np.float32 and np.isfinite(logits).all()
    assert np.array_equal(model.predict([x]), logits.argmax(axis=1))
    assert 0 <= model.n_empty_clusters_ < K and len(model.history_) >= 1
    path = tmp_path / f"{name}.model"
    model.save(path)
    np.testing.assert_array_equal(cls.load(path).logits([x]), logits)
    again = cls(n_clusters=K, seed=0, **info.quick, **device).fit([x], progress=False)
    np.testing.assert_array_equal(again.logits([x]), logits)  # same seed, same model on CPU


# ----------------------------------------------------------------------------- baselines


def baseline_data(inputs: frozenset[str], seed: int = 0) -> BaselineData:
    """Synthetic inputs of a baseline: features, logits and pixels of the same points."""
    x, y = mixture(seed=seed)
    logits = np.eye(K, dtype=np.float32)[y] * 4.0 + x[:, :K] * 0.01
    pixels = (x - x.min()) / (x.max() - x.min())
    return BaselineData(
        features=[x] if "features" in inputs else None,
        logits=logits if "logits" in inputs else None,
        pixels=pixels if "pixels" in inputs else None,
    )


def check_baseline(name: str) -> None:
    """A baseline's registry facts, settings, output shapes and determinism."""
    info = BASELINES[name]
    _names_everywhere("method", "baselines", name, info.display_name)
    assert method_label(name, "kmeans") == f"{info.display_name} (k-means)"
    assert info.inputs and info.inputs <= set(INPUTS) and info.description
    assert isinstance(info.uses_gpu, bool)
    signature = inspect.signature(info.function).parameters
    assert list(signature)[:2] == ["fit", "evaluate"] and signature["seed"].default == 0
    settings = info.hyperparameters()
    assert not set(settings) & set(CALL_ARGUMENTS) and set(info.quick) <= set(settings)
    check_settings({"baselines": {name: {"params": dict(info.quick)}}})
    fit, evaluate = baseline_data(info.inputs), baseline_data(info.inputs, seed=1)
    device = {"device": "cpu"} if "device" in settings else {}
    kw = dict(fit=fit, evaluate=evaluate, n_clusters=K, seed=0, **info.quick, **device)
    tree, leaves = run_baseline(name, **kw)
    assert isinstance(tree, Hierarchy) and 1 <= tree.n_clusters <= K
    assert leaves.shape == (N,) and leaves.dtype == np.int64
    assert 0 <= leaves.min() and leaves.max() < tree.n_clusters
    again, same = run_baseline(name, **kw)
    assert again.steps == tree.steps and np.array_equal(same, leaves)
