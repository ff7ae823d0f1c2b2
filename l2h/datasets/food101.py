"""Food-101: 101,000 food photographs of 101 classes (75,750 train, 25,250 test).

Read from ``root/food-101`` (the 5 GB archive is downloaded and MD5-checked). Food-101 has no
class hierarchy, so no tree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2h._download import Resource, extract_tar, fetch
from l2h.datasets._base import DatasetInfo, DatasetNotAvailableError, ImageDataset, data_folder

__all__ = ["ARCHIVE", "INFO", "load_split"]

ARCHIVE = Resource(
    "food-101.tar.gz",
    ("http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz",),
    "85eeb15f3717b99a5da872d97d918f87",
)
"""Food-101's archive and MD5 (the same as torchvision's ``Food101``)."""


def _folder(root: Path | None, download: bool) -> Path:
    base = data_folder(root)
    folder = base / "food-101"
    if (folder / "meta" / "classes.txt").is_file():
        return folder
    try:
        archive = fetch(ARCHIVE, base, download=download)
    except FileNotFoundError:
        raise DatasetNotAvailableError(
            f"food101 not found: expected {folder}/meta/classes.txt and {folder}/images/ or the "
            f"archive {base / ARCHIVE.filename} ({ARCHIVE.urls[0]}, 5 GB); pass download=True "
            "(--download) or place it there"
        ) from None
    extract_tar(archive, base)
    return folder


def load_split(split: str, root: Path | None, download: bool) -> ImageDataset:
    """One split of Food-101 (``train`` or ``test``), as image file paths."""
    folder = _folder(root, download)
    classes = (folder / "meta" / "classes.txt").read_text().split()
    index = {c: i for i, c in enumerate(classes)}
    entries = (folder / "meta" / f"{split}.txt").read_text().split()
    labels = np.array([index[e.split("/")[0]] for e in entries], dtype=np.int64)
    files = tuple(str(folder / "images" / f"{e}.jpg") for e in entries)
    return ImageDataset("food101", split, files, labels, tuple(classes), root=folder)


def check(root: Path | None, download: bool) -> None:
    """The extracted folder or the archive is on disk, unless it may be downloaded."""
    if not download:
        _folder(root, False)


INFO = DatasetInfo(
    "food101",
    "Food-101",
    101,
    "Food-101 (101,000 food photographs)",
    load_split,
    check,
)
