"""scikit-learn's 1,797 bundled 8x8 handwritten digits (offline, pixels 0..16).

There is no official split: ``test`` is a stratified third chosen with seed 0
(:data:`SPLIT_SEED`, :data:`TEST_FRACTION`), ``train`` the rest; ``all`` is the bundled order.
No ground-truth tree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2h.datasets._base import DatasetInfo, ImageDataset, nothing_to_check

__all__ = ["INFO", "SPLIT_SEED", "TEST_FRACTION", "load_split", "test_mask"]

#: Seed and test fraction of the documented digits split.
SPLIT_SEED = 0
TEST_FRACTION = 1 / 3


def test_mask(labels: np.ndarray) -> np.ndarray:
    """Boolean mask of the documented test split (stratified, seed 0, one third)."""
    from sklearn.model_selection import train_test_split

    _, test = train_test_split(
        np.arange(len(labels)),
        test_size=TEST_FRACTION,
        stratify=labels,
        random_state=SPLIT_SEED,
    )
    mask = np.zeros(len(labels), dtype=bool)
    mask[test] = True
    return mask


def load_split(split: str, root: Path | None, download: bool) -> ImageDataset:
    """The bundled digits of ``split`` (``train``, ``test`` or ``all``); ``root`` is unused."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.uint8)
    labels = np.asarray(bunch.target, dtype=np.int64)
    if split != "all":
        keep = test_mask(labels) == (split == "test")
        images, labels = images[keep], labels[keep]
    names = tuple(str(n) for n in bunch.target_names)
    return ImageDataset("digits", split, images, labels, names, pixel_max=16)


INFO = DatasetInfo(
    "digits",
    "Digits",
    10,
    "scikit-learn's bundled 8x8 handwritten digits (1,797 images, offline)",
    load_split,
    nothing_to_check,
    reads_all=True,
)
