"""Cheap hierarchical baselines: trees from scipy/scikit-learn on embeddings or logits.

Every function takes validated :class:`~l2h.baselines.BaselineData` for the split the tree is
fitted on (``fit``) and the split whose points are placed in it (``evaluate``), and returns
``(Hierarchy, leaf_labels)``: a tree over K leaves and the leaf (``0..K-1``) of every point of
``evaluate``. Features are always the row-L2-normalised embedding spaces, concatenated.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.cluster.hierarchy as sch
from scipy.spatial.distance import pdist, squareform

from l2h.baselines._common import (
    CHUNK_ROWS,
    BaselineData,
    argmax_rows,
    feature_matrix,
    group_sums,
    nearest_center,
    normalised_features,
    softmax_rows,
)
from l2h.hierarchy import Hierarchy

__all__ = [
    "bisecting_kmeans",
    "centroid_cosine",
    "centroid_ward",
    "collapse_linkage",
    "logit_affinity",
    "point_ward",
]


# ----------------------------------------------------------------------------- flat clusters


def _flat_k(data: BaselineData, n_clusters: int) -> int:
    """Check that the logits have ``n_clusters`` columns (the leaves are the flat clusters)."""
    k = data.logits.shape[1]
    if k != n_clusters:
        raise ValueError(f"n_clusters={n_clusters} but the logits have {k} columns (clusters)")
    return k


def _tree_from_points(z: np.ndarray, name: str) -> Hierarchy:
    """Hierarchy from a linkage over K points (the one-leaf tree when K == 1)."""
    return Hierarchy.from_linkage(np.empty((0, 4)) if len(z) == 0 else z, aggregation=name)


def cluster_centroids(data: BaselineData, n_clusters: int) -> np.ndarray:
    """``(K, d)`` mean normalised feature of the points of each flat cluster (argmax of logits).

    A cluster that no point has as argmax gets its soft centroid instead: the mean of all
    points' features weighted by their softmax probability of that cluster (a warning names
    such clusters).
    """
    k = _flat_k(data, n_clusters)
    assign = argmax_rows(data.logits)
    counts = np.bincount(assign, minlength=k).astype(np.float64)
    sums = group_sums(assign, k, lambda a, b: normalised_features(data.features, a, b))
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        warnings.warn(
            f"clusters {empty.tolist()} have no points (argmax); using their soft centroids",
            UserWarning,
            stacklevel=3,
        )
        soft, mass = _soft_sums(data, empty)
        sums[empty], counts[empty] = soft, mass
    return sums / counts[:, None]


def _soft_sums(data: BaselineData, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Softmax-weighted feature sums and total weights of the given clusters."""
    n = data.logits.shape[0]
    sums, mass = 0.0, 0.0
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        p = softmax_rows(data.logits, start, stop)[:, clusters]
        sums = sums + p.T @ normalised_features(data.features, start, stop)
        mass = mass + p.sum(axis=0)
    return np.asarray(sums), np.asarray(mass)


def centroid_ward(
    fit: BaselineData, evaluate: BaselineData, *, n_clusters: int, seed: int = 0
) -> tuple[Hierarchy, np.ndarray]:
    """Ward linkage on the K flat-cluster centroids (unweighted by cluster size).

    Leaves are the flat clusters; ``leaf_labels`` is the argmax of ``evaluate.logits``.
    """
    centers = cluster_centroids(fit, n_clusters)
    z = sch.linkage(centers, method="ward") if n_clusters > 1 else np.empty((0, 4))
    return _tree_from_points(z, "centroid_ward"), argmax_rows(evaluate.logits)


def centroid_cosine(
    fit: BaselineData, evaluate: BaselineData, *, n_clusters: int, seed: int = 0
) -> tuple[Hierarchy, np.ndarray]:
    """Average linkage on the cosine distances between the K flat-cluster centroids.

    Raises
    ------
    ValueError
        If a centroid is the zero vector (its cosine distance is undefined).
    """
    centers = cluster_centroids(fit, n_clusters)
    zero = np.flatnonzero(np.linalg.norm(centers, axis=1) == 0)
    if zero.size:
        raise ValueError(f"centroids of clusters {zero.tolist()} are zero; cosine is undefined")
    z = (
        sch.linkage(pdist(centers, metric="cosine"), method="average")
        if n_clusters > 1
        else np.empty((0, 4))
    )
    return _tree_from_points(z, "centroid_cosine"), argmax_rows(evaluate.logits)


def cluster_affinity(logits: np.ndarray, n_clusters: int) -> np.ndarray:
    """``(K, K)`` matrix ``A[k, k']``: mean softmax mass the points of cluster k give to k'.

    Clusters are the argmax of the logits; the row of a cluster without points is zero.
    """
    k = n_clusters
    assign = argmax_rows(logits)
    counts = np.bincount(assign, minlength=k).astype(np.float64)
    sums = group_sums(assign, k, lambda a, b: softmax_rows(logits, a, b))
    return sums / np.where(counts > 0, counts, 1.0)[:, None]


def logit_affinity(
    fit: BaselineData, evaluate: BaselineData, *, n_clusters: int, seed: int = 0
) -> tuple[Hierarchy, np.ndarray]:
    """Average linkage on ``1 - (A + A^T) / 2`` with ``A`` from :func:`cluster_affinity`.

    Uses the logits only, the same information as L2H. Leaves are the flat clusters;
    ``leaf_labels`` is the argmax of ``evaluate.logits``.
    """
    k = _flat_k(fit, n_clusters)
    a = cluster_affinity(fit.logits, k)
    dist = np.clip(1.0 - (a + a.T) / 2.0, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    z = sch.linkage(squareform(dist, checks=False), method="average") if k > 1 else np.empty((0, 4))
    return _tree_from_points(z, "logit_affinity"), argmax_rows(evaluate.logits)


# ----------------------------------------------------------------------------- point level


def collapse_linkage(z: np.ndarray, n_leaves: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the top ``n_leaves - 1`` merges of a point-level linkage.

    Parameters
    ----------
    z : numpy.ndarray
        ``(n-1, 4)`` scipy linkage over n points, merges in increasing height order.
    n_leaves : int
        Number K of leaves to keep, ``1 <= K <= n``.

    Returns
    -------
    linkage : numpy.ndarray
        ``(K-1, 4)`` linkage over the K subtrees hanging below the top merges (leaves
        numbered by increasing scipy node id), with the original heights.
    point_leaf : numpy.ndarray
        int64 array of length n: the leaf of every point.
    """
    n = z.shape[0] + 1
    if not 1 <= n_leaves <= n:
        raise ValueError(f"n_leaves must be in 1..{n}, got {n_leaves}")
    first_top = n - n_leaves  # rows first_top.. form the kept tree
    top = z[first_top:]
    children = top[:, :2].astype(np.int64).ravel()
    formed = n + np.arange(first_top, n - 1)
    leaf_nodes = np.sort(np.setdiff1d(children, formed)) if n_leaves > 1 else np.array([2 * n - 2])
    node_id = {int(node): i for i, node in enumerate(leaf_nodes)}
    node_id.update({int(node): n_leaves + j for j, node in enumerate(formed)})
    out = top.copy()
    out[:, 0] = [node_id[int(c)] for c in top[:, 0]]
    out[:, 1] = [node_id[int(c)] for c in top[:, 1]]
    sizes = np.concatenate([np.ones(n_leaves), np.zeros(n_leaves - 1)])
    for j, (a, b) in enumerate(out[:, :2].astype(np.int64)):
        sizes[n_leaves + j] = sizes[a] + sizes[b]
        out[j, 3] = sizes[n_leaves + j]
    return out, _point_leaves(z, leaf_nodes, first_top)


def _point_leaves(z: np.ndarray, leaf_nodes: np.ndarray, first_top: int) -> np.ndarray:
    """Leaf of every point: propagate leaf ids down the merges below the kept tree."""
    n = z.shape[0] + 1
    node_leaf = np.full(2 * n - 1, -1, dtype=np.int64)
    node_leaf[leaf_nodes] = np.arange(len(leaf_nodes))
    kids = z[:, :2].astype(np.int64)
    for i in range(first_top - 1, -1, -1):
        node_leaf[kids[i]] = node_leaf[n + i]
    return node_leaf[:n]


def point_ward(
    fit: BaselineData,
    evaluate: BaselineData,
    *,
    n_clusters: int,
    seed: int = 0,
    max_points: int = 10_000,
) -> tuple[Hierarchy, np.ndarray]:
    """Point-level Ward linkage on a subsample of ``fit``, collapsed to K leaves.

    ``min(N, max_points)`` points of ``fit`` are drawn uniformly without replacement (seeded
    by ``seed``); scipy's Ward linkage (O(n^2) memory, no connectivity graph) runs on their
    normalised features; the top K-1 merges are kept (:func:`collapse_linkage`). Every point
    of ``evaluate`` (including the subsample) goes to the leaf with the nearest centroid, the
    mean feature of the subsampled points under that leaf.
    """
    max_points = int(max_points)
    n = fit.features[0].shape[0]
    m = min(n, max_points)
    if n_clusters > m:
        raise ValueError(f"n_clusters={n_clusters} exceeds the {m} subsampled points")
    rows = np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))
    x = feature_matrix(fit.features, rows).astype(np.float64)
    if m == 1:
        return Hierarchy(1, [], aggregation="point_ward"), np.zeros(
            evaluate.features[0].shape[0], dtype=np.int64
        )
    z, leaf = collapse_linkage(sch.linkage(x, method="ward"), n_clusters)
    centers = group_sums(leaf, n_clusters, lambda a, b: x[a:b]) / np.bincount(leaf)[:, None]
    labels = nearest_center(
        lambda a, b: normalised_features(evaluate.features, a, b),
        evaluate.features[0].shape[0],
        centers,
    )
    return _tree_from_points(z, "point_ward"), labels


# ----------------------------------------------------------------------------- top-down

_SMALL_SPLIT = 1 << 22  # leaves with fewer feature values are split on one thread


def _split(x: np.ndarray, seed: int, n_init: int, max_iter: int):
    """2-means of ``x``: boolean mask of the second cluster and the two centres."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    # small leaves: thread start-up costs more than the work (and stalls on busy machines)
    with threadpool_limits(1 if x.size < _SMALL_SPLIT else None):
        km = KMeans(2, n_init=n_init, max_iter=max_iter, random_state=seed).fit(x)
    return km.labels_ == 1, km.cluster_centers_.astype(np.float64)


def _sse(x: np.ndarray) -> float:
    """Sum of squared distances of the rows of ``x`` to their mean (float64 sums)."""
    if len(x) < 2:
        return 0.0
    centred = x - x.mean(axis=0, dtype=np.float64).astype(x.dtype)
    return float(np.einsum("ij,ij->", centred, centred, dtype=np.float64))


def bisecting_kmeans(
    fit: BaselineData,
    evaluate: BaselineData,
    *,
    n_clusters: int,
    seed: int = 0,
    n_init: int = 3,
    max_iter: int = 300,
) -> tuple[Hierarchy, np.ndarray]:
    """Top-down 2-means splits to K leaves, recording the split tree.

    Starting from all ``fit`` points in one leaf, the leaf with the largest SSE (sum of squared
    distances to its mean, normalised float32 features) is split by scikit-learn ``KMeans(2)``
    (``n_init`` restarts, seed ``seed + split index``) until there are K leaves. The merge
    heights are the SSE of the split node, so they grow towards the root. Points of
    ``evaluate`` descend the tree, taking at every split the child with the nearer 2-means
    centre (as scikit-learn's ``BisectingKMeans.predict``).

    Raises
    ------
    ValueError
        If fewer than K leaves can be made (no leaf with two distinct points is left).
    """
    x = feature_matrix(fit.features)  # float32: N x d, the only large array
    leaves = {0: np.arange(x.shape[0])}  # node id -> rows of fit
    sse = {0: _sse(x)}
    splits: list[tuple[int, int, int, np.ndarray, float]] = []  # node, left, right, centres, sse
    while len(leaves) < n_clusters:
        node = max(leaves, key=lambda v: (sse[v], -v))
        if sse[node] <= 0:
            raise ValueError(f"bisecting k-means could only make {len(leaves)} leaves")
        rows = leaves.pop(node)
        right, centers = _split(x[rows], seed + len(splits), n_init, max_iter)
        left_id, right_id = 2 * len(splits) + 1, 2 * len(splits) + 2
        leaves[left_id], leaves[right_id] = rows[~right], rows[right]
        sse[left_id], sse[right_id] = _sse(x[rows[~right]]), _sse(x[rows[right]])
        splits.append((node, left_id, right_id, centers, sse[node]))
    return _split_tree(splits, evaluate)


def _split_tree(splits, evaluate: BaselineData) -> tuple[Hierarchy, np.ndarray]:
    """Hierarchy (leaves numbered left to right) and evaluate leaves from recorded splits."""
    kids = {node: (left, right) for node, left, right, _, _ in splits}
    order, stack = [], [0]
    while stack:  # depth-first, left child first
        node = stack.pop()
        if node in kids:
            stack.extend(reversed(kids[node]))
        else:
            order.append(node)
    leaf_index = {node: i for i, node in enumerate(order)}
    group = {node: (i,) for node, i in leaf_index.items()}
    steps, heights = [], []
    for node, left, right, _, height in reversed(splits):
        steps.append((group[left], group[right]))
        group[node] = group[left] + group[right]
        heights.append(height)
    tree = Hierarchy(len(order), steps, aggregation="bisecting_kmeans", heights=heights)
    return tree, _descend(splits, evaluate, leaf_index)


def _descend(splits, evaluate: BaselineData, leaf_index: dict[int, int]) -> np.ndarray:
    """Send every evaluate point down the split tree to a leaf."""
    n = evaluate.features[0].shape[0]
    node_of = np.zeros(n, dtype=np.int64)
    for start in range(0, n, CHUNK_ROWS):
        x = normalised_features(evaluate.features, start, start + CHUNK_ROWS)
        at = node_of[start : start + len(x)]
        for node, left, right, centers, _ in splits:
            here = np.flatnonzero(at == node)
            if here.size:
                # |x - c1|^2 < |x - c0|^2  <=>  2 x.(c1 - c0) > |c1|^2 - |c0|^2
                gap = centers[1] @ centers[1] - centers[0] @ centers[0]
                to_right = 2.0 * (x[here] @ (centers[1] - centers[0])) > gap
                at[here] = np.where(to_right, right, left)
    lookup = np.full(max(leaf_index) + 1, -1, dtype=np.int64)
    lookup[list(leaf_index)] = list(leaf_index.values())
    return lookup[node_of]
