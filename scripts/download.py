"""Rule ``download``: fetch and verify a registered dataset once, before any job reads it."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable

from l2h.datasets import load_dataset, release_mismatches
from l2h.io import atomic_write_text


def release_line(dataset: str, root: Any) -> str:
    """Whether the files on disk are byte-identical to the official release (where known)."""
    differ = release_mismatches(dataset, root)
    if differ is None:
        return "release files: no per-file checksums published (layout checked)"
    if not differ:
        return "release files: identical to the official release (per-file MD5)"
    return f"release files: NOT the official release, MD5 differs for {', '.join(differ)}"


def main(smk: Any, log: logging.Logger) -> None:
    """Load both splits (downloading and checking checksums as needed); write the marker."""
    lines = []
    for split in ("train", "test"):
        ds = load_dataset(smk.wildcards.dataset, split, root=smk.params.root)
        lines.append(f"{split}: {len(ds)} images, {ds.n_classes} classes, root {ds.root}")
        log.info(lines[-1])
    lines.append(release_line(smk.wildcards.dataset, smk.params.root))
    log.info(lines[-1])
    atomic_write_text(smk.output[0], "\n".join(lines) + "\n")


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
