"""Figures of the study: dendrograms, the K-sensitivity plot (paper Figure 5), per-level scores,
runtime.

Plotting uses matplotlib's object-oriented API on the Agg canvas (no pyplot state, no display
needed), with seaborn's palettes; both are imported only when a figure is drawn. Every name
shown is a display name (:mod:`l2h.names`). Every function saves to one path or several
(``["fig.png", "fig.pdf"]``), each in the format of its suffix, atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from l2h._figures import method_styles, save
from l2h._tree_plots import (
    TOP_VIEW_LEAVES,
    node_labels,
    plot_dendrogram,
    plot_dendrogram_radial,
    plot_dendrogram_top,
)
from l2h.names import display_name, method_label

__all__ = [
    "TOP_VIEW_LEAVES",
    "node_labels",
    "plot_dendrogram",
    "plot_dendrogram_radial",
    "plot_dendrogram_top",
    "plot_k_sensitivity",
    "plot_level_scores",
    "plot_runtime",
]


def _rows(metrics: Any, **equal: Any) -> Any:
    from l2h.results import validate_metrics

    rows = validate_metrics(metrics)
    for column, value in equal.items():
        rows = rows[rows[column] == value]
    return rows


def _score_axis(ax: Any, values: Any) -> None:
    """Scores from 0: up to 1 for scores in [0, 1], else a little above the largest value."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    top = 1.0 if values.size == 0 or values.max() <= 1.0 else float(values.max()) * 1.05
    ax.set_ylim(0.0, top * 1.02)
    ax.grid(axis="y", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def plot_k_sensitivity(
    metrics: Any,
    dataset: str,
    model: str,
    path: Any,
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

    One line per score (shaded band: ± one sample std over seeds) on one axis from 0 (to 1 for
    scores in [0, 1]), so that differences are not exaggerated; a dashed vertical line at the
    true K. Uses L2H rows at the ``class`` level.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A study's metrics (:func:`l2h.results.load_metrics`).
    dataset, model : str
        The K sweep to draw.
    path : path-like or sequence of path-like
        Output file(s); each format follows the suffix.
    scores : sequence of str, default ("nmi", "acc", "dp")
    true_k : int, optional
        Defaults to the dataset's number of classes (:func:`l2h.datasets.dataset_info`).
    backbone : str, optional
        Needed when the sweep exists for several backbones.
    aggregation, split : str
        Which L2H rows to use.
    title : str, optional
        Default: dataset, method and backbone by their display names.
    dpi : int, default 150
    note : str, optional
        A caption line under the figure (e.g. :data:`l2h.provenance.STAND_IN_NOTE`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure; its axes hold one line per score, then the true-K line.

    Raises
    ------
    ValueError
        If there are no matching rows, several backbones, or no known true K.
    """
    import seaborn as sns
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
    colors = sns.color_palette("colorblind", len(scores))
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    for score, color, marker in zip(scores, colors, "osD^v", strict=False):
        if score not in stats.index.get_level_values(0):
            continue
        s = stats.loc[score].sort_index()
        ks, mean, std = s.index.to_numpy(), s["mean"].to_numpy(), s["std"].fillna(0).to_numpy()
        name = display_name("metric", score)
        ax.plot(ks, mean, marker=marker, color=color, linewidth=2, label=name)
        ax.fill_between(ks, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
    ax.axvline(true_k, color="0.3", linestyle="--", linewidth=1, label=f"true K = {true_k}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of clusters K")
    ax.set_ylabel("score (mean ± std over seeds)")
    _score_axis(ax, rows["value"])
    fig.legend(loc="outside lower center", ncols=len(scores) + 1, frameon=False)
    shown = (
        f"{display_name('dataset', dataset)}: {method_label('l2h', model)} on "
        f"{display_name('backbone', backbones[0])}"
    )
    ax.set_title(title or f"{shown}\nsensitivity to the number of clusters K", fontsize=11)
    save(fig, path, dpi, note)
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
    path: Any,
    *,
    scores: Sequence[str] = ("nmi", "acc", "dp"),
    aggregation: str = "cluster_mean",
    split: str = "test",
    n_clusters: int | None = None,
    title: str | None = None,
    dpi: int = 150,
    note: str | None = None,
) -> Any:
    """Scores per ground-truth level, coarse to fine: one panel per score, one line per method.

    L2H runs are drawn in strong colours, thick, with markers; baselines in muted colours,
    thin; no colour is used twice (:func:`l2h._figures.method_styles`). The legend sits
    outside the panels, L2H first. Panels are stacked and share the level axis, so that 16
    WordNet depths stay readable.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A study's metrics.
    dataset : str
        A dataset with level-wise scores (e.g. CIFAR-100 superclasses, iNat21 levels).
    path : path-like or sequence of path-like
        Output file(s); each format follows the suffix.
    scores : sequence of str, default ("nmi", "acc", "dp")
    aggregation, split : str
        As in :func:`l2h.tables.level_table`.
    n_clusters : int, optional
        K to draw when the study has several for ``dataset``.
    title : str, optional
    dpi : int, default 150
    note : str, optional
        A caption line under the figure (e.g. :data:`l2h.provenance.STAND_IN_NOTE`).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per score; each holds one error-bar line per (method, model, backbone).

    Raises
    ------
    ValueError
        If the dataset has no level-wise scores.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from l2h.tables import format_table, level_table

    rows = _rows(metrics, dataset=dataset)
    chosen = None if n_clusters is None else {dataset: int(n_clusters)}
    table = level_table(
        rows, scores=scores, aggregation=aggregation, split=split, n_clusters=chosen
    )
    if table.empty:
        raise ValueError(f"no level-wise scores for dataset {dataset!r}")
    labels = format_table(table)["Method"].to_numpy()
    levels = list(dict.fromkeys(table["level"]))  # coarse to fine, class last
    x_of = {level: i for i, level in enumerate(levels)}
    is_l2h = dict(zip(labels, table["method"] == "l2h", strict=True))
    order = sorted(dict.fromkeys(labels), key=lambda lab: not is_l2h[lab])
    styles = method_styles(order, [is_l2h[lab] for lab in order])
    fig = Figure(figsize=(max(7.0, 4.0 + 0.42 * len(levels)), 1.2 + 2.3 * len(scores)))
    fig.set_layout_engine("constrained")
    axes = np.atleast_1d(fig.subplots(len(scores), 1, sharex=True))
    for ax, score in zip(axes, scores, strict=True):
        for label in order:
            part = table[labels == label]
            x = [x_of[level] for level in part["level"]]
            mean = part[f"{score}_mean"].to_numpy(dtype=float)
            std = part[f"{score}_std"].fillna(0).to_numpy(dtype=float)
            style = styles[label]
            ax.errorbar(
                x, mean, yerr=std, capsize=2 if style.marker else 0, elinewidth=0.8,
                **style.kwargs(),
            )  # fmt: skip
        ax.set_ylabel(display_name("metric", score))
        _score_axis(ax, table[f"{score}_mean"])
    axes[-1].set_xticks(range(len(levels)))
    axes[-1].set_xticklabels(
        [display_name("level", level) for level in levels],
        rotation=45 if len(levels) > 6 else 0,
        ha="right" if len(levels) > 6 else "center",
    )
    axes[-1].set_xlabel("level of the ground-truth hierarchy (coarse to fine)")
    handles = [Line2D([], [], **styles[lab].kwargs()) for lab in order]
    fig.legend(
        handles, order, loc="outside right center", frameon=False, fontsize=8,
        title="L2H (bold) and baselines", title_fontsize=8,
    )  # fmt: skip
    fig.suptitle(
        title or f"{display_name('dataset', dataset)}: scores per level (mean ± std over seeds)"
    )
    save(fig, path, dpi, note)
    return fig


def plot_runtime(
    rows: Any,
    path: Any,
    *,
    n_clusters: Any = None,
    title: str | None = None,
    dpi: int = 150,
    note: str | None = None,
) -> Any:
    """Wall time and peak memory per job (flat model training, L2H, baselines), per dataset.

    Two panels share the job axis: wall time (log scale) and peak memory, one marker per
    dataset at the dataset's main K (mean ± std over seeds). Training jobs come first, then L2H
    (bold labels), then the baselines.

    Parameters
    ----------
    rows : pandas.DataFrame
        Per-job rows of :func:`l2h.runtime.runtime_rows`.
    path : path-like or sequence of path-like
        Output file(s); each format follows the suffix.
    n_clusters : mapping of str to int, optional
        K to draw per dataset when there are several (default: the dataset's number of
        classes, as in :func:`l2h.tables.table1`).
    title : str, optional
    dpi : int, default 150
    note : str, optional
        A caption line under the figure.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes (time, memory); each holds one error-bar series per dataset.
    """
    import seaborn as sns
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from l2h.runtime import job_label, runtime_table
    from l2h.tables import _select_k

    table = runtime_table(_select_k(rows, n_clusters))
    if table.empty:
        raise ValueError("no benchmark rows to draw")
    table["job"] = [
        job_label(m, mo, a)
        for m, mo, a in zip(table["method"], table["model"], table["aggregation"], strict=True)
    ]
    jobs = list(dict.fromkeys(table["job"]))
    y_of = {job: i for i, job in enumerate(jobs)}
    datasets = list(dict.fromkeys(table["dataset"]))
    colors = sns.color_palette("colorblind", len(datasets))
    fig = Figure(figsize=(10.0, 1.6 + 0.28 * len(jobs)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    offsets = np.linspace(-0.2, 0.2, len(datasets)) if len(datasets) > 1 else [0.0]
    for color, offset, dataset, marker in zip(colors, offsets, datasets, "osD^vPX", strict=False):
        part = table[table["dataset"] == dataset]
        y = np.array([y_of[job] for job in part["job"]]) + offset
        name = display_name("dataset", dataset)
        for ax, column in zip(axes, ("wall_s", "max_rss_mb"), strict=True):
            ax.errorbar(
                part[f"{column}_mean"], y, xerr=part[f"{column}_std"].fillna(0), fmt=marker,
                color=color, markersize=5, capsize=2, linewidth=0.8, label=name,
            )  # fmt: skip
    axes[0].set_xscale("log")
    low = max(float(np.nanmin(table["wall_s_mean"])), 1e-3)  # a 0 s job stays on the axis
    high = max(float(np.nanmax(table["wall_s_mean"])), low)
    # whole decades, so that the axis shows at least two labelled powers of ten
    axes[0].set_xlim(10 ** np.floor(np.log10(low)), 10 ** np.ceil(np.log10(high * 1.5)))
    seconds = FuncFormatter(lambda value, _: f"{value:g}")  # 0.4, 1, 10 rather than 4x10^-1
    axes[0].xaxis.set_major_formatter(seconds)
    axes[0].xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    axes[0].set_xlabel("wall time (s, log scale)")
    axes[1].set_xlabel("peak memory (MB)")
    axes[1].set_xlim(left=0)
    axes[0].set_yticks(range(len(jobs)))
    axes[0].set_yticklabels(jobs, fontsize=8)
    axes[0].invert_yaxis()
    l2h_jobs = set(table.loc[table["method"] == "l2h", "job"])
    for tick in axes[0].get_yticklabels():
        tick.set_fontweight("bold" if tick.get_text() in l2h_jobs else "normal")
    for ax in axes:
        ax.grid(axis="x", color="0.9")
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", frameon=False, title="dataset")
    fig.suptitle(title or "Runtime per job: flat model training, L2H (bold) and baselines")
    save(fig, path, dpi, note)
    return fig
