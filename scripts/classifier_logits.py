"""Rule ``classifier_logits``: a pretrained ImageNet classifier's logits (supervised setting)."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.datasets import load_dataset
from l2h.embed import extract
from l2h.io import atomic_save_npy


def main(smk: Any, log: logging.Logger) -> None:
    """Run ``wildcards.backbone`` (the classifier) on the split's rows; write its logits."""
    settings = smk.params.settings
    root = settings.get("root") or smk.params.data_root
    dataset = load_dataset(smk.wildcards.dataset, smk.wildcards.split, root=root)
    logits = extract(
        dataset,
        smk.wildcards.backbone,
        indices=np.load(smk.input.indices),
        output="logits",
        batch_size=settings.get("batch_size", 256),
        device=_script_utils.torch_device(smk),
        num_workers=max(0, smk.threads - 1),
        stand_in=smk.params.stand_in,
    )
    if logits.shape[1] != int(smk.wildcards.k):
        raise ValueError(
            f"{smk.wildcards.backbone} gives {logits.shape[1]} logits, expected {smk.wildcards.k}"
        )
    atomic_save_npy(smk.output[0], logits.astype(np.float32))


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
