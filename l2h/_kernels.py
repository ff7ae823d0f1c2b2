"""Numba kernels behind :mod:`l2h.algorithm` (row-wise work on the logits).

All arithmetic is in float64. Exponentials of whole rows are left to NumPy (vectorised);
the kernels do the branchy per-row bookkeeping: the top-``m`` entries of each row, the sum
of the rest, and the masked re-assignment of a row when its group is the lowest-score group.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# A row's first unmasked entry smaller than this (relative to the row maximum) is recomputed
# from the logits, shifted by the unmasked maximum, so no precision is lost to underflow.
TINY = 1e-200

_OPTS = {"nogil": True, "cache": True, "boundscheck": False}


@nb.njit(**_OPTS)
def shift_rows(x, row_max, out, finite):  # pragma: no cover - compiled
    """out[i, j] = x[i, j] - row_max[i] in float64; finite[i] = row i has no NaN/inf."""
    n, k = x.shape
    for i in range(n):
        m = np.float64(row_max[i])
        ok = True
        for j in range(k):
            v = np.float64(x[i, j])
            out[i, j] = v - m
            ok &= abs(v) <= 1.7976931348623157e308
        finite[i] = ok


@nb.njit(inline="always", **_OPTS)
def _ranks_before(v, j, value, index):  # pragma: no cover - compiled
    """True when entry (v, j) comes before (value, index): larger value, then smaller index."""
    return v > value or (v == value and j < index)


@nb.njit(inline="always", **_OPTS)
def _offer(top_idx, top_e, i, count, j, v):  # pragma: no cover - compiled
    """Offer (v, j) to row i's list of ``count`` entries; return the new count.

    The list stays sorted by value descending, then index ascending, whatever the order in
    which entries are offered; a full list drops its last entry.
    """
    m = top_e.shape[1]
    if count == m:
        if not _ranks_before(v, j, top_e[i, m - 1], top_idx[i, m - 1]):
            return count
        pos = m - 1
    else:
        pos = count
        count += 1
    while pos > 0 and _ranks_before(v, j, top_e[i, pos - 1], top_idx[i, pos - 1]):
        top_e[i, pos] = top_e[i, pos - 1]
        top_idx[i, pos] = top_idx[i, pos - 1]
        pos -= 1
    top_e[i, pos] = v
    top_idx[i, pos] = j
    return count


_STRIDES = 8  # a row is split into this many interleaved strands to find candidate columns


@nb.njit(nogil=True, cache=True, fastmath=True)
def _sum_below(e, i, threshold):  # pragma: no cover - compiled
    """Sum of the entries below ``threshold`` and the number of entries equal to it."""
    total = 0.0
    equal = 0
    for j in range(e.shape[1]):
        v = e[i, j]
        total += v if v < threshold else 0.0
        equal += 1 if v == threshold else 0
    return total, equal


@nb.njit(nogil=True, cache=True, fastmath=True)
def _strand_max(e, i, width, out):  # pragma: no cover - compiled
    """out[r] = max of e[i, r + w * width] over the strands w (contiguous, vectorised)."""
    for r in range(width):
        out[r] = e[i, r]
    for w in range(1, _STRIDES):
        base = w * width
        for r in range(width):
            out[r] = max(out[r], e[i, base + r])


@nb.njit(**_OPTS)
def _select_top(e, i, top_idx, top_e, column_max):  # pragma: no cover - compiled
    """Fill row i's top list (largest values, then smallest indices); return its length.

    Columns ``r, r + width, ..., r + 7 * width`` form a group. A bar that at least m group
    maxima reach is at most the m-th largest entry, so only the entries of the groups whose
    maximum reaches it (and the few columns past ``8 * width``) can be top entries; only
    those entries at or above the bar are offered.
    """
    k = e.shape[1]
    m = top_idx.shape[1]
    width = k // _STRIDES
    count = 0
    if width <= 4 * m:
        for j in range(k):
            count = _offer(top_idx, top_e, i, count, j, e[i, j])
        return count
    _strand_max(e, i, width, column_max)
    threshold = _bar(column_max, width, m)
    for r in range(width):
        if column_max[r] >= threshold:
            for w in range(_STRIDES):
                j = r + w * width
                if e[i, j] >= threshold:
                    count = _offer(top_idx, top_e, i, count, j, e[i, j])
    for j in range(_STRIDES * width, k):
        count = _offer(top_idx, top_e, i, count, j, e[i, j])
    return count


@nb.njit(nogil=True, cache=True, fastmath=True)
def _count_at_least(values, n, bar):  # pragma: no cover - compiled
    count = 0
    for r in range(n):
        count += 1 if values[r] >= bar else 0
    return count


@nb.njit(**_OPTS)
def _bar(values, n, m):  # pragma: no cover - compiled
    """A value that at least m of values[:n] reach (n >= m), and not many more.

    Starts from the smallest of the first m values (which m values reach) and bisects
    geometrically towards the largest value, stopping once at most 2 m values reach the lower
    end; every step is one vectorised count.
    """
    low = values[0]
    high = values[0]
    for r in range(m):
        low = min(low, values[r])
    for r in range(n):
        high = max(high, values[r])
    low = max(low, 1e-300)
    if high <= low:
        return low if low > 1e-300 else 0.0
    reach = _count_at_least(values, n, low)
    if reach < m:  # fewer than m values are positive (the rest underflowed to 0)
        return 0.0
    for _ in range(64):
        if reach <= 2 * m or high <= low * (1 + 1e-12):
            break
        mid = math.sqrt(low * high)
        count = _count_at_least(values, n, mid)
        if count >= m:
            low, reach = mid, count
        else:
            high = mid
    return low


@nb.njit(**_OPTS)
def _tail_sum(e, i, top_e, count):  # pragma: no cover - compiled
    """Sum of the entries outside row i's (full) top list, added up directly."""
    if count < top_e.shape[1]:
        return 0.0
    threshold = top_e[i, count - 1]
    total, equal = _sum_below(e, i, threshold)
    for t in range(count):  # entries equal to the threshold that did not make the list
        equal -= 1 if top_e[i, t] == threshold else 0
    return total + equal * threshold


@nb.njit(**_OPTS)
def _first_argmax(e, s, i, top_idx, top_e, count):  # pragma: no cover - compiled
    """First column whose probability e / s equals the largest one, 1 / s."""
    conf = 1.0 / s
    best = top_idx[i, 0]
    for t in range(count):
        if top_e[i, t] / s != conf:
            return best
        best = min(best, top_idx[i, t])
    for j in range(e.shape[1]):  # every kept entry ties: look at the whole row
        if e[i, j] / s == conf:
            return j
    return best


@nb.njit(**_OPTS)
def summarise_rows(e, s, top_idx, top_e, tail, assign):  # pragma: no cover - compiled
    """Per row of ``e = exp(x - max)`` with row sums ``s``: top entries, tail sum, argmax.

    ``top_idx``/``top_e`` receive the ``m`` largest entries ordered by value (descending) and
    then index (ascending); unused slots (K < m) hold -1 and 0. ``tail`` is the sum of the
    other entries, accumulated directly (never as a difference). ``assign`` is the first index
    of the largest *probability* ``e / s``, which is how the listing's argmax of the softmax
    resolves values that differ in ``e`` but round to the same probability.
    """
    column_max = np.empty(e.shape[1], np.float64)
    for i in range(e.shape[0]):
        top_idx[i, :] = -1
        top_e[i, :] = 0.0
        count = _select_top(e, i, top_idx, top_e, column_max)
        tail[i] = _tail_sum(e, i, top_e, count)
        assign[i] = _first_argmax(e, s[i], i, top_idx, top_e, count)


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
def _add_columns(x, i, row_max, columns, top, is_top, buf):  # pragma: no cover - compiled
    """Sum of exp(x[i, c] - row_max) over the columns not in ``top`` (the row's top list).

    The logits are first copied into ``buf`` (independent loads, so the memory system can
    fetch many at once), then exponentiated; top columns count as -inf (exp gives 0).
    """
    for j in top:
        if j >= 0:
            is_top[j] = True
    n = columns.shape[0]
    for t in range(n):
        c = columns[t]
        d = np.float64(x[i, c]) - row_max
        buf[t] = -np.inf if is_top[c] else d
    for j in top:
        if j >= 0:
            is_top[j] = False
    total = 0.0
    for t in range(n):
        total += math.exp(buf[t])
    return total


@nb.njit(**_OPTS)
def reassign_rows(
    x,
    rows,
    starts,
    out,
    lo,
    hi,
    new_ptr,
    new_columns,
    in_group,
    row_max,
    top_idx,
    top_e,
    tail,
    inside,
    out_target,
    out_prob,
):  # pragma: no cover - compiled
    """Masked softmax of a group's rows with the group's clusters removed.

    Row summaries (``row_max`` ... ``inside``) are in cluster order: position ``p`` describes
    logits row ``rows[p]``. Segment ``s`` (one cluster of the group) is positions
    ``starts[s] ...`` and writes outputs ``out[s]:out[s + 1]``; only outputs ``lo <= r < hi``
    are computed. ``out_target[r]`` is the argmax of the row's softmax over the columns not in
    the group and ``out_prob[r]`` its probability.

    The argmax is the first top entry outside the group when there is one; the denominator
    is then the unmasked top entries plus the unmasked part of the tail, ``tail - inside``,
    where ``inside`` is the row's sum over its group's columns outside its top list. The
    segment's group columns not yet in ``inside`` (``new_columns[new_ptr[s]:new_ptr[s + 1]]``)
    are read and added here, so each column is read at most once per row over the whole run
    (a row's group only grows). Rows without an unmasked top entry (or whose first one is
    tiny) are computed from their logits over all unmasked columns.
    """
    k = x.shape[1]
    m = top_idx.shape[1]
    buf = np.empty(k, dtype=np.float64)
    is_top = np.zeros(k, dtype=np.bool_)
    for seg in range(starts.shape[0]):
        columns = new_columns[new_ptr[seg] : new_ptr[seg + 1]]
        for r in range(max(out[seg], lo), min(out[seg + 1], hi)):
            p = starts[seg] + r - out[seg]
            i = rows[p]
            if columns.shape[0]:
                row_max_p = np.float64(row_max[p])
                inside[p] += _add_columns(x, i, row_max_p, columns, top_idx[p], is_top, buf)
            first = -1
            unmasked = 0.0
            for t in range(m):
                j = top_idx[p, t]
                if j < 0:
                    break
                if not in_group[j]:
                    if first < 0:
                        first = t
                    unmasked += top_e[p, t]
            if first < 0 or top_e[p, first] < TINY:
                out_target[r], out_prob[r] = _complement_softmax(x, i, in_group)
            else:
                out_target[r] = top_idx[p, first]
                out_prob[r] = top_e[p, first] / (unmasked + max(tail[p] - inside[p], 0.0))
