"""What every dataset module shares: the split type, the registry entry, errors and data folders."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from l2h._download import DatasetIntegrityError
from l2h.io import MissingDependencyError

if TYPE_CHECKING:
    from l2h.taxonomy import Taxonomy

__all__ = [
    "SPLITS",
    "AvailabilityCheck",
    "DatasetInfo",
    "DatasetIntegrityError",
    "DatasetNotAvailableError",
    "ImageDataset",
    "LabelReader",
    "SplitLoader",
    "TreeReader",
    "concat",
    "data_folder",
    "default_root",
    "nothing_to_check",
    "packaged_table",
    "packaged_text",
    "tree_from_table",
]

#: Split names every loader accepts (``all`` is ``train`` followed by ``test``).
SPLITS = ("train", "test", "all")


class DatasetNotAvailableError(FileNotFoundError):
    """The data of a registered dataset is not on disk (the message says how to get it)."""


def default_root() -> Path:
    """Default data folder: ``$L2H_DATA`` if set, else ``~/.cache/l2h/data``."""
    env = os.environ.get("L2H_DATA")
    return Path(env).expanduser() if env else Path("~/.cache/l2h/data").expanduser()


def data_folder(root: str | os.PathLike | None, own: str | None = None) -> Path:
    """The folder a dataset reads: ``root`` if given, else :func:`default_root` (its ``own``
    subfolder for datasets that keep one, such as ImageNet's ``imagenet``)."""
    if root is not None:
        return Path(root).expanduser()
    return default_root() / own if own else default_root()


# ----------------------------------------------------------------------------- the dataset


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Images, labels and class names of one split of a dataset.

    Attributes
    ----------
    name : str
        Registry name.
    split : str
        ``"train"``, ``"test"`` or ``"all"``.
    images : numpy.ndarray or tuple of str
        In memory, ``(N, H, W)`` or ``(N, H, W, 3)`` uint8 (digits, Fashion-MNIST, CIFAR), or
        the ``N`` image file paths (Food-101, ImageNet, iNat21).
    labels : numpy.ndarray
        ``(N,)`` int64 class indices in ``0..n_classes-1``.
    class_names : tuple of str
        Name of each class, indexed by label.
    pixel_max : int
        Value of a white pixel in ``images`` (16 for digits, else 255).
    root : pathlib.Path or None
        Folder the data was read from (None for bundled data).
    """

    name: str
    split: str
    images: np.ndarray | tuple[str, ...] = field(repr=False)
    labels: np.ndarray = field(repr=False)
    class_names: tuple[str, ...] = field(repr=False)
    pixel_max: int = 255
    root: Path | None = None

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.labels.shape != (n,) or self.labels.dtype != np.int64:
            raise ValueError(f"{self.name}: labels must be ({n},) int64, got {self.labels.shape}")
        if n and not 0 <= self.labels.min() <= self.labels.max() < len(self.class_names):
            raise ValueError(f"{self.name}: labels out of range 0..{len(self.class_names) - 1}")
        if isinstance(self.images, np.ndarray) and (
            self.images.dtype != np.uint8 or self.images.ndim not in (3, 4)
        ):
            raise ValueError(f"{self.name}: images must be (N, H, W[, 3]) uint8")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_classes(self) -> int:
        """int : Number of classes."""
        return len(self.class_names)

    @property
    def in_memory(self) -> bool:
        """bool : Whether ``images`` is an array (else a list of file paths)."""
        return isinstance(self.images, np.ndarray)

    def get_image(self, i: int) -> Any:
        """Image ``i`` as a ``PIL.Image.Image``: mode ``L`` for grey arrays, else ``RGB``, 0..255.

        Needs Pillow (installed with the ``torch`` extra).
        """
        try:
            from PIL import Image
        except ImportError as exc:
            raise MissingDependencyError(
                "ImageDataset.get_image needs Pillow: pip install 'l2h[torch]'"
            ) from exc

        if not self.in_memory:
            with Image.open(self.images[i]) as img:
                return img.convert("RGB")
        array = self.images[i]
        if self.pixel_max != 255:
            array = (array.astype(np.uint16) * 255 // self.pixel_max).astype(np.uint8)
        return Image.fromarray(array, mode="L" if array.ndim == 2 else "RGB")

    def pixels(self) -> np.ndarray:
        """``(N, H*W[*3])`` float32 flattened pixels scaled to [0, 1] (in-memory images only)."""
        if not self.in_memory:
            raise ValueError(f"raw pixels need in-memory images; {self.name} is image files")
        flat = self.images.reshape(len(self), -1).astype(np.float32)
        return flat / np.float32(self.pixel_max)

    def subset(self, indices: Any) -> ImageDataset:
        """The points ``indices`` (in that order) as a new dataset of the same split."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.ndim != 1 or (idx.size and not 0 <= idx.min() <= idx.max() < len(self)):
            raise ValueError(f"indices must be 1-D in 0..{len(self) - 1}")
        images = self.images[idx] if self.in_memory else tuple(self.images[i] for i in idx)
        return replace(self, images=images, labels=self.labels[idx])

    def taxonomy(self) -> Taxonomy | None:
        """The ground-truth hierarchy over the classes, or None where there is none.

        Read by the registry entry's tree reader (:attr:`DatasetInfo.tree`), from
        :attr:`root` where the dataset keeps it there (iNat21).
        """
        from l2h.datasets import load_tree

        return load_tree(self.name, self.root)


def concat(train: ImageDataset, test: ImageDataset) -> ImageDataset:
    """``train`` followed by ``test`` as split ``all``."""
    if train.in_memory:
        images: np.ndarray | tuple[str, ...] = np.concatenate([train.images, test.images])
    else:
        images = tuple(train.images) + tuple(test.images)
    labels = np.concatenate([train.labels, test.labels])
    return replace(train, split="all", images=images, labels=labels)


# ----------------------------------------------------------------------------- registry entry

#: ``loader(split, root, download) -> ImageDataset`` for split ``train`` or ``test``.
SplitLoader = Callable[[str, "Path | None", bool], ImageDataset]
#: ``check(root, download)``: raises :class:`DatasetNotAvailableError` saying how to get the data.
AvailabilityCheck = Callable[["Path | None", bool], None]
#: ``tree(root) -> Taxonomy``: the ground-truth hierarchy over the classes.
TreeReader = Callable[["Path | None"], "Taxonomy"]
#: ``labels(split, root) -> (N,) int64``: the labels of a split without decoding images.
LabelReader = Callable[[str, "Path | None"], np.ndarray]


@dataclass(frozen=True)
class DatasetInfo:
    """Registry entry of a dataset: everything the library and the workflow know about its name.

    Attributes
    ----------
    name : str
        Registry name, as written in configurations.
    display_name : str
        The name people read (tables, figures): ``"CIFAR-100"``.
    n_classes : int
        Number of ground-truth classes (the paper's K for this dataset).
    description : str
        One line saying what the dataset is.
    loader : callable
        ``loader(split, root, download) -> ImageDataset`` for split ``train`` or ``test``.
    check : callable
        ``check(root, download)``: cheap availability check (folders and files exist) that raises
        :class:`DatasetNotAvailableError` with the exact steps to get the data. With
        ``download=True`` a downloadable dataset counts as available.
    tree : callable or None
        ``tree(root) -> Taxonomy``: reads the ground-truth hierarchy over the classes (``root``
        is the dataset's folder, read by iNat21); None for a dataset without one. The one place
        that says whether a dataset has a tree: level-wise scores, level tables and figures
        exist only for datasets with one.
    needs_root : bool
        Whether the data must be provided by the user (never downloaded): the workflow checks
        its ``root`` when a run starts.
    labels : callable or None
        ``labels(split, root)``: a faster label reader than loading the split, where the format
        allows one.
    release_check : callable or None
        ``release_check(root) -> list of str``: the files on disk that differ from the official
        release (per-file MD5); None where the release publishes no per-file MD5s.
    reads_all : bool
        Whether ``loader`` reads split ``all`` itself (in the dataset's own order) instead of
        ``train`` followed by ``test``.
    imagenet_labels : bool
        Whether the labels are the ImageNet-1k class indices, so that a pretrained ImageNet
        classifier's logits predict them (the workflow's supervised setting).
    """

    name: str
    display_name: str
    n_classes: int
    description: str
    loader: SplitLoader
    check: AvailabilityCheck
    tree: TreeReader | None = None
    needs_root: bool = False
    labels: LabelReader | None = None
    release_check: Callable[[Path | None], list[str]] | None = None
    reads_all: bool = False
    imagenet_labels: bool = False

    @property
    def has_tree(self) -> bool:
        """bool : Whether the dataset has a ground-truth hierarchy over its classes."""
        return self.tree is not None


def nothing_to_check(root: Path | None, download: bool) -> None:
    """The availability check of bundled data (always available)."""


# ----------------------------------------------------------------------------- packaged tables


def packaged_text(name: str) -> str:
    """A table shipped beside the dataset modules (see ``l2h/datasets/README.md``)."""
    return resources.files("l2h.datasets").joinpath(name).read_text(encoding="utf-8")


def packaged_table(name: str) -> dict[str, Any]:
    """A JSON table shipped beside the dataset modules."""
    return json.loads(packaged_text(name))


def tree_from_table(table: Mapping[str, Any]) -> Taxonomy:
    """A :class:`~l2h.taxonomy.Taxonomy` from a packaged table's ``paths``, ``class_names``
    and ``levels``."""
    from l2h.taxonomy import Taxonomy

    paths = [list(p) + [n] for p, n in zip(table["paths"], table["class_names"], strict=True)]
    return Taxonomy.from_paths(paths, levels=table["levels"])
