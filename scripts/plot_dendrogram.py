"""Rule ``plot_dendrogram``: two views of one tree (top merges, whole tree in a circle)."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.hierarchy import Hierarchy
from l2h.io import load_logits, load_names
from l2h.plots import plot_dendrogram_radial, plot_dendrogram_top


def main(smk: Any, log: logging.Logger) -> None:
    """Draw ``input.tree`` into ``output.top`` and ``output.radial`` (PNG and PDF each)."""
    tree = Hierarchy.load(smk.input.tree)
    labelled = {
        "y_true": np.load(smk.input.labels),
        "y_pred": np.argmax(load_logits(smk.input.logits), axis=1),
        "class_names": load_names(smk.input.classes),
        # In the supervised setting leaf k is the classifier's class k.
        "leaf_classes": np.arange(tree.n_clusters) if smk.params.supervised else None,
        "title": smk.params.title,
        "note": smk.params.note,
    }
    plot_dendrogram_top(tree, list(smk.output.top), **labelled)
    plot_dendrogram_radial(tree, list(smk.output.radial), **labelled)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
