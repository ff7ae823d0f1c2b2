"""Rule ``runtime``: wall time and peak memory of every training and tree job (table, figure)."""

import logging
from pathlib import Path
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable

from l2h.plots import plot_runtime
from l2h.runtime import write_runtime


def main(smk: Any, log: logging.Logger) -> None:
    """Write tables/runtime.* and figures/runtime.* from the jobs' benchmark files."""
    stem = Path(smk.output[0]).with_suffix("")
    rows = write_runtime(smk.params.jobs, list(smk.input), stem, note=smk.params.note)
    figures = [path for path in smk.output if "/figures/" in path]
    plot_runtime(rows, figures, note=smk.params.note)
    log.info("%d jobs; wrote %s", len(rows), list(smk.output))


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
