"""Tests of l2h.models.KMeans, the model registry, and the digits loader it is run on."""

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

from l2h.datasets import load_dataset
from l2h.embed import extract
from l2h.models import KMeans, get_model


class _Features:
    """The bundled digits as (N, 64) pixel features in [0, 1]."""

    def __init__(self) -> None:
        ds = load_dataset("digits", "all")
        self.features, self.labels = extract(ds, "pixels"), ds.labels


@pytest.fixture(scope="module")
def digits():
    return _Features()


@pytest.fixture(scope="module")
def fitted(digits):
    return KMeans(10, seed=0).fit([digits.features])


def _blobs(seed: int = 0, n: int = 60, centers: int = 4, dim: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=5.0, size=(centers, dim))
    return np.concatenate([rng.normal(m, 0.5, size=(n, dim)) for m in means]).astype(np.float32)


# ----------------------------------------------------------------------------- data


def test_digits_is_real_scaled_data(digits):
    assert digits.features.shape == (1797, 64)
    assert digits.features.dtype == np.float32
    assert digits.features.min() == 0.0 and digits.features.max() == 1.0
    assert digits.labels.dtype == np.int64
    assert np.bincount(digits.labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


# ----------------------------------------------------------------------------- registry


def test_get_model_maps_names_to_classes():
    assert get_model("kmeans") is KMeans
    assert get_model("KMeans") is KMeans
    with pytest.raises(KeyError, match="kmeans"):
        get_model("dbscan")


# ----------------------------------------------------------------------------- fit and logits


def test_logits_shape_dtype_and_argmax_equals_sklearn_labels(digits, fitted):
    logits = fitted.logits([digits.features])
    assert logits.shape == (1797, 10)
    assert logits.dtype == np.float32
    assert np.all(logits <= 0)
    assert np.array_equal(logits.argmax(axis=1), fitted.labels_)
    assert np.array_equal(fitted.predict([digits.features]), fitted.labels_)


def test_fit_matches_sklearn_on_the_normalised_features(digits, fitted):
    x = digits.features / np.linalg.norm(digits.features, axis=1, keepdims=True)
    reference = SklearnKMeans(10, n_init=10, max_iter=1000, random_state=0).fit(x)
    assert np.array_equal(reference.labels_, fitted.labels_)
    np.testing.assert_allclose(fitted.cluster_centers_, reference.cluster_centers_, atol=1e-6)


def test_auto_temperature_is_mean_squared_distance_to_own_centroid(digits, fitted):
    x = digits.features / np.linalg.norm(digits.features, axis=1, keepdims=True)
    d2 = ((x[:, None, :] - fitted.cluster_centers_[None]) ** 2).sum(axis=-1)
    mean_own = d2[np.arange(len(x)), fitted.labels_].mean()
    assert fitted.temperature_ == pytest.approx(mean_own, rel=1e-4)
    logits = fitted.logits([digits.features])
    np.testing.assert_allclose(-logits * fitted.temperature_, d2, rtol=1e-4, atol=1e-5)
    # a point at the typical distance from its centroid has logit about -1
    assert np.mean(logits.max(axis=1)) == pytest.approx(-1.0, rel=1e-4)


def test_fixed_temperature_only_rescales(digits):
    one = KMeans(10, seed=0, temperature=1.0).fit([digits.features]).logits([digits.features])
    half = KMeans(10, seed=0, temperature=0.5).fit([digits.features]).logits([digits.features])
    np.testing.assert_allclose(half, 2 * one, rtol=1e-6)


def test_same_seed_same_model(digits):
    a = KMeans(10, seed=3, n_init=3).fit([digits.features])
    b = KMeans(10, seed=3, n_init=3).fit([digits.features])
    assert np.array_equal(a.cluster_centers_, b.cluster_centers_)
    assert np.array_equal(a.logits([digits.features]), b.logits([digits.features]))


def test_rows_are_normalised_per_space():
    x, y = _blobs(0), _blobs(1, dim=3)
    scale = np.random.default_rng(2).uniform(0.1, 10.0, size=(len(x), 1)).astype(np.float32)
    base = KMeans(4, seed=0).fit([x, y])
    scaled = KMeans(4, seed=0).fit([x * scale, y])
    np.testing.assert_allclose(base.logits([x, y]), scaled.logits([x * scale, y]), rtol=1e-4)
    assert base.cluster_centers_.shape == (4, 8)
    # each space's part of a centroid is a mean of unit vectors
    assert np.all(np.linalg.norm(base.cluster_centers_[:, :5], axis=1) <= 1 + 1e-6)


def test_normalize_false_clusters_raw_features():
    x = _blobs(0)
    model = KMeans(4, seed=0, normalize=False).fit([x])
    reference = SklearnKMeans(4, n_init=10, max_iter=1000, random_state=0).fit(x)
    assert np.array_equal(model.labels_, reference.labels_)


def test_memory_mapped_input(tmp_path, digits, fitted):
    path = tmp_path / "features.npy"
    np.save(path, digits.features)
    mapped = np.load(path, mmap_mode="r")
    assert np.array_equal(fitted.logits([mapped]), fitted.logits([digits.features]))


def test_invalid_inputs_fail_clearly(fitted):
    with pytest.raises(ValueError, match="dimensions"):
        fitted.logits([np.zeros((3, 5), dtype=np.float32)])
    with pytest.raises(ValueError, match="rows"):
        KMeans(2).fit([np.ones((4, 2)), np.ones((5, 2))])
    with pytest.raises(ValueError, match="cannot form"):
        KMeans(5).fit([np.eye(3)])
    with pytest.raises(ValueError, match="NaN"):
        KMeans(2).fit([np.array([[1.0, np.nan], [0.0, 1.0], [1.0, 1.0]])])
    for temperature in (0.0, -1.0, float("inf"), True, "hot"):
        with pytest.raises(ValueError, match="temperature"):
            KMeans(2, temperature=temperature)
    with pytest.raises(ValueError, match="CPU"):
        KMeans(2, device="cuda")
    with pytest.raises(RuntimeError, match="not fitted"):
        KMeans(2).logits([np.eye(2)])


# ----------------------------------------------------------------------------- persistence


def test_save_load_round_trip(tmp_path, digits, fitted):
    path = tmp_path / "models" / "kmeans.npz"
    fitted.save(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["kmeans.npz"]  # no temp left
    loaded = KMeans.load(path)
    assert isinstance(loaded, KMeans)
    assert loaded.get_params() == fitted.get_params()
    assert loaded.temperature_ == fitted.temperature_
    assert loaded.space_dims_ == (64,)
    assert np.array_equal(loaded.logits([digits.features]), fitted.logits([digits.features]))


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, logits=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not a saved l2h KMeans"):
        KMeans.load(path)
