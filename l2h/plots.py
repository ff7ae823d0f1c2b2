"""Figures of the study: dendrograms, the K-sensitivity plot (paper Figure 5), per-level scores.

Plotting uses matplotlib's object-oriented API on the Agg canvas (no pyplot state, no display
needed); matplotlib is imported only when a figure is drawn. Leaf labels usually come from
:func:`l2h.metrics.cluster_names`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from l2h.io import open_output
from l2h.names import display_name, method_label

__all__ = ["plot_dendrogram", "plot_dendrogram_top", "plot_k_sensitivity", "plot_level_scores"]


def plot_dendrogram(
    hierarchy: Any,
    labels: Sequence[str],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    max_leaves: int = 60,
    dpi: int = 150,
    note: str | None = None,
) -> None:
    """Draw the dendrogram of a tree and save it as an image, atomically.

    Parameters
    ----------
    hierarchy : Hierarchy
        Any object with ``linkage()`` returning a scipy linkage matrix (``n_clusters`` rows
        plus one), such as :class:`l2h.Hierarchy`.
    labels : sequence of str
        One label per leaf cluster (e.g. from :func:`l2h.metrics.cluster_names`).
    path : path-like
        Output image; the format follows the suffix (``.png``, ``.pdf``, ``.svg``).
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
    _save(fig, path, dpi, note)


def _save(fig: Any, path: str | os.PathLike, dpi: int, note: str | None = None) -> None:
    """Save a figure atomically, ``note`` as a caption under it; format from the suffix."""
    if note:
        fig.supxlabel(note, color="#b00000", fontsize=9, fontweight="bold")
    suffix = os.path.splitext(os.fspath(path))[1]
    with open_output(path, "wb") as fh:
        fig.savefig(fh, format=suffix.lstrip(".") or "png", dpi=dpi)


def _is_merge_order(z: np.ndarray) -> bool:
    """Whether the heights are the default merge order 1, 2, ..., K-1."""
    return bool(np.array_equal(z[:, 2], np.arange(1, z.shape[0] + 1)))


def plot_dendrogram_top(
    hierarchy: Any,
    path: str | os.PathLike,
    *,
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str],
    n_merges: int = 30,
    title: str | None = None,
    dpi: int = 150,
    note: str | None = None,
) -> Any:
    """Draw only the top of a large tree: its last ``n_merges`` merges, atomically saved.

    The ``n_merges + 1`` subtrees below the drawn merges become leaves, each labelled with the
    majority class of its points, that class's share and its number of clusters (for example
    ``dog (62%, 12 clusters)``), so trees with 100 or 1000 leaves stay readable.

    Parameters
    ----------
    hierarchy : Hierarchy
        Any object with ``linkage()`` returning a scipy linkage matrix over K clusters.
    path : path-like
        Output image; the format follows the suffix.
    y_true : array_like of shape (N,)
        Class id ``0..C-1`` of each point.
    y_pred : array_like of shape (N,)
        Cluster id ``0..K-1`` of each point (the argmax of the logits).
    class_names : sequence of str
        Name of each class id.
    n_merges : int, default 30
        Number of top merges drawn (all of them when the tree has fewer).
    title : str, optional
    dpi : int, default 150
    note : str, optional
        A caption line under the figure (as in :func:`plot_dendrogram`).

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure.

    Raises
    ------
    ValueError
        If the labels do not fit the tree or ``n_merges < 1``.
    """
    import scipy.cluster.hierarchy as sch
    from matplotlib.figure import Figure

    from l2h.metrics import node_class_counts

    z = np.asarray(hierarchy.linkage(), dtype=np.float64)
    counts = node_class_counts(z, y_true, y_pred, len(class_names))
    if n_merges < 1:
        raise ValueError(f"n_merges must be >= 1, got {n_merges}")
    n_leaves = z.shape[0] + 1
    shown = min(n_merges + 1, n_leaves)
    fig = Figure(figsize=(7.5, 1.5 + 0.28 * shown), layout="constrained")
    ax = fig.subplots()
    if n_leaves > 1:
        sch.dendrogram(
            z,
            ax=ax,
            orientation="left",
            truncate_mode="lastp",
            p=shown,
            show_contracted=False,
            leaf_label_func=lambda node: _node_label(node, counts, z, class_names),
            color_threshold=0,
            above_threshold_color="0.2",
            leaf_font_size=9,
        )
    ax.set_xlabel("merge step" if _is_merge_order(z) else "height")
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.set_title(title or f"top {shown - 1} merges of {n_leaves} clusters")
    _save(fig, path, dpi, note)
    return fig


def _node_label(node: int, counts: np.ndarray, z: np.ndarray, names: Sequence[str]) -> str:
    n_leaves = z.shape[0] + 1
    size = 1 if node < n_leaves else int(z[node - n_leaves, 3])
    row = counts[node]
    clusters = f"{size} clusters" if size > 1 else "1 cluster"
    if row.sum() == 0:
        return f"(empty, {clusters})"
    top = int(np.argmax(row))
    return f"{names[top]} ({row[top] / row.sum():.0%}, {clusters})"


def _rows(metrics: Any, **equal: Any) -> Any:
    from l2h.results import validate_metrics

    rows = validate_metrics(metrics)
    for column, value in equal.items():
        rows = rows[rows[column] == value]
    return rows


def plot_k_sensitivity(
    metrics: Any,
    dataset: str,
    model: str,
    path: str | os.PathLike,
    *,
    scores: Sequence[str] = ("nmi", "acc", "dp"),
    true_k: int | None = None,
    backbone: str | None = None,
    aggregation: str = "cluster_mean",
    split: str = "test",
    title: str | None = None,
    dpi: int = 150,
    note: str | None = None,
) -> Any:
    """Scores against the number of clusters K (paper Figure 5), mean ± std over seeds.

    One line per score (shaded band: ± one sample std over seeds), and a dashed vertical line at
    the true K. Uses L2H rows at the ``class`` level.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A study's metrics (:func:`l2h.results.load_metrics`).
    dataset, model : str
        The K sweep to draw.
    path : path-like
        Output image; the format follows the suffix.
    scores : sequence of str, default ("nmi", "acc", "dp")
    true_k : int, optional
        Defaults to the dataset's number of classes (:func:`l2h.datasets.dataset_info`).
    backbone : str, optional
        Needed when the sweep exists for several backbones.
    aggregation, split : str
        Which L2H rows to use.
    title : str, optional
    dpi : int, default 150
    note : str, optional
        A caption line under the figure (as in :func:`plot_dendrogram`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure; its axes hold one line per score, then the true-K line.

    Raises
    ------
    ValueError
        If there are no matching rows, several backbones, or no known true K.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = _rows(metrics, dataset=dataset, model=model, method="l2h", split=split, level="class")
    rows = rows[(rows["aggregation"] == aggregation) & rows["metric"].isin(list(scores))]
    if backbone is not None:
        rows = rows[rows["backbone"] == backbone]
    if rows.empty:
        raise ValueError(f"no L2H rows for dataset {dataset!r}, model {model!r} ({aggregation})")
    backbones = sorted(rows["backbone"].unique())
    if len(backbones) > 1:
        raise ValueError(f"several backbones {backbones}; pass backbone=")
    true_k = _true_k(dataset) if true_k is None else int(true_k)
    stats = rows.groupby(["metric", "n_clusters"])["value"].agg(["mean", "std"])
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.subplots()
    for score in scores:
        if score not in stats.index.get_level_values(0):
            continue
        s = stats.loc[score].sort_index()
        ks, mean, std = s.index.to_numpy(), s["mean"].to_numpy(), s["std"].fillna(0).to_numpy()
        ax.plot(ks, mean, marker="o", label=display_name("metric", score))
        ax.fill_between(ks, mean - std, mean + std, alpha=0.2)
    ax.axvline(true_k, color="0.3", linestyle="--", label=f"true K = {true_k}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of clusters K")
    ax.set_ylabel("score")
    ax.legend()
    shown_as = f"{display_name('dataset', dataset)}, {method_label('l2h', model)}"
    ax.set_title(title or f"{shown_as}: sensitivity to K")
    _save(fig, path, dpi, note)
    return fig


def _true_k(dataset: str) -> int:
    from l2h.datasets import dataset_info

    try:
        return dataset_info(dataset).n_classes
    except KeyError:
        raise ValueError(f"unknown true K for dataset {dataset!r}; pass true_k=") from None


def plot_level_scores(
    metrics: Any,
    dataset: str,
    path: str | os.PathLike,
    *,
    scores: Sequence[str] = ("nmi", "acc", "dp"),
    aggregation: str = "cluster_mean",
    split: str = "test",
    n_clusters: int | None = None,
    title: str | None = None,
    dpi: int = 150,
    note: str | None = None,
) -> Any:
    """Scores per ground-truth level, coarse to fine (one panel per score, one line per method).

    Parameters
    ----------
    metrics : pandas.DataFrame
        A study's metrics.
    dataset : str
        A dataset with level-wise scores (e.g. CIFAR-100 superclasses, iNat21 levels).
    path : path-like
        Output image; the format follows the suffix.
    scores : sequence of str, default ("nmi", "acc", "dp")
    aggregation, split : str
        As in :func:`l2h.tables.level_table`.
    n_clusters : int, optional
        K to draw when the study has several for ``dataset``.
    title : str, optional
    dpi : int, default 150
    note : str, optional
        A caption line under the figure (as in :func:`plot_dendrogram`).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per score; each holds one line per (method, model, backbone).

    Raises
    ------
    ValueError
        If the dataset has no level-wise scores.
    """
    from matplotlib.figure import Figure

    from l2h.tables import format_table, level_table

    rows = _rows(metrics, dataset=dataset)
    chosen = None if n_clusters is None else {dataset: int(n_clusters)}
    table = level_table(
        rows, scores=scores, aggregation=aggregation, split=split, n_clusters=chosen
    )
    if table.empty:
        raise ValueError(f"no level-wise scores for dataset {dataset!r}")
    labels = format_table(table)["Method"] + " / " + table["backbone"]
    fig = Figure(figsize=(4.0 * len(scores), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(scores), sharey=True))
    for ax, score in zip(axes, scores, strict=True):
        for label in dict.fromkeys(labels):
            part = table[labels == label]
            mean = part[f"{score}_mean"].to_numpy(dtype=float)
            std = part[f"{score}_std"].fillna(0).to_numpy(dtype=float)
            ax.errorbar(list(part["level"]), mean, yerr=std, marker="o", capsize=3, label=label)
        ax.set_title(display_name("metric", score))
        ax.set_xlabel("level (coarse to fine)")
        ax.tick_params(axis="x", labelrotation=30)
    axes[0].set_ylabel("score")
    axes[0].legend(fontsize=8)
    fig.suptitle(title or f"{display_name('dataset', dataset)}: scores per level")
    _save(fig, path, dpi, note)
    return fig
