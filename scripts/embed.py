"""Rule ``embed``: the (N, d) embeddings of one split of a dataset through one backbone."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable
import numpy as np

from l2h.backbones import backbone_info
from l2h.embed import extract_to_file


def main(smk: Any, log: logging.Logger) -> None:
    """Extract the rows in ``input.indices``; write ``output.features`` and its metadata."""
    settings = smk.params.settings
    indices = np.load(smk.input.indices)
    log.info(
        "%s/%s through %s: %d images",
        smk.wildcards.dataset,
        smk.wildcards.split,
        smk.wildcards.space,
        len(indices),
    )
    extract_to_file(
        smk.wildcards.dataset,
        smk.wildcards.split,
        smk.wildcards.space,
        smk.output.features,
        root=settings.get("root") or smk.params.data_root,
        indices=indices,
        batch_size=settings.get("batch_size", 256),
        # a backbone without an input size (raw pixels) keeps the images' own
        image_size=settings.get("image_size")
        if backbone_info(smk.wildcards.space).image_size
        else None,
        device=_script_utils.torch_device(smk),
        num_workers=max(0, smk.threads - 1),
        progress=True,
        stand_in=smk.params.stand_in,
    )


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
