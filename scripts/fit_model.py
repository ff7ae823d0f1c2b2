"""Rule ``fit_model``: train a flat clustering model on the train split; write its logits."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.io import atomic_save_npy
from l2h.models import model_info


def main(smk: Any, log: logging.Logger) -> None:
    """Fit ``wildcards.model`` (K = ``wildcards.k``, ``wildcards.seed``) on ``input.train``."""
    train = [np.load(path, mmap_mode="r") for path in smk.input.train]
    test = [np.load(path, mmap_mode="r") for path in smk.input.test]
    info = model_info(smk.wildcards.model)
    hparams = dict(smk.params.hparams)
    if info.uses_gpu:  # the study's device, unless the model's settings name one
        hparams.setdefault("device", _script_utils.torch_device(smk))
    model_cls = info.load()
    model = model_cls(n_clusters=int(smk.wildcards.k), seed=int(smk.wildcards.seed), **hparams)
    log.info("fitting %r on spaces %s", model, [s.shape for s in train])
    model.fit(train, progress=True, log_file=smk.log[0] + ".train")
    model.save(smk.output.model)
    for split, spaces in (("train", train), ("test", test)):
        logits = model.logits(spaces)
        sizes = np.bincount(logits.argmax(axis=1), minlength=logits.shape[1])
        log.info("%s cluster sizes: %s (%d empty)", split, sizes.tolist(), int(np.sum(sizes == 0)))
        atomic_save_npy(smk.output[split], logits)


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
