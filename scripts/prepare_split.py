"""Rule ``prepare_split``: the labels of one split and the rows of it the study uses."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.io import atomic_save_npy


def split_labels(smk: Any) -> np.ndarray:
    """All labels of the split: from the registered dataset, or the bring-your-own file."""
    if smk.params.byo:
        labels = np.load(smk.params.settings["labels"][smk.wildcards.split])
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"labels must be a 1-D integer array, got {labels.dtype} {labels.shape}"
            )
        return labels.astype(np.int64)
    from l2h.datasets import load_labels

    root = smk.params.settings.get("root") or smk.params.data_root
    return load_labels(smk.wildcards.dataset, smk.wildcards.split, root=root)


def main(smk: Any, log: logging.Logger) -> None:
    """Write ``output.labels`` and ``output.indices`` (rows of the full split, sorted)."""
    labels = split_labels(smk)
    subset = {} if smk.params.byo else smk.params.settings.get("subset") or {}
    n = subset.get(smk.wildcards.split)
    if n is None:
        indices = np.arange(len(labels), dtype=np.int64)
    else:
        from l2h.datasets import subset_indices

        indices = np.asarray(subset_indices(labels, n, seed=subset.get("seed", 0)), np.int64)
    log.info(
        "%s/%s: %d of %d rows",
        smk.wildcards.dataset,
        smk.wildcards.split,
        len(indices),
        len(labels),
    )
    atomic_save_npy(smk.output.indices, indices)
    atomic_save_npy(smk.output.labels, labels[indices])


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
