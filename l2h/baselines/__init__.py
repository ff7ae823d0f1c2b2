"""Hierarchical baselines that L2H is compared against, all with the same output type.

Every baseline returns ``(Hierarchy, leaf_labels)``: a tree over its leaves and, for every point
of the ``evaluate`` split, the leaf (``0..L-1``) it belongs to, so one call of
:func:`l2h.metrics.evaluate` scores any method. Trees are fitted on the ``fit`` split.

>>> import numpy as np
>>> from l2h.baselines import BaselineData, run_baseline
>>> logits = np.eye(3)[[0, 0, 1, 2, 2]] * 5.0
>>> tree, leaves = run_baseline("logit_affinity", fit=BaselineData(logits=logits), n_clusters=3)
>>> tree.n_clusters, leaves.tolist()
(3, [0, 0, 1, 2, 2])

See ``docs/baselines.md`` for definitions, costs and measured numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from l2h.baselines._common import INPUTS, BaselineData, BaselineInfo, check_compatible, check_data
from l2h.baselines.cheap import (
    bisecting_kmeans,
    centroid_cosine,
    centroid_ward,
    logit_affinity,
    point_ward,
)
from l2h.baselines.deepect import deepect
from l2h.hierarchy import Hierarchy

__all__ = ["BASELINES", "INPUTS", "BaselineData", "BaselineInfo", "run_baseline"]

_FLAT = frozenset({"features", "logits"})

BASELINES: dict[str, BaselineInfo] = {
    "centroid_ward": BaselineInfo(
        centroid_ward, _FLAT, "Ward linkage on the flat clusters' centroids (normalised features)"
    ),
    "centroid_cosine": BaselineInfo(
        centroid_cosine, _FLAT, "average linkage on cosine distances between cluster centroids"
    ),
    "logit_affinity": BaselineInfo(
        logit_affinity,
        frozenset({"logits"}),
        "average linkage on 1 - symmetrised mean softmax mass between clusters (logits only)",
    ),
    "point_ward": BaselineInfo(
        point_ward,
        frozenset({"features"}),
        "point-level Ward on a subsample, collapsed to K leaves; points to nearest leaf centroid",
        {"max_points": 10_000},
    ),
    "bisecting_kmeans": BaselineInfo(
        bisecting_kmeans,
        frozenset({"features"}),
        "top-down 2-means splits of the largest-SSE leaf to K leaves; points descend the tree",
        {"n_init": 3, "max_iter": 300},
    ),
    "deepect": BaselineInfo(
        deepect,
        frozenset({"pixels"}),
        "DeepECT (ClustPy 0.0.3) on raw pixels, max K leaves (may end with fewer)",
        {
            "pretrain_epochs": 100,
            "clustering_epochs": 150,
            "grow_interval": 2,
            "pruning_threshold": 0.1,
            "batch_size": 256,
            "embedding_size": 10,
            "pretrain_lr": 1e-3,
            "clustering_lr": 1e-4,
            "device": "auto",
        },
        uses_gpu=True,
    ),
}
"""Registry: name (the ``method`` column of metrics tables) -> :class:`BaselineInfo`."""


def _check_int(value: Any, name: str, minimum: int) -> int:
    """Return ``value`` as an int >= ``minimum`` (bools and floats rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def run_baseline(
    name: str,
    *,
    fit: BaselineData,
    evaluate: BaselineData | None = None,
    n_clusters: int,
    seed: int = 0,
    **params: Any,
) -> tuple[Hierarchy, np.ndarray]:
    """Fit baseline ``name`` on ``fit`` and place the points of ``evaluate`` in its tree.

    Parameters
    ----------
    name : str
        A key of :data:`BASELINES`.
    fit : BaselineData
        The split the tree is built from; must hold the baseline's ``inputs``.
    evaluate : BaselineData, optional
        The split whose points get leaf labels (for instance the test split); defaults to
        ``fit``. Must hold the same inputs with the same number of columns.
    n_clusters : int
        Number K of leaves (for the flat-cluster baselines, the number of logit columns; for
        DeepECT, the maximum).
    seed : int, default 0
        Seed of every random choice; same seed, same result on CPU.
    **params
        Extra parameters of the baseline (see ``BASELINES[name].defaults``).

    Returns
    -------
    tree : Hierarchy
        Tree over L leaves (L = K except when DeepECT ends with fewer).
    leaf_labels : numpy.ndarray
        int64 array of length ``N_evaluate`` with values in ``0..L-1``.

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones), missing or malformed inputs
        (NaN, wrong shape, pixels outside [0, 1]), or inputs that do not fit together.
    TypeError
        Unknown extra parameter, or a non-integer ``n_clusters``/``seed``.
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    info = BASELINES[name]
    n_clusters = _check_int(n_clusters, "n_clusters", 1)
    seed = _check_int(seed, "seed", 0)
    unknown = sorted(set(params) - set(info.defaults))
    if unknown:
        known = sorted(info.defaults)
        raise TypeError(f"{name} got unknown parameter(s) {unknown}; known: {known}")
    fit_checked = check_data(fit, info.inputs, "fit")
    eval_checked = (
        fit_checked if evaluate is None else check_data(evaluate, info.inputs, "evaluate")
    )
    check_compatible(fit_checked, eval_checked)
    tree, labels = info.function(
        fit_checked, eval_checked, n_clusters=n_clusters, seed=seed, **params
    )
    labels = np.asarray(labels, dtype=np.int64)
    return tree, labels
