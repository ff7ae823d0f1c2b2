"""Rule ``collect_metrics``: concatenate the per-tree tables into the study's metrics.csv."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import pandas as pd

from l2h.io import open_output
from l2h.tables import COLUMNS

#: Row order of metrics.csv: every column but ``value``.
SORT_BY = [column for column in COLUMNS if column != "value"]


def main(smk: Any, log: logging.Logger) -> None:
    """Read every ``input`` table, sort the rows and write ``output[0]``."""
    tables = [pd.read_csv(path, keep_default_na=False) for path in smk.input]
    for path, table in zip(smk.input, tables, strict=True):
        if list(table.columns) != list(COLUMNS):
            raise ValueError(f"{path}: columns {list(table.columns)} differ from {list(COLUMNS)}")
    metrics = pd.concat(tables, ignore_index=True).sort_values(SORT_BY, kind="stable")
    log.info("%d rows from %d tables", len(metrics), len(tables))
    with open_output(smk.output[0]) as fh:
        metrics.to_csv(fh, index=False)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
