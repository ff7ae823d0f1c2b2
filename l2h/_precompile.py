"""Compile the merge-step kernels in a second process while this one runs the softmax pass.

Only the first run after installation (or after the kernels' source changed) compiles: numba
then compiles the kernels of the pass and of the merges one after the other (its compiler
lock serialises compilation within a process). The merge steps are not needed before the pass
is done, so when numba's cache lacks them, :func:`start` launches a child process that
compiles them into the cache, and :func:`wait` (called before the first step) lets this
process load them from there. On two idle cores the first run waits about as long as the
longer of the two compilations instead of their sum (the child costs its own start-up and
numba's first-compilation set-up, about 3 s of CPU more in all, so it is started only when a
core is free). Whatever happens to
the child, this process compiles what is still missing itself, so results never depend on
it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from l2h._precompile import compile_steps; compile_steps(sys.argv[2])"
)


def cached(dtype: np.dtype) -> bool:
    """Whether numba's cache holds the step kernel for logits of this dtype.

    Reads the cache index of :func:`l2h._steps.run_step` (an index of a stale source counts
    as empty); any failure counts as cached, so that no child is started needlessly.
    """
    from l2h import _steps

    try:
        index = _steps.run_step._cache._cache_file._load_index()
        return any(key[0][0].dtype.name == np.dtype(dtype).name for key in index)
    except Exception:  # noqa: BLE001 - numba internals: never let this break a fit
        return True


def _idle_core() -> bool:
    """Whether a core is free for the child (the 1-minute load average leaves one): on a busy
    machine a second process only adds its own start-up to the same compilation work."""
    try:
        cores = len(os.sched_getaffinity(0))
        return os.getloadavg()[0] <= cores - 1
    except (AttributeError, OSError):  # pragma: no cover - not on Linux
        return True


def start(dtype: np.dtype) -> subprocess.Popen | None:
    """Start compiling the step kernels for ``dtype`` in a child process, unless they are
    cached or no core is free."""
    if not sys.executable or cached(dtype) or not _idle_core():
        return None
    root = str(Path(__file__).resolve().parents[1])  # the same l2h, whatever sys.path says
    try:
        return subprocess.Popen(
            [sys.executable, "-c", _CHILD, root, np.dtype(dtype).name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None


def wait(child: subprocess.Popen | None, timeout: float = 300.0) -> None:
    """Wait for :func:`start`'s child (if any) to finish writing the kernels to the cache."""
    if child is None:
        return
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def stop(child: subprocess.Popen | None) -> None:
    """End :func:`start`'s child (if any) now, e.g. when the fit failed (numba writes each
    cache file whole, under a temporary name, so stopping it leaves no broken entry)."""
    if child is not None and child.poll() is None:
        child.kill()
        child.wait()


def compile_steps(dtype: str) -> None:
    """The child's work: call the step kernel once on a tiny problem, so numba compiles it
    (and the kernels it calls) for these argument types and writes it to its cache."""
    from l2h import _small, _steps
    from l2h.algorithm import _ClusterStats, _empty_summary, _Merger, _read_only

    n, k = 64, 16
    x = _read_only(np.zeros((n, k), dtype))
    summary = _empty_summary(n, min(8, k))
    summary.row_max[:] = 0.0
    summary.tail[:] = 0.0
    summary.top_idx[:] = np.arange(8, dtype=np.int32)
    summary.top_e[:] = 1.0
    conf, assign, _ = _small.summarise(x)
    stats = _ClusterStats(*_small.cluster_order(assign, conf, k))
    single = (np.zeros(k + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    merger = _Merger(x, summary, stats, single, None, 1)
    merger.score[:k] = 1.0
    merger._run(_steps.STEP, 0, k, 0, 0)  # numba writes the cache as it compiles
