"""Rule ``load_dataset``: features, labels and class names of one registered dataset."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.data import load_dataset
from l2h.io import atomic_save_npy, atomic_write_text


def main(smk: Any, log: logging.Logger) -> None:
    """Load ``wildcards.dataset`` and write ``output.features``, ``labels`` and ``classes``.

    Features are raw pixels of the whole dataset (split ``all``); nothing is downloaded here.
    """
    ds = load_dataset(smk.wildcards.dataset, "all", root=smk.params.root, download=False)
    features = ds.pixels()  # the "pixels" backbone of l2h.embed, without importing torch
    log.info("%s: features %s, %d classes", ds.name, features.shape, ds.n_classes)
    atomic_save_npy(smk.output.features, np.ascontiguousarray(features, dtype=np.float32))
    atomic_save_npy(smk.output.labels, ds.labels.astype(np.int64))
    atomic_write_text(smk.output.classes, "".join(f"{name}\n" for name in ds.class_names))


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
