"""Tests of the flat clustering models TURTLE, TEMI and KMeans under their shared interface.

Training budgets are cut so that the module runs in about a minute on one CPU thread: TURTLE
uses 100 outer iterations (default 6000; K=100 also uses outer_lr=1e-2), TEMI 2 small heads
(hidden 128, bottleneck 64), 30 epochs, batch 64, lr 1e-3, knn 10 and teacher momentum 0.9
(the official 0.996 barely moves the teacher in a few hundred steps).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from l2h.metrics import acc
from l2h.models import MODELS, KMeans, ModelInfo, ModelNotAvailableError, get_model
from l2h.models.temi import TEMI, mine_neighbours
from l2h.models.turtle import TURTLE

torch.set_num_threads(1)

TURTLE_STEPS = 150  # on two spaces with batch 300 of 400 points (sampling path)
TEMI_FAST = dict(
    n_heads=2,
    hidden_dim=128,
    bottleneck_dim=64,
    epochs=30,
    batch_size=64,
    lr=1e-3,
    knn=10,
    warmup_epochs=5,
    momentum=0.9,
)


def mixture(k: int, per: int, dim: int, sep: float, seed: int = 0):
    """Gaussian mixture: K unit-variance blobs whose means lie at distance ``sep`` from 0."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(k, dim))
    means *= sep / np.linalg.norm(means, axis=1, keepdims=True)
    y = np.repeat(np.arange(k), per)
    return (means[y] + rng.normal(size=(len(y), dim))).astype(np.float32), y


@pytest.fixture(scope="module")
def mix10():
    """K=10 mixture in 128 dimensions, plus a second space (another 128-d view of the labels)."""
    x, y = mixture(10, 40, 128, 8.0)
    second, same = mixture(10, 40, 128, 8.0, seed=1)
    assert np.array_equal(y, same)
    return x, y, second


@pytest.fixture(scope="module")
def fitted(mix10):
    """One fitted model of each kind on the K=10 mixture (TURTLE on two spaces)."""
    x, _, second = mix10
    return {
        "turtle": TURTLE(10, outer_steps=TURTLE_STEPS, batch_size=300).fit([x, second], False),
        "temi": TEMI(10, **TEMI_FAST).fit([x], progress=False),
        "kmeans": KMeans(10, seed=0).fit([x], progress=False),
    }


def spaces_of(name: str, mix10) -> list[np.ndarray]:
    x, _, second = mix10
    return [x, second] if name == "turtle" else [x]


# ----------------------------------------------------------------------------- quality


def test_turtle_k10_well_separated_mixture():
    x, y = mixture(10, 30, 128, 8.0)
    model = TURTLE(10, outer_steps=100).fit([x], progress=False)
    assert acc(y, model.predict([x])) >= 0.95
    assert len(model.history_) == 100
    assert model.n_empty_clusters_ == 0


def test_turtle_k100_well_separated_mixture():
    x, y = mixture(100, 10, 256, 10.0)
    model = TURTLE(100, outer_steps=100, outer_lr=1e-2).fit([x], progress=False)
    assert acc(y, model.predict([x])) >= 0.95


@pytest.mark.parametrize("name", ["turtle", "temi", "kmeans"])
def test_models_cluster_the_k10_mixture(name, mix10, fitted):
    y = mix10[1]
    assert acc(y, fitted[name].predict(spaces_of(name, mix10))) >= 0.9


# ----------------------------------------------------------------------------- interface


@pytest.mark.parametrize("name", ["turtle", "temi", "kmeans"])
def test_logits_shape_dtype_and_predict(name, mix10, fitted):
    model = fitted[name]
    logits = model.logits(spaces_of(name, mix10))
    assert logits.shape == (400, 10) and logits.dtype == np.float32
    assert np.all(np.isfinite(logits))
    pred = model.predict(spaces_of(name, mix10))
    assert pred.dtype == np.int64 and np.array_equal(pred, logits.argmax(1))
    # streamed in small batches: same values
    small = model.logits(spaces_of(name, mix10), batch_size=37)
    np.testing.assert_allclose(small, logits, rtol=1e-5, atol=1e-5)
    assert model.n_empty_clusters_ == 10 - len(np.unique(pred))
    assert len(model.history_) >= 1 and all(np.isfinite(model.history_))


@pytest.mark.parametrize("name", ["turtle", "temi", "kmeans"])
def test_logits_written_in_blocks_to_a_memmap(name, mix10, fitted, tmp_path):
    model = fitted[name]
    spaces = spaces_of(name, mix10)
    path = tmp_path / "logits.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(400, 10))
    returned = model.logits(spaces, batch_size=64, out=out)
    assert returned is out
    out.flush()
    assert np.array_equal(np.load(path), model.logits(spaces))
    with pytest.raises(ValueError, match="float32"):
        model.logits(spaces, out=np.zeros((400, 10)))
    with pytest.raises(ValueError, match=r"\(400, 10\)"):
        model.logits(spaces, out=np.zeros((10, 10), np.float32))


@pytest.mark.parametrize("name", ["turtle", "temi", "kmeans"])
def test_save_load_round_trip(name, mix10, fitted, tmp_path):
    model = fitted[name]
    path = tmp_path / "sub" / f"model.{'npz' if name == 'kmeans' else 'pt'}"
    model.save(path)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    loaded = type(model).load(path)
    assert loaded.get_params() == model.get_params()
    assert loaded.n_empty_clusters_ == model.n_empty_clusters_
    assert loaded.history_ == model.history_
    assert np.array_equal(
        loaded.logits(spaces_of(name, mix10)), model.logits(spaces_of(name, mix10))
    )


@pytest.mark.parametrize("cls", [TURTLE, TEMI])
def test_load_rejects_other_files(cls, tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"format": "something", "weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a saved l2h"):
        cls.load(path)
    path.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="not a saved l2h"):
        cls.load(path)


def test_same_seed_same_logits_other_seed_other_logits(mix10, fitted):
    x, _, second = mix10
    turtle = TURTLE(10, outer_steps=TURTLE_STEPS, batch_size=300).fit([x, second], False)
    logits = fitted["turtle"].logits([x, second])
    assert np.array_equal(turtle.logits([x, second]), logits)
    assert turtle.history_ == fitted["turtle"].history_
    other = TURTLE(10, seed=1, outer_steps=20, batch_size=300).fit([x, second], False)
    assert not np.array_equal(other.logits([x, second]), logits)
    temi = TEMI(10, **TEMI_FAST).fit([x], progress=False)
    assert np.array_equal(temi.logits([x]), fitted["temi"].logits([x]))
    assert temi.history_ == fitted["temi"].history_


def test_memory_mapped_input_gives_the_same_model(mix10, fitted, tmp_path):
    x, _, second = mix10
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "second.npy", second)
    full, other = (np.load(tmp_path / f"{s}.npy", mmap_mode="r") for s in ("x", "second"))
    assert isinstance(full, np.memmap)
    turtle = TURTLE(10, outer_steps=TURTLE_STEPS, batch_size=300).fit([full, other], False)
    assert np.array_equal(turtle.logits([full, other]), fitted["turtle"].logits([x, second]))
    temi = TEMI(10, **(TEMI_FAST | {"epochs": 2})).fit([full], progress=False)
    reference = TEMI(10, **(TEMI_FAST | {"epochs": 2})).fit([x], progress=False)
    assert np.array_equal(temi.logits([full]), reference.logits([x]))


def test_turtle_logits_are_log_mean_softmax_and_space_logits_raw(mix10, fitted):
    model = fitted["turtle"]
    spaces = spaces_of("turtle", mix10)
    raw = [s @ w.T + b for s, w, b in zip(spaces, model.weights_, model.biases_, strict=True)]
    for s in range(2):
        np.testing.assert_allclose(
            model.logits(spaces, kind="space", space=s), raw[s], rtol=1e-4, atol=1e-4
        )
    soft = [np.exp(r - r.max(1, keepdims=True)) for r in raw]
    mean = np.mean([p / p.sum(1, keepdims=True) for p in soft], axis=0)
    logits = model.logits(spaces)
    np.testing.assert_allclose(np.exp(logits), mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.exp(logits).sum(1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="space"):
        model.logits(spaces, kind="space")
    with pytest.raises(ValueError, match="kind"):
        model.logits(spaces, kind="mean")


def test_temi_keeps_the_lowest_loss_head(fitted):
    model = fitted["temi"]
    assert model.head_losses_.shape == (30, 2)
    assert model.best_head_ == int(np.argmin(model.head_losses_[-1]))
    np.testing.assert_allclose(model.history_, model.head_losses_.mean(1))
    assert model.head_["w1"].shape == (1, 128, 128)


def test_mine_neighbours_matches_brute_force():
    x, _ = mixture(5, 30, 6, 2.0, seed=3)
    y, _ = mixture(5, 30, 4, 2.0, seed=4)
    unit = [s / np.linalg.norm(s, axis=1, keepdims=True) for s in (x, y)]
    sims = (unit[0] @ unit[0].T + unit[1] @ unit[1].T) / 2
    np.fill_diagonal(sims, -np.inf)
    expected = np.argsort(-sims, axis=1, kind="stable")[:, :7]
    got = mine_neighbours([x, y], 7, chunk=16)  # 150 rows in blocks of 16
    assert got.shape == (150, 7)
    assert not np.any(got == np.arange(150)[:, None])
    assert np.array_equal(np.sort(got, 1), np.sort(expected, 1))


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("cls", [TURTLE, TEMI, KMeans])
def test_invalid_inputs_fail_clearly(cls, mix10, fitted):
    x = mix10[0]
    nan = x.copy()
    nan[5, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cls(10).fit([nan], progress=False)
    with pytest.raises(ValueError, match="2-D"):
        cls(10).fit([x[0]], progress=False)
    with pytest.raises(ValueError, match="rows"):
        cls(10).fit([x, x[:-1]], progress=False)
    with pytest.raises(ValueError, match="n_clusters"):
        cls(1)
    with pytest.raises(ValueError, match="cannot form"):
        cls(11).fit([x[:10]], progress=False)
    with pytest.raises(RuntimeError, match="not fitted"):
        cls(10).logits([x])
    name = {TURTLE: "turtle", TEMI: "temi", KMeans: "kmeans"}[cls]
    model = fitted[name]
    with pytest.raises(ValueError, match="dimensions"):
        model.logits([x[:, :5]])
    bad = [s.copy() for s in spaces_of(name, mix10)]
    bad[0][7, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        model.logits(bad)


@pytest.mark.parametrize("cls", [TURTLE, TEMI])
def test_bad_hyperparameters_and_device(cls):
    with pytest.raises(ValueError, match="batch_size"):
        cls(3, batch_size=0)
    with pytest.raises(ValueError, match="device"):
        cls(3, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            cls(3, device="cuda")


def test_nan_loss_stops_training_with_the_iteration():
    x = np.random.default_rng(0).normal(size=(100, 8)).astype(np.float32)
    turtle = TURTLE(3, outer_steps=50, outer_lr=1e36, inner_lr=1e36)
    with pytest.raises(FloatingPointError, match="at iteration 2"):
        turtle.fit([x], progress=False)
    with pytest.raises(RuntimeError, match="not fitted"):
        turtle.logits([x])
    temi = TEMI(
        3,
        n_heads=2,
        hidden_dim=16,
        bottleneck_dim=8,
        knn=5,
        epochs=5,
        lr=1e36,
        warmup_epochs=0,
        freeze_last_layer=0,
    )
    with pytest.raises(FloatingPointError, match="at epoch 2, iteration 1"):
        temi.fit([x], progress=False)
    with pytest.raises(RuntimeError, match="not fitted"):  # a failed fit leaves no model
        temi.logits([x])


def test_empty_clusters_are_counted_and_logged(tmp_path):
    x, _ = mixture(3, 30, 16, 8.0)
    log = tmp_path / "logs" / "turtle.log"
    model = TURTLE(8, gamma=0.0, outer_steps=30).fit([x], progress=False, log_file=log)
    pred = model.predict([x])
    assert model.n_empty_clusters_ == 8 - len(np.unique(pred)) > 0
    text = log.read_text()
    assert f"({model.n_empty_clusters_} empty)" in text
    assert "step 20: loss" in text and "non-empty clusters" in text


def test_progress_bar_shows_loss_and_clusters(capsys, mix10):
    x = mix10[0]
    TURTLE(10, outer_steps=3).fit([x], progress=True)
    err = capsys.readouterr().err
    assert "TURTLE" in err and "loss=" in err and "clusters=" in err


# ----------------------------------------------------------------------------- registry


def test_get_model_maps_every_name():
    assert get_model("turtle") is TURTLE
    assert get_model("TEMI") is TEMI
    assert get_model("kmeans") is KMeans
    assert set(MODELS) == {"kmeans", "turtle", "temi"}
    with pytest.raises(KeyError, match="turtle"):
        get_model("dec")


def test_registered_model_without_module_fails_clearly(monkeypatch):
    monkeypatch.setitem(MODELS, "future", ModelInfo("l2h.models.not_written", "Future", False))
    with pytest.raises(ModelNotAvailableError, match="future"):
        get_model("future")


def test_core_imports_do_not_need_torch():
    import subprocess
    import sys

    code = (
        "import sys, l2h, l2h.models; from l2h.models import get_model; get_model('kmeans'); "
        "assert 'torch' not in sys.modules"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


# ----------------------------------------------------------------------------- benchmark


def test_bench_models_quick_run(capsys):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_models.py"
    spec = importlib.util.spec_from_file_location("bench_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick", "--threads", "1"])
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out
    for name in ("turtle", "temi", "kmeans"):
        assert name in out
    assert "ACC" in out and "NMI" in out
    assert "not measured" in out or "speed-up" in out
