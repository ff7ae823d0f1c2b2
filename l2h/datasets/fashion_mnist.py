"""Fashion-MNIST: 70,000 28x28 grey images of 10 clothing classes.

Read from Debian's ``dataset-fashion-mnist`` (:data:`SYSTEM_DIRS`) when installed, else from
``root/fashion_mnist/*.gz`` (downloaded, MD5-checked). Its tree is our three-level grouping
after the H-CNN paper, shipped as ``l2h/datasets/fashion_mnist.json``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from l2h._download import DatasetIntegrityError, Resource, fetch
from l2h.datasets._base import (
    DatasetInfo,
    DatasetNotAvailableError,
    ImageDataset,
    data_folder,
    packaged_table,
    tree_from_table,
)
from l2h.taxonomy import Taxonomy

__all__ = ["CLASSES", "FILES", "INFO", "SYSTEM_DIRS", "load_split", "read_idx", "tree"]

#: Folders searched for Debian's ``dataset-fashion-mnist`` files, in order.
SYSTEM_DIRS: tuple[str, ...] = ("/usr/share/datasets/fashion-mnist",)

_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/fashion/",
)
#: Fashion-MNIST's official files and MD5s (the same as torchvision's ``FashionMNIST``).
FILES = {
    ("train", "images"): ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    ("train", "labels"): ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    ("test", "images"): ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    ("test", "labels"): ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
}
CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_N = {"train": 60000, "test": 10000}


def _resource(split: str, kind: str) -> Resource:
    filename, md5 = FILES[(split, kind)]
    return Resource(filename, tuple(url + filename for url in _URLS), md5)


def read_idx(path: Path, n: int, kind: str) -> np.ndarray:
    """Read a gzipped IDX file (gzip's CRC catches corruption, the header and length truncation)."""
    header, shape = (16, (n, 28, 28)) if kind == "images" else (8, (n,))
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DatasetIntegrityError(f"{path} is corrupted or truncated: {exc}") from exc
    magic = 2051 if kind == "images" else 2049
    expected = header + int(np.prod(shape))
    if len(raw) != expected or int.from_bytes(raw[:4], "big") != magic:
        raise DatasetIntegrityError(
            f"{path} is corrupted or truncated: {len(raw)} bytes after gunzip, expected "
            f"{expected} with IDX magic {magic}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def _file(split: str, kind: str, root: Path | None, download: bool) -> Path:
    """Debian's copy if installed (checked on read), else the verified one under ``root``."""
    filename = FILES[(split, kind)][0]
    for folder in SYSTEM_DIRS:
        if (Path(folder) / filename).is_file():
            return Path(folder) / filename
    folder = data_folder(root) / "fashion_mnist"
    try:
        return fetch(_resource(split, kind), folder, download=download)
    except FileNotFoundError:
        raise DatasetNotAvailableError(_help(folder)) from None


def _help(folder: Path) -> str:
    return (
        "Fashion-MNIST not found: install Debian's 'dataset-fashion-mnist' (apt-get install "
        f"dataset-fashion-mnist, files in {SYSTEM_DIRS[0]}) or let l2h download "
        f"the four *-ubyte.gz files into {folder} (download=True, or place them there)"
    )


def load_split(split: str, root: Path | None, download: bool) -> ImageDataset:
    """One split of Fashion-MNIST (``train`` or ``test``)."""
    n = _N[split]
    images = read_idx(_file(split, "images", root, download), n, "images")
    labels = read_idx(_file(split, "labels", root, download), n, "labels")
    return ImageDataset("fashion_mnist", split, images, labels.astype(np.int64), CLASSES)


def load_labels(split: str, root: Path | None) -> np.ndarray:
    """The labels of ``split`` (``train``, ``test`` or ``all``) without reading the images."""
    splits = ("train", "test") if split == "all" else (split,)
    parts = [read_idx(_file(s, "labels", root, False), _N[s], "labels") for s in splits]
    return np.concatenate(parts).astype(np.int64)


def check(root: Path | None, download: bool) -> None:
    """Every file is on disk (Debian's copy or under ``root``), unless it may be downloaded."""
    if download:
        return
    for split in ("train", "test"):
        for kind in ("images", "labels"):
            _file(split, kind, root, False)


def tree(root: Path | None = None) -> Taxonomy:
    """Our three-level grouping of Fashion-MNIST (levels ``coarse``, ``medium``, ``class``).

    Fashion-MNIST has no official hierarchy. This is our choice, after the H-CNN paper (Seo &
    Shin, Expert Systems with Applications 2019): clothes {tops: T-shirt/top, pullover,
    shirt; bottoms: trouser; dresses: dress; outers: coat}, goods {accessories: bag; shoes:
    sandal, sneaker, ankle boot}. Source notes in ``l2h/datasets/fashion_mnist.json``.

    Returns
    -------
    Taxonomy
    """
    return tree_from_table(packaged_table("fashion_mnist.json"))


INFO = DatasetInfo(
    "fashion_mnist",
    "Fashion-MNIST",
    10,
    "Fashion-MNIST (70,000 28x28 grey images)",
    load_split,
    check,
    tree=tree,
    labels=load_labels,
)
