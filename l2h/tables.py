"""The paper's tables from a study's tidy ``metrics.csv``, with the published numbers beside ours.

A study writes one long table, ``results/<study>/metrics.csv``, with the columns
:data:`l2h.results.COLUMNS` (one score per row). The functions here turn it into the paper's tables:

- :func:`table1`: hierarchical clustering (NMI, ARI, ACC, DP, LP), mean +- std over seeds, with
  the paper's numbers (:func:`load_paper_numbers`) quoted beside ours;
- :func:`table7`: the aggregation ablation (``cluster_mean`` vs ``point_sum`` vs ``point_mean``);
- :func:`level_table`: scores per ground-truth level (the iNaturalist21 level table);
- :func:`supervised_table`: L2H on a supervised classifier's logits (``model="supervised"``).

Every table is a "wide" DataFrame: key columns, ``n_seeds``, then ``<metric>_mean`` and
``<metric>_std`` per metric and, where paper numbers are joined, ``<metric>_paper``,
``<metric>_paper_source`` (a tag: ``S``, ``X``, ``S+X``) and ``<metric>_paper_verified``.
:func:`to_csv` writes it as it is; :func:`to_markdown` and :func:`to_latex` print
``mean ± std`` cells and mark quoted cells (and unverified ones). No pandas extras are needed
(neither ``jinja2`` nor ``tabulate``).

>>> import pandas as pd
>>> from l2h.results import COLUMNS
>>> rows = [("d", "b", "kmeans", "l2h", "cluster_mean", 3, s, "test", "class", "nmi", v)
...         for s, v in [(0, 0.5), (1, 0.7)]]
>>> t = table1(pd.DataFrame(rows, columns=COLUMNS))
>>> print(round(t.loc[0, "nmi_mean"], 3), round(t.loc[0, "nmi_std"], 3))
0.6 0.141
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from l2h import _render
from l2h._render import Document, Part
from l2h.io import atomic_write_text
from l2h.names import display_name, method_label
from l2h.results import L2H_METHOD, load_metrics, numeric_column, validate_metrics

__all__ = [
    "LOWER_IS_BETTER",
    "NO_ROWS",
    "PAPER_COLUMNS",
    "TABLE1_METRICS",
    "TABLES",
    "TABLE_FORMATS",
    "TableSpec",
    "document",
    "format_table",
    "level_table",
    "load_paper_numbers",
    "placeholder",
    "supervised_table",
    "table1",
    "table7",
    "to_csv",
    "to_html",
    "to_latex",
    "to_markdown",
    "write_tables",
]

#: Columns of ``l2h/paper_numbers.csv``.
PAPER_COLUMNS: tuple[str, ...] = (
    "table",
    "dataset",
    "method",
    "model",
    "aggregation",
    "metric",
    "value",
    "source_tag",
    "source",
    "verified",
    "note",
)
#: Metrics of the paper's Table 1, in column order.
TABLE1_METRICS: tuple[str, ...] = ("nmi", "ari", "acc", "dp", "lp")
#: Text written instead of an empty table, so that workflow outputs always exist.
NO_ROWS = "no rows for this table in this study"

_AGGREGATION_ORDER = ("cluster_mean", "point_sum", "point_mean")
#: The ``metrics.csv`` metric holding the number of leaves of a tree (l2h.results.score_tree).
_LEAVES = "n_leaves"
_LEVEL_METRICS = ("nmi", "acc", "dp")
_SUPERVISED_METRICS = ("lca_spearman", "mistake_severity", "nmi", "ari", "acc", "lp", "dp")
# Coarse-to-fine order of known level names; "class" (the dataset's own labels) always comes last.
# The biological rank "class" of iNaturalist is stored as "class_rank" (l2h.results.CLASS_RANK).
_LEVEL_ORDER = ("kingdom", "phylum", "class_rank", "order", "family", "genus", "species")
_LEVEL_ORDER += ("superclass", "coarse", "medium")
# Column headers; metric and method names come from l2h.names (display_name, method_label).
_HEADERS = {
    "dataset": "Dataset",
    "backbone": "Backbone",
    "aggregation": "Aggregation",
    "level": "Level",
    "n_seeds": "Seeds",
    "model": "Flat model",
}


# --------------------------------------------------------------------------------- loading


def load_paper_numbers(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the paper's published numbers (default: the bundled ``l2h/paper_numbers.csv``).

    Parameters
    ----------
    path : path-like, optional
        A CSV with the columns :data:`PAPER_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        ``value`` as float and ``verified`` as bool; everything else as str.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a column is missing, a row has no source, or ``verified`` is not true/false.
    """
    if path is None:
        text = resources.files("l2h").joinpath("paper_numbers.csv")
        with resources.as_file(text) as bundled:
            return load_paper_numbers(bundled)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"paper numbers file not found: {path}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in PAPER_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    if (frame["source"].str.strip() == "").any() or (frame["source_tag"].str.strip() == "").any():
        raise ValueError(f"{path}: every row needs a source and a source_tag")
    verified = frame["verified"].str.strip().str.lower()
    if not verified.isin(["true", "false"]).all():
        raise ValueError(f"{path}: column 'verified' must be true or false")
    frame["verified"] = verified == "true"
    frame["value"] = numeric_column(frame["value"], "value", str(path))
    return frame


# ---------------------------------------------------------------------------------- tables


def table1(
    metrics: pd.DataFrame,
    paper: pd.DataFrame | None = None,
    *,
    split: str = "test",
    aggregation: str = "cluster_mean",
    n_clusters: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """The paper's Table 1: flat and hierarchy scores per dataset and method.

    One row per ``(dataset, backbone, method, model)`` with K (``n_clusters``), the number of
    seeds, the least and most leaves of the method's trees over seeds (``n_leaves_min``,
    ``n_leaves_max``: fewer than K where a method prunes leaves) and mean and std over seeds
    (sample std, ``ddof=1``; NaN for one seed) of :data:`TABLE1_METRICS` at
    ``level="class"``. L2H rows
    use ``aggregation``; other methods ``aggregation="none"``; ``model="supervised"`` rows are
    left to :func:`supervised_table`. With several K per dataset (a K sweep), the dataset's
    number of classes (:func:`l2h.datasets.dataset_info`) or ``n_clusters[dataset]`` is used.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A study's metrics (see :func:`l2h.results.load_metrics`).
    paper : pandas.DataFrame, optional
        Paper numbers (:func:`load_paper_numbers`); its Table-1 rows for the datasets present
        in ``metrics`` are joined (``<metric>_paper``, ``_paper_source``, ``_paper_verified``),
        including methods that this study did not run (``n_seeds`` 0).
    split : str, default "test"
    aggregation : str, default "cluster_mean"
    n_clusters : mapping of str to int, optional
        K to tabulate per dataset, when the metrics hold several.

    Returns
    -------
    pandas.DataFrame
        The wide table (see the module docstring).

    Raises
    ------
    ValueError
        On invalid metrics, duplicated scores, or an ambiguous K.
    """
    rows = _select(metrics, split=split, level="class", aggregation=aggregation)
    rows = rows[rows["model"] != "supervised"]
    rows = _select_k(rows, n_clusters)
    keys = ["dataset", "method", "model", "backbone", "n_clusters"]
    table = _with_leaves(_summarise(rows, keys, TABLE1_METRICS), rows, keys)
    if paper is not None:
        table = _join_paper(table, paper, "1", ["dataset", "method", "model"], TABLE1_METRICS)
    return _sort(table)


def table7(
    metrics: pd.DataFrame,
    paper: pd.DataFrame | None = None,
    *,
    scores: Sequence[str] = ("dp", "lca_spearman"),
    split: str = "test",
    n_clusters: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """The aggregation ablation (paper Table 7): L2H's tree scores per aggregation function.

    The flat scores (NMI, ARI, ACC, LP) do not depend on the aggregation, since L2H keeps the
    flat assignments; the table shows the tree scores ``scores`` that are present.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A study's metrics.
    paper : pandas.DataFrame, optional
        Paper numbers; their Table-7 rows are joined on dataset, model and aggregation,
        including the paper's rows that this study cannot run (L2H on TCL, the all-pairs
        merging; ``n_seeds`` 0), for the datasets of the study.
    scores : sequence of str, default ("dp", "lca_spearman")
        Metrics to show (those absent from ``metrics`` and ``paper`` are dropped).
    split : str, default "test"
    n_clusters : mapping of str to int, optional
        As in :func:`table1`.

    Returns
    -------
    pandas.DataFrame
        One row per ``(dataset, backbone, model, aggregation)`` (with ``n_clusters``).
    """
    rows = _select(metrics, split=split, level="class", aggregation=None)
    rows = _select_k(rows[rows["method"] == "l2h"], n_clusters)
    keys = ["dataset", "method", "model", "backbone", "n_clusters", "aggregation"]
    present = set(rows["metric"])
    if paper is not None:
        present |= set(paper.loc[paper["table"] == "7", "metric"])
    wanted = [m for m in scores if m in present]
    table = _summarise(rows, keys, wanted)
    if paper is not None:
        on = ["dataset", "method", "model", "aggregation"]
        table = _join_paper(table, paper, "7", on, wanted)
    return _sort(table)


def level_table(
    metrics: pd.DataFrame,
    *,
    scores: Sequence[str] = _LEVEL_METRICS,
    split: str = "test",
    aggregation: str = "cluster_mean",
    n_clusters: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Scores per ground-truth level (the iNaturalist21 level table), for every dataset with levels.

    Each tree is cut into as many groups as a level has labels (:func:`l2h.metrics.level_scores`);
    the ``class`` row (the dataset's own labels) comes last, coarser levels before it.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A study's metrics.
    scores : sequence of str, default ("nmi", "acc", "dp")
    split, aggregation, n_clusters
        As in :func:`table1`.

    Returns
    -------
    pandas.DataFrame
        One row per ``(dataset, backbone, method, model, level)`` (with ``n_clusters`` and the
        leaf counts of :func:`table1`); only datasets with at least one level other than
        ``class``.
    """
    rows = _select(metrics, split=split, level=None, aggregation=aggregation)
    with_levels = rows.loc[rows["level"] != "class", "dataset"].unique()
    rows = _select_k(rows[rows["dataset"].isin(with_levels)], n_clusters)
    keys = ["dataset", "method", "model", "backbone", "n_clusters"]
    table = _summarise(rows, [*keys, "level"], scores)
    table = _sort(_with_leaves(table, rows[rows["level"] == "class"], keys))
    rank = _level_rank(list(table["level"]))
    order = sorted(
        range(len(table)), key=lambda i: (*_row_rank(table, i), rank[table.at[i, "level"]])
    )
    return table.iloc[order].reset_index(drop=True)


def supervised_table(
    metrics: pd.DataFrame,
    *,
    split: str = "test",
) -> pd.DataFrame:
    """L2H on a supervised classifier's logits (``model="supervised"``), against the labels' tree.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A study's metrics.
    split : str, default "test"

    Returns
    -------
    pandas.DataFrame
        One row per ``(dataset, backbone, aggregation)`` with every class-level metric present
        (``lca_spearman``, ``mistake_severity`` and the flat and tree scores first).
    """
    rows = _select(metrics, split=split, level="class", aggregation=None)
    rows = rows[(rows["model"] == "supervised") & (rows["method"] == "l2h")]
    present = [m for m in dict.fromkeys(rows["metric"]) if m != _LEAVES]
    wanted = [m for m in _SUPERVISED_METRICS if m in present]
    wanted += sorted(m for m in present if m not in wanted)
    keys = ["dataset", "method", "model", "backbone", "n_clusters", "aggregation"]
    return _sort(_summarise(rows, keys, wanted))


def _select(
    metrics: pd.DataFrame, *, split: str, level: str | None, aggregation: str | None
) -> pd.DataFrame:
    """Rows of one split (and level); L2H rows of one aggregation, others ``none``."""
    rows = validate_metrics(metrics)
    keep = rows["split"] == split
    if level is not None:
        keep &= rows["level"] == level
    if aggregation is not None:
        is_l2h = rows["method"] == "l2h"
        keep &= (is_l2h & (rows["aggregation"] == aggregation)) | (
            ~is_l2h & (rows["aggregation"] == "none")
        )
    return rows[keep]


def _select_k(rows: pd.DataFrame, n_clusters: Mapping[str, int] | None) -> pd.DataFrame:
    """Keep one K per dataset: the given one, the only one, or the number of classes."""
    from l2h.datasets import dataset_info

    chosen = dict(n_clusters or {})
    keep = []
    for dataset, group in rows.groupby("dataset", sort=False):
        ks = sorted(int(k) for k in group["n_clusters"].unique())
        if dataset in chosen:
            k = int(chosen[dataset])
            if k not in ks:
                raise ValueError(f"dataset {dataset!r} has no results for K={k} (has {ks})")
        elif len(ks) == 1:
            k = ks[0]
        else:
            try:
                k = dataset_info(str(dataset)).n_classes
            except KeyError:
                k = -1
            if k not in ks:
                raise ValueError(
                    f"dataset {dataset!r} has results for several K {ks}; "
                    f"pass n_clusters={{{dataset!r}: K}}"
                )
        keep.append(group[group["n_clusters"] == k])
    return pd.concat(keep) if keep else rows.iloc[:0]


def _summarise(rows: pd.DataFrame, keys: list[str], scores: Sequence[str]) -> pd.DataFrame:
    """Mean and std over seeds of each score, one row per key."""
    columns = [*keys, "n_seeds"] + [f"{m}_{s}" for m in scores for s in ("mean", "std")]
    rows = rows[rows["metric"].isin(list(scores))]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    dup = rows.duplicated([*keys, "seed", "metric"])
    if dup.any():
        first = rows[dup].iloc[0]
        raise ValueError(
            "duplicated scores for "
            + ", ".join(f"{c}={first[c]}" for c in [*keys, "seed", "metric"])
        )
    stats = rows.groupby([*keys, "metric"], sort=False)["value"].agg(["mean", "std"])
    wide = stats.unstack("metric")
    wide.columns = [f"{m}_{s}" for s, m in wide.columns]
    wide = wide.reindex(columns=columns[len(keys) + 1 :])
    seeds = rows.groupby(keys, sort=False)["seed"].nunique().rename("n_seeds")
    return wide.join(seeds).reset_index()[columns]


def _with_leaves(table: pd.DataFrame, rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Add ``n_leaves_min`` and ``n_leaves_max``: the fewest and most leaves over seeds of
    each key's trees (the ``n_leaves`` rows of ``rows``; NaN where there are none)."""
    leaves = rows[rows["metric"] == _LEAVES].groupby(keys, sort=False)["value"]
    counts = leaves.agg(n_leaves_min="min", n_leaves_max="max").reset_index()
    if table.empty:
        return table.assign(
            n_leaves_min=pd.Series(dtype=float), n_leaves_max=pd.Series(dtype=float)
        )
    out = table.merge(counts, on=keys, how="left")
    front = [c for c in table.columns if not c.endswith(("_mean", "_std"))]
    return out[[*front, "n_leaves_min", "n_leaves_max", *table.columns[len(front) :]]]


def _join_paper(
    table: pd.DataFrame,
    paper: pd.DataFrame,
    table_id: str,
    on: list[str],
    scores: Sequence[str],
    *,
    outer: bool = True,
) -> pd.DataFrame:
    """Add the paper's cells beside ours for the datasets present in ``table``."""
    quoted = paper[(paper["table"].astype(str) == table_id) & paper["metric"].isin(list(scores))]
    quoted = quoted[quoted["dataset"].isin(set(table["dataset"]))]
    if quoted.empty:
        return table
    cells = quoted.set_index([*on, "metric"])[["value", "source_tag", "verified"]].unstack()
    names = {"value": "paper", "source_tag": "paper_source", "verified": "paper_verified"}
    cells.columns = [f"{m}_{names[field]}" for field, m in cells.columns]
    merged = table.merge(cells.reset_index(), on=on, how="outer" if outer else "left")
    merged["n_seeds"] = merged["n_seeds"].fillna(0).astype("int64")
    if "n_clusters" in merged:
        merged["n_clusters"] = merged["n_clusters"].astype("Int64")
    if "backbone" in merged:
        merged["backbone"] = merged["backbone"].fillna("")
    order = [c for c in table.columns if not c.endswith(("_mean", "_std"))]
    for m in scores:
        order += [f"{m}_mean", f"{m}_std"]
        order += [f"{m}_{s}" for s in names.values() if f"{m}_{s}" in merged]
    return merged[order]


def _row_rank(table: pd.DataFrame, i: int) -> tuple:
    datasets = list(dict.fromkeys(table["dataset"]))
    method = table.at[i, "method"] if "method" in table else ""
    agg = table.at[i, "aggregation"] if "aggregation" in table else ""
    agg_rank = (
        _AGGREGATION_ORDER.index(agg) if agg in _AGGREGATION_ORDER else len(_AGGREGATION_ORDER)
    )
    return (
        datasets.index(table.at[i, "dataset"]),
        str(method).startswith(L2H_METHOD),
        "n_seeds" in table and table.at[i, "n_seeds"] == 0,
        str(method),
        str(table.at[i, "model"]) if "model" in table else "",
        str(table.at[i, "backbone"]) if "backbone" in table else "",
        agg_rank,
    )


def _sort(table: pd.DataFrame) -> pd.DataFrame:
    """Datasets in order of appearance; baselines before L2H, rows only the paper has after
    the measured ones; aggregations in a fixed order."""
    table = table.reset_index(drop=True)
    order = sorted(range(len(table)), key=lambda i: _row_rank(table, i))
    return table.iloc[order].reset_index(drop=True)


def _level_rank(levels: list[str]) -> dict[str, int]:
    """Known level names in their order, others as they come, numbered ones (``depth2``,
    ``depth10``) by number; ``class`` last."""
    known = list(_LEVEL_ORDER)
    seen = list(dict.fromkeys(lv for lv in levels if lv != "class"))
    others = [lv for lv in seen if lv not in known]
    first: dict[str, int] = {}
    for i, lv in enumerate(others):
        first.setdefault(re.sub(r"\d+$", "", lv), i)

    def natural(lv: str) -> tuple[int, int]:
        number = re.search(r"\d+$", lv)
        return first[re.sub(r"\d+$", "", lv)], int(number.group()) if number else -1

    ordered = [lv for lv in known if lv in seen] + sorted(others, key=natural)
    return {lv: i for i, lv in enumerate([*ordered, "class"])}


# --------------------------------------------------------------------------------- writers

#: Metrics where a lower value is better (every other score: higher is better).
LOWER_IS_BETTER: frozenset[str] = frozenset({"mistake_severity"})

_SOURCES_NOTE = (
    "Rows marked (paper) are quoted, not measured here; [S], [X] and [S+X] name the source of "
    "each quoted number (l2h/paper_numbers.csv): S = AI-generated summary of the paper "
    "(papernotes.org, ICML 2025 note), X = Deep Taxonomic Networks (arXiv 2509.23602), Table 3, "
    "quoting L2H's Table 1. † marks cells known only from S (unverified)."
)
_TEMI_NOTE = (
    "Quoted L2H-TEMI numbers: the paper does not say how its TEMI model was chosen (the official "
    "TEMI evaluation keeps the best test score over saved checkpoints, a choice made with test "
    "labels); ours come from the final TEMI model (docs/models.md)."
)
_LEAVES_NOTE = (
    "Leaves: the number of leaves of the method's trees (over seeds), shown because some "
    "method's tree has fewer leaves than the K clusters it was asked for."
)


def _number(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value):.3f}"


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _scores(table: pd.DataFrame) -> list[str]:
    return [c[: -len("_mean")] for c in table.columns if c.endswith("_mean")]


def _measured(table: pd.DataFrame, i: int) -> bool:
    return "n_seeds" not in table or int(table.at[i, "n_seeds"]) > 0


def _main_backbones(table: pd.DataFrame) -> dict[str, str]:
    """Each dataset's main backbone: the most used one by its measured L2H rows, else by its
    measured rows, else by any row (the first on ties)."""
    if "backbone" not in table:
        return {}
    main = {}
    for dataset, group in table.groupby("dataset", sort=False):
        measured = group[[_measured(table, i) for i in group.index]]
        l2h = measured[measured["method"].astype(str) == L2H_METHOD]
        for rows in (l2h, measured, group):
            used = rows["backbone"].astype(str)
            used = used[used != ""]
            if len(used):
                main[str(dataset)] = used.value_counts(sort=True).index[0]
                break
    return main


def _method_cell(table: pd.DataFrame, i: int, main: Mapping[str, str]) -> str:
    """``method_label`` of a row, with `` on <backbone>`` off its dataset's main backbone."""
    model = str(table.at[i, "model"]) if "model" in table else "none"
    label = method_label(str(table.at[i, "method"]), model)
    backbone = str(table.at[i, "backbone"]) if "backbone" in table else ""
    dataset = str(table.at[i, "dataset"]) if "dataset" in table else ""
    if backbone and main.get(dataset, backbone) != backbone:
        label += f" on {display_name('backbone', backbone)}"
    return label


def _show_leaves(table: pd.DataFrame) -> bool:
    if "n_leaves_max" not in table or "n_clusters" not in table:
        return False
    k = pd.to_numeric(table["n_clusters"], errors="coerce").astype(float)
    return bool((table["n_leaves_max"].astype(float) < k).any())


def _leaves_cell(table: pd.DataFrame, i: int) -> str:
    low, high, k = (table.at[i, c] for c in ("n_leaves_min", "n_leaves_max", "n_clusters"))
    if _missing(low) or _missing(k):
        return "–"
    shown = f"{int(low)}" if low == high else f"{int(low)}–{int(high)}"
    return shown if int(high) >= int(k) else f"{shown} of {int(k)}"


def _key_cells(table: pd.DataFrame, i: int, main: Mapping[str, str]) -> dict[str, str]:
    """The display cells of a row's keys (dataset, method, aggregation, level)."""
    cells = {}
    for key in table.columns:
        value = table.at[i, key]
        if key == "dataset":
            cells["Dataset"] = display_name("dataset", str(value))
        elif key == "method":
            cells["Method"] = _method_cell(table, i, main)
        elif key in ("aggregation", "level"):
            cells[_HEADERS[key]] = "" if _missing(value) else display_name(key, str(value))
    return cells


def _best(table: pd.DataFrame, score: str, best_by: Sequence[str]) -> set[int]:
    """Rows holding the best measured ``score`` (as printed) within each ``best_by`` group;
    none in a group whose values all tie."""
    rows = [
        i for i in table.index if _measured(table, i) and not _missing(table.at[i, f"{score}_mean"])
    ]
    if not rows:
        return set()
    values = table.loc[rows, f"{score}_mean"].astype(float).round(3)
    groups = table.loc[rows, list(best_by)].astype(str).agg("|".join, axis=1) if best_by else None
    best: set[int] = set()
    for _, vals in values.groupby(groups if groups is not None else [0] * len(rows)):
        if vals.nunique() < 2:
            continue
        target = vals.min() if score in LOWER_IS_BETTER else vals.max()
        best |= set(vals.index[vals == target])
    return best


def _part(
    table: pd.DataFrame,
    scores: Sequence[str],
    best_by: Sequence[str] | None,
    title: str | None = None,
) -> Part:
    """The display rows of ``scores``: our row (mean ± std), then the paper's row if any."""
    main = _main_backbones(table)
    leaves = _show_leaves(table)
    names = [display_name("metric", m) for m in scores]
    best = {m: _best(table, m, best_by) for m in scores} if best_by is not None else {}
    columns: list[str] = []
    rows, bold = [], []
    for i in table.index:
        keys = _key_cells(table, i, main)
        columns = [*keys, "Seeds", *(["Leaves"] if leaves else []), *names]
        if _measured(table, i):
            extra = [str(int(table.at[i, "n_seeds"])) if "n_seeds" in table else ""]
            extra += [_leaves_cell(table, i)] if leaves else []
            cells = [_mean_std(table.at[i, f"{m}_mean"], table.at[i, f"{m}_std"]) for m in scores]
            rows.append([*keys.values(), *extra, *cells])
            bold.append([False] * (len(keys) + len(extra)) + [i in best.get(m, ()) for m in scores])
        quoted = [_quoted_cell(table, i, m) for m in scores]
        if any(q != "–" for q in quoted):
            keys = {**keys, "Method": f"{keys['Method']} (paper)"} if "Method" in keys else keys
            extra = [""] * (1 + leaves)
            rows.append([*keys.values(), *extra, *quoted])
            bold.append([False] * (len(keys) + len(extra) + len(scores)))
    numeric = frozenset({"Seeds", "Leaves", *names})
    return Part(columns, rows, bold, numeric, title)


def _mean_std(mean: Any, std: Any) -> str:
    if _missing(mean):
        return "–"
    return _number(mean) if _missing(std) else f"{_number(mean)} ± {_number(std)}"


def _quoted_cell(table: pd.DataFrame, i: int, metric: str) -> str:
    if f"{metric}_paper" not in table or _missing(value := table.at[i, f"{metric}_paper"]):
        return "–"
    verified = table.at[i, f"{metric}_paper_verified"]
    flag = "" if verified is True or verified == "True" else "†"
    return f"{_number(value)} [{table.at[i, f'{metric}_paper_source']}]{flag}"


def format_table(table: pd.DataFrame, *, best_by: Sequence[str] | None = None) -> pd.DataFrame:
    """Display strings of a wide table, one row per printed line.

    Keys read as display names (``Fashion-MNIST``, ``L2H-TURTLE``, ``Centroid linkage, Ward
    (k-means)``, ``cluster mean``); a method run on another backbone than its dataset's main one
    reads ``DeepECT on raw pixels``. Our cells read ``0.910 ± 0.010``. The paper's numbers, where
    quoted, follow our row in a row of their own, ``L2H-TURTLE (paper)``, each cell with its
    source: ``0.985 [S+X]``, or ``0.989 [S]†`` when known only from a secondary summary. A
    ``Leaves`` column appears when some tree has fewer leaves than K (``4 of 10``). A missing
    cell is ``–``.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`table1`, :func:`table7`, :func:`level_table` or
        :func:`supervised_table`.
    best_by : sequence of str, optional
        Not used for the strings (the writers print best values in bold); accepted so that
        callers can pass a :class:`TableSpec`'s setting unchanged.

    Returns
    -------
    pandas.DataFrame
        str cells under display headers.
    """
    part = _part(table.reset_index(drop=True), _scores(table), None)
    return pd.DataFrame(part.rows, columns=part.columns)


def _notes(table: pd.DataFrame, best_by: Sequence[str] | None, parts: list[Part]) -> list[str]:
    """The notes under a table: backbones, leaves, bold values, sources of quoted numbers."""
    notes = []
    main = _main_backbones(table)
    datasets_of: dict[str, list[str]] = {}
    for dataset, backbone in main.items():
        datasets_of.setdefault(display_name("backbone", backbone), []).append(dataset)
    if len(datasets_of) == 1:
        notes.append(f"Backbone: {next(iter(datasets_of))}.")
    elif datasets_of:
        shown = [
            f"{b} ({', '.join(display_name('dataset', d) for d in ds)})"
            for b, ds in datasets_of.items()
        ]
        notes.append(f"Backbones: {'; '.join(shown)}.")
    if any("Leaves" in part.columns for part in parts):
        notes.append(_LEAVES_NOTE)
    if any(any(map(any, part.bold)) for part in parts):
        within = " and ".join(_HEADERS.get(k, k).lower() for k in best_by or ())
        lower = [display_name("metric", m) for m in _scores(table) if m in LOWER_IS_BETTER]
        order = "higher is better" + (f"; lower for {', '.join(lower)}" if lower else "")
        notes.append(f"Bold: the best of our values in each column, per {within} ({order}).")
    notes += [n for n in [_paper_note(table)] if n]
    return notes


def _has_paper(table: pd.DataFrame) -> bool:
    return any(c.endswith("_paper") for c in table.columns)


def _paper_note(table: pd.DataFrame) -> str | None:
    """The note under a table with quoted numbers (with the TEMI note when TEMI is quoted)."""
    if not _has_paper(table):
        return None
    quoted = table[[c for c in table.columns if c.endswith("_paper")]].notna().any(axis=1)
    if "model" in table and bool((quoted & (table["model"] == "temi")).any()):
        return f"{_SOURCES_NOTE} {_TEMI_NOTE}"
    return _SOURCES_NOTE


def document(
    table: pd.DataFrame,
    caption: str | None = None,
    *,
    parts: Sequence[tuple[str, Sequence[str]]] = (),
    best_by: Sequence[str] | None = ("dataset",),
) -> Document:
    """The printable form of a wide table (see :func:`format_table`), with its notes.

    Parameters
    ----------
    table : pandas.DataFrame
        A wide table.
    caption : str, optional
    parts : sequence of (str, sequence of str), optional
        Split the table into parts, each a title and the metrics it shows (Table 1: leaf
        level, hierarchy level), so that each part fits a page; default: one part.
    best_by : sequence of str or None, default ("dataset",)
        Key columns within which the best measured value of each metric is printed in bold;
        ``None``: no bold.
    """
    table = table.reset_index(drop=True)
    scores = _scores(table)
    chosen = [(t, [m for m in ms if m in scores]) for t, ms in parts] or [(None, scores)]
    printed = [_part(table, ms, best_by, title) for title, ms in chosen if ms]
    return Document(caption, printed, _notes(table, best_by, printed))


def to_csv(table: pd.DataFrame) -> str:
    """The wide table as CSV text (numbers unrounded; paper columns included)."""
    return table.to_csv(index=False, lineterminator="\n")


def to_markdown(table: pd.DataFrame, caption: str | None = None, **how: Any) -> str:
    """The table as GitHub-flavoured Markdown pipe tables (see :func:`document`).

    Parameters
    ----------
    table : pandas.DataFrame
        A wide table.
    caption : str, optional
        A line printed in bold above the table.
    **how
        ``parts`` and ``best_by`` of :func:`document`; best values are printed ``**bold**``.
    """
    return _render.to_markdown(document(table, caption, **how))


def to_latex(
    table: pd.DataFrame, caption: str | None = None, label: str | None = None, **how: Any
) -> str:
    """The table as LaTeX ``table`` environments with booktabs ``tabular``s, one per part.

    Needs ``\\usepackage{booktabs}`` in the document. Text is escaped; ``±`` becomes
    ``$\\pm$``, best values ``\\textbf``.

    Parameters
    ----------
    table : pandas.DataFrame
        A wide table.
    caption : str, optional
        ``\\caption`` text (the notes are appended).
    label : str, optional
        ``\\label`` key (``<label>-a``, ``<label>-b`` for the parts of a split table).
    **how
        ``parts`` and ``best_by`` of :func:`document`.
    """
    return _render.to_latex(document(table, caption, **how), label)


def to_html(table: pd.DataFrame, caption: str | None = None, **how: Any) -> str:
    """The table as a standalone HTML page (what the Snakemake report shows)."""
    return _render.to_html(document(table, caption, **how))


@dataclass(frozen=True)
class TableSpec:
    """One table of :func:`write_tables`: its caption, how it is built from the metrics, how it
    is split into parts (:func:`document`) and within which keys best values are bold."""

    caption: str
    build: Callable[[pd.DataFrame, pd.DataFrame, Mapping[str, int] | None], pd.DataFrame]
    parts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    best_by: tuple[str, ...] = ("dataset",)


TABLES: dict[str, TableSpec] = {
    "table1": TableSpec(
        "Table 1. Hierarchical clustering: mean ± std over seeds (test split, class labels)",
        lambda metrics, paper, k: table1(metrics, paper, n_clusters=k),
        parts=(
            ("a: leaf level, the flat clustering of the leaves", ("nmi", "ari", "acc")),
            ("b: hierarchy level", ("dp", "lp")),
        ),
    ),
    "table7": TableSpec(
        "Table 7. Aggregation ablation of L2H: tree scores per aggregation function",
        lambda metrics, paper, k: table7(metrics, paper, n_clusters=k),
        best_by=("dataset", "model"),
    ),
    "levels": TableSpec(
        "Scores per ground-truth level (the tree cut to each level's number of labels)",
        lambda metrics, paper, k: level_table(metrics, n_clusters=k),
        best_by=("dataset", "level"),
    ),
    "supervised": TableSpec(
        "L2H on a supervised classifier's logits, against the labels' taxonomy",
        lambda metrics, paper, k: supervised_table(metrics),
    ),
}
"""Every table a study writes, by file name (the workflow's outputs are read from here)."""


def _how(spec: TableSpec) -> dict[str, Any]:
    return {"parts": spec.parts, "best_by": spec.best_by}


_WRITERS: dict[str, Callable[[pd.DataFrame, TableSpec, str, str], str]] = {
    "csv": lambda table, spec, caption, name: to_csv(table),
    "md": lambda table, spec, caption, name: to_markdown(table, caption, **_how(spec)),
    "tex": lambda table, spec, caption, name: to_latex(
        table, caption, label=f"tab:{name}", **_how(spec)
    ),
    "html": lambda table, spec, caption, name: to_html(table, caption, **_how(spec)),
}
#: The formats each table is written in (file suffixes).
TABLE_FORMATS: tuple[str, ...] = tuple(_WRITERS)


def placeholder(fmt: str, caption: str | None = None) -> str:
    """The text of a table file without rows (:data:`NO_ROWS`, after ``caption``)."""
    text = NO_ROWS if caption is None else f"{caption}. {NO_ROWS}"
    if fmt == "html":
        return _render.to_html(Document(caption, [], [NO_ROWS]))
    return {"csv": NO_ROWS + "\n", "md": text + "\n", "tex": f"% {text}\n"}[fmt]


def write_tables(
    metrics_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    paper_csv: str | os.PathLike | None = None,
    *,
    n_clusters: Mapping[str, int] | None = None,
    note: str | None = None,
    names: Sequence[str] | None = None,
) -> list[Path]:
    """Write tables as ``<name>.csv``, ``.md``, ``.tex`` and ``.html``, atomically.

    Tables: :data:`TABLES` (``table1``, ``table7``, ``levels``, ``supervised``). A table without
    rows in this study is written as files holding :data:`NO_ROWS` (so that workflow outputs
    exist).

    Parameters
    ----------
    metrics_csv : path-like
        The study's metrics.csv.
    out_dir : path-like
        Folder for the files (created if missing).
    paper_csv : path-like, optional
        Paper numbers; defaults to the bundled ``l2h/paper_numbers.csv``.
    n_clusters : mapping of str to int, optional
        As in :func:`table1`.
    note : str, optional
        Put first in every caption (Markdown, LaTeX and HTML), e.g.
        :data:`l2h.provenance.STAND_IN_NOTE` for a rehearsal; the CSV files hold the data only.
    names : sequence of str, optional
        The tables to write (default: all of :data:`TABLES`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    metrics = load_metrics(metrics_csv)
    paper = load_paper_numbers(paper_csv)
    out_dir = Path(out_dir)
    written = []
    for name in TABLES if names is None else names:
        spec = TABLES[name]
        table = spec.build(metrics, paper, n_clusters)
        caption = spec.caption if note is None else f"{note}. {spec.caption}"
        for fmt, write in _WRITERS.items():
            text = placeholder(fmt, caption) if _no_measured_rows(table) else None
            path = out_dir / f"{name}.{fmt}"
            atomic_write_text(path, text or write(table, spec, caption, name))
            written.append(path)
    return written


def _no_measured_rows(table: pd.DataFrame) -> bool:
    return table.empty or int(table["n_seeds"].max()) == 0
