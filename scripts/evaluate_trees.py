"""Rule ``evaluate_trees``: the scores of a model run's trees as tidy rows (one metric a row)."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np
import pandas as pd

from l2h.hierarchy import Hierarchy
from l2h.io import atomic_path, load_logits
from l2h.metrics import evaluate

#: Columns of every metrics table, in order (as in the study's metrics.csv).
COLUMNS = [
    "dataset",
    "backbone",
    "model",
    "method",
    "aggregation",
    "n_clusters",
    "seed",
    "metric",
    "value",
]


def main(smk: Any, log: logging.Logger) -> None:
    """Score each of ``input.trees`` with :func:`l2h.metrics.evaluate`; write ``output[0]``."""
    y_true = np.load(smk.input.labels)
    y_pred = np.argmax(load_logits(smk.input.logits), axis=1)
    rows = []
    for path, aggregation in zip(smk.input.trees, smk.params.aggregations, strict=True):
        tree = Hierarchy.load(path)
        if tree.aggregation != aggregation:
            raise ValueError(f"{path}: tree built with {tree.aggregation!r}, not {aggregation!r}")
        scores = evaluate(tree, y_true, y_pred)
        log.info("%s: %s", aggregation, scores)
        rows += [
            {"aggregation": aggregation, "metric": name, "value": float(value)}
            for name, value in scores.items()
        ]
    table = pd.DataFrame(rows).assign(
        dataset=smk.wildcards.dataset,
        backbone=smk.params.backbone,
        model=smk.wildcards.model,
        method="l2h",
        n_clusters=int(smk.wildcards.k),
        seed=int(smk.wildcards.seed),
    )[COLUMNS]
    with atomic_path(smk.output[0]) as tmp:
        table.to_csv(tmp, index=False)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
