"""Shared glue of the workflow's scripts; every script imports it before ``l2h``.

Importing this module puts the workflow's own source tree first on ``sys.path``, so a rule's
script runs the ``l2h`` package of the same checkout as the ``Snakefile``, whether or not the
package is installed in the job's environment. This is how the per-rule conda environments
get the local package: ``envs/*.yaml`` list only its dependencies, because Snakemake copies
each environment file to ``.snakemake/conda/<hash>.yaml`` and conda resolves a relative
``pip: -e ../`` from that copy's folder, not from the repository.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

WORKFLOW_ROOT = Path(__file__).resolve().parents[1]
"""Root of the checkout holding ``Snakefile``, ``scripts/`` and the ``l2h`` package."""

if str(WORKFLOW_ROOT) not in sys.path:
    sys.path.insert(0, str(WORKFLOW_ROOT))

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def logged(smk: Any) -> Iterator[logging.Logger]:
    """Send logging, warnings, stdout and stderr of the block to the rule's ``log:`` file.

    An exception is written to the log with its traceback, then re-raised (Snakemake prints
    it too and marks the job failed).

    Parameters
    ----------
    smk : snakemake.script.Snakemake
        The ``snakemake`` object of the script; ``smk.log[0]`` is the log file.

    Yields
    ------
    logging.Logger
        A logger named after the rule.
    """
    log_path = Path(smk.log[0])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(_FORMAT))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        logger = logging.getLogger(smk.rule)
        logger.info("wildcards: %s", dict(smk.wildcards.items()))
        logger.info("code sha256: %s", getattr(smk.params, "code", None))
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                yield logger
        except BaseException:
            logger.exception("failed")
            raise
        else:
            logger.info("done")
        finally:
            logging.captureWarnings(False)
            root.removeHandler(handler)


def torch_device(smk: Any) -> str:
    """The torch device of a job (``params.device``), checked against the GPU it was given.

    A job that requested a GPU (resource ``gpu``) and was given one by the scheduler
    (``CUDA_VISIBLE_DEVICES`` names a device, as SLURM sets it) must compute on it: if its
    torch sees no CUDA device, typically a CPU-only build in a conda env created on a machine
    without a GPU, the job stops with one line saying so instead of computing on the CPU.

    Raises
    ------
    SystemExit
        The GPU the job was given is not visible to torch.
    """
    device = smk.params.device
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    if device == "cpu" or not smk.resources.get("gpu", 0) or visible in ("", "-1", "NoDevFiles"):
        return device
    import torch

    if torch.cuda.is_available():
        return device
    if torch.version.cuda is None:
        why = (
            "it is a CPU-only build; create the conda envs with CONDA_OVERRIDE_CUDA set "
            "(docs/workflow.md, section SLURM)"
        )
    else:
        why = f"it is built for CUDA {torch.version.cuda}: check the node's NVIDIA driver"
    raise SystemExit(
        f"l2h: rule {smk.rule}: the job was given GPU {visible} (CUDA_VISIBLE_DEVICES) but "
        f"torch {torch.__version__} sees no CUDA device: {why}"
    )
