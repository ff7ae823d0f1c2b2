"""Rule ``evaluate``: the scores of every tree of one model run (L2H per aggregation, the
baselines) on each evaluation split, as tidy rows (one metric a row)."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np
import pandas as pd

from l2h.hierarchy import Hierarchy
from l2h.io import load_logits, open_output
from l2h.metrics import evaluate, lca_spearman
from l2h.tables import COLUMNS
from l2h.taxonomy import for_dataset


def baseline_leaves(tree_path: str, splits: list[str]) -> list[np.ndarray]:
    """A baseline's leaf of every point of each evaluation split, from the files named after
    its tree (``<method>_<split>_leaves.npy``)."""
    stem = tree_path.removesuffix(".json")
    return [np.load(f"{stem}_{split}_leaves.npy") for split in splits]


def tidy(scores: dict[str, float]) -> list[dict[str, Any]]:
    """``nmi@order`` -> metric ``nmi`` at level ``order``; plain keys are at level ``class``.

    ``class`` always means the dataset's own labels, so a taxonomy level of that name (the
    biological rank of iNaturalist) is stored as ``class_rank``.
    """
    rows = []
    for key, value in scores.items():
        metric, _, level = key.partition("@")
        level = "class_rank" if level == "class" else level or "class"
        rows.append({"metric": metric, "level": level, "value": float(value)})
    return rows


def score(tree: Hierarchy, y_true: np.ndarray, y_pred: np.ndarray, spec: Any, taxonomy: Any):
    """:func:`l2h.metrics.evaluate`, with classes as leaves in the supervised setting."""
    scores = evaluate(tree, y_true, y_pred, gt=taxonomy)
    if spec and spec["clusters_are_classes"]:
        # Supervised setting: leaf k is the classifier's class k, compared with WordNet.
        scores["lca_spearman"] = lca_spearman(tree, taxonomy, np.arange(tree.n_clusters))
    return scores


def main(smk: Any, log: logging.Logger) -> None:
    """Score every tree of the run on each evaluation split; write ``output[0]``."""
    spec = smk.params.taxonomy
    taxonomy = for_dataset(spec["dataset"], spec["root"]) if spec else None
    splits = smk.params.splits
    labels = [np.load(path) for path in smk.input.labels]
    wc = smk.wildcards
    # Under every L2H tree of the run a point's leaf is the flat model's argmax: read it once.
    l2h_leaves = [np.argmax(load_logits(path), axis=1) for path in smk.input.get("logits", [])]
    tables = []
    for method, tree_path in zip(smk.params.methods, smk.input.trees, strict=True):
        tree = Hierarchy.load(tree_path)
        rows = []
        is_l2h = method.startswith("l2h_")
        preds = l2h_leaves if is_l2h else baseline_leaves(tree_path, splits)
        for split, y_true, y_pred in zip(splits, labels, preds, strict=True):
            scores = score(tree, y_true, y_pred, spec, taxonomy)
            log.info("%s on %s: %s", method, split, scores)
            rows += [dict(row, split=split) for row in tidy(scores)]
        tables.append(
            pd.DataFrame(rows).assign(
                method="l2h" if is_l2h else method,
                aggregation=method.removeprefix("l2h_") if is_l2h else "none",
            )
        )
    table = pd.concat(tables, ignore_index=True).assign(
        dataset=wc.dataset,
        backbone=wc.backbone,
        model=wc.model,
        n_clusters=int(wc.k),
        seed=int(wc.seed),
    )[list(COLUMNS)]
    with open_output(smk.output[0]) as fh:
        table.to_csv(fh, index=False)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
