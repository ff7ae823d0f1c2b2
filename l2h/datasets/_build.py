"""Regenerate the derived tables of this folder from the packages they come from.

Run ``python -m l2h.datasets._build SITE`` where ``SITE`` is a folder holding the unpacked
wheels (``pip download --no-deps torchmeta==1.8.0 timm==1.0.29 tensorflow-datasets==4.9.10``
then unzip them there, or any site-packages folder where they are installed). Nothing is
imported from those packages; only their data files are read:

- ``torchmeta/datasets/assets/cifar100/cifar-fs/{train,val,test}.json`` (lists of
  ``[superclass, class]``) -> ``cifar100.json``. CIFAR-100's label ids are the alphabetical
  order of the names, for both the fine and the coarse labels (the dataset's ``meta`` pickle
  lists the names in that order), so sorting the names gives the label ids.
- ``timm/data/_info/imagenet_synsets.txt`` -> ``imagenet1k_wnids.txt`` (copied verbatim).
- ``tensorflow_datasets/image_classification/food-101_classes.txt`` -> ``food101_classes.txt``
  (copied verbatim; the 101 names in label order, as in Food-101's ``meta/classes.txt``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from l2h.io import atomic_write_text

HERE = Path(__file__).resolve().parent


def build_cifar100(site: Path) -> dict:
    """Build the CIFAR-100 fine -> coarse table from torchmeta's CIFAR-FS split files."""
    folder = site / "torchmeta" / "datasets" / "assets" / "cifar100" / "cifar-fs"
    pairs = []
    for split in ("train", "val", "test"):
        pairs += json.loads((folder / f"{split}.json").read_text())
    coarse_of = dict((fine, coarse) for coarse, fine in pairs)
    if len(coarse_of) != 100 or len(pairs) != 100:
        raise ValueError(f"expected 100 distinct classes, got {len(coarse_of)} of {len(pairs)}")
    fine_names = sorted(coarse_of)
    coarse_names = sorted(set(coarse_of.values()))
    return {
        "source": "torchmeta 1.8.0 (MIT), torchmeta/datasets/assets/cifar100/cifar-fs/*.json; "
        "label ids = alphabetical order of the names, as in the CIFAR-100 meta pickle",
        "fine_label_names": fine_names,
        "coarse_label_names": coarse_names,
        "fine_to_coarse": [coarse_names.index(coarse_of[f]) for f in fine_names],
    }


def main(argv: list[str]) -> None:
    site = Path(argv[0])
    table = build_cifar100(site)
    atomic_write_text(HERE / "cifar100.json", json.dumps(table, indent=1) + "\n")
    wnids = site / "timm" / "data" / "_info" / "imagenet_synsets.txt"
    atomic_write_text(HERE / "imagenet1k_wnids.txt", wnids.read_text(encoding="utf-8"))
    foods = site / "tensorflow_datasets" / "image_classification" / "food-101_classes.txt"
    atomic_write_text(HERE / "food101_classes.txt", foods.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main(sys.argv[1:])
