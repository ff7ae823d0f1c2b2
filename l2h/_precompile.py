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
    """Whether numba's cache holds the step kernels for logits of this dtype.

    Reads the cache indexes of :func:`l2h._steps.run_step` and
    :func:`l2h._steps.reassign_rows` (an index of a stale source counts as empty); any
    failure counts as cached, so that no child is started needlessly.
    """
    from l2h import _steps

    name = np.dtype(dtype).name
    try:
        for kernel in (_steps.run_step, _steps.reassign_rows):
            index = kernel._cache._cache_file._load_index()
            if not any(key[0][0].dtype.name == name for key in index):
                return False
        return True
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


def _tiny_merger(dtype) -> tuple:
    """A tiny problem of logits of ``dtype``, with a merger over it that runs every step
    in the threaded form (planned, :func:`l2h._steps.reassign_rows` called from Python,
    finished), so that each entry kernel is called with a real fit's argument types."""
    from l2h import _small
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
    merger.parallel_above = -1  # every multi-cluster step takes the threaded form
    merger.score[:k] = 1.0
    return merger, k


def compile_steps(dtype: str) -> None:
    """Call the step kernels once on a tiny problem, so that numba compiles them (and the
    kernels they call) for logits of ``dtype`` and writes them to its cache: the child's
    work."""
    merger, k = _tiny_merger(np.dtype(dtype))
    mtg = merger.step(0, k)  # a single-cluster step (run_step)
    merger.step(k, k + 1)  # a two-cluster one: run_step, reassign_rows, run_step
    assert mtg >= 0


def compile_all(dtypes=("float32", "float64")) -> str:
    """Compile every kernel that :func:`l2h.fit` calls for logits of these dtypes into
    numba's cache (or load them from it): what ``l2h precompile`` and ``make install`` run.

    The pass kernels are compiled by a pass over tiny logits, the step kernels by
    :func:`compile_steps`, :func:`l2h._steps.group_rows` by grouping their rows. Returns
    the cache's folder (numba's choice: next to the package's source when it is writable,
    else a per-user folder; ``NUMBA_CACHE_DIR`` overrides both).
    """
    from l2h import _steps
    from l2h.algorithm import _read_only, summarise

    for dtype in dtypes:
        x = _read_only(np.random.default_rng(0).standard_normal((64, 16)).astype(dtype))
        summary = summarise(x)
        _steps.group_rows(summary.assign, summary.conf, summary.target, summary.prob, 16)
        compile_steps(np.dtype(dtype).name)
    return str(_steps.run_step._cache._cache_path)
