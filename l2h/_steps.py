"""Numba kernels for the merge steps of :mod:`l2h.algorithm`.

Groups are kept as linked lists of cluster ids (``head``/``last`` per node, ``nxt`` per
cluster), so a merge is O(1) and a group's clusters are read in group order. A step is
planned (:func:`plan_step`: the rows of the lowest-score group and, per cluster, the group
columns its rows have not summed yet), its rows are re-assigned (:func:`reassign_rows`,
shared between threads when large), and :func:`finish_step` picks the most-taken group and
links the two groups. Steps below the threading threshold run all three in one call
(:func:`run_step`, the one entry point of a step, so that the kernels compile once). A step
whose group is a single cluster visits no row: its rows' moves only depend on their
summaries, so the pass computes them (:func:`l2h._kernels._singleton_move`),
:func:`group_rows` sums them per cluster, and the step just merges
(:func:`singleton_step`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba import types
from numba.extending import overload

from l2h._kernels import _masked_argmax
from l2h._vexp import exp_diff_float32, exp_nonpositive, prefetch, trailing_zeros

# Only the kernels called from Python are cached (with their callees linked in): helpers
# compiled on their own and written to the cache would only slow the first run down.
_OPTS = {"nogil": True, "boundscheck": False, "error_model": "numpy"}
_ENTRY = {**_OPTS, "cache": True}


@nb.njit(**_OPTS)
def _sort(a, n):  # pragma: no cover - compiled
    """Sort ``a[:n]`` in place (Shell sort; small code, so quick to compile, unlike np.sort)."""
    gap = 1
    while gap < n // 3:
        gap = 3 * gap + 1
    while gap > 0:
        for i in range(gap, n):
            v = a[i]
            j = i
            while j >= gap and a[j - gap] > v:
                a[j] = a[j - gap]
                j -= gap
            a[j] = v
        gap //= 3


@nb.njit(inline="always", **_OPTS)
def _cluster_order(assign, conf, k):  # pragma: no cover - compiled
    """Rows grouped by cluster: ``(order, counts, offsets, sorted_conf)``.

    ``order`` lists the rows cluster by cluster, in row order within a cluster (a stable
    counting sort); cluster ``c``'s confidences are ``sorted_conf[offsets[c]:offsets[c + 1]]``.
    """
    n = assign.shape[0]
    counts = np.zeros(k, np.int64)
    for i in range(n):
        counts[assign[i]] += 1
    offsets = np.zeros(k + 1, np.int64)
    for c in range(k):
        offsets[c + 1] = offsets[c] + counts[c]
    fill = offsets[:k].copy()
    order = np.empty(n, np.int64)
    sorted_conf = np.empty(n, np.float64)
    for i in range(n):
        c = assign[i]
        order[fill[c]] = i
        sorted_conf[fill[c]] = conf[i]
        fill[c] += 1
    return order, counts, offsets, sorted_conf


@nb.njit(**_ENTRY)
def group_rows(assign, conf, target, prob, k):  # pragma: no cover - compiled
    """The rows cluster by cluster, and each cluster's singleton masses (one kernel, so one
    compilation): ``(order, counts, offsets, sorted_conf, ptr, moved_to, moved_mass)``, see
    :func:`_cluster_order` and :func:`_singleton_masses`."""
    order, counts, offsets, sorted_conf = _cluster_order(assign, conf, k)
    ptr, moved_to, moved_mass = _singleton_masses(order, offsets, target, prob, k)
    return order, counts, offsets, sorted_conf, ptr, moved_to, moved_mass


@nb.njit(**_OPTS)
def _clusters_of(node, head, nxt, size, out):  # pragma: no cover - compiled
    """Write the clusters of ``node`` in group order into ``out``; return how many."""
    c = head[node]
    n = size[node]
    for t in range(n):
        out[t] = c
        c = nxt[c]
    return n


@nb.njit(**_OPTS)
def _sort_items(rows, seg, n, marks, seg_of):  # pragma: no cover - compiled
    """Sort items ``rows/seg[:n]`` by row (rows are distinct).

    Marks the rows in the bitmap ``marks`` (one bit a logits row, all zero; left so) and
    reads them back in order: O(n + N / 64), no comparisons. ``seg_of`` (per row) is scratch.
    """
    one = np.uint64(1)
    for q in range(n):
        r = rows[q]
        marks[r >> 6] |= one << np.uint64(r & 63)
        seg_of[r] = seg[q]
    q = 0
    for w in range(marks.shape[0]):
        word = marks[w]
        if word:
            marks[w] = 0
            while word:
                r = (w << 6) + np.int64(trailing_zeros(word))
                rows[q] = r
                seg[q] = seg_of[r]
                q += 1
                word &= word - one


@nb.njit(**_OPTS)
def plan_step(
    node, head, nxt, size, counts, offsets, order, covered, slot_of, sort_above, per_line,
    clusters, rows, seg, in_group, seen, marks, seg_of,
):  # pragma: no cover - compiled  # fmt: skip
    """The rows of group ``node`` and the columns each must still sum.

    Fills ``clusters[:g]`` (the group, in order), the items ``rows/seg[:n]`` (logits row and
    the index of its cluster in ``clusters``; in row order when ``n > sort_above``) and
    ``in_group``. Returns ``(g, n, volume, spans, cols)``: cluster ``clusters[s]``'s rows
    must add the columns ``cols[spans[s, 0]:spans[s, 1]]`` (ascending: the group's columns
    outside the group the rows had when last re-assigned, ``covered``), ``volume`` columns
    in all; ``cols[spans[s, 2]:spans[s, 3]]`` start the distinct runs of ``per_line``
    columns (64 bytes, counted from the row's start) that hold them, which rows prefetch.
    ``covered`` is updated to ``node``. ``slot_of`` (per node + 1, -1), ``seen`` (per
    cluster, False) and ``marks``/``seg_of`` (see :func:`_sort_items`) are scratch, left as
    found.
    """
    g = _clusters_of(node, head, nxt, size, clusters)
    for s in range(g):
        in_group[clusters[s]] = True
    spans = np.zeros((g, 4), np.int64)
    slot_start = np.empty(g, np.int64)
    slot_end = np.empty(g, np.int64)
    line_start = np.empty(g, np.int64)
    line_end = np.empty(g, np.int64)
    covs = np.empty(g, np.int64)
    members = np.empty(g, np.int64)
    lists = np.empty(4 * g + 16, np.int64)
    n_covs = 0
    used = 0
    n = np.int64(0)  # not a literal 0: one specialisation of callees
    volume = 0
    for s in range(g):
        c = clusters[s]
        if counts[c] == 0:
            continue
        cov = covered[c]
        slot = slot_of[cov + 1]
        if slot < 0:  # the first cluster with this old group: list its new columns once
            m = _clusters_of(cov, head, nxt, size, members) if cov >= 0 else 0
            for t in range(m):
                seen[members[t]] = True
            if used + 2 * g > lists.shape[0]:
                grown = np.empty(2 * lists.shape[0] + 2 * g, np.int64)
                for t in range(used):
                    grown[t] = lists[t]
                lists = grown
            slot = n_covs
            slot_start[slot] = used
            for u in range(g):
                if not seen[clusters[u]]:
                    lists[used] = clusters[u]
                    used += 1
            slot_end[slot] = used
            _sort(lists[slot_start[slot] :], used - slot_start[slot])  # a row is read in order
            line_start[slot] = used
            last_line = -1
            for t in range(slot_start[slot], slot_end[slot]):
                line = lists[t] - lists[t] % per_line
                if line != last_line:
                    lists[used] = line
                    used += 1
                    last_line = line
            line_end[slot] = used
            for t in range(m):
                seen[members[t]] = False
            covs[slot] = cov
            slot_of[cov + 1] = slot
            n_covs += 1
        spans[s, 0] = slot_start[slot]
        spans[s, 1] = slot_end[slot]
        spans[s, 2] = line_start[slot]
        spans[s, 3] = line_end[slot]
        volume += counts[c] * (spans[s, 1] - spans[s, 0])
        for p in range(offsets[c], offsets[c] + counts[c]):
            rows[n] = order[p]
            seg[n] = s
            n += 1
    for t in range(n_covs):
        slot_of[covs[t] + 1] = -1
    for s in range(g):
        covered[clusters[s]] = node
    if n > sort_above:  # logits rows in memory order: the hardware prefetches far better
        _sort_items(rows, seg, n, marks, seg_of)
    return g, n, volume, spans, lists[:used].copy()


_ROW_MAX, _TAIL, _INSIDE = 0, 1, 2  # columns of the per-row state (one cache line a row)
_AHEAD = 12  # rows ahead whose summary reassign_rows prefetches
_AHEAD_LINES = 6  # rows ahead whose logits lines (those it will gather from) it prefetches
_ROW_COST = 32  # a row costs about as much as gathering this many columns


@nb.njit(**_OPTS)
def _prefetch_summary(p, state, top_idx, top_e):  # pragma: no cover - compiled
    """Prefetch row ``p``'s summary and state (a cache line each: the arrays are aligned)."""
    m = top_idx.shape[1]
    prefetch(top_idx, p * m)
    prefetch(top_e, p * m)
    prefetch(state, p * state.shape[1])


@nb.njit(inline="always", **_OPTS)
def _columns_per_line(x):  # pragma: no cover - compiled
    """Logits in a 64-byte cache line."""
    return max(1, 64 // x.itemsize)


@nb.njit(**_OPTS)
def _prefetch_lines(x, p, s, spans, cols):  # pragma: no cover - compiled
    """Prefetch the logits of row ``p`` that its group cluster ``s`` gathers.

    ``cols[spans[s, 2]:spans[s, 3]]`` start runs of 64 bytes of the row, which may straddle
    two cache lines (rows need not start on one): both ends are prefetched.
    """
    k = x.shape[1]
    base = p * k
    last = _columns_per_line(x) - 1
    for t in range(spans[s, 2], spans[s, 3]):
        c = cols[t]
        prefetch(x, base + c)
        prefetch(x, base + min(c + last, k - 1))


@nb.njit(nogil=True, fastmath={"reassoc", "nsz"})
def _sum_exp64(values, n, shift):  # pragma: no cover - compiled
    """Sum of exp(values[:n] - shift) (values <= shift), vectorised."""
    total = 0.0
    for u in range(n):
        total += exp_nonpositive(values[u] - shift)
    return total


@nb.njit(nogil=True, fastmath={"reassoc", "nsz"})
def _sum_exp32(values, n, shift):  # pragma: no cover - compiled
    """Sum of exp(values[:n] - shift) for float32 values, with the exponential of the
    float32 pass (:func:`l2h._vexp.exp_diff_float32`), so that a row's in-group sums and its
    tail add up the same terms."""
    total = 0.0
    for u in range(n):
        total += np.float64(exp_diff_float32(values[u], shift))
    return total


def _sum_exp(values, n, shift):  # pragma: no cover - replaced by the overload in compiled code
    """Sum of exp(values[:n] - shift), with the exponential of the pass for this dtype."""
    raise NotImplementedError


@overload(_sum_exp)
def _sum_exp_for(values, n, shift):  # pragma: no cover - compiled
    if values.dtype == types.float32:
        return lambda values, n, shift: _sum_exp32(values, n, np.float32(shift))
    return lambda values, n, shift: _sum_exp64(values, n, shift)


@nb.njit(**_ENTRY)
def reassign_rows(
    x, lo, hi, rows, seg, spans, cols, state, top_idx, top_e, in_group, target, prob,
    is_top, idx, buf,
):  # pragma: no cover - compiled  # fmt: skip
    """Masked softmax of items ``lo <= q < hi`` (see :func:`plan_step`) without the group.

    ``state[p]`` holds row ``p``'s maximum, tail and running in-group sum ``inside``
    (columns ``_ROW_MAX``, ``_TAIL``, ``_INSIDE``). Each row first adds exp(x - row max)
    over its new group columns outside its top list to ``inside`` (a row's group only
    grows, so each column of a row is read at most once over the run). ``target[q]``
    receives the argmax of the row's softmax over the columns not in the group and
    ``prob[q]`` its probability. ``is_top`` (K, all False; left so), ``idx`` and ``buf``
    (K) are scratch.

    The argmax is the best top entry outside the group (largest value, then smallest index)
    when there is one: every entry outside the top list is smaller. The denominator is then
    the unmasked top entries plus the unmasked part of the tail, ``tail - inside``: a
    difference of entries no larger than the smallest top entry, which is at most the
    denominator, so its rounding error stays within about K ulps of the denominator. Rows
    without an unmasked top entry (or whose first one is tiny) are computed from their
    logits over all unmasked columns.
    """
    m = top_idx.shape[1]
    for q in range(lo, hi):
        if q + _AHEAD < hi:  # the loads of a row depend on each other: start later rows'
            _prefetch_summary(rows[q + _AHEAD], state, top_idx, top_e)
        if q + _AHEAD_LINES < hi:
            _prefetch_lines(x, rows[q + _AHEAD_LINES], seg[q + _AHEAD_LINES], spans, cols)
        p = rows[q]
        s = seg[q]
        c0 = spans[s, 0]
        c1 = spans[s, 1]
        if c1 > c0:
            xi = x[p]
            for t in range(m):
                j = top_idx[p, t]
                if j >= 0:
                    is_top[j] = True
            w = 0
            for t in range(c0, c1):  # columns outside the top list (branch-free compaction)
                c = cols[t]
                idx[w] = c
                w += not is_top[c]
            if w:
                for u in range(w):  # independent loads: many cache misses in flight
                    buf[u] = xi[idx[u]]
                state[p, _INSIDE] += _sum_exp(buf, w, state[p, _ROW_MAX])
            for t in range(m):
                j = top_idx[p, t]
                if j >= 0:
                    is_top[j] = False
        rest = max(state[p, _TAIL] - state[p, _INSIDE], 0.0)
        target[q], prob[q] = _masked_argmax(x, p, top_idx[p], top_e[p], rest, in_group)


@nb.njit(**_OPTS)
def finish_step(
    lsg, new, n, target, prob, clusters, g, in_group, score, size, node_of, head, last, nxt,
    mass, node_sum, touched,
):  # pragma: no cover - compiled  # fmt: skip
    """Pick the most-taken group for ``lsg`` and merge the two into node ``new``.

    ``mass[c]`` is the probability that the ``n`` re-assigned rows put on cluster ``c``
    (added in item order); see :func:`_most_taken` for the choice. ``mass`` and
    ``node_sum`` are zero scratch (K and nodes), left as found; ``touched`` is scratch (K).
    Returns ``mtg``.
    """
    n_touched = np.int64(0)  # not a literal 0: one specialisation of callees
    for q in range(n):
        c = target[q]
        if mass[c] == 0.0:
            touched[n_touched] = c
            n_touched += 1
        mass[c] += prob[q]
    _sort(touched, n_touched)
    mtg = _most_taken(lsg, touched[:n_touched], mass, node_sum, node_of, size, score)
    for s in range(g):
        in_group[clusters[s]] = False
    link(lsg, mtg, new, score, size, node_of, head, last, nxt)
    return mtg


@nb.njit(**_OPTS)
def _most_taken(lsg, hit, mass, node_sum, node_of, size, score):  # pragma: no cover - compiled
    """The live group other than ``lsg`` with the highest mean mass over its clusters.

    ``hit`` lists, in ascending order, the clusters with mass (``mass[c] > 0``); a group's
    sum is added in cluster order (as a bincount over clusters adds it). The first group in
    node order wins ties. Every probability is positive, so a group without mass (value 0)
    never beats one with mass, and when no row moved the first live group wins. Resets
    ``mass`` and ``node_sum`` to zero.
    """
    for c in hit:
        node_sum[node_of[c]] += mass[c]
    mtg = -1
    best = 0.0
    for c in hit:
        v = node_of[c]
        value = node_sum[v] / size[v]
        if value > best or (value == best and v < mtg):
            mtg = v
            best = value
    for c in hit:
        mass[c] = 0.0
        node_sum[node_of[c]] = 0.0
    if mtg < 0:  # no row moved: every value is 0, the first live group wins
        for v in range(score.shape[0]):
            if v != lsg and math.isfinite(score[v]):
                mtg = v
                break
    return mtg


@nb.njit(inline="always", **_OPTS)
def _singleton_masses(order, offsets, target, prob, k):  # pragma: no cover - compiled
    """Per cluster, the mass its rows' singleton moves put on each target cluster.

    Returns ``(ptr, clusters, masses)``: cluster ``c``'s targets, ascending, are
    ``clusters[ptr[c]:ptr[c + 1]]``; each mass is added over the cluster's rows in row order,
    as :func:`finish_step` adds it.
    """
    n = order.shape[0]
    ptr = np.zeros(k + 1, np.int64)
    out_c = np.empty(n, np.int64)
    out_m = np.empty(n, np.float64)
    acc = np.zeros(k, np.float64)
    touched = np.empty(k, np.int64)
    w = 0
    for c in range(k):
        n_touched = np.int64(0)  # not a literal 0: one specialisation of callees
        for p in range(offsets[c], offsets[c + 1]):
            if p + _AHEAD < n:  # rows in cluster order are scattered: fetch ahead
                prefetch(target, order[p + _AHEAD])
                prefetch(prob, order[p + _AHEAD])
            i = order[p]
            t = target[i]
            if acc[t] == 0.0:
                touched[n_touched] = t
                n_touched += 1
            acc[t] += prob[i]
        _sort(touched, n_touched)
        for t in touched[:n_touched]:
            out_c[w] = t
            out_m[w] = acc[t]
            acc[t] = 0.0
            w += 1
        ptr[c + 1] = w
    return ptr, out_c[:w].copy(), out_m[:w].copy()


@nb.njit(**_OPTS)
def singleton_step(
    lsg, new, ptr, moved_to, moved_mass, covered, score, size, node_of, head, last, nxt, mass,
    node_sum,
):  # pragma: no cover - compiled  # fmt: skip
    """A step whose lowest-score group is the single cluster ``lsg``, from its masses."""
    b = ptr[lsg]
    e = ptr[lsg + 1]
    for t in range(b, e):
        mass[moved_to[t]] = moved_mass[t]
    mtg = _most_taken(lsg, moved_to[b:e], mass, node_sum, node_of, size, score)
    covered[lsg] = lsg
    link(lsg, mtg, new, score, size, node_of, head, last, nxt)
    return mtg


@nb.njit(**_OPTS)
def link(lsg, mtg, new, score, size, node_of, head, last, nxt):  # pragma: no cover - compiled
    """Node ``new`` = ``lsg``'s clusters then ``mtg``'s; both die (score +inf)."""
    head[new] = head[lsg]
    nxt[last[lsg]] = head[mtg]
    last[new] = last[mtg]
    size[new] = size[lsg] + size[mtg]
    c = head[new]
    for _ in range(size[new]):
        node_of[c] = new
        c = nxt[c]
    score[lsg] = np.inf
    score[mtg] = np.inf


STEP, FINISH = 0, 1  # phases of run_step


@nb.njit(**_ENTRY)
def run_step(
    x, phase, lsg, new, n, parallel_above, sort_above, shortcut, head, last, nxt, size,
    node_of, score, counts, offsets, order, covered, slot_of, seen, marks, seg_of, clusters,
    rows, seg, in_group, state, top_idx, top_e, target, prob, is_top, idx, buf, mass,
    node_sum, touched, single_ptr, single_to, single_mass,
):  # pragma: no cover - compiled  # fmt: skip
    """A merge step: the one entry point of the step kernels, so that they compile once.

    ``phase`` STEP: a step whose group is one cluster (when ``shortcut``) merges from its
    precomputed masses (:func:`singleton_step`); otherwise the step is planned and, when its
    work (columns gathered plus ``_ROW_COST`` per row) is at most ``parallel_above``, done
    whole. Returns ``(mtg, n, spans, cols)`` (see :func:`plan_step`); ``mtg`` is -1 when the
    step is larger: the caller then shares :func:`reassign_rows` of its ``n`` items between
    threads and calls phase FINISH (with that ``n``), which picks ``mtg`` and merges.
    """
    no_spans = np.empty((0, 4), np.int64)
    no_cols = np.empty(0, np.int64)
    if phase == FINISH:
        mtg = finish_step(
            lsg, new, n, target, prob, clusters, size[lsg], in_group, score, size, node_of,
            head, last, nxt, mass, node_sum, touched,
        )  # fmt: skip
        return mtg, n, no_spans, no_cols
    if shortcut and size[lsg] == 1:
        mtg = singleton_step(
            lsg, new, single_ptr, single_to, single_mass, covered, score, size, node_of, head,
            last, nxt, mass, node_sum,
        )  # fmt: skip
        return mtg, np.int64(0), no_spans, no_cols
    per_line = _columns_per_line(x)
    g, n, volume, spans, cols = plan_step(
        lsg, head, nxt, size, counts, offsets, order, covered, slot_of, sort_above, per_line,
        clusters, rows, seg, in_group, seen, marks, seg_of,
    )  # fmt: skip
    if volume + _ROW_COST * n > parallel_above:
        return np.int64(-1), n, spans, cols
    reassign_rows(
        x, np.int64(0), n, rows, seg, spans, cols, state, top_idx, top_e, in_group, target,
        prob, is_top, idx, buf,
    )  # fmt: skip
    mtg = finish_step(
        lsg, new, n, target, prob, clusters, g, in_group, score, size, node_of, head, last,
        nxt, mass, node_sum, touched,
    )  # fmt: skip
    return mtg, n, spans, cols
