"""Rule ``treevae`` (optional, off by default): TreeVAE from its official repository at a pinned
commit, trained on CIFAR-10/100 raw pixels; its tree and the leaf of every evaluation point."""

import logging
from pathlib import Path
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable

from l2h.baselines.treevae import load_treevae_result, run_treevae
from l2h.datasets import default_root
from l2h.io import atomic_save_npy


def main(smk: Any, log: logging.Logger) -> None:
    """Train (or reuse) the run under ``results/<study>/treevae/...``; write tree and leaves."""
    _script_utils.torch_device(smk)  # stops at once if the job's GPU is invisible to torch
    out_dir = Path(smk.output.tree).parent / "treevae_run"
    data_dir = Path(smk.params.data_root or default_root())
    params = dict(smk.params.params)
    overrides = dict(params.pop("overrides", {}), num_clusters_tree=int(smk.wildcards.k))
    run_treevae(
        smk.wildcards.dataset,
        out_dir,
        cache_dir=params.pop("cache_dir", data_dir / "treevae"),
        data_dir=data_dir,
        seed=int(smk.wildcards.seed),
        overrides=overrides,
        **params,
    )
    tree = None
    for split, path in zip(smk.params.eval_splits, smk.output.leaves, strict=True):
        tree, leaves = load_treevae_result(out_dir, split)
        log.info("%s: %r, %d leaves labels", split, tree, len(leaves))
        atomic_save_npy(path, leaves)
    tree.save(smk.output.tree)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
