"""CIFAR-10 and CIFAR-100: 60,000 32x32 colour images each, in the python pickle release.

Read from ``root/cifar-10-batches-py`` and ``root/cifar-100-python`` (the archive is downloaded
and MD5-checked; an extracted folder is checked for its layout, and :func:`release_mismatches`
tells whether its files are the release's). Trees: CIFAR-10's customary animals/vehicles split
and CIFAR-100's 20 superclasses, both shipped beside this module (``cifar10.json``,
``cifar100.json``; see ``README.md`` there).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from l2h._download import DatasetIntegrityError, Resource, extract_tar, fetch, md5sum
from l2h.datasets._base import (
    DatasetInfo,
    DatasetNotAvailableError,
    ImageDataset,
    data_folder,
    packaged_table,
    tree_from_table,
)
from l2h.taxonomy import Taxonomy

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "RELEASES",
    "Release",
    "cifar100_tree",
    "cifar10_tree",
    "load_split",
    "release_mismatches",
]


@dataclass(frozen=True)
class Release:
    """The files of one CIFAR release: folder, archive, batches with their MD5s, pickle keys."""

    folder: str
    archive: Resource
    train: tuple[tuple[str, str], ...]
    test: tuple[tuple[str, str], ...]
    meta: tuple[str, str]
    label_key: str
    names_key: str
    n_classes: int


RELEASES = {
    "cifar10": Release(
        "cifar-10-batches-py",
        Resource(
            "cifar-10-python.tar.gz",
            ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
            "c58f30108f718f92721af3b95e74349a",
        ),
        (
            ("data_batch_1", "c99cafc152244af753f735de768cd75f"),
            ("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
            ("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
            ("data_batch_4", "634d18415352ddfa80567beed471001a"),
            ("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"),
        ),
        (("test_batch", "40351d587109b95175f43aff81a1287e"),),
        ("batches.meta", "5ff9c542aee3614f3951f8cda6e48888"),
        "labels",
        "label_names",
        10,
    ),
    "cifar100": Release(
        "cifar-100-python",
        Resource(
            "cifar-100-python.tar.gz",
            ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
            "eb9058c3a382ffc7106e4002c42a8d85",
        ),
        (("train", "16019d7e3df5f24257cddd939b257f8d"),),
        (("test", "f0ef6b0ae62326f3e7ffdfab6717acfc"),),
        ("meta", "7973b15100ade9c7d40fb424638fde48"),
        "fine_labels",
        "fine_label_names",
        100,
    ),
}
"""CIFAR archives and batch MD5s (the same as torchvision's ``CIFAR10``/``CIFAR100``)."""

_ROW = 3 * 32 * 32


def _unpickle(path: Path) -> dict[str, Any]:
    """A CIFAR pickle as a dict with str keys; a missing, damaged or foreign file is named."""
    again = "delete the folder and run again to extract the verified archive anew"
    if not path.is_file():
        raise DatasetIntegrityError(f"{path} is missing from the extracted folder; {again}")
    try:
        with open(path, "rb") as f:
            data = pickle.load(f, encoding="latin1")
    except Exception as exc:  # a damaged pickle fails in many ways (EOF, opcodes, imports)
        raise DatasetIntegrityError(
            f"{path} is corrupted or truncated ({type(exc).__name__}: {exc}); {again}"
        ) from exc
    if not isinstance(data, dict):
        raise DatasetIntegrityError(f"{path} is not a CIFAR pickle (holds a {type(data).__name__})")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in data.items()}


def _batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """``data`` (N, 3072) uint8 and ``label_key`` (N,) of one batch, their layout checked."""
    batch = _unpickle(path)
    if "data" not in batch or label_key not in batch:
        raise DatasetIntegrityError(f"{path} lacks 'data' or {label_key!r} (not a CIFAR batch)")
    data, labels = np.asarray(batch["data"]), np.asarray(batch[label_key])
    if data.dtype != np.uint8 or data.shape[1:] != (_ROW,) or labels.shape != data.shape[:1]:
        raise DatasetIntegrityError(
            f"{path} is not a CIFAR batch: data {data.dtype} {data.shape} with "
            f"{labels.size} labels (expected uint8 (N, {_ROW}) and N labels)"
        )
    return data, labels.astype(np.int64)


def _folder(name: str, root: Path | None, download: bool) -> Path:
    """The extracted CIFAR folder, downloading and extracting the archive if needed."""
    spec, base = RELEASES[name], data_folder(root)
    folder = base / spec.folder
    if (folder / spec.meta[0]).is_file():
        return folder
    try:
        archive = fetch(spec.archive, base, download=download)
    except FileNotFoundError:
        raise DatasetNotAvailableError(
            f"{name} not found: expected {folder} or the archive {base / spec.archive.filename} "
            f"({spec.archive.urls[0]}); pass download=True (--download) or place it there"
        ) from None
    extract_tar(archive, base)
    return folder


def load_split(name: str, split: str, root: Path | None, download: bool) -> ImageDataset:
    """One CIFAR split. The archive is MD5-checked when it is fetched; an extracted folder is
    checked for its layout (every file present, each a CIFAR pickle of the expected shape, one
    name per class), not byte for byte: see :func:`release_mismatches`."""
    spec = RELEASES[name]
    folder = _folder(name, root, download)
    meta_path = folder / spec.meta[0]
    names = tuple(str(n) for n in _unpickle(meta_path).get(spec.names_key, ()))
    if len(names) != spec.n_classes:
        raise DatasetIntegrityError(
            f"{meta_path} has {len(names)} {spec.names_key!r}, expected {spec.n_classes}"
        )
    batches = [_batch(folder / f, spec.label_key) for f, _ in getattr(spec, split)]
    data = np.concatenate([b[0] for b in batches])
    images = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    labels = np.concatenate([b[1] for b in batches])
    return ImageDataset(name, split, images, labels, names, root=folder)


def release_mismatches(name: str, root: str | os.PathLike | None = None) -> list[str]:
    """The files of the extracted folder whose MD5 differs from the release's (empty: all
    identical); see :func:`l2h.datasets.release_mismatches`."""
    spec = RELEASES[name]
    folder = _folder(name, Path(root).expanduser() if root else None, False)
    files = (spec.meta, *spec.train, *spec.test)
    return [f for f, md5 in files if not (folder / f).is_file() or md5sum(folder / f) != md5]


# ----------------------------------------------------------------------------- trees


def cifar10_tree(root: Path | None = None) -> Taxonomy:
    """CIFAR-10's common animals/vehicles split (levels ``superclass``, ``class``).

    Not part of the dataset: this is the split customarily used in the literature, shipped
    in ``l2h/datasets/cifar10.json``. Vehicles: airplane, automobile, ship, truck; animals:
    bird, cat, deer, dog, frog, horse. ``root`` is not read.

    Returns
    -------
    Taxonomy
    """
    return tree_from_table(packaged_table("cifar10.json"))


def _cifar100_from_arrays(
    fine: np.ndarray, coarse: np.ndarray, fine_names: Sequence[str], coarse_names: Sequence[str]
) -> Taxonomy:
    fine = np.asarray(fine, dtype=np.int64).reshape(-1)
    coarse = np.asarray(coarse, dtype=np.int64).reshape(-1)
    if fine.shape != coarse.shape or fine.size == 0:
        raise ValueError("fine and coarse labels must be non-empty and of equal length")
    n_fine, n_coarse = len(fine_names), len(coarse_names)
    if fine.min() < 0 or fine.max() >= n_fine or coarse.min() < 0 or coarse.max() >= n_coarse:
        raise ValueError("CIFAR-100 labels out of range of the label names")
    pairs = np.unique(fine * n_coarse + coarse)
    if len(pairs) != len(np.unique(fine)):
        raise ValueError("a fine label appears with more than one coarse label")
    if len(pairs) != n_fine:
        raise ValueError(f"only {len(pairs)} of {n_fine} fine labels occur in the file")
    fine_to_coarse = np.empty(n_fine, dtype=np.int64)
    fine_to_coarse[pairs // n_coarse] = pairs % n_coarse
    paths = [[coarse_names[fine_to_coarse[f]], fine_names[f]] for f in range(n_fine)]
    return Taxonomy.from_paths(paths, levels=["superclass", "class"])


def _read_pickle(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        data = pickle.load(f, encoding="latin1")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in data.items()}


def cifar100_tree(path: str | os.PathLike | None = None) -> Taxonomy:
    """CIFAR-100: 100 classes under 20 superclasses (levels ``superclass``, ``class``).

    Parameters
    ----------
    path : path-like, optional
        The dataset's ``cifar-100-python`` folder, or its ``train`` pickle. The mapping is read
        from ``fine_labels`` and ``coarse_labels`` of ``train`` and the names from the sibling
        ``meta`` pickle (``fine_label_names``, ``coarse_label_names``; ids as strings if it is
        missing). Without a path the packaged table ``l2h/datasets/cifar100.json`` is used,
        derived from torchmeta's CIFAR-FS files (see ``l2h/datasets/README.md``).

    Returns
    -------
    Taxonomy
        Class ``f`` is fine label ``f``; superclass names as in the dataset.

    Raises
    ------
    ValueError
        If a fine label maps to two coarse labels or the file lacks the label keys.
    FileNotFoundError
        If ``path`` does not exist.

    Notes
    -----
    The pickles are read with :mod:`pickle`, which can run code: only read trusted files.
    """
    if path is None:
        table = packaged_table("cifar100.json")
        return _cifar100_from_arrays(
            np.arange(100),
            np.array(table["fine_to_coarse"]),
            table["fine_label_names"],
            table["coarse_label_names"],
        )
    path = Path(path)
    train = path / "train" if path.is_dir() else path
    data = _read_pickle(train)
    if "fine_labels" not in data or "coarse_labels" not in data:
        raise ValueError(f"{train} has no 'fine_labels'/'coarse_labels' (not a CIFAR-100 pickle)")
    fine, coarse = np.asarray(data["fine_labels"]), np.asarray(data["coarse_labels"])
    meta_path = train.parent / "meta"
    if meta_path.exists():
        meta = _read_pickle(meta_path)
        fine_names, coarse_names = meta["fine_label_names"], meta["coarse_label_names"]
    else:
        fine_names = [str(i) for i in range(int(fine.max()) + 1)]
        coarse_names = [str(i) for i in range(int(coarse.max()) + 1)]
    return _cifar100_from_arrays(fine, coarse, fine_names, coarse_names)


def _packaged_cifar100_tree(root: Path | None) -> Taxonomy:
    """The registry's reader: the packaged table (the same mapping as the dataset's pickles)."""
    return cifar100_tree()


# ----------------------------------------------------------------------------- registry


def _entry(name: str, display_name: str, tree: Any) -> DatasetInfo:
    def loader(split: str, root: Path | None, download: bool) -> ImageDataset:
        return load_split(name, split, root, download)

    def check(root: Path | None, download: bool) -> None:
        if not download:
            _folder(name, root, False)

    def release_check(root: Path | None) -> list[str]:
        return release_mismatches(name, root)

    n_classes = RELEASES[name].n_classes
    description = f"{display_name} (60,000 32x32 colour images, {n_classes} classes)"
    return DatasetInfo(
        name,
        display_name,
        n_classes,
        description,
        loader,
        check,
        tree=tree,
        release_check=release_check,
    )


CIFAR10 = _entry("cifar10", "CIFAR-10", cifar10_tree)
CIFAR100 = _entry("cifar100", "CIFAR-100", _packaged_cifar100_tree)
