"""Rule ``plot_levels``: scores at each level of the dataset's ground-truth hierarchy."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable

from l2h.plots import plot_level_scores
from l2h.results import load_metrics


def main(smk: Any, log: logging.Logger) -> None:
    """Draw ``output`` (PNG, PDF) from ``input[0]`` (metrics.csv)."""
    metrics = load_metrics(smk.input[0])
    plot_level_scores(metrics, smk.wildcards.dataset, list(smk.output), note=smk.params.note)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
