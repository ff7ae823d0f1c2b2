"""Rule ``plot_dendrogram``: the top of one tree, leaves named by their majority class."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.data import cluster_names
from l2h.hierarchy import Hierarchy
from l2h.io import load_logits, load_names
from l2h.plots import plot_dendrogram


def main(smk: Any, log: logging.Logger) -> None:
    """Draw ``input.tree`` into ``output[0]``."""
    tree = Hierarchy.load(smk.input.tree)
    class_names = load_names(smk.input.classes)
    if smk.params.supervised:
        names = list(class_names)
    else:
        y_pred = np.argmax(load_logits(smk.input.logits), axis=1)
        names = cluster_names(np.load(smk.input.labels), y_pred, class_names, tree.n_clusters)
    wc = smk.wildcards
    title = f"{wc.method}: {wc.dataset}, {wc.model} on {wc.backbone}, K={wc.k}, seed {wc.seed}"
    plot_dendrogram(tree, names, smk.output[0], title=title)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
