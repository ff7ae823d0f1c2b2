"""Rules ``evaluate_l2h`` and ``evaluate_baseline``: the scores of one tree on each evaluation
split, as tidy rows (one metric a row)."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np
import pandas as pd

from l2h.hierarchy import Hierarchy
from l2h.io import atomic_path, load_logits
from l2h.metrics import evaluate, lca_spearman
from l2h.taxonomy import for_dataset

#: Columns of every metrics table, in order (as in the study's metrics.csv).
COLUMNS = [
    "dataset",
    "backbone",
    "model",
    "method",
    "aggregation",
    "n_clusters",
    "seed",
    "split",
    "level",
    "metric",
    "value",
]


def predictions(smk: Any) -> list[np.ndarray]:
    """The leaf of every point of each evaluation split."""
    if "logits" in smk.input.keys():
        return [np.argmax(load_logits(path), axis=1) for path in smk.input.logits]
    return [np.load(path) for path in smk.input.leaves]


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


def main(smk: Any, log: logging.Logger) -> None:
    """Score ``input.tree`` with :func:`l2h.metrics.evaluate`; write ``output[0]``."""
    tree = Hierarchy.load(smk.input.tree)
    spec = smk.params.taxonomy
    taxonomy = for_dataset(spec["dataset"], spec["root"]) if spec else None
    wc = smk.wildcards
    rows = []
    for split, labels, y_pred in zip(
        smk.params.splits, smk.input.labels, predictions(smk), strict=True
    ):
        y_true = np.load(labels)
        scores = evaluate(tree, y_true, y_pred, gt=taxonomy)
        if spec and spec["clusters_are_classes"]:
            # Supervised setting: leaf k is the classifier's class k, compared with WordNet.
            scores["lca_spearman"] = lca_spearman(tree, taxonomy, np.arange(tree.n_clusters))
        log.info("%s: %s", split, scores)
        rows += [dict(row, split=split) for row in tidy(scores)]
    is_l2h = "aggregation" in wc.keys()
    table = pd.DataFrame(rows).assign(
        dataset=wc.dataset,
        backbone=wc.backbone,
        model=wc.model,
        method="l2h" if is_l2h else wc.baseline,
        aggregation=wc.aggregation if is_l2h else "none",
        n_clusters=int(wc.k),
        seed=int(wc.seed),
    )[COLUMNS]
    with atomic_path(smk.output[0]) as tmp:
        table.to_csv(tmp, index=False)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
