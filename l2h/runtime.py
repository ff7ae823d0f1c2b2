"""Runtime of a study: wall time and peak memory of every job that trains or builds a tree.

Snakemake writes one benchmark file per job (the rule's ``benchmark:``, a TSV with the wall
time ``s`` and the peak resident memory ``max_rss`` in MB). :func:`runtime_rows` reads the
files of the jobs that train a flat model (rule ``fit_model``), build an L2H tree
(``fit_l2h``), a baseline's tree (``fit_baseline``) or TreeVAE's (``treevae``);
:func:`runtime_table` summarises them per method, dataset and K, and :func:`write_runtime`
writes the table as CSV, Markdown, LaTeX and HTML.

Times are the jobs' own: the whole script, start-up and imports included, on whatever else the
machine ran at the same time (``--cores`` jobs in parallel).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from l2h import _render
from l2h._render import Document, Part
from l2h.io import atomic_write_text
from l2h.names import display_name, method_label
from l2h.results import L2H_METHOD, split_method

__all__ = [
    "JOB_RULES",
    "RUNTIME_COLUMNS",
    "job_label",
    "read_benchmark",
    "run_title",
    "runtime_document",
    "runtime_rows",
    "runtime_table",
    "write_runtime",
]

#: The rules whose jobs the runtime table covers, and the step each one is.
JOB_RULES: dict[str, str] = {
    "fit_model": "flat model",
    "fit_l2h": "hierarchy",
    "fit_baseline": "hierarchy",
    "treevae": "hierarchy",
}
#: Columns of :func:`runtime_rows`.
RUNTIME_COLUMNS: tuple[str, ...] = (
    "step",
    "dataset",
    "backbone",
    "model",
    "method",
    "aggregation",
    "n_clusters",
    "seed",
    "wall_s",
    "max_rss_mb",
)
_KEYS = ["dataset", "step", "method", "model", "aggregation", "backbone", "n_clusters"]
_STEPS = ("flat model", "hierarchy")


#: Jobs shorter than this (seconds) show no peak memory: Snakemake samples a job's memory once
#: a second from its start, so it misses most of a shorter job and records a few MB or none.
MEMORY_MIN_SECONDS = 1.0


def read_benchmark(path: str | os.PathLike) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB) of one Snakemake benchmark file.

    A file with several rows (``repeat()``) gives the mean time and the largest memory; a
    memory Snakemake could not measure (``NA``, ``-``, or any value of a job shorter than
    :data:`MEMORY_MIN_SECONDS`) is NaN.

    Raises
    ------
    ValueError
        If the file lacks the columns ``s`` and ``max_rss``.
    """
    frame = pd.read_csv(path, sep="\t", na_values=["NA", "-", ""])
    missing = [c for c in ("s", "max_rss") if c not in frame.columns]
    if missing or frame.empty:
        raise ValueError(f"{path}: not a Snakemake benchmark file (no {', '.join(missing)})")
    wall = float(frame["s"].mean())
    memory = pd.to_numeric(frame["max_rss"], errors="coerce")
    if wall < MEMORY_MIN_SECONDS or not memory.notna().any():
        return wall, np.nan
    return wall, float(memory.max())


def runtime_rows(
    jobs: Sequence[Mapping[str, Any]], paths: Sequence[str | os.PathLike]
) -> pd.DataFrame:
    """One row per job: what it ran (:data:`RUNTIME_COLUMNS`), its wall time and peak memory.

    Parameters
    ----------
    jobs : sequence of mapping
        Per benchmark file: ``rule`` (a key of :data:`JOB_RULES`) and the job's wildcards
        ``dataset``, ``backbone``, ``model``, ``k``, ``seed`` and, for trees, ``method``
        (``l2h_<aggregation>`` or a baseline).
    paths : sequence of path-like
        The benchmark files, in the order of ``jobs``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RUNTIME_COLUMNS`; training jobs have ``method`` ``train``; a
        memory :func:`read_benchmark` could not read is NaN.
    """
    if len(jobs) != len(paths):
        raise ValueError(f"got {len(jobs)} jobs for {len(paths)} benchmark files")
    rows = []
    for job, path in zip(jobs, paths, strict=True):
        if job["rule"] not in JOB_RULES:
            raise ValueError(f"rule {job['rule']!r} is not one of {sorted(JOB_RULES)}")
        method, aggregation = split_method(str(job.get("method") or "train"))
        wall, memory = read_benchmark(path)
        rows.append(
            {
                "step": JOB_RULES[job["rule"]],
                "dataset": str(job["dataset"]),
                "backbone": str(job["backbone"]),
                "model": str(job["model"]),
                "method": method,
                "aggregation": aggregation,
                "n_clusters": int(job["k"]),
                "seed": int(job["seed"]),
                "wall_s": wall,
                "max_rss_mb": memory,
            }
        )
    return pd.DataFrame(rows, columns=list(RUNTIME_COLUMNS))


def runtime_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of wall time and peak memory per job kind, dataset and K.

    Returns
    -------
    pandas.DataFrame
        Key columns (dataset, step, method, model, aggregation, backbone, n_clusters),
        ``n_runs``, then ``wall_s_mean``, ``wall_s_std``, ``max_rss_mb_mean``,
        ``max_rss_mb_std``. Rows: datasets in order of appearance, training first, then L2H,
        then the baselines; K ascending.
    """
    stats = rows.groupby(_KEYS, sort=False)[["wall_s", "max_rss_mb"]].agg(["mean", "std"])
    stats.columns = [f"{m}_{s}" for m, s in stats.columns]
    runs = rows.groupby(_KEYS, sort=False)["seed"].nunique().rename("n_runs")
    table = stats.join(runs).reset_index()
    table = table[[*_KEYS, "n_runs", *stats.columns]]
    datasets = list(dict.fromkeys(rows["dataset"]))
    order = sorted(
        range(len(table)),
        key=lambda i: (
            datasets.index(table.at[i, "dataset"]),
            _STEPS.index(table.at[i, "step"]) if table.at[i, "step"] in _STEPS else 9,
            table.at[i, "method"] != L2H_METHOD,
            str(table.at[i, "method"]),
            str(table.at[i, "model"]),
            str(table.at[i, "aggregation"]),
            int(table.at[i, "n_clusters"]),
        ),
    )
    return table.iloc[order].reset_index(drop=True)


def job_label(method: str, model: str, aggregation: str = "none") -> str:
    """The name of a job people read: ``TURTLE training``, ``L2H-TURTLE (cluster mean)``,
    ``Centroid linkage, Ward (TURTLE)``, ``DeepECT``."""
    if method == "train":
        return f"{display_name('model', model)} training"
    label = method_label(method, model)
    if method == L2H_METHOD and aggregation not in ("", "none"):
        label += f" ({display_name('aggregation', aggregation)})"
    return label


def _seconds(mean: float, std: float) -> str:
    if np.isnan(mean):
        return "–"
    digits = 2 if mean < 10 else 1 if mean < 100 else 0
    shown = f"{mean:.{digits}f}"
    return shown if np.isnan(std) else f"{shown} ± {std:.{digits}f}"


def _megabytes(mean: float, std: float) -> str:
    if np.isnan(mean):
        return "–"
    return f"{mean:.0f}" if np.isnan(std) else f"{mean:.0f} ± {std:.0f}"


def runtime_document(table: pd.DataFrame, caption: str | None = None) -> Document:
    """The printable runtime table: one row per job kind, dataset and K."""
    columns = ["Dataset", "Step", "Job", "Backbone", "K", "Runs", "Wall time (s)"]
    columns.append("Peak memory (MB)")
    rows = []
    for r in table.itertuples(index=False):
        rows.append(
            [
                display_name("dataset", r.dataset),
                r.step,
                job_label(r.method, r.model, r.aggregation),
                display_name("backbone", r.backbone),
                str(r.n_clusters),
                str(r.n_runs),
                _seconds(r.wall_s_mean, r.wall_s_std),
                _megabytes(r.max_rss_mb_mean, r.max_rss_mb_std),
            ]
        )
    numeric = frozenset({"K", "Runs", "Wall time (s)", "Peak memory (MB)"})
    notes = [
        "Wall time and peak resident memory of each job (Snakemake's benchmark files), mean ± "
        "std over seeds: the whole job, start-up and imports included, while other jobs of the "
        "study ran beside it. Flat model training ends with the model's logits; a hierarchy job "
        "starts from them (L2H, baselines on a model's clusters) or from the features. Snakemake "
        "samples memory once a second while a job runs: jobs of under a second show none (–)."
    ]
    return Document(caption, [Part(columns, rows, [], numeric)], notes)


#: Caption of the runtime table.
CAPTION = "Runtime: wall time and peak memory per job (training, L2H, baselines)"


def write_runtime(
    jobs: Sequence[Mapping[str, Any]],
    paths: Sequence[str | os.PathLike],
    out_stem: str | os.PathLike,
    *,
    note: str | None = None,
) -> pd.DataFrame:
    """Write the runtime table as ``<out_stem>.csv``, ``.md``, ``.tex`` and ``.html``.

    Parameters
    ----------
    jobs, paths
        As in :func:`runtime_rows`.
    out_stem : path-like
        The files' path without suffix (e.g. ``results/demo/tables/runtime``).
    note : str, optional
        Put first in the caption (not in the CSV).

    Returns
    -------
    pandas.DataFrame
        The per-job rows (:func:`runtime_rows`), for the figure.
    """
    rows = runtime_rows(jobs, paths)
    table = runtime_table(rows)
    caption = CAPTION if note is None else f"{note}. {CAPTION}"
    doc = runtime_document(table, caption)
    stem = Path(out_stem)
    texts = {
        "csv": table.to_csv(index=False, lineterminator="\n"),
        "md": _render.to_markdown(doc),
        "tex": _render.to_latex(doc, label="tab:runtime"),
        "html": _render.to_html(doc),
    }
    for suffix, text in texts.items():
        atomic_write_text(stem.with_name(f"{stem.name}.{suffix}"), text)
    return rows


def run_title(dataset: str, backbone: str, model: str, tree_method: str, k: Any, seed: Any) -> str:
    """The title of one tree of a study, in display names.

    >>> run_title("fashion_mnist", "efficientnet_lite0", "turtle", "l2h_cluster_mean", 10, 0)
    'Fashion-MNIST: L2H-TURTLE (cluster mean) on EfficientNet-Lite0, K = 10, seed 0'
    """
    method, aggregation = split_method(tree_method)
    label = job_label(method, model, aggregation)
    return (
        f"{display_name('dataset', dataset)}: {label} on {display_name('backbone', backbone)}, "
        f"K = {k}, seed {seed}"
    )
