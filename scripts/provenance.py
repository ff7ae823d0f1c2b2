"""Rule ``provenance``: git commit, package versions and config hash of the study's results."""

import logging
from typing import Any

import _script_utils  # first: makes this workflow's ``l2h`` importable

from l2h.provenance import write_provenance


def main(smk: Any, log: logging.Logger) -> None:
    """Write ``output[0]`` (JSON) for the validated config and the code versions of this run."""
    write_provenance(
        smk.output[0],
        dict(smk.params.config),
        repo_dir=_script_utils.WORKFLOW_ROOT,
        code=dict(smk.params.code_versions),
    )


if __name__ == "__main__":
    with _script_utils.logged(snakemake) as logger:  # noqa: F821 (injected by Snakemake)
        main(snakemake, logger)  # noqa: F821
