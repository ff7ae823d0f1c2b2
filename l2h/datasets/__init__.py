"""Datasets of the study: one module per dataset family, one registry entry per dataset.

Every dataset is registered (:data:`DATASETS`) with everything known about its name: display
name, number of classes, loader, availability check and ground-truth tree reader, so a
configuration can be checked (and K defaulted to the number of classes) before any data is
present. Loaders return an :class:`ImageDataset` (images, labels, class names). No dataset is
ever replaced by synthetic data: missing data raises :class:`DatasetNotAvailableError` with the
exact steps to get it, a damaged file raises :class:`DatasetIntegrityError` naming it.

Where the data lives (``root``; default :func:`default_root`, i.e. ``$L2H_DATA`` or
``~/.cache/l2h/data``), one module each:

- :mod:`~l2h.datasets.digits`: scikit-learn's bundled 8x8 digits (offline). No official split:
  ``test`` is a stratified third chosen with seed 0, ``train`` the rest.
- :mod:`~l2h.datasets.fashion_mnist`: Debian ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist``), else ``root/fashion_mnist/*.gz`` (downloaded,
  MD5-checked).
- :mod:`~l2h.datasets.cifar` (``cifar10``, ``cifar100``): ``root/cifar-10-batches-py``,
  ``root/cifar-100-python`` (downloaded, archive MD5-checked; an extracted folder is checked
  for its layout, and :func:`release_mismatches` tells whether its files are the release's).
- :mod:`~l2h.datasets.food101`: ``root/food-101`` (downloaded, archive MD5-checked).
- :mod:`~l2h.datasets.imagenet`: ``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG``;
  never downloaded.
- :mod:`~l2h.datasets.inat21`: ``root/train/``, ``root/val/``, ``root/train.json``,
  ``root/val.json``; never downloaded.

Splits are ``train`` and ``test`` (the official validation split for ImageNet and iNat21);
``all`` is ``train`` followed by ``test`` (for digits: the bundled order).

Adding a dataset: one module with its loader, availability check and tree reader, ending in a
:class:`DatasetInfo`, and one line in :data:`DATASETS` (``docs/extending.md``).

>>> ds = load_dataset("digits", "all")
>>> ds.images.shape, ds.n_classes, len(load_dataset("digits", "test"))
((1797, 8, 8), 10, 599)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from l2h._params import entry
from l2h.datasets import cifar, digits, fashion_mnist, food101, imagenet, inat21
from l2h.datasets._base import (
    SPLITS,
    DatasetInfo,
    DatasetIntegrityError,
    DatasetNotAvailableError,
    ImageDataset,
    concat,
    default_root,
)

if TYPE_CHECKING:
    from l2h.taxonomy import Taxonomy

__all__ = [
    "DATASETS",
    "SPLITS",
    "DatasetInfo",
    "DatasetIntegrityError",
    "DatasetNotAvailableError",
    "ImageDataset",
    "check_available",
    "dataset_info",
    "default_root",
    "load_dataset",
    "load_labels",
    "load_tree",
    "release_mismatches",
    "subset_indices",
]

DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        digits.INFO,
        fashion_mnist.INFO,
        cifar.CIFAR10,
        cifar.CIFAR100,
        food101.INFO,
        imagenet.INFO,
        inat21.INFO,
    )
}
"""All registered datasets, by name (one line per dataset)."""


def dataset_info(name: str) -> DatasetInfo:
    """Return the registry entry of ``name``.

    Raises
    ------
    KeyError
        If ``name`` is not registered; the message lists the registered names.
    """
    return entry(DATASETS, "dataset", name)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def _path(root: str | os.PathLike | None) -> Path | None:
    return Path(root).expanduser() if root is not None else None


def load_dataset(
    name: str,
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
) -> ImageDataset:
    """Load one split of a registered dataset.

    Parameters
    ----------
    name : str
        Registry name (see :data:`DATASETS`).
    split : {"train", "test", "all"}, default "train"
        ``test`` is the official test split (validation split for ImageNet and iNat21; a
        fixed stratified third for digits); ``all`` is ``train`` followed by ``test``.
    root : path-like, optional
        Data folder; default :func:`default_root` (for ImageNet and iNat21, its
        ``imagenet``/``inat21`` subfolder).
    download : bool, default True
        Whether a missing downloadable dataset (Fashion-MNIST, CIFAR, Food-101) is fetched.

    Returns
    -------
    ImageDataset

    Raises
    ------
    KeyError
        If ``name`` is not registered.
    ValueError
        If ``split`` is not a split name.
    DatasetNotAvailableError
        If the data is missing (and may not or cannot be downloaded); says how to get it.
    DatasetIntegrityError
        If a data file is corrupted or truncated; names the file.
    """
    info = dataset_info(name)
    _check_split(split)
    base = _path(root)
    if split != "all" or info.reads_all:
        return info.loader(split, base, download)
    return concat(info.loader("train", base, download), info.loader("test", base, download))


def load_labels(
    name: str, split: str = "train", root: str | os.PathLike | None = None
) -> np.ndarray:
    """The ``(N,)`` int64 labels of a split, without decoding images where the format allows.

    Never downloads. Raises like :func:`load_dataset`.
    """
    info = dataset_info(name)
    _check_split(split)
    if info.labels is not None:
        return info.labels(split, _path(root))
    return load_dataset(name, split, root, download=False).labels


def check_available(
    name: str, root: str | os.PathLike | None = None, download: bool = True
) -> None:
    """Fail fast when a dataset's data is missing (for a workflow's start).

    Only cheap checks: folders and files exist. With ``download=True`` a downloadable dataset
    (Fashion-MNIST, CIFAR, Food-101) counts as available; ImageNet and iNat21 must be on disk.

    Raises
    ------
    KeyError
        If ``name`` is not registered.
    DatasetNotAvailableError
        With the exact steps to get the data.
    """
    dataset_info(name).check(_path(root), download)


def release_mismatches(name: str, root: str | os.PathLike | None = None) -> list[str] | None:
    """The files of a dataset on disk that are not byte-identical to its official release.

    Loading never requires identity: an archive is MD5-checked when it is downloaded, and data
    already on disk is checked for its layout (so the stand-in data of ``make rehearsal``, or
    a re-pickled copy, loads through the same code). The ``download`` job of the workflow
    records this answer, so a results folder says whether it was made from the release files.

    Parameters
    ----------
    name : str
        Registered dataset name.
    root : path-like, optional
        Data folder, as in :func:`load_dataset`.

    Returns
    -------
    list of str or None
        Names of the files whose MD5 differs from the release's (empty: all identical); None
        for datasets whose release publishes no per-file MD5s (all but CIFAR).
    """
    info = dataset_info(name)
    return None if info.release_check is None else info.release_check(_path(root))


def load_tree(name: str, root: str | os.PathLike | None = None) -> Taxonomy | None:
    """The ground-truth hierarchy of a registered dataset, or None when it has none.

    Whether a dataset has one is its registry entry's ``tree`` (:attr:`DatasetInfo.has_tree`).

    Parameters
    ----------
    name : str
        Registered dataset name.
    root : path-like, optional
        The dataset's folder: iNaturalist 2021 reads ``<root>/val.json`` (or ``train.json``);
        the others use packaged tables (or WordNet) and ignore it.

    Returns
    -------
    Taxonomy or None
        None for datasets without a tree (digits, Food-101).

    Raises
    ------
    KeyError
        If ``name`` is not registered.
    FileNotFoundError
        For ``inat21`` without a root holding its annotation JSON.
    """
    info = dataset_info(name)
    return None if info.tree is None else info.tree(_path(root))


def subset_indices(labels: Any, n: int, seed: int) -> np.ndarray:
    """A deterministic class-stratified subset of ``n`` indices, sorted.

    Every class gets ``n * count / N`` points rounded by largest remainder (so the subset
    has exactly ``n`` points and class proportions as close as possible), drawn at random
    with ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    labels : array_like of shape (N,)
        Non-negative class ids.
    n : int
        Subset size; ``n >= N`` returns ``arange(N)``.
    seed : int
        Random seed.

    Returns
    -------
    numpy.ndarray
        ``(min(n, N),)`` int64 sorted indices.

    Examples
    --------
    >>> subset_indices([0, 0, 0, 0, 1, 1], 3, seed=0).size
    3
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.ndim != 1 or (labels.size and labels.min() < 0):
        raise ValueError("labels must be 1-D non-negative class ids")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if n >= labels.size:
        return np.arange(labels.size, dtype=np.int64)
    counts = np.bincount(labels)
    quota = counts * n / labels.size
    take = np.floor(quota).astype(np.int64)
    extra = n - int(take.sum())
    order = np.lexsort((np.arange(counts.size), -(quota - take)))
    take[order[:extra]] += 1
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(labels == c), size=k, replace=False)
        for c, k in enumerate(take.tolist())
        if k
    ]
    return np.sort(np.concatenate(chosen)).astype(np.int64)
