"""Scores for flat clusterings and for hierarchies over them (numpy, scipy, scikit-learn only).

Argument order follows scikit-learn: ``(y_true, y_pred)``; tree metrics take
``(tree, y_true, y_pred)``, where ``tree`` is a :class:`l2h.hierarchy.Hierarchy` (anything with a
``linkage()`` method) or a scipy linkage matrix.

Tree metrics have an explicit ``leaves`` argument, never guessed from shapes:

``leaves="clusters"`` (default)
    The tree's K leaves are clusters; point ``i`` hangs under leaf ``y_pred[i]``. Two points in
    the same cluster have that leaf as their lowest common ancestor (LCA). This is the convention
    of TreeVAE, DeepECT and ClustPy, and the L2H setting.
``leaves="points"``
    The tree is a linkage over the N points themselves (``y_pred`` must be ``None``); leaf ``i``
    is point ``i``.

Dendrogram purity (Heller & Ghahramani 2005) is computed exactly from per-node class counts
``n_c(v)``, accumulated bottom-up (``n_c(v) = n_c(a) + n_c(b)``)::

    DP = [ sum_leaf l sum_c C(n_c(l), 2) n_c(l) / n(l)
         + sum_internal v=(a,b) sum_c n_c(a) n_c(b) n_c(v) / n(v) ] / sum_c C(N_c, 2)

which costs O(N + nodes * classes) time and O(nodes * classes) memory, with no pair
enumeration and no sampling.

>>> import numpy as np
>>> z = np.array([[0, 1, 1.0, 2], [2, 3, 2.0, 3]])  # ((0, 1), 2) over 3 clusters
>>> round(dendrogram_purity(z, [0, 0, 1, 1], [0, 2, 1, 1]), 6)
0.75
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from l2h._groups import cut_linkage

__all__ = [
    "EMPTY_DP",
    "LEAVES",
    "acc",
    "as_linkage",
    "ari",
    "cluster_names",
    "cut",
    "dendrogram_purity",
    "evaluate",
    "leaf_purity",
    "lca_spearman",
    "level_scores",
    "majority_classes",
    "match_clusters",
    "mistake_severity",
    "nmi",
    "node_class_counts",
]

EMPTY_DP = 1.0
"""Dendrogram purity when no two points share a class (a single point, or all classes distinct):
the mean over an empty set of pairs, defined as 1.0 since no same-class pair is split."""

Leaves = Literal["clusters", "points"]
LEAVES: tuple[str, ...] = ("clusters", "points")
"""Accepted values of the ``leaves`` argument of the tree metrics."""


# ----------------------------------------------------------------------------- input checks


def _as_labels(y: Any, name: str) -> np.ndarray:
    """Return ``y`` as a non-empty 1-D array of labels."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must not contain NaN or infinite values")
    if arr.dtype.kind == "O":
        try:
            np.unique(arr)
        except TypeError:
            kinds = sorted({type(v).__name__ for v in arr.tolist()})
            raise ValueError(
                f"{name} mixes label types that cannot be compared ({', '.join(kinds)}); "
                "give labels of one type"
            ) from None
    return arr


def _check_taxonomy(taxonomy: Any, name: str, needs: Sequence[str]) -> None:
    """Raise a ValueError unless ``taxonomy`` has the Taxonomy methods ``needs``."""
    if isinstance(taxonomy, str):
        raise ValueError(
            f"{name} must be a Taxonomy, got the string {taxonomy!r}: load one with "
            f"l2h.datasets.load_tree({taxonomy!r})"
        )
    missing = [attr for attr in needs if not hasattr(taxonomy, attr)]
    if missing:
        raise ValueError(
            f"{name} must be a Taxonomy (l2h.taxonomy), got {type(taxonomy).__name__} "
            f"without {', '.join(missing)}"
        )


def _as_ids(y: Any, name: str, upper: int | None = None) -> np.ndarray:
    """Return ``y`` as a 1-D int64 array of ids in ``0..upper-1`` (integral values only)."""
    arr = _as_labels(y, name)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold integer ids, got dtype {arr.dtype}")
    out = arr.astype(np.int64)
    if arr.dtype.kind == "f" and not np.array_equal(out, arr):
        raise ValueError(f"{name} must hold integer ids, got non-integral values")
    if out.min() < 0:
        raise ValueError(f"{name} must be non-negative, got minimum {out.min()}")
    if upper is not None and out.max() >= upper:
        raise ValueError(f"{name} must be < {upper}, got maximum {out.max()}")
    return out


def _check_lengths(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}"
        )


def _encode(y: np.ndarray) -> tuple[np.ndarray, int]:
    """Relabel arbitrary labels to ``0..C-1`` (sorted order); return codes and C."""
    if y.dtype.kind in "iu" and y.min() >= 0 and y.max() < 4 * len(y) + 1024:
        present = np.bincount(y) > 0  # O(N) path for small non-negative integer labels
        code_of = np.cumsum(present) - 1
        return code_of[y].astype(np.int64), int(present.sum())
    uniques, codes = np.unique(y, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), len(uniques)


def _count_table(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> np.ndarray:
    """``(n_rows, n_cols)`` int64 table: how many points have each ``(rows[i], cols[i])`` pair
    (clusters by classes, leaves by classes, ...), for ids already checked to be in range."""
    flat = rows.astype(np.int64) * n_cols + cols.astype(np.int64)
    return np.bincount(flat.reshape(-1), minlength=n_rows * n_cols).reshape(n_rows, n_cols)


def _check_leaves(leaves: str) -> None:
    if leaves not in LEAVES:
        raise ValueError(f"leaves must be one of {LEAVES}, got {leaves!r}")


def as_linkage(tree: Any) -> np.ndarray:
    """Return the linkage matrix of a tree after checking it.

    Parameters
    ----------
    tree : Hierarchy or array_like
        An object with a ``linkage()`` method (such as :class:`l2h.hierarchy.Hierarchy` or
        :class:`l2h.taxonomy.Taxonomy`) or a ``(K-1, 4)`` scipy linkage matrix. ``(0, 4)`` is
        the one-leaf tree.

    Returns
    -------
    numpy.ndarray
        ``(K-1, 4)`` float64 linkage matrix whose node ids are integral and refer to earlier
        nodes (scipy numbering: leaves ``0..K-1``, row ``i`` creates node ``K+i``).

    Raises
    ------
    ValueError
        If the matrix has the wrong shape or is not a valid linkage.
    """
    if hasattr(tree, "linkage") and callable(tree.linkage):
        tree = tree.linkage()
    try:
        z = np.asarray(tree, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"tree must be a Hierarchy or a linkage matrix: {err}") from None
    if z.ndim != 2 or z.shape[1] != 4:
        raise ValueError(f"a linkage matrix must have shape (K-1, 4), got {z.shape}")
    if z.shape[0] == 0:
        return z
    ids = z[:, :2]
    formed = (z.shape[0] + 1 + np.arange(z.shape[0]))[:, None]
    if not np.all(np.isfinite(z)) or np.any(ids != np.floor(ids)) or np.any(ids < 0):
        raise ValueError("not a valid linkage matrix: node ids must be non-negative integers")
    if np.any(ids >= formed):
        raise ValueError("not a valid linkage matrix: a row uses a node formed at or after it")
    try:
        import scipy.cluster.hierarchy as sch  # lazily: `import l2h` stays light

        sch.is_valid_linkage(z, throw=True, name="tree")
    except (ValueError, TypeError) as err:
        raise ValueError(f"not a valid linkage matrix: {err}") from None
    return z


def _n_leaves(z: np.ndarray) -> int:
    return z.shape[0] + 1


# ----------------------------------------------------------------------------- flat metrics


def _contingency(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``w[pred, true]`` counts plus the sorted unique true and predicted labels."""
    y_true = _as_labels(y_true, "y_true")
    y_pred = _as_labels(y_pred, "y_pred")
    _check_lengths(y_true, y_pred)
    true_values, t = np.unique(y_true, return_inverse=True)
    pred_values, p = np.unique(y_pred, return_inverse=True)
    w = _count_table(p, t, len(pred_values), len(true_values))
    return w, true_values, pred_values


def acc(y_true: Any, y_pred: Any) -> float:
    """Unsupervised clustering accuracy under the best one-to-one cluster-to-class map.

    ``ACC = max_m (1/N) sum_i 1[y_true[i] = m(y_pred[i])]`` over injective maps ``m`` between
    the predicted and the true labels, found with the Hungarian method
    (:func:`scipy.optimize.linear_sum_assignment`). The number of clusters may differ from the
    number of classes: only ``min(K, C)`` pairs are matched and the rest count as errors.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (N,)
        True and predicted labels (any hashable values; only equality matters).

    Returns
    -------
    float
        Accuracy in ``[0, 1]``.

    Raises
    ------
    ValueError
        If the inputs are not 1-D, empty or of different lengths.

    Examples
    --------
    >>> acc([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    w, _, _ = _contingency(y_true, y_pred)
    import scipy.optimize  # lazily: `import l2h` stays light

    rows, cols = scipy.optimize.linear_sum_assignment(w, maximize=True)
    return float(w[rows, cols].sum() / w.sum())


def nmi(y_true: Any, y_pred: Any, average_method: str = "arithmetic") -> float:
    """Normalised mutual information ``I(Y; Y') / mean(H(Y), H(Y'))``.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (N,)
        True and predicted labels.
    average_method : {"arithmetic", "geometric", "min", "max"}, default "arithmetic"
        How the two entropies are averaged, as in
        :func:`sklearn.metrics.normalized_mutual_info_score` (whose default, also used by TEMI
        and TreeVAE, is arithmetic; TURTLE uses geometric).

    Returns
    -------
    float
        NMI in ``[0, 1]``.

    Raises
    ------
    ValueError
        If the inputs are not 1-D, empty or of different lengths.
    """
    y_true = _as_labels(y_true, "y_true")
    y_pred = _as_labels(y_pred, "y_pred")
    _check_lengths(y_true, y_pred)
    import sklearn.metrics  # lazily: `import l2h` stays light

    return float(
        sklearn.metrics.normalized_mutual_info_score(y_true, y_pred, average_method=average_method)
    )


def ari(y_true: Any, y_pred: Any) -> float:
    """Adjusted Rand index (:func:`sklearn.metrics.adjusted_rand_score`).

    Parameters
    ----------
    y_true, y_pred : array_like of shape (N,)
        True and predicted labels.

    Returns
    -------
    float
        ARI, 1 for identical partitions and about 0 for random ones.

    Raises
    ------
    ValueError
        If the inputs are not 1-D, empty or of different lengths.
    """
    y_true = _as_labels(y_true, "y_true")
    y_pred = _as_labels(y_pred, "y_pred")
    _check_lengths(y_true, y_pred)
    import sklearn.metrics  # lazily: `import l2h` stays light

    return float(sklearn.metrics.adjusted_rand_score(y_true, y_pred))


def match_clusters(y_true: Any, y_pred: Any, n_clusters: int | None = None) -> np.ndarray:
    """Map every cluster to a class: Hungarian matching, then majority class for the rest.

    Parameters
    ----------
    y_true : array_like of shape (N,)
        Class ids, non-negative integers.
    y_pred : array_like of shape (N,)
        Cluster ids in ``0..n_clusters-1``.
    n_clusters : int, optional
        Number K of clusters; defaults to ``max(y_pred) + 1``.

    Returns
    -------
    numpy.ndarray
        int64 array of length K. Clusters matched by the Hungarian method (the map that
        maximises :func:`acc`) get their matched class; when K > C, the unmatched clusters get
        their majority class (smallest id on ties); clusters without any point that are left
        unmatched get ``-1``.

    Raises
    ------
    ValueError
        On ids out of range or inputs of different lengths.
    """
    y_true = _as_ids(y_true, "y_true")
    k = int(_as_ids(y_pred, "y_pred").max()) + 1 if n_clusters is None else int(n_clusters)
    y_pred = _as_ids(y_pred, "y_pred", upper=k)
    _check_lengths(y_true, y_pred)
    c = int(y_true.max()) + 1
    w = _count_table(y_pred, y_true, k, c)
    out = np.where(w.sum(axis=1) > 0, w.argmax(axis=1), -1).astype(np.int64)
    import scipy.optimize  # lazily: `import l2h` stays light

    rows, cols = scipy.optimize.linear_sum_assignment(w, maximize=True)
    out[rows] = cols
    return out


def majority_classes(y_true: Any, y_pred: Any, n_clusters: int) -> np.ndarray:
    """Return the most frequent true class of the points of each cluster.

    Parameters
    ----------
    y_true : array_like of shape (N,)
        Non-negative integer class of each point.
    y_pred : array_like of shape (N,)
        Cluster of each point, in ``0..n_clusters-1``.
    n_clusters : int
        Number K of clusters.

    Returns
    -------
    numpy.ndarray
        ``(K,)`` int64 majority class of each cluster (the smallest class on ties), -1 for a
        cluster without points.

    Raises
    ------
    ValueError
        If the arrays differ in length or hold out-of-range values.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must be equal 1-D")
    if y_true.size and y_true.min() < 0:
        raise ValueError("y_true must hold non-negative class ids")
    if y_pred.size and not 0 <= y_pred.min() <= y_pred.max() < n_clusters:
        raise ValueError(f"y_pred must hold cluster ids in 0..{n_clusters - 1}")
    n_classes = int(y_true.max()) + 1 if y_true.size else 1
    counts = _count_table(y_pred, y_true, n_clusters, n_classes)
    return np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), -1).astype(np.int64)


def cluster_names(
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str],
    n_clusters: int,
    *,
    clusters_are_classes: bool = False,
) -> list[str]:
    """Name each cluster after its majority class: ``"<class> (c<k>)"``.

    The cluster id keeps names unique when several clusters share a majority class.

    Parameters
    ----------
    y_true : array_like of shape (N,)
        Class of each point, indexing ``class_names``.
    y_pred : array_like of shape (N,)
        Cluster of each point.
    class_names : sequence of str
        Name of each class.
    n_clusters : int
        Number K of clusters.
    clusters_are_classes : bool, default False
        The supervised setting: cluster ``k`` is a classifier's class ``k``, named
        ``"<class k> (c<k>)"`` whatever its points.

    Returns
    -------
    list of str
        K names; a cluster without points is named ``"empty (c<k>)"``.

    Examples
    --------
    >>> cluster_names([0, 0, 1], [1, 1, 0], ["cat", "dog"], 3)
    ['dog (c0)', 'cat (c1)', 'empty (c2)']
    """
    if clusters_are_classes:
        return [f"{name} (c{k})" for k, name in enumerate(class_names)]
    majority = majority_classes(y_true, y_pred, n_clusters)
    if majority.max(initial=-1) >= len(class_names):
        raise ValueError(f"y_true has classes beyond the {len(class_names)} class names")
    return [
        f"{class_names[c] if c >= 0 else 'empty'} (c{k})" for k, c in enumerate(majority.tolist())
    ]


# ----------------------------------------------------------------------------- tree metrics


@dataclass(frozen=True)
class _NodeCounts:
    """Class counts of every node of a tree: rows ``0..K-1`` leaves, row ``K+i`` merge ``i``."""

    z: np.ndarray
    counts: np.ndarray

    @property
    def n_leaves(self) -> int:
        return _n_leaves(self.z)


def _leaf_counts(
    z: np.ndarray, y_true: Any, y_pred: Any, leaves: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return the class codes of the points and the ``(K, C)`` leaf class-count table."""
    _check_leaves(leaves)
    k = _n_leaves(z)
    codes, n_classes = _encode(_as_labels(y_true, "y_true"))
    if leaves == "points":
        if y_pred is not None:
            raise ValueError('y_pred must be None when leaves="points" (leaf i is point i)')
        if len(codes) != k:
            raise ValueError(
                f'leaves="points" needs one label per leaf: the tree has {k} leaves, '
                f"y_true has {len(codes)} labels"
            )
        leaf_of = np.arange(k, dtype=np.int64)
    else:
        if y_pred is None:
            raise ValueError(
                'y_pred (the cluster of each point) is required when leaves="clusters"'
            )
        leaf_of = _as_ids(y_pred, "y_pred", upper=k)
        _check_lengths(codes, leaf_of)
    return codes, _count_table(leaf_of, codes, k, n_classes).astype(np.float64)


def _accumulate(z: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Per-node rows from the ``(K, C)`` leaf rows: leaves ``0..K-1``, merge ``i`` as ``K+i``."""
    k = table.shape[0]
    counts = np.empty((2 * k - 1, table.shape[1]), dtype=table.dtype)
    counts[:k] = table
    for i, (a, b) in enumerate(z[:, :2].astype(np.int64)):
        np.add(counts[a], counts[b], out=counts[k + i])
    return counts


def _node_counts(tree: Any, y_true: Any, y_pred: Any, leaves: str) -> _NodeCounts:
    z = as_linkage(tree)
    _, table = _leaf_counts(z, y_true, y_pred, leaves)
    return _NodeCounts(z=z, counts=_accumulate(z, table))


def node_class_counts(tree: Any, y_true: Any, y_pred: Any, n_classes: int) -> np.ndarray:
    """Points of each class under every node of a tree over clusters.

    Parameters
    ----------
    tree : Hierarchy or array_like
        The tree over K clusters.
    y_true : array_like of shape (N,)
        Class id ``0..n_classes-1`` of each point.
    y_pred : array_like of shape (N,)
        Cluster (leaf) id ``0..K-1`` of each point.
    n_classes : int
        Number C of classes (columns).

    Returns
    -------
    numpy.ndarray
        ``(2K-1, C)`` int64: rows ``0..K-1`` are the leaves, row ``K+i`` is merge ``i``.

    Raises
    ------
    ValueError
        On ids out of range or inputs of different lengths.
    """
    z = as_linkage(tree)
    y_true = _as_ids(y_true, "y_true", upper=int(n_classes))
    y_pred = _as_ids(y_pred, "y_pred", upper=_n_leaves(z))
    _check_lengths(y_true, y_pred)
    return _accumulate(z, _count_table(y_pred, y_true, _n_leaves(z), int(n_classes)))


def _dp_from_counts(nc: _NodeCounts) -> float:
    counts, k = nc.counts, nc.n_leaves
    total_pairs = float((counts[-1] * (counts[-1] - 1) / 2).sum())
    if total_pairs == 0:
        return EMPTY_DP
    sizes = counts.sum(axis=1)
    leaf = counts[:k]
    leaf_terms = (leaf * (leaf - 1) / 2 * leaf).sum(axis=1)
    score = float(np.divide(leaf_terms, sizes[:k], out=np.zeros(k), where=sizes[:k] > 0).sum())
    if k > 1:
        children = nc.z[:, :2].astype(np.int64)
        inner = counts[k:]
        inner_terms = (counts[children[:, 0]] * counts[children[:, 1]] * inner).sum(axis=1)
        score += float(
            np.divide(inner_terms, sizes[k:], out=np.zeros(k - 1), where=sizes[k:] > 0).sum()
        )
    return score / total_pairs


def _lp_from_counts(nc: _NodeCounts) -> float:
    leaf = nc.counts[: nc.n_leaves]
    return float(leaf.max(axis=1).sum() / leaf.sum())


def dendrogram_purity(
    tree: Any, y_true: Any, y_pred: Any = None, *, leaves: Leaves = "clusters"
) -> float:
    """Exact dendrogram purity (Heller & Ghahramani 2005).

    ``DP = (1/|P|) sum_{(i,j) in P} pur(lca(i, j), y_i)`` over the set ``P`` of unordered pairs
    of distinct points of the same class, where ``pur(v, c)`` is the fraction of the points
    under node ``v`` that have class ``c``. Computed from per-node class counts (module
    docstring), never by enumerating pairs.

    Parameters
    ----------
    tree : Hierarchy or array_like
        The tree (see :func:`as_linkage`).
    y_true : array_like of shape (N,)
        True labels of the points (any hashable values). Pass coarse labels (for instance
        CIFAR-100 superclasses) to score the tree against a coarser ground truth.
    y_pred : array_like of shape (N,), optional
        With ``leaves="clusters"``: the cluster (leaf) id in ``0..K-1`` of each point; required.
        With ``leaves="points"``: must be ``None``.
    leaves : {"clusters", "points"}, default "clusters"
        Whether the tree's leaves are clusters that the points hang under, or the N points.

    Returns
    -------
    float
        DP in ``[0, 1]``. When no two points share a class (``P`` is empty, as for a
        single point) it is :data:`EMPTY_DP` = 1.0: no same-class pair is split, so no
        tree could do better.

    Raises
    ------
    ValueError
        On an invalid tree, mismatched lengths, cluster ids outside ``0..K-1``, or a
        ``y_pred``/``leaves`` combination that does not fit.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0, 1, 1.0, 2], [2, 3, 1.0, 2], [4, 5, 2.0, 4]])  # ((0, 1), (2, 3))
    >>> dendrogram_purity(z, ["a", "a", "b", "b"], leaves="points")
    1.0
    """
    return _dp_from_counts(_node_counts(tree, y_true, y_pred, leaves))


def leaf_purity(
    tree: Any, y_true: Any, y_pred: Any = None, *, leaves: Leaves = "clusters"
) -> float:
    """Leaf purity: size-weighted mean majority-class fraction of the leaves.

    ``LP = (1/N) sum_leaves max_c n_c(leaf)``. With cluster leaves this is the ordinary purity
    of the flat clustering (so ``LP >= ACC``); with point leaves it is 1.

    Parameters
    ----------
    tree : Hierarchy or array_like
        The tree; it fixes the number of leaves K that ``y_pred`` is checked against.
    y_true : array_like of shape (N,)
        True labels of the points.
    y_pred : array_like of shape (N,), optional
        Cluster id of each point (``leaves="clusters"``), or ``None`` (``leaves="points"``).
    leaves : {"clusters", "points"}, default "clusters"
        As in :func:`dendrogram_purity`.

    Returns
    -------
    float
        LP in ``(0, 1]``.

    Raises
    ------
    ValueError
        As in :func:`dendrogram_purity`.
    """
    z = as_linkage(tree)
    _, table = _leaf_counts(z, y_true, y_pred, leaves)
    return float(table.max(axis=1).sum() / table.sum())


def _purity(y_true: Any, y_pred: Any) -> float:
    """Purity of a flat clustering: ``(1/N) sum_k max_c n_kc``."""
    w, _, _ = _contingency(y_true, y_pred)
    return float(w.max(axis=1).sum() / w.sum())


def cut(tree: Any, n_groups: int) -> np.ndarray:
    """Flat grouping of the leaves after the first ``K - n_groups`` merges.

    Rows of the linkage are applied in their stored order, which for
    :class:`~l2h.hierarchy.Hierarchy` is the merge order (so the result equals
    ``Hierarchy.cut``) and for scipy linkages is the order of increasing height.

    Parameters
    ----------
    tree : Hierarchy or array_like
        The tree.
    n_groups : int
        Number of groups, in ``1..K``.

    Returns
    -------
    numpy.ndarray
        int64 array of length K, group ids ``0..n_groups-1`` numbered by first appearance over
        leaves ``0..K-1``.

    Raises
    ------
    ValueError
        If ``n_groups`` is not in ``1..K`` or the tree is invalid.
    """
    return cut_linkage(as_linkage(tree), n_groups)


def _flat_prediction(z: np.ndarray, y_pred: Any, leaves: str, n_groups: int) -> np.ndarray:
    """Group of every point after cutting the tree into ``n_groups`` groups."""
    groups = cut(z, n_groups)
    if leaves == "points":
        return groups
    return groups[_as_ids(y_pred, "y_pred", upper=_n_leaves(z))]


def level_scores(
    tree: Any, y_level: Any, y_pred: Any = None, *, leaves: Leaves = "clusters"
) -> dict[str, float]:
    """Score a tree against one coarser level of a ground-truth hierarchy.

    The tree is cut (:func:`cut`) into as many groups as ``y_level`` has distinct labels
    (clipped to the number of leaves K), every point gets its group, and the grouping is scored
    with :func:`nmi` and :func:`acc` against ``y_level``; :func:`dendrogram_purity` is computed
    with ``y_level`` as the labels. This is how L2H evaluates the iNaturalist21 orders, classes,
    phyla and kingdoms from a family-level tree.

    Parameters
    ----------
    tree : Hierarchy or array_like
        The tree.
    y_level : array_like of shape (N,)
        Each point's label at the level (for instance its CIFAR-100 superclass).
    y_pred : array_like of shape (N,), optional
        Cluster id of each point (``leaves="clusters"``), or ``None`` (``leaves="points"``).
    leaves : {"clusters", "points"}, default "clusters"
        As in :func:`dendrogram_purity`.

    Returns
    -------
    dict
        ``{"nmi": ..., "acc": ..., "dp": ...}``.

    Raises
    ------
    ValueError
        As in :func:`dendrogram_purity`.
    """
    z = as_linkage(tree)
    nc = _node_counts(z, y_level, y_pred, leaves)
    y_level = _as_labels(y_level, "y_level")
    n_groups = min(len(np.unique(y_level)), nc.n_leaves)
    groups = _flat_prediction(z, y_pred, leaves, n_groups)
    return {"nmi": nmi(y_level, groups), "acc": acc(y_level, groups), "dp": _dp_from_counts(nc)}


# ----------------------------------------------------------------------------- ground-truth trees


def mistake_severity(taxonomy: Any, y_true: Any, y_pred: Any, *, matched: bool = False) -> float:
    """Mean severity of the mistakes in a ground-truth tree ("making better mistakes").

    After Bertinetto et al. (CVPR 2020): each mistaken point ``i`` (predicted class
    ``p_i != y_i``) costs ``d(p_i, y_i) = max(depth(p_i), depth(y_i)) - depth(lca(p_i, y_i))``,
    the number of edges from the deeper of the two classes up to their lowest common ancestor
    in ``taxonomy`` (:meth:`l2h.taxonomy.Taxonomy.mistake_distance`; for trees with all
    classes at the same depth this is the LCA's height). The score is the mean of ``d`` over
    the mistakes; lower is better. It does not depend on any learned hierarchy.

    For a clustering (``matched=False``), clusters are first mapped to classes with
    :func:`match_clusters` (Hungarian matching, majority class for surplus clusters).

    Parameters
    ----------
    taxonomy : Taxonomy
        Ground-truth tree over the classes ``0..C-1`` (anything with ``n_classes`` and
        ``mistake_distance(a, b)``).
    y_true : array_like of shape (N,)
        Class id of each point, in ``0..C-1``.
    y_pred : array_like of shape (N,)
        Cluster id of each point, or class id when ``matched=True``.
    matched : bool, default False
        Whether ``y_pred`` already holds class ids.

    Returns
    -------
    float
        Mean distance over the mistaken points; NaN when there are no mistakes.

    Raises
    ------
    ValueError
        On lengths that differ, ids out of range, or a ``taxonomy`` that is not one.
    """
    _check_taxonomy(taxonomy, "taxonomy", ("n_classes", "mistake_distance"))
    c = int(taxonomy.n_classes)
    y_true = _as_ids(y_true, "y_true", upper=c)
    if matched:
        y_hat = _as_ids(y_pred, "y_pred", upper=c)
        _check_lengths(y_true, y_hat)
    else:
        y_pred = _as_ids(y_pred, "y_pred")
        y_hat = match_clusters(y_true, y_pred)[y_pred]
    wrong = y_hat != y_true
    if not wrong.any():
        return math.nan
    return float(np.mean(taxonomy.mistake_distance(y_hat[wrong], y_true[wrong])))


def lca_spearman(tree: Any, taxonomy: Any, cluster_to_class: Any = None) -> float:
    """Agreement of a learned tree over clusters with a ground-truth tree over classes.

    Spearman rank correlation, over all pairs of distinct leaves ``i < j`` of ``tree``, between
    the negated cophenetic distance of the pair in ``tree`` (the height of its LCA,
    :func:`scipy.cluster.hierarchy.cophenet`; for L2H's default heights the merge step) and the
    depth of the LCA of the classes ``cluster_to_class[i]`` and ``cluster_to_class[j]`` in
    ``taxonomy`` (:meth:`l2h.taxonomy.Taxonomy.lca_depth`; two clusters mapped to the same
    class get that class's depth). 1 means that pairs joined lower in the learned tree always
    have deeper common ancestors in the ground truth. Meant for the supervised setting
    (cluster k = class k) or after :func:`match_clusters`.

    Parameters
    ----------
    tree : Hierarchy or array_like
        Learned tree over K clusters, K >= 3.
    taxonomy : Taxonomy
        Ground-truth tree (anything with ``n_classes`` and ``lca_depth(a, b)``).
    cluster_to_class : array_like of shape (K,), optional
        Class of every cluster, or ``-1`` for clusters to leave out (as :func:`match_clusters`
        gives for empty surplus clusters); defaults to the identity, which needs K == C.

    Returns
    -------
    float
        Spearman correlation in ``[-1, 1]``; NaN when either side is constant.

    Raises
    ------
    ValueError
        On K < 3, a mapping of the wrong length, classes out of range, or a ``taxonomy`` that
        is not one.
    """
    _check_taxonomy(taxonomy, "taxonomy", ("n_classes", "lca_depth"))
    z = as_linkage(tree)
    k = _n_leaves(z)
    if k < 3:
        raise ValueError(f"lca_spearman needs at least 3 leaves, got {k}")
    c = int(taxonomy.n_classes)
    if cluster_to_class is None:
        if k != c:
            raise ValueError(f"tree has {k} leaves but taxonomy {c} classes: pass cluster_to_class")
        cluster_to_class = np.arange(k)
    mapping = _as_labels(cluster_to_class, "cluster_to_class")
    if len(mapping) != k:
        raise ValueError(f"cluster_to_class must have length {k}, got {len(mapping)}")
    keep = mapping != -1
    mapping = np.where(keep, mapping, 0)
    mapping = _as_ids(mapping, "cluster_to_class", upper=c)
    i, j = np.triu_indices(k, 1)
    both = keep[i] & keep[j]
    if both.sum() < 2:
        return math.nan
    import scipy.cluster.hierarchy as sch  # lazily: `import l2h` stays light

    learned = sch.cophenet(z)[both]
    i, j = i[both], j[both]
    truth = np.asarray(taxonomy.lca_depth(mapping[i], mapping[j]), dtype=np.float64)
    if np.ptp(learned) == 0 or np.ptp(truth) == 0:
        return math.nan
    import scipy.stats  # lazily: `import l2h` stays light

    return float(scipy.stats.spearmanr(-learned, truth).statistic)


# ----------------------------------------------------------------------------- all at once


def _level_labels(gt: Any, y_true: np.ndarray, levels: Sequence[str] | None) -> dict[str, Any]:
    """Per-point labels of each ground-truth level, from a Taxonomy or a mapping."""
    if isinstance(gt, Mapping):
        names = list(gt) if levels is None else list(levels)
        unknown = [name for name in names if name not in gt]
        if unknown:
            raise ValueError(f"unknown levels {unknown}; gt has {list(gt)}")
        out = {name: _as_labels(gt[name], f"gt[{name!r}]") for name in names}
        for name, labels in out.items():
            if len(labels) != len(y_true):
                raise ValueError(
                    f"gt[{name!r}] has {len(labels)} labels but y_true has {len(y_true)}"
                )
        return out
    names = gt.coarse_levels() if levels is None else list(levels)
    ids = _as_ids(y_true, "y_true", upper=int(gt.n_classes))
    return {name: gt.cut(name)[ids] for name in names}


_TAXONOMY_METHODS = ("n_classes", "coarse_levels", "cut", "mistake_distance", "lca_depth")


def evaluate(
    hierarchy: Any,
    y_true: Any,
    y_pred: Any = None,
    gt: Any = None,
    *,
    leaves: Leaves = "clusters",
    levels: Sequence[str] | None = None,
    n_leaves: int | None = None,
) -> dict[str, float]:
    """All scores of a hierarchy in one call, under stable key names.

    Keys:

    ``nmi``, ``ari``, ``acc``
        Flat scores of the leaves (:func:`nmi` arithmetic, :func:`ari`, :func:`acc`).
    ``lp``, ``dp``
        :func:`leaf_purity` and :func:`dendrogram_purity` against ``y_true``.
    ``nmi@L``, ``acc@L``, ``dp@L``
        :func:`level_scores` for every ground-truth level ``L`` (only when ``gt`` is given).
    ``mistake_severity``
        :func:`mistake_severity` of the cluster-to-class matched predictions (only when ``gt``
        is a Taxonomy).
    ``lca_spearman``
        :func:`lca_spearman` with clusters mapped by :func:`match_clusters` (only when ``gt``
        is a Taxonomy and ``leaves="clusters"``, K >= 3).

    With ``leaves="points"`` the flat prediction used by ``nmi, ari, acc, lp`` and
    ``mistake_severity`` is the cut of the tree into ``n_leaves`` groups (default: the number
    of distinct labels in ``y_true``); ``dp`` is computed on the full point-level tree.

    Parameters
    ----------
    hierarchy : Hierarchy or array_like
        The tree.
    y_true : array_like of shape (N,)
        True (finest) labels; class ids ``0..C-1`` of ``gt`` when ``gt`` is a Taxonomy.
    y_pred : array_like of shape (N,), optional
        Cluster id of each point (``leaves="clusters"``) or ``None`` (``leaves="points"``).
    gt : Taxonomy or mapping, optional
        Ground truth for the level-wise scores: a :class:`l2h.taxonomy.Taxonomy` over the classes
        of ``y_true`` (its :meth:`~l2h.taxonomy.Taxonomy.coarse_levels` are used) or a mapping
        from level name to per-point labels.
    leaves : {"clusters", "points"}, default "clusters"
        As in :func:`dendrogram_purity`.
    levels : sequence of str, optional
        Subset of level names to score; defaults to all coarse levels of ``gt``.
    n_leaves : int, optional
        Only for ``leaves="points"``: number of groups of the flat prediction.

    Returns
    -------
    dict of str to float
        Scores in the key order above.

    Raises
    ------
    ValueError
        On invalid inputs (see the individual metrics), such as labels of types that cannot
        be compared or a ``gt`` that is neither a Taxonomy nor a mapping.
    """
    _check_leaves(leaves)
    if gt is not None and not isinstance(gt, Mapping):
        _check_taxonomy(gt, "gt", _TAXONOMY_METHODS)
    z = as_linkage(hierarchy)
    y_true = _as_labels(y_true, "y_true")
    nc = _node_counts(z, y_true, y_pred, leaves)
    if leaves == "points":
        k = len(np.unique(y_true)) if n_leaves is None else int(n_leaves)
        flat = _flat_prediction(z, None, leaves, min(max(k, 1), _n_leaves(z)))
    else:
        if n_leaves is not None:
            raise ValueError('n_leaves is only used with leaves="points"')
        flat = _as_ids(y_pred, "y_pred", upper=_n_leaves(z))
    out: dict[str, float] = {
        "nmi": nmi(y_true, flat),
        "ari": ari(y_true, flat),
        "acc": acc(y_true, flat),
        "lp": _purity(y_true, flat),
        "dp": _dp_from_counts(nc),
    }
    if gt is None:
        return out
    for name, labels in _level_labels(gt, y_true, levels).items():
        for key, value in level_scores(z, labels, y_pred, leaves=leaves).items():
            out[f"{key}@{name}"] = value
    if not isinstance(gt, Mapping):
        out["mistake_severity"] = mistake_severity(gt, y_true, flat)
        if leaves == "clusters" and _n_leaves(z) >= 3:
            mapping = match_clusters(y_true, flat, n_clusters=_n_leaves(z))
            out["lca_spearman"] = lca_spearman(z, gt, mapping)
    return out
