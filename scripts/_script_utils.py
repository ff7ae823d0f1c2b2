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
