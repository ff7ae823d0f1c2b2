"""Saved flat models are byte-reproducible: the same config and seed give the same file.

Each model is trained twice from scratch with the same seed and saved under two different
names in two folders (so the random temporary names of the atomic writes differ too); the
files must be identical, and no member of the zip archive may carry a name or a time that
changes from one save to the next.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from l2h.models import KMeans, get_model

torch = pytest.importorskip("torch")

SETTINGS = {
    "kmeans": {"n_init": 2},
    "turtle": {"outer_steps": 20, "batch_size": 100},
    "temi": {
        "n_heads": 2,
        "hidden_dim": 32,
        "bottleneck_dim": 16,
        "epochs": 2,
        "batch_size": 50,
        "knn": 5,
        "warmup_epochs": 1,
    },
}


@pytest.fixture(scope="module")
def spaces():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 16)) * 6
    return [(centers[np.arange(200) % 4] + rng.normal(size=(200, 16))).astype(np.float32)]


def fit_and_save(name: str, spaces, path):
    kwargs = {} if name == "kmeans" else {"device": "cpu"}
    model = get_model(name)(4, seed=3, **SETTINGS[name], **kwargs)
    model.fit(spaces, progress=False)
    model.save(path)
    return path.read_bytes()


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_same_seed_gives_a_byte_identical_model_file(name, spaces, tmp_path):
    torch.set_num_threads(1)
    first = fit_and_save(name, spaces, tmp_path / "a" / "k4_seed3.model")
    second = fit_and_save(name, spaces, tmp_path / "b" / "other_name.model")
    assert first == second
    with zipfile.ZipFile(tmp_path / "a" / "k4_seed3.model") as archive:
        members = archive.infolist()
    assert members
    assert {m.date_time[0] for m in members} == {1980}  # fixed (torch: 1980-00-00)
    assert not any("k4_seed3" in m.filename or ".tmp" in m.filename for m in members)


def test_a_kmeans_file_still_loads_with_numpy(spaces, tmp_path):
    model = KMeans(4, seed=0, n_init=1).fit(spaces, progress=False)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as data:
        assert set(data.files) == {"cluster_centers", "meta"}
        assert np.array_equal(data["cluster_centers"], model.cluster_centers_)
    assert np.array_equal(KMeans.load(tmp_path / "m.npz").logits(spaces), model.logits(spaces))
