"""The ``metrics.csv`` format: its columns, its rows built from scores, loading and validation.

A study writes one long table, ``results/<study>/metrics.csv``, one score per row, with the
columns :data:`COLUMNS`. Each evaluation job turns the scores of the trees of one model run
(:func:`score_tree`, i.e. :func:`l2h.metrics.evaluate`) into rows (:func:`score_rows`), and
:func:`collect_metrics` joins the jobs' tables into the study's file. Readers
(:mod:`l2h.tables`, :mod:`l2h.plots`) go through :func:`load_metrics`.

``level`` is the ground-truth level a score is computed against: ``class`` for the dataset's
own labels, else a level of its taxonomy. ``class`` always means the dataset's own labels, so a
taxonomy level of that name (the biological rank of iNaturalist) is stored as
:data:`CLASS_RANK`.

>>> rows = score_rows({"nmi": 0.5, "nmi@order": 0.25, "nmi@class": 0.4}, method="l2h_point_sum",
...                   dataset="d", backbone="b", model="m", n_clusters=3, seed=0, split="test")
>>> [(r["method"], r["aggregation"], r["level"]) for r in rows]
[('l2h', 'point_sum', 'class'), ('l2h', 'point_sum', 'order'), ('l2h', 'point_sum', 'class_rank')]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from l2h.io import open_output

__all__ = [
    "CLASS_RANK",
    "L2H_METHOD",
    "COLUMNS",
    "collect_metrics",
    "load_metrics",
    "numeric_column",
    "score_rows",
    "score_tree",
    "split_method",
    "validate_metrics",
    "write_metrics",
]

#: Columns of a study's metrics.csv, in order.
COLUMNS: tuple[str, ...] = (
    "dataset",
    "backbone",
    "model",
    "method",
    "aggregation",
    "n_clusters",
    "seed",
    "split",
    "level",
    "metric",
    "value",
)
#: Row order of metrics.csv: every column but ``value``.
SORT_BY: tuple[str, ...] = tuple(c for c in COLUMNS if c != "value")
#: The level name under which a taxonomy level called ``class`` is stored.
CLASS_RANK = "class_rank"
#: The ``method`` of L2H rows; a workflow tree ``l2h_<aggregation>`` is L2H with that aggregation.
L2H_METHOD = "l2h"

_TEXT_COLUMNS = (
    "dataset",
    "backbone",
    "model",
    "method",
    "aggregation",
    "split",
    "level",
    "metric",
)


# ----------------------------------------------------------------------------- writing


def split_method(tree_method: str) -> tuple[str, str]:
    """``(method, aggregation)`` of a tree name: ``l2h_<aggregation>`` or a baseline (``none``).

    >>> split_method("l2h_cluster_mean"), split_method("deepect")
    (('l2h', 'cluster_mean'), ('deepect', 'none'))
    """
    prefix = f"{L2H_METHOD}_"
    if tree_method.startswith(prefix):
        return L2H_METHOD, tree_method.removeprefix(prefix)
    return tree_method, "none"


def score_tree(
    tree: Any,
    y_true: Any,
    y_pred: Any,
    taxonomy: Any = None,
    *,
    clusters_are_classes: bool = False,
) -> dict[str, float]:
    """:func:`l2h.metrics.evaluate` of one tree on one split, and its number of leaves.

    ``n_leaves`` is the tree's number of leaves: K, or fewer for a method whose tree ends with
    fewer leaves than the clusters it was asked for (DeepECT prunes leaves); the tables show it
    where it is below K.

    Parameters
    ----------
    tree : Hierarchy
        A tree over K clusters.
    y_true, y_pred : array_like of shape (N,)
        Class and cluster (leaf) of every point.
    taxonomy : Taxonomy, optional
        The ground-truth hierarchy over the classes (level-wise and LCA scores).
    clusters_are_classes : bool, default False
        The supervised setting: leaf ``k`` is the classifier's class ``k``, so the tree's LCA
        correlation with the taxonomy is computed with that identity map.
    """
    from l2h.metrics import evaluate, lca_spearman

    scores = evaluate(tree, y_true, y_pred, gt=taxonomy)
    if clusters_are_classes:
        scores["lca_spearman"] = lca_spearman(tree, taxonomy, np.arange(tree.n_clusters))
    scores["n_leaves"] = float(tree.n_clusters)
    return scores


def score_rows(
    scores: Mapping[str, float],
    *,
    method: str,
    dataset: str,
    backbone: str,
    model: str,
    n_clusters: int,
    seed: int,
    split: str,
) -> list[dict[str, Any]]:
    """The rows of ``metrics.csv`` for one tree's scores on one split.

    ``nmi@order`` becomes metric ``nmi`` at level ``order``; plain keys are at level ``class``;
    a taxonomy level named ``class`` is stored as :data:`CLASS_RANK`. ``method`` is a tree
    name (``l2h_<aggregation>`` or a baseline, see :func:`split_method`).

    Returns
    -------
    list of dict
        One dict per score with the keys :data:`COLUMNS`.
    """
    name, aggregation = split_method(method)
    run = {
        "dataset": dataset,
        "backbone": backbone,
        "model": model,
        "method": name,
        "aggregation": aggregation,
        "n_clusters": int(n_clusters),
        "seed": int(seed),
        "split": split,
    }
    rows = []
    for key, value in scores.items():
        metric, _, level = key.partition("@")
        level = CLASS_RANK if level == "class" else level or "class"
        rows.append({**run, "level": level, "metric": metric, "value": float(value)})
    return rows


def write_metrics(path: str | os.PathLike, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write rows (dicts with the keys :data:`COLUMNS`) as a metrics CSV, atomically."""
    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    with open_output(path) as fh:
        frame.to_csv(fh, index=False)


def collect_metrics(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """Join per-run metric tables into one, rows sorted by every column but ``value``.

    Raises
    ------
    ValueError
        If a table's columns are not :data:`COLUMNS`.
    """
    tables = [pd.read_csv(path, keep_default_na=False) for path in paths]
    for path, table in zip(paths, tables, strict=True):
        if list(table.columns) != list(COLUMNS):
            raise ValueError(f"{path}: columns {list(table.columns)} differ from {list(COLUMNS)}")
    if not tables:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(tables, ignore_index=True).sort_values(list(SORT_BY), kind="stable")


# ----------------------------------------------------------------------------- reading


def load_metrics(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a study's ``metrics.csv``.

    Parameters
    ----------
    path : path-like
        A CSV file with the columns :data:`COLUMNS` (extra columns are kept).

    Returns
    -------
    pandas.DataFrame
        The rows, validated by :func:`validate_metrics`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a column is missing or a value has the wrong type.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"metrics file not found: {path}")
    # "none" and "NA" are real names here; only an empty value (or "nan") is a missing score.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return validate_metrics(frame, source=str(path))


def validate_metrics(metrics: pd.DataFrame, *, source: str = "metrics") -> pd.DataFrame:
    """Check a metrics table's columns and types; return a normalised copy.

    ``value`` becomes float (empty or ``nan`` is NaN), ``n_clusters`` and ``seed`` int64, the
    text columns str. Level-wise keys of :func:`l2h.metrics.evaluate` stored as metric names
    (``nmi@superclass``) are split into ``metric="nmi"``, ``level="superclass"``.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Rows with the columns :data:`COLUMNS`.
    source : str, default "metrics"
        Name used in error messages (e.g. the file path).

    Raises
    ------
    ValueError
        If ``metrics`` is not a DataFrame, lacks a column, or holds a non-numeric value,
        a non-integer ``n_clusters``/``seed`` or a ``metric@level`` key that contradicts
        its ``level``.
    """
    if not isinstance(metrics, pd.DataFrame):
        raise ValueError(f"{source}: expected a pandas DataFrame, got {type(metrics).__name__}")
    missing = [c for c in COLUMNS if c not in metrics.columns]
    if missing:
        raise ValueError(
            f"{source}: missing columns {', '.join(missing)} (expected {', '.join(COLUMNS)})"
        )
    out = metrics.copy()
    for column in _TEXT_COLUMNS:
        out[column] = out[column].astype(str).str.strip()
    out["value"] = numeric_column(out["value"], "value", source)
    for column in ("n_clusters", "seed"):
        numbers = numeric_column(out[column], column, source)
        if numbers.isna().any() or (numbers != numbers.round()).any():
            raise ValueError(f"{source}: column {column!r} must hold integers")
        out[column] = numbers.astype("int64")
    return _split_level_keys(out, source).reset_index(drop=True)


def numeric_column(column: pd.Series, name: str, source: str) -> pd.Series:
    """A column as float64 numbers (empty or ``nan`` text is NaN); ValueError naming ``source``
    and the first non-number otherwise."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype("float64")  # already numbers: no round trip through text
    text = column.astype(str).str.strip()
    text = text.mask(text.str.lower().isin(["", "nan"]))
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() & text.notna()
    if bad.any():
        raise ValueError(f"{source}: column {name!r} has a non-number: {text[bad].iloc[0]!r}")
    return numbers.astype("float64")


def _split_level_keys(metrics: pd.DataFrame, source: str) -> pd.DataFrame:
    keyed = metrics["metric"].str.contains("@", regex=False)
    if not keyed.any():
        return metrics
    parts = metrics.loc[keyed, "metric"].str.split("@", n=1, expand=True)
    levels = metrics.loc[keyed, "level"]
    clash = (levels != "class") & (levels != parts[1])
    if clash.any():
        row = metrics.loc[clash[clash].index[0]]
        raise ValueError(f"{source}: metric {row['metric']!r} has level {row['level']!r}")
    metrics.loc[keyed, "metric"] = parts[0]
    metrics.loc[keyed, "level"] = parts[1]
    return metrics
