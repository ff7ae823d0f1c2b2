"""Rule ``fit_baseline``: a baseline's tree on the hierarchy split, and the leaf of every point
of each evaluation split."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.baselines import BASELINES, BaselineData, run_baseline
from l2h.io import atomic_save_npy


def split_data(smk: Any, split: str) -> BaselineData:
    """What the baseline reads of one split: embedding spaces or raw pixels, and logits."""
    files = dict(smk.input.items())
    return BaselineData.load(
        files.get(f"features_{split}", []),
        files.get(f"logits_{split}"),
        pixels="pixels" in BASELINES[smk.wildcards.baseline].inputs,
    )


def main(smk: Any, log: logging.Logger) -> None:
    """Fit ``wildcards.baseline`` once; write its tree and one leaves file per evaluation split.

    The evaluation splits are passed together (rows concatenated), so the tree is fitted once.
    """
    params = dict(smk.params.params)
    if BASELINES[smk.wildcards.baseline].uses_gpu:  # the study's device, unless params name one
        params.setdefault("device", _script_utils.torch_device(smk))
    parts = [split_data(smk, split) for split in smk.params.eval_splits]
    sizes = [part.n_points() for part in parts]
    tree, leaves = run_baseline(
        smk.wildcards.baseline,
        fit=split_data(smk, smk.params.hierarchy_split),
        evaluate=BaselineData.concatenate(parts),
        n_clusters=int(smk.wildcards.k),
        seed=int(smk.wildcards.seed),
        **params,
    )
    log.info("%s: %r", smk.wildcards.baseline, tree)
    bounds = np.cumsum([0, *sizes])
    for i, path in enumerate(smk.output.leaves):
        atomic_save_npy(path, np.asarray(leaves[bounds[i] : bounds[i + 1]], dtype=np.int64))
    tree.save(smk.output.tree)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
