"""The names people read: every table, figure and caption asks here, never spells a name itself.

Each registry entry holds its display name (``DatasetInfo.display_name``,
``BackboneInfo.display_name``, ``ModelInfo.display_name``, ``BaselineInfo.display_name``);
:func:`display_name` reads it for any kind, and :func:`method_label` names a method run on a
flat model, as in the paper (``L2H-TURTLE``) and for baselines (``Centroid linkage, Ward
(k-means)``). Names that no registry knows (bring-your-own datasets, a timm classifier, ``given``
logits) are shown as they are written.

>>> display_name("dataset", "cifar100"), display_name("backbone", "clip_vitl14+dinov2_vitg14")
('CIFAR-100', 'CLIP ViT-L/14 + DINOv2 ViT-g/14')
>>> method_label("l2h", "turtle"), method_label("centroid_ward", "kmeans")
('L2H-TURTLE', 'Centroid linkage, Ward (k-means)')
>>> display_name("aggregation", "point_sum"), display_name("level", "depth7")
('point sum', 'depth 7')
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = [
    "AGGREGATION_NAMES",
    "KINDS",
    "METRIC_NAMES",
    "OTHER_METHODS",
    "OTHER_MODELS",
    "display_name",
    "method_label",
]

#: Display names of the scores of ``metrics.csv``.
METRIC_NAMES: dict[str, str] = {
    "nmi": "NMI",
    "ari": "ARI",
    "acc": "ACC",
    "dp": "DP",
    "lp": "LP",
    "lca_spearman": "LCA Spearman",
    "mistake_severity": "Mistake severity",
    "n_leaves": "Leaves",
    "wall_s": "Wall time (s)",
    "max_rss_mb": "Peak memory (MB)",
}
#: Display names of L2H's aggregation functions (``l2h.algorithm.AGGREGATIONS``).
AGGREGATION_NAMES: dict[str, str] = {
    "cluster_mean": "cluster mean",
    "point_sum": "point sum",
    "point_mean": "point mean",
}

#: The method name of L2H itself in ``metrics.csv`` and its display name.
L2H = ("l2h", "L2H")
#: Display names of the methods outside the baseline registry: L2H, and TreeVAE (the official
#: repository, run by its own workflow rule, see :mod:`l2h.baselines.treevae`).
OTHER_METHODS: dict[str, str] = {L2H[0]: L2H[1], "treevae": "TreeVAE"}
#: Variants of L2H that only the paper ran (quoted in ``l2h/paper_numbers.csv``): their
#: ``method`` and what they change.
L2H_VARIANTS: dict[str, str] = {"l2h_all_pairs": "all-pairs merging"}
#: Display names of flat models outside the model registry: those only the paper ran (quoted
#: in ``l2h/paper_numbers.csv``).
OTHER_MODELS: dict[str, str] = {"tcl": "TCL"}

#: Values of ``model`` meaning "no flat model" (model-free baselines).
_NO_MODEL = ("", "none", "nan")


def _dataset(name: str) -> str | None:
    from l2h.datasets import DATASETS

    return DATASETS[name].display_name if name in DATASETS else None


def _backbone(name: str) -> str | None:
    from l2h.backbones import BACKBONES

    parts = name.split("+")
    shown = [BACKBONES[p].display_name if p in BACKBONES else p for p in parts]
    return " + ".join(shown)


def _model(name: str) -> str | None:
    from l2h.models import MODELS

    return MODELS[name].display_name if name in MODELS else OTHER_MODELS.get(name)


def _method(name: str) -> str | None:
    from l2h.baselines import BASELINES

    if name in OTHER_METHODS:
        return OTHER_METHODS[name]
    return BASELINES[name].display_name if name in BASELINES else None


def _level(name: str) -> str:
    """Ground-truth levels: ``depth7`` (WordNet depths) reads ``depth 7``, and iNaturalist's
    rank ``class`` (stored as ``class_rank``, see :data:`l2h.results.CLASS_RANK`) ``class
    (rank)``; ``class`` alone is the dataset's own labels."""
    if name == "class_rank":
        return "class (rank)"
    return re.sub(r"^([a-z]+)(\d+)$", r"\1 \2", name).replace("_", " ")


_LOOKUP: dict[str, Callable[[str], str | None]] = {
    "dataset": _dataset,
    "backbone": _backbone,
    "model": _model,
    "method": _method,
    "metric": METRIC_NAMES.get,
    "aggregation": AGGREGATION_NAMES.get,
    "level": _level,
}
#: The kinds of name :func:`display_name` knows.
KINDS: tuple[str, ...] = tuple(_LOOKUP)


def display_name(kind: str, name: str) -> str:
    """The name people read for a registry name.

    Parameters
    ----------
    kind : {"dataset", "backbone", "model", "method", "metric", "aggregation", "level"}
        What ``name`` names (``method``: ``l2h``, a baseline or ``treevae``; ``backbone``: one
        backbone or several joined by ``+``; ``level``: a ground-truth level of
        ``metrics.csv``).
    name : str
        The name as written in configurations and ``metrics.csv``.

    Returns
    -------
    str
        The registry entry's display name, or ``name`` itself when no registry knows it.

    Raises
    ------
    ValueError
        If ``kind`` is not one of :data:`KINDS`.
    """
    if kind not in _LOOKUP:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    name = str(name)
    return _LOOKUP[kind](name) or name


def method_label(method: str, model: str = "none") -> str:
    """The label of a method run on a flat model's output.

    Parameters
    ----------
    method : str
        ``l2h``, a baseline name or ``treevae`` (the ``method`` column of ``metrics.csv``).
    model : str, default "none"
        The flat model (``none`` for model-free baselines such as DeepECT).

    Returns
    -------
    str
        ``L2H-<model>`` for L2H, as in the paper (``L2H-TURTLE``), followed by the change of
        a variant only the paper ran (``L2H-TURTLE, all-pairs merging``); ``<baseline>
        (<model>)`` for a baseline on a flat model's clusters; the method alone without a model.

    Examples
    --------
    >>> method_label("deepect"), method_label("l2h", "temi")
    ('DeepECT', 'L2H-TEMI')
    >>> method_label("l2h_all_pairs", "turtle"), method_label("l2h", "tcl")
    ('L2H-TURTLE, all-pairs merging', 'L2H-TCL')
    """
    method, model = str(method), str(model)
    if method in L2H_VARIANTS:
        return f"{method_label(L2H[0], model)}, {L2H_VARIANTS[method]}"
    shown = display_name("method", method)
    if model in _NO_MODEL:
        return shown
    if method == L2H[0]:
        return f"{shown}-{display_name('model', model)}"
    return f"{shown} ({display_name('model', model)})"
