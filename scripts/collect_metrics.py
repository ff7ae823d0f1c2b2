"""Rule ``collect_metrics``: concatenate the per-run tables into the study's metrics.csv."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable

from l2h.results import collect_metrics, write_metrics


def main(smk: Any, log: logging.Logger) -> None:
    """Read every ``input`` table, sort the rows and write ``output[0]``."""
    metrics = collect_metrics(list(smk.input))
    log.info("%d rows from %d tables", len(metrics), len(smk.input))
    write_metrics(smk.output[0], metrics.to_dict("records"))


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
