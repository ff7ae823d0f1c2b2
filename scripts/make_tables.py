"""Rule ``tables``: the paper's tables (CSV, Markdown, LaTeX) from the study's metrics.csv."""

import logging
from pathlib import Path
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable

from l2h.tables import write_tables


def main(smk: Any, log: logging.Logger) -> None:
    """Write every table next to ``output[0]``, the paper's quoted numbers beside ours."""
    out_dir = Path(smk.output[0]).parent
    written = write_tables(smk.input[0], out_dir, note=smk.params.note)
    log.info("wrote %s", written)
    missing = [path for path in smk.output if not Path(path).is_file()]
    if missing:
        raise RuntimeError(f"tables not written: {missing}")


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
