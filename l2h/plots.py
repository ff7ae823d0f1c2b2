"""Figures of the study: dendrograms of L2H trees labelled with class names.

Plotting uses matplotlib's object-oriented API on the Agg canvas (no pyplot state, no display
needed); matplotlib is imported only when a figure is drawn. Leaf labels usually come from
:func:`l2h.data.cluster_names`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from l2h.io import atomic_path

__all__ = ["plot_dendrogram"]


def plot_dendrogram(
    hierarchy: Any,
    labels: Sequence[str],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    max_leaves: int = 60,
    dpi: int = 150,
) -> None:
    """Draw the dendrogram of a tree and save it as an image, atomically.

    Parameters
    ----------
    hierarchy : Hierarchy
        Any object with ``linkage()`` returning a scipy linkage matrix (``n_clusters`` rows
        plus one), such as :class:`l2h.Hierarchy`.
    labels : sequence of str
        One label per leaf cluster (e.g. from :func:`l2h.data.cluster_names`).
    path : path-like
        Output image; the format follows the suffix (``.png``, ``.pdf``, ``.svg``).
    title : str, optional
        Figure title.
    max_leaves : int, default 60
        Trees with more leaves show only their top ``max_leaves`` nodes (scipy's ``lastp``
        truncation; collapsed nodes show their number of clusters in brackets).
    dpi : int, default 150
        Resolution of raster formats.

    Raises
    ------
    ValueError
        If the number of labels differs from the number of leaves.
    """
    import scipy.cluster.hierarchy as sch
    from matplotlib.figure import Figure

    z = np.asarray(hierarchy.linkage(), dtype=np.float64)
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
    ax.set_xlabel("merge step" if _is_merge_order(z) else "height")
    ax.spines[["top", "right", "left"]].set_visible(False)
    if title:
        ax.set_title(title)
    suffix = os.path.splitext(os.fspath(path))[1]
    with atomic_path(path, suffix=suffix) as tmp:
        fig.savefig(tmp, format=suffix.lstrip(".") or "png", dpi=dpi)


def _is_merge_order(z: np.ndarray) -> bool:
    """Whether the heights are the default merge order 1, 2, ..., K-1."""
    return bool(np.array_equal(z[:, 2], np.arange(1, z.shape[0] + 1)))
