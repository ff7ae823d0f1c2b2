"""Rule ``fit_baseline``: a baseline's tree on the hierarchy split, and the leaf of every point
of each evaluation split."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.baselines import BASELINES, BaselineData, run_baseline
from l2h.io import atomic_save_npy, load_logits


def split_data(smk: Any, split: str) -> Any:
    """What the baseline reads of one split: embedding spaces or raw pixels, and logits."""
    files = dict(smk.input.items())
    spaces = [np.load(path, mmap_mode="r") for path in files.get(f"features_{split}", [])]
    logits = load_logits(files[f"logits_{split}"]) if f"logits_{split}" in files else None
    if "pixels" in BASELINES[smk.wildcards.baseline].inputs:
        return BaselineData(pixels=np.asarray(spaces[0]), logits=logits)
    return BaselineData(features=spaces or None, logits=logits)


def n_rows(data: Any) -> int:
    """Number of points in a BaselineData (its arrays agree; run_baseline checks that)."""
    arrays = [data.logits, data.pixels, *(data.features or [])]
    return len(next(array for array in arrays if array is not None))


def concatenate(parts: list[Any]) -> Any:
    """One BaselineData holding the rows of several splits, in order."""

    def cat(arrays: list[Any]) -> Any:
        return None if arrays[0] is None else np.concatenate([np.asarray(a) for a in arrays])

    features = None
    if parts[0].features is not None:
        features = [cat([p.features[s] for p in parts]) for s in range(len(parts[0].features))]
    return BaselineData(
        features=features,
        logits=cat([p.logits for p in parts]),
        pixels=cat([p.pixels for p in parts]),
    )


def main(smk: Any, log: logging.Logger) -> None:
    """Fit ``wildcards.baseline`` once; write its tree and one leaves file per evaluation split.

    The evaluation splits are passed together (rows concatenated), so the tree is fitted once.
    """
    params = dict(smk.params.params)
    if smk.wildcards.baseline == "deepect":
        params.setdefault("device", _script_utils.torch_device(smk))
    parts = [split_data(smk, split) for split in smk.params.eval_splits]
    sizes = [n_rows(part) for part in parts]
    tree, leaves = run_baseline(
        smk.wildcards.baseline,
        fit=split_data(smk, smk.params.hierarchy_split),
        evaluate=concatenate(parts),
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
