"""L2H (Logits to Hierarchies), Algorithm 1 of Palumbo et al. (ICML 2025).

The public entry point is :func:`fit`. It returns the same merge steps as the paper's Python
listing (Figure 4), decision for decision and with the same tie-breaking, but reads the logits
once and re-softmaxes only the rows of the group being merged, using a compact summary of each
row instead of the whole row.

Inputs of at most ``_NUMPY_ELEMENTS`` logits (and ``_NUMPY_CLUSTERS`` clusters) run the
listing's arithmetic in plain NumPy (:mod:`l2h._small`): in a fresh process that finishes
before numba would even have loaded the kernels below. Larger inputs:

How it works
------------
1. One pass over the logits, in row chunks on a thread pool: for each row, its maximum, the
   softmax denominator, the confidence (largest probability) and assignment (first argmax),
   a *top set* of its largest exponentials with their columns (every other entry is
   smaller), and the sum of the other exponentials (the *tail*). Float64 logits use
   NumPy's ``exp`` and summation order, so confidences are :func:`scipy.special.softmax`'s
   to the bit; float32 logits (and float16, read as float32) go through one fused kernel
   that picks the top set by logit and adds float32-accurate exponentials in float64.
2. Per-cluster statistics of the confidences (sums and means computed like ``np.sum`` and
   ``np.mean`` on the cluster's points in row order) give every group's score; scores of
   untouched groups never change, so a step only scores the one new group.
3. A step re-softmaxes only the rows assigned to the lowest-score group. Their masked argmax
   is the best top entry outside the group, and the masked denominator is the unmasked top
   entries plus the unmasked part of the tail: the tail minus the row's sum over the group's
   columns outside its top set. That sum is kept per row and only grows (a row's group only
   grows), so each column of a row is read from the logits at most once over the whole run.
   A step gathers the new columns of its rows (in memory order for large steps, with the
   next rows prefetched) and shares large steps out between threads; the bookkeeping of a
   step (its rows, the group values, the merge) is one numba call.
   The top entries, which hold the row's own cluster, are added directly; the one difference
   taken (tail minus inside) is of entries no larger than the smallest top entry, which is at
   most the denominator, so its rounding error stays within about K ulps of the denominator.
   Rows whose top entries are all in the group are recomputed from their logits.

With the additive aggregations a merged group's score is at least twice the lowest score, so a
row is re-softmaxed a few times (logarithmic in the range of the scores), not ``K`` times.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from l2h import _precompile, _small
from l2h.hierarchy import Hierarchy


class _Lazy:
    """A module imported on first use: the numba kernels load only when a fit needs them."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        module: ModuleType = importlib.import_module(self._name)
        return getattr(module, attr)


_kernels = _Lazy("l2h._kernels")
_steps = _Lazy("l2h._steps")

__all__ = ["AGGREGATIONS", "EmptyClusterWarning", "fit"]

AGGREGATIONS: tuple[str, ...] = ("cluster_mean", "point_sum", "point_mean")

Aggregation = str | Callable[[Sequence[np.ndarray]], float]

_TOP = 8  # entries kept per row (the float32 pass could keep more; that measured slower)
_FUSED_CHUNK_ELEMENTS = 1 << 20  # float32 logits per chunk of the fused pass
_CHUNK_ELEMENTS = 1 << 17  # float64 elements per chunk buffer (1 MiB)
_SINGLE_CLUSTER_SHORTCUT = True  # steps of a single-cluster group use precomputed moves
_PARALLEL_ELEMENTS = 65_536  # steps with more work than this are shared between threads
_SORT_ROWS = 512  # a step with more rows handles them in memory order
# Inputs with at most this many logits, and at most this many clusters, take the NumPy path
# (l2h._small): in a fresh process it finishes before the numba kernels would have loaded.
# Measured with `benchmarks/bench_l2h.py --crossover` (see README, "Speed").
_NUMPY_ELEMENTS = 10_000_000
_NUMPY_CLUSTERS = 1000


class EmptyClusterWarning(UserWarning):
    """Some clusters have no point assigned to them."""


@dataclass
class RowSummary:
    """What the first pass keeps of each row (see the module docstring)."""

    row_max: np.ndarray  # (N,) float64
    conf: np.ndarray  # (N,) float64, largest softmax probability
    assign: np.ndarray  # (N,) int64, first argmax of the softmax
    top_idx: np.ndarray  # (N, m) int32, -1 where K < m
    top_e: np.ndarray  # (N, m) float64, exp(x - row_max) of those columns
    tail: np.ndarray  # (N,) float64, sum of exp(x - row_max) over the other columns
    bad_rows: np.ndarray  # (N,) bool, row has NaN or infinite values
    target: np.ndarray  # (N,) int64, argmax of the softmax without the row's own cluster
    prob: np.ndarray  # (N,) float64, and its probability (the row's singleton move)


def fit(
    logits,
    aggregation: Aggregation = "cluster_mean",
    *,
    n_jobs: int | None = None,
    progress: bool = False,
) -> Hierarchy:
    """Build the L2H hierarchy over the K clusters of a flat model from its logits.

    The semantics are those of the paper's listing:

    * The softmax of each row gives a point's *assignment* (first argmax) and *confidence*
      (largest probability). Both are computed once; assignments never change.
    * Groups start as the singletons ``(0,), (1,), ..., (K-1,)``, in this order. Each of the
      ``K - 1`` steps then

      1. scores every current group with the aggregation (see below);
      2. takes the lowest-score group ``lsg`` (the first in group order on ties);
      3. re-softmaxes the points assigned to ``lsg`` over the clusters *outside* ``lsg`` only,
         keeping each point's new argmax cluster and its probability;
      4. gives every other group the mean, over its clusters, of the probability mass that
         landed on each cluster, and takes the highest, ``mtg`` (the first on ties);
      5. records ``(lsg, mtg)``, removes both from the group list and appends ``lsg + mtg``
         (``lsg``'s clusters first) at the end.

    Parameters
    ----------
    logits : array-like of shape (N, K)
        Logits of N points for K clusters: float16, float32 or float64 (integers are
        converted to float64). A C-ordered memory-mapped array (``np.load(path,
        mmap_mode="r")``) in native byte order is read in chunks and never copied whole.
        Otherwise the logits are copied once, in their own precision (float16 as float32):
        Fortran-ordered or strided arrays, and non-native byte order.
    aggregation : {"cluster_mean", "point_sum", "point_mean"} or callable
        How a group's score is computed from the confidences of its points:

        * ``"cluster_mean"`` (the paper's v2 default): sum, over the group's clusters, of the
          mean confidence of the points assigned to that cluster. Independent of cluster sizes.
        * ``"point_sum"`` (the v1 default, Λ = Σ): sum of the confidences of all the group's
          points. Grows with the number of points.
        * ``"point_mean"``: mean confidence over all the group's points.
        * a callable ``f(confidences) -> float`` receiving one read-only array per cluster of
          the group (in group order) with the confidences of the points assigned to it.

        A cluster without points contributes 0, and a group without points scores 0.
    n_jobs : int, optional
        Threads for the pass over the logits and for large steps. Defaults to the CPUs
        available to the process.
    progress : bool, default False
        Show progress bars and timings on stderr.

    Returns
    -------
    Hierarchy
        ``steps`` holds the ``K - 1`` pairs ``(lsg, mtg)`` of cluster-id tuples. ``K = 1``
        gives a hierarchy without steps.

    Raises
    ------
    ValueError
        If the logits are not a non-empty 2-D numeric array or contain NaN or infinite values,
        or the aggregation is unknown or returns a non-finite score.

    Warns
    -----
    EmptyClusterWarning
        When clusters have no assigned point. They score 0, so they are merged first, into
        the first other group in group order when no point moves.

    Notes
    -----
    Precision, per dtype (the listing's own precision on the same dtype, or better):

    * float64: confidences and assignments are :func:`scipy.special.softmax`'s, bit for bit.
    * float32 (and float16, read as float32): the listing keeps float32 (SciPy's softmax
      does), so it rounds ``x - max`` to float32 and uses NumPy's float32 ``exp`` (up to 3
      ulp off). Here each exponential is that of the exact difference, within 1 ulp of the
      correctly rounded float32 value, and sums are float64: confidences agree with SciPy's
      softmax of the float64 values to about 3e-8 (relative). Inputs small enough for the
      NumPy path are computed in float64 from their exact values (SciPy's bits).

    Quantities are computed as the listing does wherever exact ties can arise, so exact ties
    resolve to the first candidate as there; other quantities can differ from it in the
    last bits, which changes a decision only when two candidates are within rounding error
    (float64) or float32 precision (float32) of each other.
    """
    score_fn = _score_function(aggregation)
    x = _validated(logits)
    n_jobs = _n_jobs(n_jobs)
    started = time.perf_counter()
    path = _steps_in_numpy if uses_numpy_path(x.shape) else _steps_compiled
    steps = path(x, score_fn, n_jobs=n_jobs, progress=progress, started=started)
    if progress:
        _log(f"{len(steps)} merges", started)
    name = aggregation if isinstance(aggregation, str) else getattr(aggregation, "__name__", None)
    return Hierarchy(x.shape[1], steps, aggregation=name)


def uses_numpy_path(shape: tuple[int, int]) -> bool:
    """Whether :func:`fit` computes logits of this shape in NumPy rather than numba kernels."""
    n, k = shape
    return n * k <= _NUMPY_ELEMENTS and k <= _NUMPY_CLUSTERS


def _steps_in_numpy(x, score_fn, *, n_jobs: int, progress: bool, started: float) -> list:
    """The steps on the NumPy path (:mod:`l2h._small`; one thread)."""
    conf, assign, bad_rows = _small.summarise(x)
    _check_finite(bad_rows)
    if progress:
        _log(f"softmax pass over {x.shape[0]}x{x.shape[1]} logits", started)
    return _merge_numpy(x, assign, conf, score_fn, progress=progress)


def _steps_compiled(x, score_fn, *, n_jobs: int, progress: bool, started: float) -> list:
    """The steps with the numba kernels (loaded, or compiled on a cold cache, on first use)."""
    x = _read_only(x)  # one type for the kernels, whatever the input's flags
    compiling = _precompile.start(x.dtype)  # a cold kernel cache only
    try:
        summary = summarise(x, n_jobs=n_jobs, progress=progress)
        _check_finite(summary.bad_rows)
    except BaseException:
        _precompile.stop(compiling)
        raise
    if progress:
        _log(f"softmax pass over {x.shape[0]}x{x.shape[1]} logits", started)
    return _merge(x, summary, score_fn, n_jobs=n_jobs, progress=progress, child=compiling)


def _check_finite(bad_rows: np.ndarray) -> None:
    n_bad = int(np.count_nonzero(bad_rows))
    if n_bad:
        first = int(np.flatnonzero(bad_rows)[0])
        raise ValueError(
            f"logits contain NaN or infinite values in {n_bad} of {len(bad_rows)} rows "
            f"(first at row {first})"
        )


# ----------------------------------------------------------------------------- validation


def _validated(logits) -> np.ndarray:
    """Check shape and dtype; return an array the kernels can read (no copy if possible)."""
    if hasattr(logits, "detach") and hasattr(logits, "cpu"):  # a torch tensor
        logits = logits.detach().cpu().numpy()
    x = np.asarray(logits)
    if x.ndim != 2:
        raise ValueError(f"logits must be a 2-D array (N, K), got {x.ndim} dimension(s)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"logits must have at least one row and one column, got shape {x.shape}")
    if x.dtype.kind in "iu":
        x = x.astype(np.float64)
    elif x.dtype.kind != "f" or x.dtype.itemsize > 8:
        raise ValueError(f"logits must be float16, float32 or float64, got dtype {x.dtype}")
    elif x.dtype.itemsize == 2:
        x = x.astype(np.float32)
    if not x.dtype.isnative:  # e.g. a .npy file written on a big-endian machine
        x = x.astype(x.dtype.newbyteorder("="))
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    return x


def _read_only(x: np.ndarray) -> np.ndarray:
    """A read-only view of ``x``: the kernels then see one array type (numba compiles a
    kernel once per argument type: writable and read-only arrays would double that)."""
    view = x.view()
    view.flags.writeable = False
    return view


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not on Linux
            return max(1, os.cpu_count() or 1)
    integer = isinstance(n_jobs, int | np.integer) and not isinstance(n_jobs, bool | np.bool_)
    if not integer or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    return int(n_jobs)


# ----------------------------------------------------------------------------- first pass


def summarise(x: np.ndarray, *, n_jobs: int = 1, progress: bool = False) -> RowSummary:
    """One chunked pass over the logits: the per-row summary that the merges need.

    Float64 logits go through NumPy's ``exp`` and NumPy's summation order, so confidences
    are bit for bit SciPy's. Float32 logits are read by one fused kernel per chunk
    (:func:`l2h._kernels.summarise_rows_float32`): float32-accurate exponentials added in
    float64, and the top list a *set* (unordered) of the entries with the 8 largest logits.
    """
    n, k = x.shape
    if x.dtype == np.float32:
        return _summarise_float32(x, n_jobs=n_jobs, progress=progress)
    m = min(_TOP, k)
    out = _empty_summary(n, m)
    rows = max(1, _CHUNK_ELEMENTS // k)
    bounds = [(lo, min(lo + rows, n)) for lo in range(0, n, rows)]
    local = threading.local()

    def work(bound: tuple[int, int]) -> int:
        if not hasattr(local, "buf"):
            local.buf = np.empty((rows, k), np.float64)
        _summarise_chunk(x, bound, local.buf, out)
        return bound[1] - bound[0]

    _run_chunks(work, bounds, n_jobs=n_jobs, progress=progress)
    return out


def _run_chunks(work, bounds: list, *, n_jobs: int, progress: bool) -> None:
    """Run ``work(bound)`` (which returns its row count) over the chunks, on a thread pool."""
    bar = _progress_bar(progress, total=bounds[-1][1], desc="softmax pass", unit="rows")
    if n_jobs == 1 or len(bounds) == 1:
        for bound in bounds:
            bar.update(work(bound))
    else:
        with ThreadPoolExecutor(n_jobs) as pool:
            for done in pool.map(work, bounds):
                bar.update(done)
    bar.close()


def _empty_summary(n: int, m: int) -> RowSummary:
    return RowSummary(
        row_max=np.empty(n, np.float64),
        conf=np.empty(n, np.float64),
        assign=np.empty(n, np.int64),
        top_idx=_aligned((n, m), np.int32),
        top_e=_aligned((n, m), np.float64),
        tail=np.empty(n, np.float64),
        bad_rows=np.empty(n, np.bool_),
        target=np.empty(n, np.int64),
        prob=np.empty(n, np.float64),
    )


def _aligned(shape: tuple[int, int], dtype) -> np.ndarray:
    """An uninitialised C-ordered array starting on a 64-byte cache line.

    A merge step reads the rows of these arrays at random: rows of 32 or 64 bytes then lie
    on one cache line each instead of straddling two.
    """
    dtype = np.dtype(dtype)
    nbytes = shape[0] * shape[1] * dtype.itemsize
    raw = np.empty(nbytes + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start : start + nbytes].view(dtype).reshape(shape)


def _summarise_float32(x: np.ndarray, *, n_jobs: int, progress: bool) -> RowSummary:
    n, k = x.shape
    out = _empty_summary(n, min(_TOP, k))
    rows = max(1, _FUSED_CHUNK_ELEMENTS // k)
    bounds = [(lo, min(lo + rows, n)) for lo in range(0, n, rows)]

    def work(bound: tuple[int, int]) -> int:
        lo, hi = bound
        _kernels.summarise_rows_float32(
            x, lo, hi, out.row_max, out.bad_rows, out.conf, out.top_idx, out.top_e, out.tail,
            out.assign, out.target, out.prob,
        )  # fmt: skip
        return hi - lo

    _run_chunks(work, bounds, n_jobs=n_jobs, progress=progress)
    return out


def _summarise_chunk(x: np.ndarray, bound: tuple[int, int], buf: np.ndarray, out: RowSummary):
    lo, hi = bound
    e = buf[: hi - lo]
    _kernels.prepare_rows(x, lo, hi, e, out.row_max, out.bad_rows)
    with np.errstate(invalid="ignore", over="ignore"):
        np.exp(e, out=e)
    _kernels.summarise_rows(
        x, e, lo, out.conf, out.top_idx, out.top_e, out.tail, out.assign, out.target, out.prob
    )


# ----------------------------------------------------------------------------- scores


class _ClusterStats:
    """Confidences grouped by cluster: row order, per-cluster slices, means and sums."""

    def __init__(self, order, counts, offsets, sorted_conf):
        """From the rows in cluster order (:func:`l2h._small.cluster_order`)."""
        # np.mean / np.sum of each cluster's confidences in row order, as the listing does.
        sums, means = _small.cluster_sums(sorted_conf, counts, offsets)
        self.order, self.counts, self.offsets = order, counts, offsets
        self.sorted_conf = sorted_conf
        self.sorted_conf.flags.writeable = False  # callables get views: keep them read-only
        self.means = means.tolist()
        self.sums = sums.tolist()

    def members(self, c: int) -> np.ndarray:
        return self.sorted_conf[self.offsets[c] : self.offsets[c + 1]]


def _score_function(aggregation: Aggregation) -> Callable[[_ClusterStats, tuple], float]:
    if callable(aggregation):
        return lambda stats, group: _checked(aggregation([stats.members(c) for c in group]))
    if aggregation == "cluster_mean":
        return lambda stats, group: sum([stats.means[c] for c in group])
    if aggregation == "point_sum":
        return lambda stats, group: sum([stats.sums[c] for c in group])
    if aggregation == "point_mean":
        return _point_mean
    raise ValueError(
        f"unknown aggregation {aggregation!r}: use one of {', '.join(AGGREGATIONS)} or a callable"
    )


def _point_mean(stats: _ClusterStats, group: tuple) -> float:
    count = sum(int(stats.counts[c]) for c in group)
    return sum([stats.sums[c] for c in group]) / count if count else 0.0


def _checked(score) -> float:
    try:
        value = float(score)
    except (TypeError, ValueError):
        raise ValueError(f"the aggregation must return a number, got {score!r}") from None
    if not np.isfinite(value):
        raise ValueError(f"the aggregation returned a non-finite score ({value})")
    return value


# ----------------------------------------------------------------------------- merges


def _warn_empty(counts: np.ndarray) -> None:
    k = len(counts)
    n_empty = int(np.count_nonzero(counts == 0))
    if n_empty and k > 1:
        warnings.warn(
            f"{n_empty} of {k} clusters have no assigned point; they score 0 and merge first",
            EmptyClusterWarning,
            stacklevel=4,
        )


def _merge_numpy(x, assign, conf, score_fn, *, progress: bool) -> list:
    """The merges of the NumPy path (:mod:`l2h._small`)."""
    k = x.shape[1]
    stats = _ClusterStats(*_small.cluster_order(assign, conf, k))
    _warn_empty(stats.counts)
    bar = _progress_bar(progress, total=k - 1, desc="merges", unit="steps")
    try:
        return _small.merge(
            x,
            assign,
            [score_fn(stats, (c,)) for c in range(k)],
            lambda group: score_fn(stats, group),
            on_step=lambda: bar.update(1),
        )
    finally:
        bar.close()


def _merge(x, summary: RowSummary, score_fn, *, n_jobs: int, progress: bool, child=None) -> list:
    """Run the K - 1 merge steps; return the list of (lsg, mtg) pairs.

    ``child``: a process compiling the step kernels (:mod:`l2h._precompile`), awaited before
    the first step.
    """
    k = x.shape[1]
    grouped = _steps.group_rows(summary.assign, summary.conf, summary.target, summary.prob, k)
    stats = _ClusterStats(*grouped[:4])
    _warn_empty(stats.counts)
    members: list[tuple[int, ...]] = [(c,) for c in range(k)]
    steps = []
    bar = _progress_bar(progress, total=k - 1, desc="merges", unit="steps")
    pool = ThreadPoolExecutor(n_jobs) if n_jobs > 1 else None
    merger = _Merger(x, summary, stats, grouped[4:], pool, n_jobs)
    merger.score[:k] = [score_fn(stats, g) for g in members]
    _precompile.wait(child)
    try:
        for step in range(k - 1):
            lsg = int(np.argmin(merger.score))  # dead nodes hold +inf: first minimum = first
            new = k + step
            mtg = merger.last_step(lsg, new) if step == k - 2 else merger.step(lsg, new)
            members.append(members[lsg] + members[mtg])
            steps.append((members[lsg], members[mtg]))
            merger.score[new] = score_fn(stats, members[new])
            bar.update(1)
    finally:
        if pool is not None:
            pool.shutdown()
        bar.close()
    return steps


class _Merger:
    """The groups and the per-row state of the merges (see :mod:`l2h._steps`).

    ``state[i]`` holds row i's maximum, tail and in-group sum (one cache line), the last being
    the sum of exp(x - max) over the columns of row i's group at its last re-assignment that
    are not in its top list;
    ``covered[c]`` is that group (a node id, -1 before the first). Rows of one cluster always
    share their group, so a step only reads the columns its group gained since then.
    """

    def __init__(self, x, summary: RowSummary, stats: _ClusterStats, single, pool, n_jobs: int):
        n, k = x.shape
        n_nodes = 2 * k - 1
        self.x, self.stats, self.pool, self.n_jobs = x, stats, pool, n_jobs
        # steps with more work than this share their rows between threads
        self.parallel_above = _PARALLEL_ELEMENTS if pool is not None else np.iinfo(np.int64).max
        self.single = single  # each cluster's singleton masses (see _steps.group_rows)
        # per row: maximum, tail, in-group sum (see _steps._ROW_MAX...), 32 bytes
        self.state = _aligned((n, 4), np.float64)
        self.state[:, 2:] = 0.0
        self.state[:, 0] = summary.row_max
        self.state[:, 1] = summary.tail
        self.top_idx = summary.top_idx
        self.top_e = summary.top_e
        self.covered = np.full(k, -1, np.int64)
        self.score = np.full(n_nodes, np.inf)
        self.size = np.ones(n_nodes, np.int64)
        self.node_of = np.arange(k, dtype=np.int64)
        self.head = np.arange(n_nodes, dtype=np.int64)
        self.last = np.arange(n_nodes, dtype=np.int64)
        self.nxt = np.full(k, -1, np.int64)
        self.slot_of = np.full(n_nodes + 1, -1, np.int64)
        self.seen = np.zeros(k, np.bool_)
        self.marks = np.zeros((n + 63) // 64, np.uint64)  # a bit a row (see _sort_items)
        self.seg_of = np.empty(n, np.int64)
        self.in_group = np.zeros(k, np.bool_)
        self.clusters = np.empty(k, np.int64)
        self.rows = np.empty(n, np.int64)
        self.seg = np.empty(n, np.int64)
        self.target = np.empty(n, np.int64)
        self.prob = np.empty(n, np.float64)
        self.mass = np.zeros(k, np.float64)
        self.node_sum = np.zeros(n_nodes, np.float64)
        self.touched = np.empty(k, np.int64)
        # per thread: is_top (all False between rows), column indices, gathered logits
        self.scratch = [
            (np.zeros(k, np.bool_), np.empty(k, np.int64), np.empty(k, x.dtype))
            for _ in range(n_jobs)
        ]

    def step(self, lsg: int, new: int) -> int:
        """Re-assign the rows of ``lsg``, merge it with the group most of them go to."""
        parallel_above = self.parallel_above
        mtg, n, spans, cols = self._run(_steps.STEP, lsg, new, 0, parallel_above)
        if mtg >= 0:
            return mtg

        def work(share: int, bounds: tuple[int, int]) -> None:
            _steps.reassign_rows(
                self.x, bounds[0], bounds[1], self.rows, self.seg, spans, cols, self.state,
                self.top_idx, self.top_e, self.in_group, self.target, self.prob,
                *self.scratch[share],
            )  # fmt: skip

        shares = self._shares(n, spans)
        others = [self.pool.submit(work, i, b) for i, b in enumerate(shares) if i]
        work(0, shares[0])  # the calling thread takes the first share itself
        for future in others:
            future.result()
        return self._run(_steps.FINISH, lsg, new, n, parallel_above)[0]

    def _run(self, phase: int, lsg: int, new: int, n: int, parallel_above: int) -> tuple:
        st = self.stats
        return _steps.run_step(
            self.x, phase, lsg, new, n, parallel_above, _SORT_ROWS, _SINGLE_CLUSTER_SHORTCUT,
            self.head, self.last, self.nxt, self.size, self.node_of, self.score, st.counts,
            st.offsets, st.order, self.covered, self.slot_of, self.seen, self.marks,
            self.seg_of, self.clusters, self.rows, self.seg, self.in_group, self.state,
            self.top_idx, self.top_e, self.target, self.prob, *self.scratch[0], self.mass,
            self.node_sum, self.touched, *self.single,
        )  # fmt: skip

    def last_step(self, lsg: int, new: int) -> int:
        """Two groups left: the other one is the only candidate (no state is read after)."""
        alive = np.flatnonzero(np.isfinite(self.score))
        mtg = int(alive[alive != lsg][0])
        self.score[lsg] = self.score[mtg] = np.inf
        return mtg

    def _shares(self, n: int, spans: np.ndarray) -> list[tuple[int, int]]:
        """Cut items ``0..n`` into ``n_jobs`` runs of about equal gather volume."""
        volume = (spans[:, 1] - spans[:, 0])[self.seg[:n]]
        cum = np.cumsum(volume)
        cuts = np.searchsorted(cum, cum[-1] * np.arange(1, self.n_jobs) / self.n_jobs)
        edges = np.unique(np.concatenate([[0], np.clip(cuts, 0, n), [n]]))
        return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


# ----------------------------------------------------------------------------- progress


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(enabled: bool, **kwargs):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(file=sys.stderr, leave=False, **kwargs)


def _log(what: str, started: float) -> None:
    print(f"l2h: {what} done after {time.perf_counter() - started:.2f} s", file=sys.stderr)
