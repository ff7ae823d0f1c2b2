"""Rule ``plot_k_sensitivity``: scores against K (the paper's Figure 5), one dataset and model."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable

from l2h.plots import plot_k_sensitivity
from l2h.results import load_metrics


def main(smk: Any, log: logging.Logger) -> None:
    """Draw ``output`` (PNG, PDF) from ``input[0]`` (metrics.csv)."""
    metrics = load_metrics(smk.input[0])
    plot_k_sensitivity(
        metrics, smk.wildcards.dataset, smk.wildcards.model, list(smk.output), note=smk.params.note
    )


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
