"""Flat groupings shared by trees and taxonomies: numbering by first appearance, tree cuts."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["cut_linkage", "first_appearance"]


def first_appearance(raw: Any) -> np.ndarray:
    """Relabel values to ``0..G-1`` in order of first appearance.

    >>> first_appearance([7, 7, 3, 9, 3]).tolist()
    [0, 0, 1, 2, 1]
    """
    uniques, first, inverse = np.unique(np.asarray(raw), return_index=True, return_inverse=True)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(uniques))
    return rank[inverse.reshape(-1)]


def cut_linkage(z: np.ndarray, n_groups: int) -> np.ndarray:
    """Group of every leaf of a linkage matrix after its first ``K - n_groups`` rows (merges).

    Parameters
    ----------
    z : numpy.ndarray
        A valid ``(K-1, 4)`` scipy linkage matrix; its rows are applied in stored order.
    n_groups : int
        Number of groups, in ``1..K``.

    Returns
    -------
    numpy.ndarray
        int64 array of length K: group ids ``0..n_groups-1`` numbered by first appearance over
        leaves ``0..K-1`` (leaf 0 is always in group 0).

    Raises
    ------
    ValueError
        If ``n_groups`` is not an integer in ``1..K``.
    """
    k = z.shape[0] + 1
    if isinstance(n_groups, bool) or int(n_groups) != n_groups or not 1 <= n_groups <= k:
        raise ValueError(f"n_groups must be an integer in 1..{k}, got {n_groups!r}")
    owner = np.arange(2 * k - 1, dtype=np.int64)
    for i, (a, b) in enumerate(z[: k - int(n_groups), :2].astype(np.int64)):
        owner[a] = owner[b] = k + i
    # Resolve every leaf to the root of its merged group (parents have larger ids).
    for node in range(2 * k - 2, -1, -1):
        owner[node] = owner[owner[node]]
    return first_appearance(owner[:k])
