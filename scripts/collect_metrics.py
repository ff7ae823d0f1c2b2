"""Rule ``collect_metrics``: concatenate the per-tree tables into the study's metrics.csv."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import pandas as pd

from l2h.io import atomic_path

#: Row order of metrics.csv: every column but ``value``.
SORT_BY = [
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
]


def main(smk: Any, log: logging.Logger) -> None:
    """Read every ``input`` table, sort the rows and write ``output[0]``."""
    tables = [pd.read_csv(path) for path in smk.input]
    columns = list(tables[0].columns)
    for path, table in zip(smk.input, tables, strict=True):
        if list(table.columns) != columns:
            raise ValueError(f"{path}: columns {list(table.columns)} differ from {columns}")
    metrics = pd.concat(tables, ignore_index=True).sort_values(SORT_BY, kind="stable")
    log.info("%d rows from %d tables", len(metrics), len(tables))
    with atomic_path(smk.output[0]) as tmp:
        metrics.to_csv(tmp, index=False)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
