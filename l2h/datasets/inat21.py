"""iNaturalist 2021: 2.7 million images of 10,000 species.

Never downloaded: the user provides ``root/train/``, ``root/val/``, ``root/train.json`` and
``root/val.json`` (the official validation split is our ``test``). Its tree is the biological
taxonomy (kingdom > phylum > class > order > family > genus > species) read from the
annotation JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from l2h.datasets._base import DatasetInfo, DatasetNotAvailableError, ImageDataset, data_folder
from l2h.taxonomy import Taxonomy

__all__ = ["INFO", "RANKS", "load_split", "tree", "tree_from_json"]

RANKS: tuple[str, ...] = (
    "kingdom",
    "phylum",
    "class",
    "order",
    "family",
    "genus",
    "species",
)
"""The iNaturalist21 levels, coarse to fine (depths 1..7)."""


def _root(root: Path | None) -> Path:
    return data_folder(root, "inat21")


def check(root: Path | None, download: bool = False) -> None:
    """The four annotation files and image folders exist under the root (never downloaded)."""
    base = _root(root)
    missing = [
        str(base / p) for p in ("train", "val", "train.json", "val.json") if not (base / p).exists()
    ]
    if missing:
        raise DatasetNotAvailableError(
            f"iNaturalist 2021 not available at {base}: missing {', '.join(missing)}. It cannot "
            "be downloaded automatically: get train.tar.gz, train.json.tar.gz, val.tar.gz and "
            "val.json.tar.gz from github.com/visipedia/inat_comp (2021), unpack them so that "
            "root/train/, root/val/, root/train.json and root/val.json exist, then pass that root "
            "(config 'root:' or --root)"
        )


def _read_json(path: Path) -> tuple[list[str], np.ndarray, tuple[str, ...]]:
    """Image file names (relative to the root), labels, and category names by id."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    categories = sorted(data["categories"], key=lambda c: int(c["id"]))
    if [int(c["id"]) for c in categories] != list(range(len(categories))):
        raise ValueError(f"{path}: category ids must be exactly 0..C-1")
    label_of = {a["image_id"]: int(a["category_id"]) for a in data["annotations"]}
    images = sorted(data["images"], key=lambda im: im["id"])
    missing = [im["id"] for im in images if im["id"] not in label_of]
    if missing:
        raise ValueError(f"{path}: images without annotation, e.g. id {missing[0]}")
    files = [im["file_name"] for im in images]
    labels = np.array([label_of[im["id"]] for im in images], dtype=np.int64)
    return files, labels, tuple(str(c["name"]) for c in categories)


def load_split(split: str, root: Path | None, download: bool) -> ImageDataset:
    """One split of iNat21 (``train``, or ``test`` = the official ``val``), as file paths."""
    base = _root(root)
    check(root)
    files, labels, names = _read_json(base / ("train.json" if split == "train" else "val.json"))
    paths = tuple(str(base / f) for f in files)
    return ImageDataset("inat21", split, paths, labels, names, root=base)


# ----------------------------------------------------------------------------- taxonomy


def tree_from_json(path: str | os.PathLike, leaf_level: str = "species") -> Taxonomy:
    """The iNaturalist 2021 taxonomy, read from the dataset's annotation JSON.

    Parameters
    ----------
    path : path-like
        ``train.json``, ``train_mini.json`` or ``val.json`` of iNat21 (or any JSON object with
        a ``categories`` list, or the list itself). Each category has an ``id`` and the keys
        ``kingdom, phylum, class, order, family, genus`` plus ``name`` (the binomial; else
        ``genus`` + ``specific_epithet``).
    leaf_level : str, default "species"
        One of :data:`RANKS`; with a coarser rank the classes are that rank's taxa (as
        :meth:`Taxonomy.truncate`), numbered by first appearance over category ids.

    Returns
    -------
    Taxonomy
        Levels ``kingdom`` (depth 1) to ``species`` (depth 7); with species leaves, class
        ``c`` is category id ``c``. Taxa are identified by their full path, so homonyms in
        different parents stay apart.

    Raises
    ------
    ValueError
        If category ids are not exactly ``0..C-1`` or a rank is missing.
    """
    if leaf_level not in RANKS:
        raise ValueError(f"leaf_level must be one of {RANKS}, got {leaf_level!r}")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    categories = data["categories"] if isinstance(data, Mapping) else data
    categories = sorted(categories, key=lambda cat: int(cat["id"]))
    ids = [int(cat["id"]) for cat in categories]
    if ids != list(range(len(ids))):
        raise ValueError("iNat21 category ids must be exactly 0..C-1")
    paths = [_path(cat) for cat in categories]
    tax = Taxonomy.from_paths(paths, levels=list(RANKS), root="life")
    return tax if leaf_level == "species" else tax.truncate(leaf_level)


def _path(cat: Mapping[str, Any]) -> list[str]:
    missing = [r for r in RANKS[:-1] if not cat.get(r)]
    if missing:
        raise ValueError(f"category {cat.get('id')} lacks ranks {missing}")
    epithet = cat.get("specific_epithet")
    species = cat.get("name") or (f"{cat['genus']} {epithet}" if epithet else None)
    if not species:
        raise ValueError(f"category {cat.get('id')} has neither specific_epithet nor name")
    return [str(cat[r]) for r in RANKS[:-1]] + [str(species)]


def tree(root: str | os.PathLike | None) -> Taxonomy:
    """The iNaturalist 2021 taxonomy from the dataset folder ``root`` (``val.json``, else
    ``train.json``; both list the same categories).

    Raises
    ------
    FileNotFoundError
        If ``root`` is None or holds neither annotation file.
    """
    folder = Path(root) if root is not None else None
    for candidate in ("val.json", "train.json"):
        if folder is not None and (folder / candidate).is_file():
            return tree_from_json(folder / candidate)
    raise FileNotFoundError(
        f"inat21 taxonomy: no val.json or train.json in {root!r}; set datasets.inat21.root "
        "to the folder holding the iNaturalist 2021 annotations"
    )


INFO = DatasetInfo(
    "inat21",
    "iNaturalist 2021",
    10000,
    "iNaturalist 2021 (10,000 species)",
    load_split,
    check,
    tree=tree,
    needs_root=True,
)
