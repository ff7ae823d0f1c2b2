"""Rule ``plot_dendrogram``: the top of one tree, leaves named by their majority class."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.hierarchy import Hierarchy
from l2h.io import load_logits, load_names
from l2h.metrics import cluster_names
from l2h.plots import plot_dendrogram, plot_dendrogram_top

#: Trees with more leaves are drawn from their top merges only, to stay readable.
MAX_LEAVES = 40


def main(smk: Any, log: logging.Logger) -> None:
    """Draw ``input.tree`` into ``output[0]``: whole, or its top 30 merges for large K."""
    tree = Hierarchy.load(smk.input.tree)
    class_names = load_names(smk.input.classes)
    y_true = np.load(smk.input.labels)
    y_pred = np.argmax(load_logits(smk.input.logits), axis=1)
    wc = smk.wildcards
    title = f"{wc.method}, {wc.dataset}\n{wc.model} on {wc.backbone}, K={wc.k}, seed {wc.seed}"
    if tree.n_clusters > MAX_LEAVES:
        plot_dendrogram_top(
            tree,
            smk.output[0],
            y_true=y_true,
            y_pred=y_pred,
            class_names=class_names,
            title=title,
            note=smk.params.note,
        )
        return
    names = cluster_names(
        y_true, y_pred, class_names, tree.n_clusters, clusters_are_classes=smk.params.supervised
    )
    plot_dendrogram(tree, names, smk.output[0], title=title, note=smk.params.note)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
