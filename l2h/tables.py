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
>>> rows = [("d", "b", "kmeans", "l2h", "cluster_mean", 3, s, "test", "class", "nmi", v)
...         for s, v in [(0, 0.5), (1, 0.7)]]
>>> t = table1(pd.DataFrame(rows, columns=COLUMNS))
>>> print(round(t.loc[0, "nmi_mean"], 3), round(t.loc[0, "nmi_std"], 3))
0.6 0.141
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from l2h.io import atomic_write_text
from l2h.names import display_name, method_label
from l2h.results import load_metrics, numeric_column, validate_metrics

__all__ = [
    "NO_ROWS",
    "PAPER_COLUMNS",
    "TABLE1_METRICS",
    "TABLES",
    "TABLE_FORMATS",
    "TableSpec",
    "format_table",
    "level_table",
    "load_paper_numbers",
    "supervised_table",
    "table1",
    "table7",
    "to_csv",
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
}
_SOURCES_NOTE = (
    "Paper columns are quoted, not measured here; sources (l2h/paper_numbers.csv): "
    "S = AI-generated summary of the paper (papernotes.org, ICML 2025 note), "
    "X = Deep Taxonomic Networks (arXiv 2509.23602), Table 3, quoting L2H's Table 1. "
    "'unverified' marks cells known only from S."
)
_TEMI_NOTE = (
    "Quoted L2H-TEMI numbers: the paper does not say how its TEMI model was chosen (the official "
    "TEMI evaluation keeps the best test score over saved checkpoints, a choice made with test "
    "labels); ours come from the final TEMI model (docs/models.md)."
)


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

    One row per ``(dataset, backbone, method, model)`` with mean and std over seeds (sample
    std, ``ddof=1``; NaN for one seed) of :data:`TABLE1_METRICS` at ``level="class"``. L2H rows
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
    keys = ["dataset", "method", "model", "backbone"]
    table = _summarise(rows, keys, TABLE1_METRICS)
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
        Paper numbers; their Table-7 rows are joined on dataset, model and aggregation.
    scores : sequence of str, default ("dp", "lca_spearman")
        Metrics to show (those absent from ``metrics`` and ``paper`` are dropped).
    split : str, default "test"
    n_clusters : mapping of str to int, optional
        As in :func:`table1`.

    Returns
    -------
    pandas.DataFrame
        One row per ``(dataset, backbone, model, aggregation)``.
    """
    rows = _select(metrics, split=split, level="class", aggregation=None)
    rows = _select_k(rows[rows["method"] == "l2h"], n_clusters)
    keys = ["dataset", "method", "model", "backbone", "aggregation"]
    present = set(rows["metric"])
    if paper is not None:
        present |= set(paper.loc[paper["table"] == "7", "metric"])
    wanted = [m for m in scores if m in present]
    table = _summarise(rows, keys, wanted)
    if paper is not None:
        on = ["dataset", "method", "model", "aggregation"]
        table = _join_paper(table, paper, "7", on, wanted, outer=False)
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
        One row per ``(dataset, backbone, method, model, level)``; only datasets with at least
        one level other than ``class``.
    """
    rows = _select(metrics, split=split, level=None, aggregation=aggregation)
    with_levels = rows.loc[rows["level"] != "class", "dataset"].unique()
    rows = _select_k(rows[rows["dataset"].isin(with_levels)], n_clusters)
    table = _summarise(rows, ["dataset", "method", "model", "backbone", "level"], scores)
    table = _sort(table)
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
    present = list(dict.fromkeys(rows["metric"]))
    wanted = [m for m in _SUPERVISED_METRICS if m in present]
    wanted += sorted(m for m in present if m not in wanted)
    keys = ["dataset", "method", "model", "backbone", "aggregation"]
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
        method == "l2h",
        str(method),
        str(table.at[i, "model"]) if "model" in table else "",
        str(table.at[i, "backbone"]) if "backbone" in table else "",
        agg_rank,
    )


def _sort(table: pd.DataFrame) -> pd.DataFrame:
    """Datasets in order of appearance; baselines before L2H; aggregations in a fixed order."""
    table = table.reset_index(drop=True)
    order = sorted(range(len(table)), key=lambda i: _row_rank(table, i))
    return table.iloc[order].reset_index(drop=True)


def _level_rank(levels: list[str]) -> dict[str, int]:
    known = list(_LEVEL_ORDER)
    seen = list(dict.fromkeys(lv for lv in levels if lv != "class"))
    ordered = [lv for lv in known if lv in seen] + [lv for lv in seen if lv not in known]
    return {lv: i for i, lv in enumerate([*ordered, "class"])}


# --------------------------------------------------------------------------------- writers


def _number(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value):.3f}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """Display strings of a wide table: ``mean ± std`` cells and quoted paper cells.

    ``method`` and ``model`` merge into one ``Method`` label (``L2H-TURTLE``, ``DeepECT``);
    a paper cell reads ``0.917 (quoted, S+X)``, or ``0.414 (quoted, S, unverified)`` when it
    is known only from a secondary summary; a missing cell is ``–``.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`table1`, :func:`table7`, :func:`level_table` or
        :func:`supervised_table`.

    Returns
    -------
    pandas.DataFrame
        Same rows, str cells, display headers.
    """
    scores = [c[: -len("_mean")] for c in table.columns if c.endswith("_mean")]
    derived = {f"{m}_{s}" for m in scores for s in ("mean", "std", "paper", "paper_source")}
    derived |= {f"{m}_paper_verified" for m in scores}
    keys = [c for c in table.columns if c not in derived]
    out = pd.DataFrame(index=table.index)
    for key in keys:
        if key == "model" and "method" in table:
            continue
        if key == "method":
            models = table["model"] if "model" in table else [""] * len(table)
            out["Method"] = [
                method_label(str(a), str(b)) for a, b in zip(table[key], models, strict=True)
            ]
        else:
            out[_HEADERS.get(key, key)] = [str(v) if not _missing(v) else "" for v in table[key]]
    for m in scores:
        name = display_name("metric", m)
        out[name] = [
            _mean_std(a, b) for a, b in zip(table[f"{m}_mean"], table[f"{m}_std"], strict=True)
        ]
        if f"{m}_paper" in table:
            out[f"{name} (paper)"] = [
                _quoted(v, s, ok)
                for v, s, ok in zip(
                    table[f"{m}_paper"],
                    table[f"{m}_paper_source"],
                    table[f"{m}_paper_verified"],
                    strict=True,
                )
            ]
    return out.reset_index(drop=True)


def _mean_std(mean: Any, std: Any) -> str:
    if _missing(mean):
        return "–"
    return _number(mean) if _missing(std) else f"{_number(mean)} ± {_number(std)}"


def _quoted(value: Any, source: Any, verified: Any) -> str:
    if _missing(value):
        return "–"
    flag = "" if verified is True or verified == "True" else ", unverified"
    return f"{_number(value)} (quoted, {source}{flag})"


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


def to_csv(table: pd.DataFrame) -> str:
    """The wide table as CSV text (numbers unrounded; paper columns included)."""
    return table.to_csv(index=False, lineterminator="\n")


def to_markdown(table: pd.DataFrame, caption: str | None = None) -> str:
    """The table as a GitHub-flavoured Markdown pipe table (see :func:`format_table`).

    Parameters
    ----------
    table : pandas.DataFrame
        A wide table.
    caption : str, optional
        A line printed above the table.
    """
    shown = format_table(table)
    cells = [
        [c.replace("|", "\\|") for c in map(str, row)] for row in shown.itertuples(index=False)
    ]
    lines = [] if caption is None else [f"**{caption}**", ""]
    lines.append("| " + " | ".join(shown.columns) + " |")
    lines.append("|" + "|".join("---" for _ in shown.columns) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    note = _paper_note(table)
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "–": "--",
}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(table: pd.DataFrame, caption: str | None = None, label: str | None = None) -> str:
    """The table as a LaTeX ``table`` environment with a booktabs ``tabular``.

    Needs ``\\usepackage{booktabs}`` in the document. Text is escaped; ``±`` becomes
    ``$\\pm$``.

    Parameters
    ----------
    table : pandas.DataFrame
        A wide table.
    caption : str, optional
        ``\\caption`` text (the sources note is appended when paper columns are present).
    label : str, optional
        ``\\label`` key.
    """
    shown = format_table(table)
    scores = [display_name("metric", c[: -len("_mean")]) for c in table if c.endswith("_mean")]
    numeric = {"Seeds", *scores, *(f"{name} (paper)" for name in scores)}
    spec = "".join("r" if c in numeric else "l" for c in shown.columns)
    lines = [r"\begin{table}[t]", r"\centering"]
    note = _paper_note(table)
    text = " ".join(t for t in (caption, note) if t)
    if text:
        lines.append(r"\caption{" + _latex_escape(text) + "}")
    if label:
        lines.append(r"\label{" + label + "}")
    lines += [r"\begin{tabular}{" + spec + "}", r"\toprule"]
    lines.append(" & ".join(_latex_escape(c) for c in shown.columns) + r" \\")
    lines.append(r"\midrule")
    for row in shown.itertuples(index=False):
        lines.append(" & ".join(_latex_escape(str(c)) for c in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class TableSpec:
    """One table of :func:`write_tables`: its caption and how it is built from the metrics."""

    caption: str
    build: Callable[[pd.DataFrame, pd.DataFrame, Mapping[str, int] | None], pd.DataFrame]


TABLES: dict[str, TableSpec] = {
    "table1": TableSpec(
        "Hierarchical clustering: mean ± std over seeds (test split, class labels)",
        lambda metrics, paper, k: table1(metrics, paper, n_clusters=k),
    ),
    "table7": TableSpec(
        "Aggregation ablation of L2H: tree scores per aggregation function",
        lambda metrics, paper, k: table7(metrics, paper, n_clusters=k),
    ),
    "levels": TableSpec(
        "Scores per ground-truth level (the tree cut to each level's number of labels)",
        lambda metrics, paper, k: level_table(metrics, n_clusters=k),
    ),
    "supervised": TableSpec(
        "L2H on a supervised classifier's logits, against the labels' taxonomy",
        lambda metrics, paper, k: supervised_table(metrics),
    ),
}
"""Every table a study writes, by file name (the workflow's outputs are read from here)."""

_WRITERS: dict[str, Callable[[pd.DataFrame, str, str], str]] = {
    "csv": lambda table, caption, name: to_csv(table),
    "md": lambda table, caption, name: to_markdown(table, caption),
    "tex": lambda table, caption, name: to_latex(table, caption, label=f"tab:{name}"),
}
#: The formats each table is written in (file suffixes).
TABLE_FORMATS: tuple[str, ...] = tuple(_WRITERS)


def write_tables(
    metrics_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    paper_csv: str | os.PathLike | None = None,
    *,
    n_clusters: Mapping[str, int] | None = None,
    note: str | None = None,
) -> list[Path]:
    """Write every table as ``<name>.csv``, ``<name>.md`` and ``<name>.tex``, atomically.

    Tables: :data:`TABLES` (``table1``, ``table7``, ``levels``, ``supervised``). A table without
    rows in this study is written as three files holding :data:`NO_ROWS` (so that workflow
    outputs exist).

    Parameters
    ----------
    metrics_csv : path-like
        The study's metrics.csv.
    out_dir : path-like
        Folder for the twelve files (created if missing).
    paper_csv : path-like, optional
        Paper numbers; defaults to the bundled ``l2h/paper_numbers.csv``.
    n_clusters : mapping of str to int, optional
        As in :func:`table1`.
    note : str, optional
        Put first in every caption (Markdown and LaTeX), e.g.
        :data:`l2h.provenance.STAND_IN_NOTE` for a rehearsal; the CSV files hold the data only.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    metrics = load_metrics(metrics_csv)
    paper = load_paper_numbers(paper_csv)
    out_dir = Path(out_dir)
    written = []
    for name, spec in TABLES.items():
        table = spec.build(metrics, paper, n_clusters)
        caption = spec.caption if note is None else f"{note}. {spec.caption}"
        texts = {fmt: write(table, caption, name) for fmt, write in _WRITERS.items()}
        if _no_measured_rows(table):
            empty = NO_ROWS if note is None else f"{note}. {NO_ROWS}"
            texts = {"csv": NO_ROWS + "\n", "md": empty + "\n", "tex": f"% {empty}\n"}
        for suffix, text in texts.items():
            path = out_dir / f"{name}.{suffix}"
            atomic_write_text(path, text)
            written.append(path)
    return written


def _no_measured_rows(table: pd.DataFrame) -> bool:
    return table.empty or int(table["n_seeds"].max()) == 0
