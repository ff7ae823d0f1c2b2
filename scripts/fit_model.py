"""Rule ``fit_model``: train a flat clustering model and write it with its (N, K) logits."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.io import atomic_save_npy
from l2h.models import get_model


def main(smk: Any, log: logging.Logger) -> None:
    """Fit ``wildcards.model`` with K = ``wildcards.k`` and ``wildcards.seed`` on the features."""
    features = np.load(smk.input.features, mmap_mode="r")
    model_cls = get_model(smk.wildcards.model)
    model = model_cls(
        n_clusters=int(smk.wildcards.k), seed=int(smk.wildcards.seed), **smk.params.hparams
    )
    log.info("fitting %r on features %s", model, features.shape)
    model.fit([features])
    logits = model.logits([features])
    sizes = np.bincount(logits.argmax(axis=1), minlength=logits.shape[1])
    log.info("cluster sizes: %s (%d empty)", sizes.tolist(), int(np.sum(sizes == 0)))
    model.save(smk.output.model)
    atomic_save_npy(smk.output.logits, logits)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
