"""L2H on small inputs in plain NumPy: the listing's steps without compiling anything.

In a fresh process, loading the numba kernels of the large-input path costs more than a whole
fit of a few million logits in NumPy, so :func:`l2h.algorithm.fit` sends inputs below its
size threshold here. Both paths give the listing's steps.

The pass is :func:`scipy.special.softmax`'s arithmetic on float64 rows (float32 logits are
converted exactly), so confidences and assignments are SciPy's to the bit. A step
re-softmaxes the rows of the lowest-score group over the other columns, as the listing does,
with the rows in chunks so that memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_CHUNK_ELEMENTS = 1 << 17  # float64 logits handled at a time (1 MiB)


def _rows_per_chunk(k: int) -> int:
    return max(1, _CHUNK_ELEMENTS // k)


def summarise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confidence, assignment and a non-finite flag of every row.

    ``conf[i]`` is the largest probability of row ``i``'s softmax and ``assign[i]`` its first
    argmax, both exactly as ``scipy.special.softmax(x[i].astype(float64))`` gives them.
    """
    n, k = x.shape
    conf = np.empty(n, np.float64)
    assign = np.empty(n, np.int64)
    bad = np.empty(n, np.bool_)
    step = _rows_per_chunk(k)
    with np.errstate(invalid="ignore", over="ignore"):
        for lo in range(0, n, step):
            block = np.asarray(x[lo : lo + step], np.float64)
            e = np.exp(block - block.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            hi = lo + len(block)
            assign[lo:hi] = p.argmax(axis=1)
            conf[lo:hi] = p[np.arange(len(block)), assign[lo:hi]]
            bad[lo:hi] = ~np.isfinite(block).all(axis=1)
    return conf, assign, bad


def cluster_order(assign: np.ndarray, conf: np.ndarray, k: int) -> tuple:
    """``(order, counts, offsets, sorted_conf)``: the rows cluster by cluster, in row order
    within a cluster, and cluster ``c``'s confidences ``sorted_conf[offsets[c]:offsets[c + 1]]``
    (as :func:`l2h._steps.group_rows` orders them)."""
    order = np.argsort(assign, kind="stable")
    counts = np.bincount(assign, minlength=k)
    offsets = np.zeros(k + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return order, counts, offsets, conf[order]


def cluster_sums(sorted_conf: np.ndarray, counts: np.ndarray, offsets: np.ndarray) -> tuple:
    """Each cluster's confidence sum and mean: ``np.sum`` and ``np.mean`` of its confidences
    in row order, as the listing computes them (bit for bit); 0 for an empty cluster."""
    k = len(counts)
    sums = np.zeros(k, np.float64)
    for c in np.flatnonzero(counts).tolist():
        sums[c] = np.sum(sorted_conf[offsets[c] : offsets[c + 1]])
    means = np.divide(sums, counts, out=np.zeros(k, np.float64), where=counts > 0)
    return sums, means


def merge(
    x: np.ndarray,
    assign: np.ndarray,
    initial_scores: list[float],
    score_of: Callable[[tuple[int, ...]], float],
    on_step: Callable[[], None] | None = None,
) -> list:
    """The ``K - 1`` steps ``(lsg, mtg)`` of the listing (see :func:`l2h.algorithm.fit`).

    ``initial_scores`` are the singletons' scores and ``score_of(group)`` scores a new group.
    Groups are nodes numbered like the listing's group order (singletons, then merged groups
    in creation order): the lowest score, and then the highest value, go to the first node on
    ties, as ``min``/``max`` over the listing's group list do.
    """
    k = x.shape[1]
    n_nodes = 2 * k - 1
    score = np.full(n_nodes, np.inf)
    score[:k] = initial_scores
    size = np.zeros(n_nodes, np.int64)
    size[:k] = 1
    node_of = np.arange(k)
    members: list[tuple[int, ...]] = [(c,) for c in range(k)]
    steps = []
    for step in range(k - 1):
        lsg = int(np.argmin(score))  # dead nodes hold +inf: the first minimum is the listing's
        new = k + step
        mtg = _most_taken(x, assign, members[lsg], lsg, node_of, score, size)
        members.append(members[lsg] + members[mtg])
        steps.append((members[lsg], members[mtg]))
        node_of[list(members[new])] = new
        size[new] = size[lsg] + size[mtg]
        score[lsg] = score[mtg] = np.inf
        score[new] = score_of(members[new])
        if on_step is not None:
            on_step()
    return steps


def _most_taken(x, assign, group, lsg, node_of, score, size) -> int:
    """The live group other than ``lsg`` that ``lsg``'s rows give the highest mean mass."""
    mass = _moved_mass(x, assign, group)
    node_mass = np.bincount(node_of, weights=mass, minlength=len(score))  # clusters in order
    with np.errstate(invalid="ignore", divide="ignore"):
        value = node_mass / size
    value[np.isinf(score)] = -np.inf  # dead nodes
    value[lsg] = -np.inf
    # Every probability is positive, so a group without mass (0) never beats one with mass;
    # when no row moved, the first live group wins.
    return int(np.argmax(value))


def _moved_mass(x: np.ndarray, assign: np.ndarray, group: tuple[int, ...]) -> np.ndarray:
    """Probability mass that the rows of ``group`` put on each cluster outside it."""
    k = x.shape[1]
    inside = np.zeros(k, np.bool_)
    inside[list(group)] = True
    rows = np.flatnonzero(inside[assign])
    mass = np.zeros(k, np.float64)
    outside = np.flatnonzero(~inside)
    if rows.size == 0 or outside.size == 0:
        return mass
    step = _rows_per_chunk(len(outside))
    for lo in range(0, len(rows), step):
        block = np.asarray(x[rows[lo : lo + step]], np.float64)[:, outside]
        e = np.exp(block - block.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        target = p.argmax(axis=1)
        prob = p[np.arange(len(block)), target]
        mass += np.bincount(outside[target], weights=prob, minlength=k)
    return mass
