"""Dendrogram figures, readable at K = 10, 100 and 1000 (re-exported by :mod:`l2h.plots`).

- :func:`plot_dendrogram_top`: the top of a tree, its last merges drawn and the subtrees below
  them collapsed into leaves, each labelled with its majority class, that class's share of its
  points, its number of points and of clusters; the whole tree when it is small.
- :func:`plot_dendrogram_radial`: the whole tree in a circle, its top-level groups coloured (the
  same colours as in the top view) and named in a legend, every leaf labelled (small print:
  zoom into the PDF at large K).
- :func:`plot_dendrogram`: the whole tree with given leaf labels (scipy's truncation beyond
  ``max_leaves``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from l2h._figures import NEUTRAL, group_colors, save

__all__ = [
    "TOP_VIEW_LEAVES",
    "node_labels",
    "plot_dendrogram",
    "plot_dendrogram_radial",
    "plot_dendrogram_top",
]

#: Trees with more leaves are drawn as a top view (their last ``TOP_VIEW_LEAVES - 1`` merges)
#: plus a radial view of the whole tree; smaller trees are drawn whole.
TOP_VIEW_LEAVES = 40
#: Number of top-level groups coloured in both views (the tree cut into this many subtrees).
N_GROUPS = 10


def _linkage(hierarchy: Any) -> np.ndarray:
    return np.asarray(hierarchy.linkage(), dtype=np.float64)


def _is_merge_order(z: np.ndarray) -> bool:
    """Whether the heights are the default merge order 1, 2, ..., K-1."""
    return bool(np.array_equal(z[:, 2], np.arange(1, z.shape[0] + 1)))


def _height_label(z: np.ndarray) -> str:
    return f"merge step (of {z.shape[0]})" if _is_merge_order(z) else "height"


def _node_sizes(z: np.ndarray) -> np.ndarray:
    """Number of leaf clusters under each node (leaves ``0..K-1``, merge ``i`` as ``K+i``)."""
    return np.concatenate([np.ones(z.shape[0] + 1, dtype=np.int64), z[:, 3].astype(np.int64)])


def node_labels(
    z: np.ndarray,
    counts: np.ndarray,
    class_names: Sequence[str],
    leaf_classes: Sequence[int] | None = None,
) -> list[str]:
    """A label for every node of a tree over clusters: class name, share, points, clusters.

    A leaf reads ``Pullover (c5): 87% of 312``: its majority class (or ``leaf_classes[k]``, the
    classifier's class in the supervised setting), that class's share of its points and its
    number of points. A subtree reads ``dog: 62% of 8,400, 12 clusters``. A node without points
    reads ``empty (c5)`` or ``empty, 12 clusters``.

    Parameters
    ----------
    z : ndarray of shape (K-1, 4)
        The tree's linkage matrix.
    counts : ndarray of shape (2K-1, C)
        Points of each class under each node (:func:`l2h.metrics.node_class_counts`).
    class_names : sequence of str
        Name of each class.
    leaf_classes : sequence of int, optional
        The class each leaf stands for (default: its majority class).

    Returns
    -------
    list of str
        ``2K-1`` labels, scipy's node numbering.
    """
    n_leaves = z.shape[0] + 1
    sizes = _node_sizes(z)
    labels = []
    for node, row in enumerate(counts):
        total = int(row.sum())
        is_leaf = node < n_leaves
        tail = f" (c{node})" if is_leaf else ""
        if is_leaf and leaf_classes is not None:
            top = int(leaf_classes[node])
        elif total:
            top = int(np.argmax(row))
        else:
            top = -1
        clusters = "" if is_leaf else f", {int(sizes[node])} clusters"
        if total == 0:
            name = class_names[top] if top >= 0 else "empty"
            labels.append(f"{name}{tail}: no points{clusters}")
            continue
        share = row[top] / total
        labels.append(f"{class_names[top]}{tail}: {share:.0%} of {total:,}{clusters}")
    return labels


def _groups(z: np.ndarray, n_groups: int) -> tuple[list[int], np.ndarray]:
    """The roots of the tree cut into ``n_groups`` subtrees, and each node's group (-1 above
    the cut)."""
    n_leaves = z.shape[0] + 1
    n_groups = max(1, min(n_groups, n_leaves))
    top = set(range(2 * n_leaves - n_groups, 2 * n_leaves - 1))  # the last n_groups-1 merges
    children = z[:, :2].astype(np.int64)
    roots = sorted({int(c) for node in top for c in children[node - n_leaves]} - top)
    if not top:
        roots = [2 * n_leaves - 2] if n_leaves > 1 else [0]
    group = np.full(2 * n_leaves - 1, -1, dtype=np.int64)
    for g, root in enumerate(roots):
        stack = [root]
        while stack:
            node = stack.pop()
            group[node] = g
            if node >= n_leaves:
                stack += [int(c) for c in children[node - n_leaves]]
    return roots, group


def _counts(hierarchy: Any, y_true: Any, y_pred: Any, n_classes: int) -> np.ndarray:
    from l2h.metrics import node_class_counts

    return node_class_counts(_linkage(hierarchy), y_true, y_pred, n_classes)


def plot_dendrogram_top(
    hierarchy: Any,
    path: Any,
    *,
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str],
    n_merges: int = TOP_VIEW_LEAVES - 1,
    leaf_classes: Sequence[int] | None = None,
    n_groups: int = N_GROUPS,
    title: str | None = None,
    dpi: int = 150,
    note: str | None = None,
) -> Any:
    """Draw the top of a tree: its last ``n_merges`` merges (the whole tree when it is small).

    The ``n_merges + 1`` subtrees below the drawn merges become leaves, labelled by
    :func:`node_labels` (``dog: 62% of 8,400, 12 clusters``), so that trees with 100 or 1000
    leaves stay readable. The merge axis spans the drawn merges only. Branches and labels are
    coloured by the tree's top ``n_groups`` subtrees, as in :func:`plot_dendrogram_radial`.

    Parameters
    ----------
    hierarchy : Hierarchy
        Any object with ``linkage()`` returning a scipy linkage matrix over K clusters.
    path : path-like or sequence of path-like
        Output file(s); each format follows the suffix (``.png``, ``.pdf``, ``.svg``).
    y_true : array_like of shape (N,)
        Class id ``0..C-1`` of each point.
    y_pred : array_like of shape (N,)
        Cluster id ``0..K-1`` of each point (the argmax of the logits).
    class_names : sequence of str
        Name of each class id.
    n_merges : int, default ``TOP_VIEW_LEAVES - 1``
        Number of top merges drawn (all of them when the tree has fewer).
    leaf_classes : sequence of int, optional
        The class each leaf stands for (the supervised setting: leaf ``k`` is class ``k``).
    n_groups : int, default 10
        Top-level subtrees given their own colour.
    title : str, optional
    dpi : int, default 150
    note : str, optional
        A caption line under the figure (e.g. :data:`l2h.provenance.STAND_IN_NOTE`).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the labels do not fit the tree or ``n_merges < 1``.
    """
    import scipy.cluster.hierarchy as sch
    from matplotlib.figure import Figure

    z = _linkage(hierarchy)
    counts = _counts(hierarchy, y_true, y_pred, len(class_names))
    if n_merges < 1:
        raise ValueError(f"n_merges must be >= 1, got {n_merges}")
    n_leaves = z.shape[0] + 1
    shown = min(n_merges + 1, n_leaves)
    labels = node_labels(z, counts, class_names, leaf_classes)
    _, group = _groups(z, n_groups)
    colors = group_colors(int(group.max()) + 1)

    def color(node: int) -> Any:
        return NEUTRAL if group[node] < 0 else colors[group[node]]

    fig = Figure(figsize=(8.5, 1.4 + 0.27 * shown), layout="constrained")
    ax = fig.subplots()
    if n_leaves > 1:
        drawn = sch.dendrogram(
            z,
            ax=ax,
            orientation="left",
            truncate_mode="lastp" if shown < n_leaves else None,
            p=shown,
            show_contracted=False,
            leaf_label_func=lambda node: labels[node],
            link_color_func=lambda node: _hex(color(node)),
            leaf_font_size=9,
        )
        for tick, node in zip(ax.get_yticklabels(), drawn["leaves"], strict=True):
            tick.set_color(color(node))
        lowest = z[n_leaves - shown, 2] if shown < n_leaves else 0.0
        pad = 0.03 * (z[-1, 2] - lowest) + (0.5 if shown < n_leaves else 0.0)
        ax.set_xlim(z[-1, 2] + pad, max(lowest - pad, 0.0))
    else:
        ax.text(0.5, 0.5, labels[0], ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlabel(_height_label(z))
    ax.spines[["top", "right", "left"]].set_visible(False)
    whole = shown == n_leaves
    what = f"all {n_leaves} clusters" if whole else f"top {shown - 1} merges of {n_leaves} clusters"
    ax.set_title(f"{title}\n{what}" if title else what, fontsize=11, pad=16)
    key = "leaf: majority class: its share of the points, points" + (
        "" if whole else "; collapsed subtree: the same, clusters"
    )
    ax.text(
        1.0, 1.0, key, transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="0.35"
    )
    save(fig, path, dpi, note)
    return fig


def _hex(color: Any) -> str:
    from matplotlib.colors import to_hex

    return to_hex(color)


def plot_dendrogram_radial(
    hierarchy: Any,
    path: Any,
    *,
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str],
    leaf_classes: Sequence[int] | None = None,
    n_groups: int = N_GROUPS,
    title: str | None = None,
    dpi: int = 200,
    note: str | None = None,
) -> Any:
    """Draw a whole tree in a circle: root in the centre, the K leaves around it.

    The top ``n_groups`` subtrees are coloured (the colours of :func:`plot_dendrogram_top`) and,
    unless each is a single leaf, named in the legend by :func:`node_labels`; every leaf carries
    its label in print small enough to fit (zoom into the PDF at K = 1000).

    Parameters
    ----------
    hierarchy, path, y_true, y_pred, class_names, leaf_classes, n_groups, title, note
        As in :func:`plot_dendrogram_top`.
    dpi : int, default 200

    Returns
    -------
    matplotlib.figure.Figure
        Its first axes is the polar plot of the tree.
    """
    import scipy.cluster.hierarchy as sch
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    z = _linkage(hierarchy)
    n_leaves = z.shape[0] + 1
    if n_leaves < 2:
        raise ValueError("a radial dendrogram needs at least 2 leaves")
    counts = _counts(hierarchy, y_true, y_pred, len(class_names))
    labels = node_labels(z, counts, class_names, leaf_classes)
    roots, group = _groups(z, n_groups)
    colors = group_colors(len(roots))
    tree = sch.dendrogram(z, no_plot=True)
    height = z[-1, 2] or 1.0

    def angle(x: Any) -> Any:  # leaf i (x = 5 + 10 i) at the middle of the i-th of K sectors
        return 2 * np.pi * ((np.asarray(x) - 5) / 10 + 0.5) / n_leaves

    def radius(h: Any) -> Any:
        return 0.03 + 0.97 * (1 - np.asarray(h) / height)

    paths, link_colors = [], []
    for node, (xs, ys) in _links(z, tree["leaves"]).items():
        arc = np.linspace(angle(xs[1]), angle(xs[2]), 24)
        theta = np.concatenate([[angle(xs[0])], arc, [angle(xs[3])]])
        r = np.concatenate([[radius(ys[0])], np.full(arc.size, radius(ys[1])), [radius(ys[3])]])
        paths.append(np.column_stack([theta, r]))
        link_colors.append(NEUTRAL if group[node] < 0 else colors[group[node]])
    fig = Figure(figsize=(12.0, 9.5), layout="constrained")
    ax = fig.add_subplot(projection="polar")
    width = float(np.clip(60 / n_leaves, 0.35, 1.5))
    ax.add_collection(LineCollection(paths, colors=link_colors, linewidths=width))
    size = float(np.clip(420 / n_leaves, 1.2, 8.0))
    for i, leaf in enumerate(tree["leaves"]):
        theta = float(angle(5 + 10 * i))
        degrees = math.degrees(theta)
        flip = 90 < degrees < 270
        ax.text(
            theta,
            1.015,
            labels[leaf],
            rotation=degrees + (180 if flip else 0),
            rotation_mode="anchor",
            ha="right" if flip else "left",
            va="center",
            fontsize=size,
            color=NEUTRAL if group[leaf] < 0 else colors[group[leaf]],
        )
    ax.set_ylim(0, 1.0)
    ax.set_axis_off()
    if len(roots) < n_leaves:  # else every group is one leaf, labelled already
        handles = [Patch(color=c, label=labels[r]) for r, c in zip(roots, colors, strict=True)]
        fig.legend(
            handles=handles,
            loc="outside right center",
            title=f"top {len(roots)} subtrees\n(majority class: share, points, clusters)",
            fontsize=8,
            title_fontsize=8,
            frameon=False,
        )
    what = f"whole tree, {n_leaves} clusters"
    fig.suptitle(f"{title}\n{what}" if title else what, fontsize=11)
    save(fig, path, dpi, note)
    return fig


def _links(z: np.ndarray, leaves: Sequence[int]) -> dict[int, tuple[list, list]]:
    """The U-shaped link of every merge node, as scipy draws it: ``(xs, ys)`` of its four
    corners, leaves at ``x = 5, 15, 25, ...`` in the order ``leaves`` and height 0, a merge at
    the middle of its children."""
    n_leaves = z.shape[0] + 1
    x = {int(leaf): 5.0 + 10.0 * i for i, leaf in enumerate(leaves)}
    y = dict.fromkeys(range(n_leaves), 0.0)
    links = {}
    for i, (a, b) in enumerate(z[:, :2].astype(np.int64)):
        node, a, b = n_leaves + i, int(a), int(b)
        x[node], y[node] = (x[a] + x[b]) / 2, float(z[i, 2])
        links[node] = ([x[a], x[a], x[b], x[b]], [y[a], y[node], y[node], y[b]])
    return links


def plot_dendrogram(
    hierarchy: Any,
    labels: Sequence[str],
    path: Any,
    *,
    title: str | None = None,
    max_leaves: int = 60,
    dpi: int = 150,
    note: str | None = None,
) -> None:
    """Draw the dendrogram of a tree with given leaf labels and save it, atomically.

    Parameters
    ----------
    hierarchy : Hierarchy
        Any object with ``linkage()`` returning a scipy linkage matrix (``n_clusters`` rows
        plus one), such as :class:`l2h.Hierarchy`.
    labels : sequence of str
        One label per leaf cluster (e.g. from :func:`l2h.metrics.cluster_names`).
    path : path-like or sequence of path-like
        Output file(s); each format follows the suffix (``.png``, ``.pdf``, ``.svg``).
    title : str, optional
        Figure title.
    max_leaves : int, default 60
        Trees with more leaves show only their top ``max_leaves`` nodes (scipy's ``lastp``
        truncation; collapsed nodes show their number of clusters in brackets).
    dpi : int, default 150
        Resolution of raster formats.
    note : str, optional
        A caption line under the figure (e.g. :data:`l2h.provenance.STAND_IN_NOTE` for a rehearsal).

    Raises
    ------
    ValueError
        If the number of labels differs from the number of leaves.
    """
    import scipy.cluster.hierarchy as sch
    from matplotlib.figure import Figure

    z = _linkage(hierarchy)
    n_leaves = z.shape[0] + 1
    labels = [str(label) for label in labels]
    if len(labels) != n_leaves:
        raise ValueError(f"got {len(labels)} labels for a tree with {n_leaves} leaves")
    shown = min(n_leaves, max_leaves)
    fig = Figure(figsize=(7.0, 1.5 + 0.25 * shown), layout="constrained")
    ax = fig.subplots()
    if n_leaves > 1:
        sch.dendrogram(
            z,
            ax=ax,
            labels=labels,
            orientation="left",
            truncate_mode="lastp" if n_leaves > max_leaves else None,
            p=shown,
            color_threshold=0,
            above_threshold_color="0.2",
            leaf_font_size=9,
        )
    else:
        ax.text(0.5, 0.5, labels[0], ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlabel(_height_label(z))
    ax.spines[["top", "right", "left"]].set_visible(False)
    if title:
        ax.set_title(title)
    save(fig, path, dpi, note)
