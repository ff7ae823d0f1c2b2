"""Numba kernels of the softmax pass of :mod:`l2h.algorithm` (row-wise work on the logits).

All arithmetic is in float64. Float64 logits: the rows are shifted here, exponentiated by
NumPy, then summarised (:func:`summarise_rows`: NumPy's summation order, the top-8 list,
the sum of the rest), so confidences are SciPy's to the bit. Float32 logits: one fused
kernel per chunk (:func:`summarise_rows_float32`) with the vectorised exp of
:mod:`l2h._vexp`. The merge steps are in :mod:`l2h._steps`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba import types
from numba.extending import overload

from l2h._vexp import exp_diff_float32, prefetch

# Only the kernels called from Python are cached (with their callees linked in): helpers
# compiled on their own and written to the cache would only slow the first run down.
_OPTS = {"nogil": True, "boundscheck": False, "error_model": "numpy"}
_ENTRY = {**_OPTS, "cache": True}

# A row's first unmasked entry smaller than this (relative to the row maximum) is recomputed
# from the logits, shifted by the unmasked maximum, so no precision is lost to underflow.
# Float32 logits: their exponentials are float32 (0 below 1.2e-38), so the bar is higher.
TINY = 1e-200
TINY_FLOAT32 = 2.0**-64


@nb.njit(**_OPTS)
def _lane_max(xi):  # pragma: no cover - compiled
    """Largest value of a row in float64 (eight independent lanes, so the loop pipelines).

    NaN entries are skipped; the caller flags such rows through ``prepare_rows``'s check.
    """
    n = xi.shape[0]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = np.float64(xi[0])
    j = 0
    while j + 8 <= n:
        v0, v1 = np.float64(xi[j]), np.float64(xi[j + 1])
        v2, v3 = np.float64(xi[j + 2]), np.float64(xi[j + 3])
        v4, v5 = np.float64(xi[j + 4]), np.float64(xi[j + 5])
        v6, v7 = np.float64(xi[j + 6]), np.float64(xi[j + 7])
        a0 = v0 if v0 > a0 else a0
        a1 = v1 if v1 > a1 else a1
        a2 = v2 if v2 > a2 else a2
        a3 = v3 if v3 > a3 else a3
        a4 = v4 if v4 > a4 else a4
        a5 = v5 if v5 > a5 else a5
        a6 = v6 if v6 > a6 else a6
        a7 = v7 if v7 > a7 else a7
        j += 8
    while j < n:
        v = np.float64(xi[j])
        a0 = v if v > a0 else a0
        j += 1
    a0 = a1 if a1 > a0 else a0
    a2 = a3 if a3 > a2 else a2
    a4 = a5 if a5 > a4 else a4
    a6 = a7 if a7 > a6 else a6
    a0 = a2 if a2 > a0 else a0
    a4 = a6 if a6 > a4 else a4
    return a4 if a4 > a0 else a0


@nb.njit(**_ENTRY)
def prepare_rows(x, lo, hi, out, row_max, bad):  # pragma: no cover - compiled
    """For rows ``lo <= i < hi``: ``out[i - lo] = x[i] - max(x[i])`` in float64.

    ``row_max[i]`` receives the maximum and ``bad[i]`` whether the row has a NaN or infinite
    value (such rows are rejected by the caller, whatever else is computed for them).
    """
    for r in range(hi - lo):
        xi = x[lo + r]
        o = out[r]
        m = _lane_max(xi)
        ok = True
        for j in range(xi.shape[0]):
            v = np.float64(xi[j])
            o[j] = v - m
            ok &= (v - v) == 0.0
        row_max[lo + r] = m
        bad[lo + r] = not ok


@nb.njit(inline="always", **_OPTS)
def _ranks_before(v, j, value, index):  # pragma: no cover - compiled
    """True when entry (v, j) comes before (value, index): larger value, then smaller index."""
    return v > value or (v == value and j < index)


@nb.njit(inline="always", **_OPTS)
def _offer(ti, te, count, j, v):  # pragma: no cover - compiled
    """Offer (v, j) to a top list holding ``count`` entries; return the new count.

    The list stays sorted by value descending, then index ascending, whatever the order in
    which entries are offered; a full list drops its last entry.
    """
    m = te.shape[0]
    if count == m:
        if not _ranks_before(v, j, te[m - 1], ti[m - 1]):
            return count
        pos = m - 1
    else:
        pos = count
        count += 1
    while pos > 0 and _ranks_before(v, j, te[pos - 1], ti[pos - 1]):
        te[pos] = te[pos - 1]
        ti[pos] = ti[pos - 1]
        pos -= 1
    te[pos] = v
    ti[pos] = j
    return count


_PW_BLOCK = 128  # NumPy's PW_BLOCKSIZE


@nb.njit(**_OPTS)
def _pairwise_block(a, lo, n):  # pragma: no cover - compiled
    """NumPy's sum of a[lo:lo + n] for n <= 128 (eight partial sums, then the rest)."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[lo + i]
        return res
    u = np.uint64(lo)  # unsigned indices: no negative-index wraparound in the hot loop
    one = np.uint64(1)
    r0, r1, r2, r3 = a[u], a[u + one], a[u + np.uint64(2)], a[u + np.uint64(3)]
    r4, r5 = a[u + np.uint64(4)], a[u + np.uint64(5)]
    r6, r7 = a[u + np.uint64(6)], a[u + np.uint64(7)]
    i = np.uint64(8)
    end = np.uint64(n - (n % 8))
    while i < end:
        b = u + i
        r0 += a[b]
        r1 += a[b + np.uint64(1)]
        r2 += a[b + np.uint64(2)]
        r3 += a[b + np.uint64(3)]
        r4 += a[b + np.uint64(4)]
        r5 += a[b + np.uint64(5)]
        r6 += a[b + np.uint64(6)]
        r7 += a[b + np.uint64(7)]
        i += np.uint64(8)
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < np.uint64(n):
        res += a[u + i]
        i += np.uint64(1)
    return res


@nb.njit(**_OPTS)
def pairwise_sum(a, stack, values):  # pragma: no cover - compiled
    """``a.sum()`` exactly as NumPy adds a contiguous float64 row.

    NumPy's pairwise summation: blocks of at most 128 entries are added in eight interleaved
    partial sums, larger ranges are split in two (the first part a multiple of 8 long) and
    the halves' sums added. The softmax denominator must have NumPy's bits for the
    confidences to equal the listing's. The recursion is run on an explicit stack
    (``stack``: int64 (64, 3), ``values``: float64 (64,)), as numba cannot cache recursion.
    """
    n = a.shape[0]
    if n <= _PW_BLOCK:
        return _pairwise_block(a, np.int64(0), n)
    stack[0, 0], stack[0, 1], stack[0, 2] = 0, n, 0  # (start, length, halves done)
    depth = 1
    count = np.int64(0)  # not a literal 0: one specialisation of callees
    while depth:
        lo, m, done = stack[depth - 1, 0], stack[depth - 1, 1], stack[depth - 1, 2]
        if m <= _PW_BLOCK:
            values[count] = _pairwise_block(a, lo, m)
            count += 1
            depth -= 1
            continue
        half = m // 2
        half -= half % 8
        if done == 2:  # both halves summed: combine them
            values[count - 2] = values[count - 2] + values[count - 1]
            count -= 1
            depth -= 1
            continue
        stack[depth - 1, 2] = done + 1
        stack[depth, 0] = lo if done == 0 else lo + half
        stack[depth, 1] = half if done == 0 else m - half
        stack[depth, 2] = 0
        depth += 1
    return values[0]


@nb.njit(nogil=True, fastmath=True)
def _sum_below(ei, threshold):  # pragma: no cover - compiled
    """Sum of the entries below ``threshold`` and the number of entries equal to it."""
    total = 0.0
    equal = 0
    for j in range(ei.shape[0]):
        v = ei[j]
        total += v if v < threshold else 0.0
        equal += 1 if v == threshold else 0
    return total, equal


_STRIDES = 8  # a row is split into this many interleaved strands to find candidate columns
_BAR_RANK = 8  # the bar is the 8th largest strand maximum: at least 8 entries reach it


@nb.njit(**_OPTS)
def _strands(e, width, peak, total):  # pragma: no cover - compiled
    """Max and sum of e[r + w * width] over the 8 strands w, for each column r < width."""
    for r in range(width):
        peak[r] = e[r]
        total[r] = e[r]
    for w in range(1, _STRIDES):
        base = w * width
        for r in range(width):
            v = e[base + r]
            peak[r] = v if v > peak[r] else peak[r]
            total[r] += v


@nb.njit(**_OPTS)
def _eighth(values, n):  # pragma: no cover - compiled
    """The 8th largest of ``values[:n]`` (-inf when ``n < 8``), branch-free.

    Each value is pushed through eight sorted registers (max stays, min moves on): a fixed
    sequence of min/max operations, so no branch depends on the data.
    """
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = -np.inf
    for r in range(n):
        v = np.float64(values[r])
        s0, v = max(s0, v), min(s0, v)
        s1, v = max(s1, v), min(s1, v)
        s2, v = max(s2, v), min(s2, v)
        s3, v = max(s3, v), min(s3, v)
        s4, v = max(s4, v), min(s4, v)
        s5, v = max(s5, v), min(s5, v)
        s6, v = max(s6, v), min(s6, v)
        s7 = max(s7, v)
    return s7


@nb.njit(**_OPTS)
def _peak_bar(peak, width, cols, sup):  # pragma: no cover - compiled
    """The 8th largest strand maximum: a bar that at least 8 entries of the row reach.

    First a lower bound: the 8th largest of the maxima of 16 interleaved runs of strand
    columns (vectorised); the columns reaching it (``cols[:n]``, about a dozen) then go
    through the exact selection. Returns ``(bar, n)``; ``width >= 8``.
    """
    runs = min(16, width)
    for q in range(runs):
        sup[q] = peak[q]
    full = width // runs
    for t in range(1, full):
        for q in range(runs):
            v = peak[t * runs + q]
            sup[q] = v if v > sup[q] else sup[q]
    for r in range(full * runs, width):
        v = peak[r]
        sup[r - full * runs] = v if v > sup[r - full * runs] else sup[r - full * runs]
    floor = _eighth(sup, runs)
    n = np.int64(0)  # not a literal 0: one specialisation of callees
    for r in range(width):  # branch-free compaction
        cols[n] = r
        n += peak[r] >= floor
    for q in range(n):
        sup[q] = peak[cols[q]]
    return _eighth(sup, n), n


@nb.njit(**_OPTS)
def _candidates(e, width, peak, cols, n, bar, cand_j, cand_v, tail, s):  # pragma: no cover
    """The entries of a row that reach the bar, into ``cand_j/cand_v`` (branch-free).

    Scans the strand groups ``cols[:n]`` whose maximum reaches the bar and the columns past
    ``8 * width``. Returns their count, ``tail`` plus the scanned entries below the bar, and
    ``s`` plus the columns past ``8 * width`` (which no strand sum holds).
    """
    k = e.shape[0]
    nc = np.int64(0)  # not a literal 0: one specialisation of callees
    for q in range(n):
        r = cols[q]
        if peak[r] >= bar:
            for w in range(_STRIDES):
                j = r + w * width
                v = e[j]
                cand_j[nc] = j
                cand_v[nc] = v
                reach = v >= bar
                nc += reach
                tail += 0.0 if reach else v
    for j in range(_STRIDES * width, k):
        v = e[j]
        s += v
        cand_j[nc] = j
        cand_v[nc] = v
        reach = v >= bar
        nc += reach
        tail += 0.0 if reach else v
    return nc, tail, s


@nb.njit(**_OPTS)
def _row_scratch(k):  # pragma: no cover - compiled
    """Scratch arrays of one row's top selection: peak, total, cols, sup, cand_j, cand_v."""
    return (
        np.empty(k, np.float64), np.empty(k, np.float64), np.empty(k, np.int64),
        np.empty(k, np.float64), np.empty(k, np.int64), np.empty(k, np.float64),
    )  # fmt: skip


@nb.njit(**_OPTS)
def _select_top(ei, ti, te, peak, total, cols, sup, cand_j, cand_v):  # pragma: no cover
    """Fill a row's top list with its m first entries by value (descending), then index.

    Returns the list's length (less than m only when K < m). The list is a *set*: it is
    sorted only when it had to be selected from more candidates than m.

    Columns ``r, r + width, ..., r + 7 * width`` form a strand group. The 8th largest group
    maximum (the *bar*, :func:`_peak_bar`) is reached by at least 8 entries, so it is at
    most the 8th largest entry: only entries at or above it (in the groups whose maximum
    reaches it, and among the few columns past ``8 * width``) are candidates. ``peak``,
    ``total``, ``cols`` and ``sup`` (K) are scratch. When exactly m entries reach the bar,
    they are the top list, and every other entry is smaller than all of them.
    """
    k = ei.shape[0]
    m = ti.shape[0]
    width = k // _STRIDES
    count = np.int64(0)  # not a literal 0: one specialisation of callees
    if width <= 4 * m or m != _BAR_RANK:
        for j in range(k):
            count = _offer(ti, te, count, j, ei[j])
        return count
    _strands(ei, width, peak, total)
    bar, n = _peak_bar(peak, width, cols, sup)
    nc, _, _ = _candidates(ei, width, peak, cols, n, bar, cand_j, cand_v, 0.0, 0.0)
    if nc == m:
        for t in range(m):
            ti[t] = cand_j[t]
            te[t] = cand_v[t]
        return m
    for c in range(nc):
        count = _offer(ti, te, count, cand_j[c], cand_v[c])
    return count


@nb.njit(inline="always", **_OPTS)
def _smallest(te, count):  # pragma: no cover - compiled
    low = te[0]
    for t in range(1, count):
        low = min(low, te[t])
    return low


@nb.njit(**_OPTS)
def _tail_sum(ei, te, count):  # pragma: no cover - compiled
    """Sum of the entries outside a row's (full) top list, added up directly."""
    if count < te.shape[0]:
        return 0.0
    threshold = _smallest(te, count)
    total, equal = _sum_below(ei, threshold)
    for t in range(count):  # entries equal to the threshold that did not make the list
        equal -= 1 if te[t] == threshold else 0
    return total + equal * threshold


@nb.njit(**_OPTS)
def _first_argmax(ei, s, ti, te, count):  # pragma: no cover - compiled
    """First column whose probability e / s equals the largest one, 1 / s."""
    conf = 1.0 / s
    best = ei.shape[0]
    ties = 0
    for t in range(count):
        if te[t] / s == conf:
            ties += 1
            best = min(best, ti[t])
    if ties < count:  # an entry of the list does not tie, so none outside it does
        return best
    for j in range(ei.shape[0]):  # every kept entry ties: look at the whole row
        if ei[j] / s == conf:
            return j
    return best


def _tiny(x):  # pragma: no cover - replaced by the overload in compiled code
    """TINY for these logits' dtype."""
    return TINY_FLOAT32 if x.dtype == np.float32 else TINY


@overload(_tiny)
def _tiny_for(x):  # pragma: no cover - compiled
    tiny = TINY_FLOAT32 if x.dtype == types.float32 else TINY
    return lambda x: tiny


@nb.njit(**_OPTS)
def _complement_softmax(x, i, in_group):  # pragma: no cover - compiled
    """Argmax and max of the softmax of row i over the columns not in the group."""
    k = x.shape[1]
    best = -1
    peak = 0.0
    for j in range(k):
        if not in_group[j]:
            v = np.float64(x[i, j])
            if best < 0 or v > peak:
                best = j
                peak = v
    total = 0.0
    for j in range(k):
        if not in_group[j]:
            total += math.exp(np.float64(x[i, j]) - peak)
    return best, 1.0 / total


@nb.njit(**_OPTS)
def _masked_argmax(x, i, ti, te, rest, in_group):  # pragma: no cover - compiled
    """Argmax and probability of row i's softmax over the columns not in the group.

    From the row's top list ``ti/te`` (-1 / 0 where unused) and ``rest``, the sum of the
    row's entries outside both the top list and the group; from the logits when no top
    entry is outside the group, or the first one is tiny.
    """
    first = -1
    unmasked = 0.0
    for t in range(ti.shape[0]):
        j = ti[t]
        if j < 0:
            continue
        if not in_group[j]:
            v = te[t]
            if first < 0 or _ranks_before(v, j, te[first], ti[first]):
                first = t
            unmasked += v
    if first < 0 or te[first] < _tiny(x):
        return _complement_softmax(x, i, in_group)
    return ti[first], te[first] / (unmasked + rest)


@nb.njit(**_OPTS)
def _singleton_move(x, i, a, ti, te, tail, in_group, target, prob):  # pragma: no cover
    """Row ``i``'s first re-assignment, when its cluster ``a`` alone is the lowest-score group.

    It gathers nothing (``a`` is in the row's top set) and its in-group sum is 0, so it only
    depends on the row's summary: computed in the pass, while the row is in cache, with the
    arithmetic of the merge steps (:func:`_masked_argmax`, ``rest = tail``).
    ``in_group`` is zero scratch (K), left as found.
    """
    in_group[a] = True
    target[i], prob[i] = _masked_argmax(x, i, ti, te, max(tail - 0.0, 0.0), in_group)
    in_group[a] = False


@nb.njit(**_ENTRY)
def summarise_rows(x, e, lo, conf, top_idx, top_e, tail, assign, target, prob):  # pragma: no cover
    """Per row ``r`` of ``e = exp(x - max)`` (logits row ``lo + r``): the row's summary.

    ``conf`` receives ``1 / sum`` with NumPy's summation order (the largest probability, as
    :func:`scipy.special.softmax` computes it). ``top_idx``/``top_e`` receive the row's
    first ``m`` entries by value (descending) and then index (ascending), in no particular
    order; unused slots (K < m) hold -1 and 0. ``tail`` is the sum of the other entries,
    accumulated directly (never as a difference). ``assign`` is the first index of the
    largest *probability* ``e / s``, which is how the listing's argmax of the softmax
    resolves values that differ in ``e`` but round to the same probability. ``target`` and
    ``prob`` receive the row's singleton move (:func:`_singleton_move`; ``x`` holds the
    logits, read only for rows whose move must be recomputed from them).
    """
    k = e.shape[1]
    peak, total, cols, sup, cand_j, cand_v = _row_scratch(k)
    in_group = np.zeros(k, np.bool_)
    stack = np.empty((64, 3), np.int64)
    values = np.empty(64, np.float64)
    for r in range(e.shape[0]):
        i = lo + r
        ei = e[r]
        ti = top_idx[i]
        te = top_e[i]
        s = pairwise_sum(ei, stack, values)
        conf[i] = 1.0 / s
        ti[:] = -1
        te[:] = 0.0
        count = _select_top(ei, ti, te, peak, total, cols, sup, cand_j, cand_v)
        tail[i] = _tail_sum(ei, te, count)
        assign[i] = _first_argmax(ei, s, ti, te, count)
        _singleton_move(x, i, assign[i], ti, te, tail[i], in_group, target, prob)


# ----------------------------------------------------------------------------- float32 pass


@nb.njit(**_OPTS)
def _strand_peaks(xi, width, peak):  # pragma: no cover - compiled
    """``peak[r]``: the largest logit of the strand group ``r, r + width, ..., r + 7 width``.

    Returns whether those ``8 width`` logits are all finite (``v - v`` is 0 only for finite
    ``v``; a NaN never wins a comparison, so the maxima of finite rows are exact). Vectorised
    over ``r``, 16 lanes wide.
    """
    finite = True
    for r in range(width):
        v = xi[r]
        best = v
        ok = v - v == 0
        for w in range(1, _STRIDES):
            v = xi[r + w * width]
            best = v if v > best else best
            ok &= v - v == 0
        peak[r] = best
        finite &= ok
    return finite


@nb.njit(nogil=True, fastmath={"contract"})
def _exp_row(xi, m, e):  # pragma: no cover - compiled
    """``e[j] = exp(x_j - m)`` in float32 (vectorised 16 lanes wide: a loop that also added
    in float64 would run 8 lanes wide)."""
    for j in range(xi.shape[0]):
        e[j] = exp_diff_float32(xi[j], m)


@nb.njit(nogil=True, fastmath={"reassoc", "nsz"})
def _sum_row(e, xi, bar):  # pragma: no cover - compiled
    """The sum of ``e`` in float64, and of the entries whose logit is below ``bar``.

    Vectorised: float64 partial sums in any order (for float32-accurate terms the order
    costs no accuracy that matters).
    """
    s = 0.0
    tail = 0.0
    for j in range(xi.shape[0]):
        v = np.float64(e[j])
        s += v
        tail += v if xi[j] < bar else 0.0
    return s, tail


@nb.njit(**_OPTS)
def _trim(xi, e, cand_j, nc, ti, te, taken):  # pragma: no cover - compiled
    """Keep the first ``ti.shape[0]`` candidates by logit (descending), then column (rows
    with ties at the bar, or several candidates in one strand group); return their count
    and the sum of the exponentials of the others, which join the tail. ``taken`` is
    boolean scratch (K, all False; left so)."""
    rest = 0.0
    for _ in range(nc - ti.shape[0]):  # drop the last candidate, nc - 8 times (usually 1-2)
        worst = -1
        for c in range(nc):
            j = cand_j[c]
            if not taken[c] and (
                worst < 0
                or xi[j] < xi[cand_j[worst]]
                or (xi[j] == xi[cand_j[worst]] and j > cand_j[worst])
            ):
                worst = c
        rest += np.float64(e[cand_j[worst]])
        taken[worst] = True
    t = 0
    for c in range(nc):
        if not taken[c]:
            ti[t] = cand_j[c]
            te[t] = e[cand_j[c]]
            t += 1
        taken[c] = False
    return t, rest


@nb.njit(**_OPTS)
def _summarise_row32(xi, ti, te, e, peak, cols, sup, cand_j, taken):  # pragma: no cover
    """Summary of one float32 row (see :func:`summarise_rows_float32`).

    Returns ``(row max, finite, count, row sum, tail)``; ``ti/te`` receive the top set.
    """
    k = xi.shape[0]
    width = k // _STRIDES if k >= 8 * _STRIDES else 0  # narrow rows: all columns "left over"
    finite = _strand_peaks(xi, width, peak)
    m = -np.inf
    for r in range(width):
        m = max(m, np.float64(peak[r]))
    for j in range(_STRIDES * width, k):
        v = xi[j]
        m = max(m, np.float64(v))
        finite &= v - v == 0
        sup[j - _STRIDES * width] = v
    if not finite:
        return m, False, 0, 1.0, 0.0
    if width:
        bar, n = _peak_bar(peak, width, cols, sup)
    else:  # every logit is a candidate when there are fewer than 8
        bar, n = _eighth(sup, k), 0
    m32 = np.float32(m)
    bar32 = np.float32(bar)  # a logit's value (or -inf): exact
    _exp_row(xi, m32, e)
    s, tail = _sum_row(e, xi, bar32)
    nc = np.int64(0)  # not a literal 0: one specialisation of callees
    for q in range(n):  # strand groups that reach the bar
        r = cols[q]
        if peak[r] >= bar32:
            for w in range(_STRIDES):
                j = r + w * width
                cand_j[nc] = j
                nc += xi[j] >= bar32
    for j in range(_STRIDES * width, k):  # the columns no strand holds
        cand_j[nc] = j
        nc += xi[j] >= bar32
    if nc <= ti.shape[0]:
        for c in range(nc):
            ti[c] = cand_j[c]
            te[c] = e[cand_j[c]]
        return m, True, nc, s, tail
    count, rest = _trim(xi, e, cand_j, nc, ti, te, taken)
    return m, True, count, s, tail + rest


@nb.njit(**_ENTRY)
def summarise_rows_float32(
    x, lo, hi, row_max, bad, conf, top_idx, top_e, tail, assign, target, prob
):  # pragma: no cover - compiled
    """The row summaries of float32 logits rows ``lo <= i < hi``, read straight from ``x``.

    Per row, three passes over its K logits: the row maximum and, per strand group (columns
    ``r, r + K // 8, ...``), the largest logit (one vectorised pass; also flags NaN and
    infinite values); the *bar*, the 8th largest group maximum (:func:`_peak_bar`), which at
    least 8 logits reach; then one vectorised pass of
    :func:`l2h._vexp.exp_diff_float32` that sums the exponentials, all of them and those of
    the logits below the bar (the tail). The top set is every logit at or above the bar
    when there are at most ``top_idx.shape[1]`` of them (else the first 8 by logit, then
    column; the others join the tail), so every logit outside it is smaller than every
    logit in it. Exponentials are float32-accurate (within 1 ulp of the correctly rounded
    float32 ``exp`` of the exact difference); sums are in float64. ``target``/``prob``
    receive the row's singleton move (:func:`_singleton_move`).
    """
    k = x.shape[1]
    e = np.empty(k, np.float32)
    peak = np.empty(k, np.float32)
    cols = np.empty(k, np.int64)
    sup = np.empty(k + 16, np.float32)
    cand_j = np.empty(k, np.int64)
    taken = np.zeros(k, np.bool_)
    in_group = np.zeros(k, np.bool_)
    per_line = 64 // x.itemsize
    for i in range(lo, hi):
        if i + 1 < hi:  # the next row's lines: rows are pages apart, where prefetchers stop
            for j in range(0, k, per_line):
                prefetch(x, (i + 1) * k + j)
        xi = x[i]
        ti = top_idx[i]
        te = top_e[i]
        for t in range(ti.shape[0]):
            ti[t] = -1
            te[t] = 0.0
        m, finite, count, s, tail[i] = _summarise_row32(
            xi, ti, te, e, peak, cols, sup, cand_j, taken
        )
        row_max[i] = m
        bad[i] = not finite
        conf[i] = 1.0 / s
        if finite:
            assign[i] = _first_argmax(e, s, ti, te, count)
            _singleton_move(x, i, assign[i], ti, te, tail[i], in_group, target, prob)
        else:
            assign[i] = 0
