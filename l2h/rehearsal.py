"""Stand-in data for the rehearsal of the paper's study (``make rehearsal``).

``python -m l2h.rehearsal OUT`` writes every dataset of ``config.yaml`` in its official on-disk
format, tiny and deterministic (same bytes on every run, in a few seconds)::

    OUT/cifar-10-batches-py/   data_batch_1..5, test_batch, batches.meta (python pickles)
    OUT/cifar-100-python/      train, test, meta (fine and coarse labels, real names)
    OUT/food-101/              images/<class>/<id>.jpg, meta/{classes,train,test}.txt
    OUT/imagenet/              train/<wnid>/*.JPEG, val/<wnid>/*.JPEG (all 1000 wnids)
    OUT/inat21/                train/, val/, train.json, val.json (iNat21 annotation format)

so that ``data_root: OUT`` (CIFAR, Food-101) and ``root: OUT/imagenet``, ``root: OUT/inat21``
make :func:`l2h.datasets.load_dataset` read them through the same code as the real data: nothing
in the loaders knows about this module. Class names are the real ones (CIFAR-10/100 with the
CIFAR-100 superclasses, the 101 Food-101 names, the 1000 ImageNet wnids); iNat21's 10,000
species are not available offline, so its taxa are made up, with the real kingdom, phylum,
class, order and family counts (3, 13, 51, 273, 1,103: ``config.yaml`` clusters iNat21 at the
family level, K = 1,103).

Every class has :data:`PER_CLASS` images in each split. An image is its class's colour pattern
plus noise: tiny (12-32 px) and meaningless. Numbers computed on these data mean nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import shutil
import sys
import uuid
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["BUILDERS", "FOLDERS", "INAT_SIZES", "PER_CLASS", "build", "main"]

#: Images per class in the (train, test) splits of each stand-in dataset: at least 2 in the
#: test split, so that dendrogram purity (pairs of points of one class) is defined.
PER_CLASS: dict[str, tuple[int, int]] = {
    "cifar10": (10, 5),
    "cifar100": (3, 2),
    "food101": (3, 2),
    "imagenet": (2, 2),
    "inat21": (2, 2),
}
#: Taxa per rank of the stand-in iNat21 (kingdom, phylum, class, order, family, genus, species):
#: the real iNat21 counts down to the family; fewer genera and species than the real 4,884 and
#: 10,000, so that every species has images in both splits while the data stay small.
INAT_SIZES: tuple[int, ...] = (3, 13, 51, 273, 1103, 1200, 1300)
#: Folder of each dataset under the output folder.
FOLDERS: dict[str, str] = {
    "cifar10": "cifar-10-batches-py",
    "cifar100": "cifar-100-python",
    "food101": "food-101",
    "imagenet": "imagenet",
    "inat21": "inat21",
}
_FILE_SIZE = (16, 12)  # (width, height) of the JPEG stand-ins: not square, so crops happen
_NAMESPACE = uuid.UUID("6f1c1c1e-4d1a-4a51-9d63-3f3a0b2e1e14")


# ----------------------------------------------------------------------------- images


def _images(dataset: str, label: int, count: int, split: str, size: tuple[int, int]) -> np.ndarray:
    """``count`` (H, W, 3) uint8 images of one class: its 2x2 colour pattern plus noise."""
    width, height = size
    pattern_rng = np.random.default_rng([zlib.crc32(dataset.encode()), label])
    pattern = pattern_rng.integers(32, 224, (2, 2, 3))
    base = np.repeat(np.repeat(pattern, -(-height // 2), 0), -(-width // 2), 1)[:height, :width]
    noise_rng = np.random.default_rng([zlib.crc32(f"{dataset}/{split}".encode()), label])
    noise = noise_rng.integers(-24, 25, (count, height, width, 3))
    return np.clip(base[None] + noise, 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _splits(dataset: str) -> tuple[tuple[str, int], ...]:
    train, test = PER_CLASS[dataset]
    return (("train", train), ("test", test))


# ----------------------------------------------------------------------------- CIFAR


def _cifar_rows(dataset: str, n_classes: int, split: str, per_class: int):
    """Labels and (N, 3072) rows (R, G, B planes of 32x32) in a fixed shuffled order."""
    labels = np.repeat(np.arange(n_classes), per_class)
    images = np.concatenate(
        [_images(dataset, c, per_class, split, (32, 32)) for c in range(n_classes)]
    )
    order = np.random.default_rng([zlib.crc32(f"{dataset}/{split}/order".encode())]).permutation(
        len(labels)
    )
    rows = images[order].transpose(0, 3, 1, 2).reshape(len(order), -1)
    return labels[order], np.ascontiguousarray(rows)


def _pickle(obj: dict) -> bytes:
    return pickle.dumps(obj, protocol=2)


def _build_cifar10(folder: Path) -> None:
    names = json.loads(_table("cifar10.json"))["class_names"]
    for split, per_class in _splits("cifar10"):
        labels, rows = _cifar_rows("cifar10", len(names), split, per_class)
        parts = 5 if split == "train" else 1
        for i, idx in enumerate(np.array_split(np.arange(len(labels)), parts)):
            name = f"data_batch_{i + 1}" if split == "train" else "test_batch"
            what = "training" if split == "train" else "testing"
            batch = {
                "batch_label": f"{what} batch {i + 1} of {parts}",
                "labels": labels[idx].tolist(),
                "data": rows[idx],
                "filenames": [f"stand_in_{split}_{j:05d}.png" for j in idx.tolist()],
            }
            _write(folder / name, _pickle(batch))
    meta = {"num_cases_per_batch": len(names) * PER_CLASS["cifar10"][0] // 5}
    meta |= {"label_names": names, "num_vis": 3072}
    _write(folder / "batches.meta", _pickle(meta))


def _build_cifar100(folder: Path) -> None:
    table = json.loads(_table("cifar100.json"))
    to_coarse = np.asarray(table["fine_to_coarse"])
    for split, per_class in _splits("cifar100"):
        fine, rows = _cifar_rows("cifar100", len(to_coarse), split, per_class)
        batch = {
            "filenames": [f"stand_in_{split}_{j:05d}.png" for j in range(len(fine))],
            "batch_label": f"{'training' if split == 'train' else 'testing'} batch 1 of 1",
            "fine_labels": fine.tolist(),
            "coarse_labels": to_coarse[fine].tolist(),
            "data": rows,
        }
        _write(folder / split, _pickle(batch))
    meta = {k: table[k] for k in ("fine_label_names", "coarse_label_names")}
    _write(folder / "meta", _pickle(meta))


# ----------------------------------------------------------------------------- image files


def _build_food101(folder: Path) -> None:
    classes = _table("food101_classes.txt").split()
    lists: dict[str, list[str]] = {"train": [], "test": []}
    for c, name in enumerate(classes):
        image_id = 100_000 + 1_000 * c
        for split, per_class in _splits("food101"):
            for image in _images("food101", c, per_class, split, _FILE_SIZE):
                entry = f"{name}/{image_id}"
                _write(folder / "images" / f"{entry}.jpg", _jpeg(image))
                lists[split].append(entry)
                image_id += 1
    meta = folder / "meta"
    _write(meta / "classes.txt", "".join(f"{c}\n" for c in classes).encode())
    for split, entries in lists.items():
        _write(meta / f"{split}.txt", "".join(f"{e}\n" for e in entries).encode())


def _build_imagenet(folder: Path) -> None:
    from l2h.datasets.imagenet import wnids

    val_id = 1
    for c, wnid in enumerate(wnids()):
        for split, per_class in _splits("imagenet"):
            for k, image in enumerate(_images("imagenet", c, per_class, split, _FILE_SIZE)):
                if split == "train":
                    path = folder / "train" / wnid / f"{wnid}_{k}.JPEG"
                else:
                    path = folder / "val" / wnid / f"ILSVRC2012_val_{val_id:08d}.JPEG"
                    val_id += 1
                _write(path, _jpeg(image))


# ----------------------------------------------------------------------------- iNaturalist 2021

_INAT_RANK_NAMES = ("kingdom", "phylum", "class", "order", "family", "genus")
_INAT_PREFIX = ("Kingdom", "Phylum", "Classis", "Ordo", "Familia", "Genus")
_INAT_KINGDOMS = ("Animalia", "Fungi", "Plantae")


def _inat_categories() -> list[dict]:
    """Categories with every rank of the official format, parents in balanced contiguous runs."""
    sizes = INAT_SIZES
    categories = []
    for s in range(sizes[-1]):
        path, index = [], s
        for level in range(len(sizes) - 2, -1, -1):  # genus up to kingdom
            index = index * sizes[level] // sizes[level + 1]
            path.append(index)
        path.reverse()  # kingdom ... genus ids
        ranks = {
            rank: _INAT_KINGDOMS[i] if rank == "kingdom" else f"{prefix}{i:04d}"
            for rank, prefix, i in zip(_INAT_RANK_NAMES, _INAT_PREFIX, path, strict=True)
        }
        epithet = f"standin{s:05d}"
        dir_name = "_".join([f"{s:05d}", *ranks.values(), epithet])
        categories.append(
            {
                "id": s,
                "name": f"{ranks['genus']} {epithet}",
                "common_name": f"Stand-in species {s}",
                "supercategory": ranks["phylum"],
                **ranks,
                "specific_epithet": epithet,
                "image_dir_name": dir_name,
            }
        )
    return categories


def _build_inat21(folder: Path) -> None:
    categories = _inat_categories()
    image_id = 0
    for split, per_class in _splits("inat21"):
        name = "train" if split == "train" else "val"
        images, annotations = [], []
        for cat in categories:
            for k, image in enumerate(_images("inat21", cat["id"], per_class, split, _FILE_SIZE)):
                stem = uuid.uuid5(_NAMESPACE, f"{name}/{cat['id']}/{k}")
                file_name = f"{name}/{cat['image_dir_name']}/{stem}.jpg"
                _write(folder / file_name, _jpeg(image))
                images.append(
                    {
                        "id": image_id,
                        "width": _FILE_SIZE[0],
                        "height": _FILE_SIZE[1],
                        "file_name": file_name,
                        "license": 0,
                        "rights_holder": "l2h rehearsal stand-in",
                        "date": "2021-01-01 00:00:00",
                        "latitude": 0.0,
                        "longitude": 0.0,
                        "location_uncertainty": None,
                    }
                )
                annotations.append({"id": image_id, "image_id": image_id, "category_id": cat["id"]})
                image_id += 1
        document = {
            "info": {
                "description": "l2h rehearsal stand-in in the iNaturalist 2021 format",
                "year": 2021,
                "version": "stand-in",
            },
            "images": images,
            "categories": categories,
            "annotations": annotations,
            "licenses": [{"id": 0, "name": "stand-in data, no licence needed", "url": ""}],
        }
        _write(folder / f"{name}.json", json.dumps(document).encode())


# ----------------------------------------------------------------------------- entry points


def _table(name: str) -> str:
    from l2h.datasets._base import packaged_text

    return packaged_text(name)


BUILDERS: dict[str, Callable[[Path], None]] = {
    "cifar10": _build_cifar10,
    "cifar100": _build_cifar100,
    "food101": _build_food101,
    "imagenet": _build_imagenet,
    "inat21": _build_inat21,
}
"""Dataset name -> function writing its stand-in into a folder."""


def build(out: str | Path, datasets: Sequence[str] | None = None) -> dict[str, Path]:
    """Write the stand-in datasets under ``out``, replacing earlier copies.

    Each dataset is written into a temporary folder first and renamed into place, so an
    interrupted build never leaves a folder the loaders would take as complete.

    Parameters
    ----------
    out : path-like
        Output folder (created if missing).
    datasets : sequence of str, optional
        Names among :data:`BUILDERS` (default: all five).

    Returns
    -------
    dict of str to pathlib.Path
        Each dataset's folder (``FOLDERS``).
    """
    names = list(BUILDERS) if datasets is None else list(datasets)
    unknown = [n for n in names if n not in BUILDERS]
    if unknown:
        raise ValueError(f"no stand-in for {unknown}; known: {', '.join(BUILDERS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    folders = {}
    for name in names:
        final, tmp = out / FOLDERS[name], out / f".{FOLDERS[name]}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        BUILDERS[name](tmp)
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        folders[name] = final
    return folders


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m l2h.rehearsal OUT [--datasets NAME ...]``."""
    parser = argparse.ArgumentParser(
        prog="python -m l2h.rehearsal",
        description="Write tiny stand-in datasets in their official formats (rehearsal data).",
    )
    parser.add_argument("out", help="output folder (the rehearsal's data_root)")
    parser.add_argument("--datasets", nargs="+", choices=list(BUILDERS), default=None)
    args = parser.parse_args(argv)
    for name, folder in build(args.out, args.datasets).items():
        print(f"{name}: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
