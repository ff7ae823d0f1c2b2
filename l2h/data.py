"""Dataset registry: names the workflow and the command line may use, and their loaders.

Every dataset of the study is registered here with its number of classes, so a configuration
can be checked (and K defaulted to the number of classes) before any data is present. Only
``digits`` (scikit-learn's bundled 8x8 handwritten digits, available offline) has a loader
today; the others are registered so that names are stable, and loading them raises
:class:`DatasetNotAvailableError` until the data and embeddings issue provides their loaders.
No dataset is ever replaced by synthetic data.

>>> ds = load_dataset("digits")
>>> ds.features.shape, ds.features.dtype.name, ds.n_classes
((1797, 64), 'float32', 10)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DATASETS",
    "cluster_names",
    "Dataset",
    "DatasetInfo",
    "DatasetNotAvailableError",
    "dataset_info",
    "load_dataset",
    "majority_classes",
]


class DatasetNotAvailableError(NotImplementedError):
    """A registered dataset whose loader has not been implemented yet."""


@dataclass(frozen=True)
class Dataset:
    """Features and ground truth of one dataset.

    Attributes
    ----------
    name : str
        Registry name.
    features : numpy.ndarray
        ``(N, d)`` float32 feature matrix (one row per point).
    labels : numpy.ndarray
        ``(N,)`` int64 class indices in ``0..n_classes-1``.
    class_names : tuple of str
        Human-readable name of each class, indexed by label.
    backbone : str
        What produced ``features``: ``"pixels"`` for raw pixel values.
    """

    name: str
    features: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    backbone: str

    def __post_init__(self) -> None:
        n = self.features.shape[0]
        if self.features.ndim != 2:
            raise ValueError(f"{self.name}: features must be 2-D, got {self.features.shape}")
        if self.labels.shape != (n,):
            raise ValueError(f"{self.name}: labels must have shape ({n},), got {self.labels.shape}")
        if n and not 0 <= self.labels.min() <= self.labels.max() < len(self.class_names):
            raise ValueError(f"{self.name}: labels out of range 0..{len(self.class_names) - 1}")

    @property
    def n_classes(self) -> int:
        """int : Number of classes."""
        return len(self.class_names)


@dataclass(frozen=True)
class DatasetInfo:
    """Registry entry of a dataset.

    Attributes
    ----------
    name : str
        Registry name, as written in configurations.
    n_classes : int
        Number of ground-truth classes (the paper's K for this dataset).
    description : str
        One line saying what the dataset is.
    loader : callable or None
        ``loader(root) -> Dataset``; None while the loader has not been implemented.
    needs_root : bool
        Whether the data must be provided by the user at a local path (ImageNet, iNat21).
    """

    name: str
    n_classes: int
    description: str
    loader: Callable[[str | os.PathLike | None], Dataset] | None = None
    needs_root: bool = False


def _load_digits(root: str | os.PathLike | None = None) -> Dataset:
    """Load scikit-learn's bundled digits: 1,797 8x8 images, pixels scaled from 0..16 to [0, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    features = (np.asarray(bunch.data, dtype=np.float32) / np.float32(16.0)).astype(np.float32)
    labels = np.asarray(bunch.target, dtype=np.int64)
    class_names = tuple(str(name) for name in bunch.target_names)
    return Dataset("digits", features, labels, class_names, backbone="pixels")


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "digits",
            10,
            "scikit-learn's bundled 8x8 handwritten digits (1,797 images, offline)",
            loader=_load_digits,
        ),
        DatasetInfo("fashion_mnist", 10, "Fashion-MNIST (70,000 28x28 grey images)"),
        DatasetInfo("cifar10", 10, "CIFAR-10 (60,000 32x32 colour images)"),
        DatasetInfo("cifar100", 100, "CIFAR-100 (60,000 32x32 colour images)"),
        DatasetInfo("food101", 101, "Food-101 (101,000 food photographs)"),
        DatasetInfo("imagenet", 1000, "ImageNet-1k (ILSVRC 2012)", needs_root=True),
        DatasetInfo("inat21", 10000, "iNaturalist 2021 (10,000 species)", needs_root=True),
    )
}
"""All registered datasets, by name."""


def dataset_info(name: str) -> DatasetInfo:
    """Return the registry entry of ``name``.

    Raises
    ------
    KeyError
        If ``name`` is not registered; the message lists the registered names.
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(
            f"unknown dataset {name!r}; registered datasets: {', '.join(sorted(DATASETS))}"
        ) from None


def load_dataset(name: str, root: str | os.PathLike | None = None) -> Dataset:
    """Load a registered dataset.

    Parameters
    ----------
    name : str
        Registry name (see :data:`DATASETS`).
    root : path-like, optional
        Local folder holding the data, for datasets that must be provided by the user.

    Returns
    -------
    Dataset
        Features ``(N, d)`` float32, labels ``(N,)`` int64 and class names.

    Raises
    ------
    KeyError
        If ``name`` is not registered.
    DatasetNotAvailableError
        If the dataset is registered but its loader has not been implemented yet.
    """
    info = dataset_info(name)
    if info.loader is None:
        raise DatasetNotAvailableError(
            f"dataset {name!r} ({info.description}) is registered but cannot be loaded yet: "
            "its download and embedding extraction arrive with the data and embeddings issue. "
            "Use 'digits' for an offline run."
        )
    return info.loader(root)


def majority_classes(y_true: Any, y_pred: Any, n_clusters: int) -> np.ndarray:
    """Return the most frequent true class of the points of each cluster.

    Parameters
    ----------
    y_true : array_like of shape (N,)
        Non-negative integer class of each point.
    y_pred : array_like of shape (N,)
        Cluster of each point, in ``0..n_clusters-1``.
    n_clusters : int
        Number K of clusters.

    Returns
    -------
    numpy.ndarray
        ``(K,)`` int64 majority class of each cluster (the smallest class on ties), -1 for a
        cluster without points.

    Raises
    ------
    ValueError
        If the arrays differ in length or hold out-of-range values.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must be equal 1-D")
    if y_true.size and y_true.min() < 0:
        raise ValueError("y_true must hold non-negative class ids")
    if y_pred.size and not 0 <= y_pred.min() <= y_pred.max() < n_clusters:
        raise ValueError(f"y_pred must hold cluster ids in 0..{n_clusters - 1}")
    n_classes = int(y_true.max()) + 1 if y_true.size else 1
    counts = np.zeros((n_clusters, n_classes), dtype=np.int64)
    np.add.at(counts, (y_pred, y_true), 1)
    return np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), -1).astype(np.int64)


def cluster_names(
    y_true: Any, y_pred: Any, class_names: Sequence[str], n_clusters: int
) -> list[str]:
    """Name each cluster after its majority class: ``"<class> (c<k>)"``.

    The cluster id keeps names unique when several clusters share a majority class.

    Parameters
    ----------
    y_true : array_like of shape (N,)
        Class of each point, indexing ``class_names``.
    y_pred : array_like of shape (N,)
        Cluster of each point.
    class_names : sequence of str
        Name of each class.
    n_clusters : int
        Number K of clusters.

    Returns
    -------
    list of str
        K names; a cluster without points is named ``"empty (c<k>)"``.

    Examples
    --------
    >>> cluster_names([0, 0, 1], [1, 1, 0], ["cat", "dog"], 3)
    ['dog (c0)', 'cat (c1)', 'empty (c2)']
    """
    majority = majority_classes(y_true, y_pred, n_clusters)
    if majority.max(initial=-1) >= len(class_names):
        raise ValueError(f"y_true has classes beyond the {len(class_names)} class names")
    return [
        f"{class_names[c] if c >= 0 else 'empty'} (c{k})" for k, c in enumerate(majority.tolist())
    ]
