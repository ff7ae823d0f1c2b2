"""Rule ``fit_l2h``: the L2H tree of one model's logits, as JSON and as Newick."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

import l2h
from l2h.io import atomic_write_text, load_logits, load_names
from l2h.metrics import cluster_names


def main(smk: Any, log: logging.Logger) -> None:
    """Fit L2H with ``wildcards.aggregation``; name the Newick leaves by majority class."""
    logits = load_logits(smk.input.logits)
    tree = l2h.fit(logits, aggregation=smk.wildcards.aggregation, n_jobs=smk.threads)
    log.info("%r: steps %s", tree, tree.steps)
    supervised = smk.wildcards.model == "supervised"  # the leaves are the classifier's classes
    names = cluster_names(
        np.load(smk.input.labels),
        np.argmax(logits, axis=1),
        load_names(smk.input.classes),
        tree.n_clusters,
        clusters_are_classes=supervised,
    )
    tree.save(smk.output.tree)
    atomic_write_text(smk.output.newick, tree.to_newick(names) + "\n")


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
