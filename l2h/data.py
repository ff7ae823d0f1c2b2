"""Datasets of the study: a registry, image loaders, labels, splits and ground-truth trees.

Every dataset is registered with its number of classes, so a configuration can be checked
(and K defaulted to the number of classes) before any data is present. Loaders return an
:class:`ImageDataset` (images, labels, class names, ground-truth taxonomy). No dataset is
ever replaced by synthetic data: missing data raises :class:`DatasetNotAvailableError` with
the exact steps to get it, a damaged file raises :class:`DatasetIntegrityError` naming it.

Where the data lives (``root``; default :func:`default_root`, i.e. ``$L2H_DATA`` or
``~/.cache/l2h/data``):

- ``digits``: scikit-learn's bundled 8x8 digits (offline). No official split: ``test`` is a
  stratified third chosen with seed 0, ``train`` the rest.
- ``fashion_mnist``: Debian ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``),
  else ``root/fashion_mnist/*.gz`` (downloaded, MD5-checked).
- ``cifar10``/``cifar100``: ``root/cifar-10-batches-py``/``root/cifar-100-python``
  (downloaded, archive MD5-checked; an extracted folder is checked for its layout, and
  :func:`release_mismatches` tells whether its files are the release's).
- ``food101``: ``root/food-101`` (downloaded, archive MD5-checked).
- ``imagenet``: ``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG``; never downloaded.
- ``inat21``: ``root/train/``, ``root/val/``, ``root/train.json``, ``root/val.json``; never
  downloaded.

Splits are ``train`` and ``test`` (the official validation split for ImageNet and iNat21);
``all`` is ``train`` followed by ``test`` (for digits: the bundled order).

>>> ds = load_dataset("digits", "all")
>>> ds.images.shape, ds.n_classes, len(load_dataset("digits", "test"))
((1797, 8, 8), 10, 599)
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from l2h._download import DatasetIntegrityError, Resource, extract_tar, fetch, md5sum
from l2h.io import MissingDependencyError

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
    "cluster_names",
    "dataset_info",
    "default_root",
    "load_dataset",
    "load_labels",
    "majority_classes",
    "release_mismatches",
    "subset_indices",
]

#: Split names every loader accepts.
SPLITS = ("train", "test", "all")

#: Folders searched for Debian's ``dataset-fashion-mnist`` files, in order.
FASHION_MNIST_SYSTEM_DIRS: tuple[str, ...] = ("/usr/share/datasets/fashion-mnist",)

#: Seed and test fraction of the documented digits split.
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 1 / 3


class DatasetNotAvailableError(FileNotFoundError):
    """The data of a registered dataset is not on disk (the message says how to get it)."""


def default_root() -> Path:
    """Default data folder: ``$L2H_DATA`` if set, else ``~/.cache/l2h/data``."""
    env = os.environ.get("L2H_DATA")
    return Path(env).expanduser() if env else Path("~/.cache/l2h/data").expanduser()


def _root(root: str | os.PathLike | None) -> Path:
    return Path(root).expanduser() if root is not None else default_root()


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

        Whether a dataset has one, and how it is read, is its registry entry's ``tree``
        (:attr:`DatasetInfo.has_tree`): CIFAR-10, CIFAR-100, Fashion-MNIST: packaged trees (see
        :mod:`l2h.taxonomy`); ImageNet: WordNet (needs Debian ``wordnet-base``); iNat21: read
        from the annotation JSON under :attr:`root`; digits, Food-101: None.
        """
        from l2h.taxonomy import for_dataset

        return for_dataset(self.name, self.root)


def _concat(train: ImageDataset, test: ImageDataset) -> ImageDataset:
    """``train`` followed by ``test`` as split ``all``."""
    if train.in_memory:
        images: np.ndarray | tuple[str, ...] = np.concatenate([train.images, test.images])
    else:
        images = tuple(train.images) + tuple(test.images)
    labels = np.concatenate([train.labels, test.labels])
    return replace(train, split="all", images=images, labels=labels)


# ----------------------------------------------------------------------------- digits


def _digits_test_mask(labels: np.ndarray) -> np.ndarray:
    """Boolean mask of the documented digits test split (stratified, seed 0, one third)."""
    from sklearn.model_selection import train_test_split

    _, test = train_test_split(
        np.arange(len(labels)),
        test_size=DIGITS_TEST_FRACTION,
        stratify=labels,
        random_state=DIGITS_SPLIT_SEED,
    )
    mask = np.zeros(len(labels), dtype=bool)
    mask[test] = True
    return mask


def _load_digits(split: str, root: Path | None, download: bool) -> ImageDataset:
    """scikit-learn's 1,797 bundled 8x8 digits, pixels 0..16."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.uint8)
    labels = np.asarray(bunch.target, dtype=np.int64)
    if split != "all":
        keep = _digits_test_mask(labels) == (split == "test")
        images, labels = images[keep], labels[keep]
    names = tuple(str(n) for n in bunch.target_names)
    return ImageDataset("digits", split, images, labels, names, pixel_max=16)


# ----------------------------------------------------------------------------- Fashion-MNIST

_FASHION_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/fashion/",
)
#: Fashion-MNIST's official files and MD5s (the same as torchvision's ``FashionMNIST``).
FASHION_MNIST_FILES = {
    ("train", "images"): ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    ("train", "labels"): ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    ("test", "images"): ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    ("test", "labels"): ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_FASHION_N = {"train": 60000, "test": 10000}


def _fashion_resource(split: str, kind: str) -> Resource:
    filename, md5 = FASHION_MNIST_FILES[(split, kind)]
    return Resource(filename, tuple(url + filename for url in _FASHION_URLS), md5)


def _read_idx(path: Path, n: int, kind: str) -> np.ndarray:
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


def _fashion_file(split: str, kind: str, root: Path | None, download: bool) -> Path:
    """Debian's copy if installed (checked on read), else the verified one under ``root``."""
    filename = FASHION_MNIST_FILES[(split, kind)][0]
    for folder in FASHION_MNIST_SYSTEM_DIRS:
        if (Path(folder) / filename).is_file():
            return Path(folder) / filename
    folder = _root(root) / "fashion_mnist"
    try:
        return fetch(_fashion_resource(split, kind), folder, download=download)
    except FileNotFoundError:
        raise DatasetNotAvailableError(_fashion_help(folder)) from None


def _fashion_help(folder: Path) -> str:
    return (
        "Fashion-MNIST not found: install Debian's 'dataset-fashion-mnist' (apt-get install "
        f"dataset-fashion-mnist, files in {FASHION_MNIST_SYSTEM_DIRS[0]}) or let l2h download "
        f"the four *-ubyte.gz files into {folder} (download=True, or place them there)"
    )


def _load_fashion_split(split: str, root: Path | None, download: bool) -> ImageDataset:
    n = _FASHION_N[split]
    images = _read_idx(_fashion_file(split, "images", root, download), n, "images")
    labels = _read_idx(_fashion_file(split, "labels", root, download), n, "labels")
    return ImageDataset(
        "fashion_mnist", split, images, labels.astype(np.int64), FASHION_MNIST_CLASSES
    )


# ----------------------------------------------------------------------------- CIFAR


@dataclass(frozen=True)
class _Cifar:
    folder: str
    archive: Resource
    train: tuple[tuple[str, str], ...]
    test: tuple[tuple[str, str], ...]
    meta: tuple[str, str]
    label_key: str
    names_key: str


_CIFAR = {
    "cifar10": _Cifar(
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
    ),
    "cifar100": _Cifar(
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
    ),
}
"""CIFAR archives and batch MD5s (the same as torchvision's ``CIFAR10``/``CIFAR100``)."""


_CIFAR_ROW = 3 * 32 * 32


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


def _cifar_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """``data`` (N, 3072) uint8 and ``label_key`` (N,) of one batch, their layout checked."""
    batch = _unpickle(path)
    if "data" not in batch or label_key not in batch:
        raise DatasetIntegrityError(f"{path} lacks 'data' or {label_key!r} (not a CIFAR batch)")
    data, labels = np.asarray(batch["data"]), np.asarray(batch[label_key])
    if data.dtype != np.uint8 or data.shape[1:] != (_CIFAR_ROW,) or labels.shape != data.shape[:1]:
        raise DatasetIntegrityError(
            f"{path} is not a CIFAR batch: data {data.dtype} {data.shape} with "
            f"{labels.size} labels (expected uint8 (N, {_CIFAR_ROW}) and N labels)"
        )
    return data, labels.astype(np.int64)


def _cifar_folder(name: str, root: Path | None, download: bool) -> Path:
    """The extracted CIFAR folder, downloading and extracting the archive if needed."""
    spec, base = _CIFAR[name], _root(root)
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


def _load_cifar_split(name: str, split: str, root: Path | None, download: bool) -> ImageDataset:
    """One CIFAR split. The archive is MD5-checked when it is fetched; an extracted folder is
    checked for its layout (every file present, each a CIFAR pickle of the expected shape, one
    name per class), not byte for byte: see :func:`release_mismatches`."""
    spec = _CIFAR[name]
    folder = _cifar_folder(name, root, download)
    meta_path = folder / spec.meta[0]
    names = tuple(str(n) for n in _unpickle(meta_path).get(spec.names_key, ()))
    expected = DATASETS[name].n_classes
    if len(names) != expected:
        raise DatasetIntegrityError(
            f"{meta_path} has {len(names)} {spec.names_key!r}, expected {expected}"
        )
    batches = [_cifar_batch(folder / f, spec.label_key) for f, _ in getattr(spec, split)]
    data = np.concatenate([b[0] for b in batches])
    images = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    labels = np.concatenate([b[1] for b in batches])
    return ImageDataset(name, split, images, labels, names, root=folder)


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
    dataset_info(name)
    if name not in _CIFAR:
        return None
    spec = _CIFAR[name]
    folder = _cifar_folder(name, Path(root).expanduser() if root else None, False)
    files = (spec.meta, *spec.train, *spec.test)
    return [f for f, md5 in files if not (folder / f).is_file() or md5sum(folder / f) != md5]


# ----------------------------------------------------------------------------- Food-101

_FOOD101 = Resource(
    "food-101.tar.gz",
    ("http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz",),
    "85eeb15f3717b99a5da872d97d918f87",
)
"""Food-101's archive and MD5 (the same as torchvision's ``Food101``)."""


def _food_folder(root: Path | None, download: bool) -> Path:
    base = _root(root)
    folder = base / "food-101"
    if (folder / "meta" / "classes.txt").is_file():
        return folder
    try:
        archive = fetch(_FOOD101, base, download=download)
    except FileNotFoundError:
        raise DatasetNotAvailableError(
            f"food101 not found: expected {folder}/meta/classes.txt and {folder}/images/ or the "
            f"archive {base / _FOOD101.filename} ({_FOOD101.urls[0]}, 5 GB); pass download=True "
            "(--download) or place it there"
        ) from None
    extract_tar(archive, base)
    return folder


def _load_food_split(split: str, root: Path | None, download: bool) -> ImageDataset:
    folder = _food_folder(root, download)
    classes = (folder / "meta" / "classes.txt").read_text().split()
    index = {c: i for i, c in enumerate(classes)}
    entries = (folder / "meta" / f"{split}.txt").read_text().split()
    labels = np.array([index[e.split("/")[0]] for e in entries], dtype=np.int64)
    files = tuple(str(folder / "images" / f"{e}.jpg") for e in entries)
    return ImageDataset("food101", split, files, labels, tuple(classes), root=folder)


# ----------------------------------------------------------------------------- ImageNet

_IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")


def _imagenet_root(root: str | os.PathLike | None) -> Path:
    return Path(root).expanduser() if root is not None else default_root() / "imagenet"


def _imagenet_help(root: Path, problem: str) -> str:
    return (
        f"ImageNet-1k not available at {root}: {problem}. ImageNet cannot be downloaded "
        "automatically: get ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar from "
        "image-net.org and unpack them in the ImageFolder layout root/train/<wnid>/*.JPEG and "
        "root/val/<wnid>/*.JPEG (sort the 50,000 val images into wnid folders, e.g. with the "
        "widely used valprep.sh), then pass that root (config 'root:' or --root)"
    )


def _imagenet_classes(root: Path) -> tuple[list[str], tuple[str, ...]]:
    """The 1000 wnids in class order and a readable name for each (timm's lemma, else wnid)."""
    import importlib.util

    from l2h.taxonomy import imagenet1k_wnids

    wnids = imagenet1k_wnids()
    lemmas: dict[str, str] = {}
    spec = importlib.util.find_spec("timm")
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0]) / "data/_info/imagenet_synset_to_lemma.txt"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                wnid, _, lemma = line.partition("\t")
                lemmas[wnid] = lemma.split(",")[0].strip()
    return wnids, tuple(lemmas.get(w) or w for w in wnids)


def _scan_folder(split_dir: Path, index: dict[str, int]) -> tuple[list[str], list[int]]:
    """Image files and class ids of an ImageFolder split (sorted by class, then file name)."""
    files, labels = [], []
    for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        if class_dir.name not in index:
            raise ValueError(f"{class_dir} is not named after one of the classes")
        names = sorted(
            f.name for f in os.scandir(class_dir) if f.name.lower().endswith(_IMAGE_SUFFIXES)
        )
        files += [str(class_dir / n) for n in names]
        labels += [index[class_dir.name]] * len(names)
    return files, labels


def _load_imagenet_split(split: str, root: Path | None, download: bool) -> ImageDataset:
    base = _imagenet_root(root)
    _check_imagenet(base)
    wnids, names = _imagenet_classes(base)
    index = {w: i for i, w in enumerate(wnids)}
    folder = base / ("train" if split == "train" else "val")
    files, labels = _scan_folder(folder, index)
    if not files:
        raise DatasetNotAvailableError(_imagenet_help(base, f"{folder} holds no images"))
    return ImageDataset(
        "imagenet", split, tuple(files), np.array(labels, np.int64), names, root=base
    )


def _check_imagenet(base: Path) -> None:
    for sub in ("train", "val"):
        folder = base / sub
        if not folder.is_dir():
            raise DatasetNotAvailableError(_imagenet_help(base, f"{folder} is missing"))
        if not any(p.is_dir() for p in folder.iterdir()):
            raise DatasetNotAvailableError(
                _imagenet_help(base, f"{folder} has no <wnid> class folders")
            )


# ----------------------------------------------------------------------------- iNaturalist 2021


def _inat_root(root: str | os.PathLike | None) -> Path:
    return Path(root).expanduser() if root is not None else default_root() / "inat21"


def _check_inat(base: Path) -> None:
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


def _read_inat_json(path: Path) -> tuple[list[str], np.ndarray, tuple[str, ...]]:
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


def _load_inat_split(split: str, root: Path | None, download: bool) -> ImageDataset:
    base = _inat_root(root)
    _check_inat(base)
    files, labels, names = _read_inat_json(
        base / ("train.json" if split == "train" else "val.json")
    )
    paths = tuple(str(base / f) for f in files)
    return ImageDataset("inat21", split, paths, labels, names, root=base)


# ----------------------------------------------------------------------------- registry


SplitLoader = Callable[[str, "Path | None", bool], ImageDataset]


TreeReader = Callable[["Path | None"], "Taxonomy"]


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
    loader : callable
        ``loader(split, root, download) -> ImageDataset`` for split ``train`` or ``test``.
    needs_root : bool
        Whether the data must be provided by the user (ImageNet, iNat21: never downloaded).
    tree : callable or None
        ``tree(root) -> Taxonomy``: reads the ground-truth hierarchy over the classes (``root``
        is the dataset's folder, used by iNat21); None for a dataset without one (digits,
        Food-101). The one place that says whether a dataset has a tree: level-wise scores,
        level tables and figures exist only for datasets with one.
    """

    name: str
    n_classes: int
    description: str
    loader: SplitLoader
    needs_root: bool = False
    tree: TreeReader | None = None

    @property
    def has_tree(self) -> bool:
        """bool : Whether the dataset has a ground-truth hierarchy over its classes."""
        return self.tree is not None


def _cifar10_tree(root: Path | None) -> Taxonomy:
    from l2h.taxonomy import cifar10

    return cifar10()


def _cifar100_tree(root: Path | None) -> Taxonomy:
    from l2h.taxonomy import cifar100

    return cifar100()


def _fashion_mnist_tree(root: Path | None) -> Taxonomy:
    from l2h.taxonomy import fashion_mnist

    return fashion_mnist()


def _imagenet_tree(root: Path | None) -> Taxonomy:
    from l2h.taxonomy import imagenet1k

    return imagenet1k()


def _inat21_tree(root: Path | None) -> Taxonomy:
    from l2h.taxonomy import inaturalist21_in

    return inaturalist21_in(root)


def _cifar_loader(name: str) -> SplitLoader:
    return lambda split, root, download: _load_cifar_split(name, split, root, download)


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "digits",
            10,
            "scikit-learn's bundled 8x8 handwritten digits (1,797 images, offline)",
            _load_digits,
        ),
        DatasetInfo(
            "fashion_mnist",
            10,
            "Fashion-MNIST (70,000 28x28 grey images)",
            _load_fashion_split,
            tree=_fashion_mnist_tree,
        ),
        DatasetInfo(
            "cifar10",
            10,
            "CIFAR-10 (60,000 32x32 colour images)",
            _cifar_loader("cifar10"),
            tree=_cifar10_tree,
        ),
        DatasetInfo(
            "cifar100",
            100,
            "CIFAR-100 (60,000 32x32 colour images)",
            _cifar_loader("cifar100"),
            tree=_cifar100_tree,
        ),
        DatasetInfo("food101", 101, "Food-101 (101,000 food photographs)", _load_food_split),
        DatasetInfo(
            "imagenet",
            1000,
            "ImageNet-1k (ILSVRC 2012)",
            _load_imagenet_split,
            needs_root=True,
            tree=_imagenet_tree,
        ),
        DatasetInfo(
            "inat21",
            10000,
            "iNaturalist 2021 (10,000 species)",
            _load_inat_split,
            needs_root=True,
            tree=_inat21_tree,
        ),
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


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


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
    base = Path(root).expanduser() if root is not None else None
    if split != "all":
        return info.loader(split, base, download)
    if name == "digits":
        return _load_digits("all", base, download)
    return _concat(info.loader("train", base, download), info.loader("test", base, download))


def load_labels(
    name: str, split: str = "train", root: str | os.PathLike | None = None
) -> np.ndarray:
    """The ``(N,)`` int64 labels of a split, without decoding images where the format allows.

    Never downloads. Raises like :func:`load_dataset`.
    """
    dataset_info(name)
    _check_split(split)
    if name == "fashion_mnist":
        base = Path(root).expanduser() if root is not None else None
        splits = ("train", "test") if split == "all" else (split,)
        parts = [
            _read_idx(_fashion_file(s, "labels", base, False), _FASHION_N[s], "labels")
            for s in splits
        ]
        return np.concatenate(parts).astype(np.int64)
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
    info = dataset_info(name)
    if name == "imagenet":
        _check_imagenet(_imagenet_root(root))
    elif name == "inat21":
        _check_inat(_inat_root(root))
    elif name == "digits" or download or info.needs_root:
        return
    elif name == "fashion_mnist":
        for split in ("train", "test"):
            for kind in ("images", "labels"):
                _fashion_file(split, kind, Path(root) if root else None, False)
    elif name in _CIFAR:
        _cifar_folder(name, Path(root) if root else None, False)
    elif name == "food101":
        _food_folder(Path(root) if root else None, False)


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
