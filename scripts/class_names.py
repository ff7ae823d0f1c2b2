"""Rule ``class_names``: one class name per line, indexed by label."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable

from l2h.io import atomic_write_text, load_names


def main(smk: Any, log: logging.Logger) -> None:
    """Registered datasets name their classes; bring-your-own entries give a file or none."""
    settings = smk.params.settings
    if smk.params.byo:
        if settings.get("class_names"):
            names = load_names(settings["class_names"])
        else:
            import numpy as np

            n = max(int(np.load(path).max()) for path in settings["labels"].values()) + 1
            names = [str(c) for c in range(n)]
    else:
        from l2h.datasets import load_dataset

        root = settings.get("root") or smk.params.data_root
        names = list(load_dataset(smk.wildcards.dataset, "test", root=root).class_names)
    log.info("%d classes", len(names))
    atomic_write_text(smk.output[0], "".join(f"{name}\n" for name in names))


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
