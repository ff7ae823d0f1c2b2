"""Rules ``byo_embeddings`` and ``byo_logits``: a user's array, checked, copied into results/."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.io import atomic_save_npy, load_logits


def main(smk: Any, log: logging.Logger) -> None:
    """Load ``params.source`` (2-D, finite), check K for logits, write ``output[0]`` as float32."""
    array = load_logits(smk.params.source)  # .npy, .npz or .pt, validated as 2-D floats
    if not np.isfinite(array).all():
        raise ValueError(f"{smk.params.source}: holds NaN or infinite values")
    if smk.params.kind == "logits" and array.shape[1] != int(smk.wildcards.k):
        raise ValueError(
            f"{smk.params.source}: {array.shape[1]} columns, but the study's n_clusters is "
            f"{smk.wildcards.k}"
        )
    log.info("%s: %s %s", smk.params.source, array.shape, array.dtype)
    atomic_save_npy(smk.output[0], np.ascontiguousarray(array, dtype=np.float32))


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
