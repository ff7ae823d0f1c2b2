"""Rule ``evaluate``: the scores of every tree of one model run (L2H per aggregation, the
baselines) on each evaluation split, as rows of metrics.csv (one score a row)."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.datasets import load_tree
from l2h.hierarchy import Hierarchy
from l2h.io import load_logits
from l2h.results import L2H_METHOD, score_rows, score_tree, split_method, write_metrics


def baseline_leaves(tree_path: str, splits: list[str]) -> list[np.ndarray]:
    """A baseline's leaf of every point of each evaluation split, from the files named after
    its tree (``<method>_<split>_leaves.npy``)."""
    stem = tree_path.removesuffix(".json")
    return [np.load(f"{stem}_{split}_leaves.npy") for split in splits]


def main(smk: Any, log: logging.Logger) -> None:
    """Score every tree of the run on each evaluation split; write ``output[0]``."""
    spec = smk.params.taxonomy
    taxonomy = load_tree(spec["dataset"], spec["root"]) if spec else None
    supervised = bool(spec and spec["clusters_are_classes"])
    splits = smk.params.splits
    labels = [np.load(path) for path in smk.input.labels]
    wc = smk.wildcards
    run = dict(dataset=wc.dataset, backbone=wc.backbone, model=wc.model, n_clusters=int(wc.k))
    # Under every L2H tree of the run a point's leaf is the flat model's argmax: read it once.
    l2h_leaves = [np.argmax(load_logits(path), axis=1) for path in smk.input.get("logits", [])]
    rows = []
    for method, tree_path in zip(smk.params.methods, smk.input.trees, strict=True):
        tree = Hierarchy.load(tree_path)
        is_l2h = split_method(method)[0] == L2H_METHOD
        preds = l2h_leaves if is_l2h else baseline_leaves(tree_path, splits)
        for split, y_true, y_pred in zip(splits, labels, preds, strict=True):
            scores = score_tree(tree, y_true, y_pred, taxonomy, clusters_are_classes=supervised)
            log.info("%s on %s: %s", method, split, scores)
            rows += score_rows(scores, method=method, seed=int(wc.seed), split=split, **run)
    write_metrics(smk.output[0], rows)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
