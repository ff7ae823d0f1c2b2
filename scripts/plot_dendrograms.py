"""Rule ``plot_dendrograms``: a dendrogram per tree of a model run, leaves named by class."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.data import cluster_names
from l2h.hierarchy import Hierarchy
from l2h.io import load_logits, load_names
from l2h.plots import plot_dendrogram


def main(smk: Any, log: logging.Logger) -> None:
    """Draw each of ``input.trees`` into the matching ``output`` figure."""
    y_pred = np.argmax(load_logits(smk.input.logits), axis=1)
    class_names = load_names(smk.input.classes)
    y_true = np.load(smk.input.labels)
    wc = smk.wildcards
    for tree_path, figure in zip(smk.input.trees, smk.output, strict=True):
        tree = Hierarchy.load(tree_path)
        names = cluster_names(y_true, y_pred, class_names, tree.n_clusters)
        title = f"L2H ({tree.aggregation}): {wc.dataset}, {wc.model} K={wc.k}, seed {wc.seed}"
        plot_dendrogram(tree, names, figure, title=title)
        log.info("%s: leaves %s", figure, names)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
