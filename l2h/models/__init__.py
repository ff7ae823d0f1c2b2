"""Flat clustering models that produce the (N, K) logits L2H consumes.

Every model subclasses :class:`~l2h.models._base.FlatModel` and shares one interface (see
``docs/models.md``):

* ``Model(n_clusters=K, seed=0, device="auto", **hparams)``: the hyperparameters are the
  constructor's keyword arguments (:meth:`FlatModel.get_params`, checked by the workflow
  against the signature before any job runs);
* ``.fit(spaces, progress=True, log_file=None)`` returns self, with ``spaces`` a list of
  (N, d_s) float arrays (one per embedding space; memory-mapped arrays are streamed);
* ``.logits(spaces, batch_size=...) -> (N, K) float32`` and ``.predict(spaces) -> (N,) int64``;
* ``.save(path)`` and the classmethod ``Model.load(path)`` (one file, no training data needed);
* after fitting, ``n_empty_clusters_`` and ``history_`` (loss per iteration or epoch).

Models (:data:`MODELS`): :class:`~l2h.models.turtle.TURTLE` and :class:`~l2h.models.temi.TEMI`
(PyTorch) and :class:`~l2h.models.kmeans.KMeans` (scikit-learn). They are imported lazily, so
``import l2h.models`` never imports torch. Adding a model: one module with its class and one
:class:`ModelInfo` line in :data:`MODELS` (``docs/extending.md``).

>>> from l2h.models import get_model
>>> get_model("kmeans").__name__
'KMeans'
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from l2h._params import WORKFLOW_ARGUMENTS, entry

__all__ = [
    "MODELS",
    "TEMI",
    "TURTLE",
    "WORKFLOW_ARGUMENTS",
    "FlatModel",
    "KMeans",
    "ModelInfo",
    "get_model",
    "model_info",
]


@dataclass(frozen=True)
class ModelInfo:
    """Registry entry of a flat model: everything the library and the workflow know about its name.

    Attributes
    ----------
    module : str
        Module that implements the model (imported lazily).
    cls : str
        Class name in that module (a :class:`~l2h.models._base.FlatModel`).
    uses_gpu : bool
        Whether training computes on a GPU when the study has one (the workflow requests a GPU
        for such jobs only, and passes the study's ``device`` to them).
    display_name : str
        The name people read (tables, figures): ``"k-means"``.
    quick : mapping
        Hyperparameters for a run of seconds on a few hundred points (the shared contract tests).
    """

    module: str
    cls: str
    uses_gpu: bool
    display_name: str
    quick: Mapping[str, Any] = field(default_factory=dict)

    def load(self) -> type:
        """The model class (imports its module)."""
        return getattr(importlib.import_module(self.module), self.cls)

    def hyperparameters(self) -> dict[str, Any]:
        """``{name: default}`` of the settings a study may give (the constructor's keyword
        arguments, without those the workflow sets: :data:`WORKFLOW_ARGUMENTS`)."""
        return self.load().hyperparameters()


MODELS: dict[str, ModelInfo] = {
    "kmeans": ModelInfo(
        "l2h.models.kmeans", "KMeans", False, "k-means", {"n_init": 1, "max_iter": 50}
    ),
    "turtle": ModelInfo(
        "l2h.models.turtle", "TURTLE", True, "TURTLE", {"outer_steps": 5, "batch_size": 256}
    ),
    "temi": ModelInfo(
        "l2h.models.temi",
        "TEMI",
        True,
        "TEMI",
        {"n_heads": 2, "epochs": 2, "knn": 5, "hidden_dim": 32, "bottleneck_dim": 16},
    ),
}
"""Registered model names and their :class:`ModelInfo` (one entry per model)."""


def model_info(name: str) -> ModelInfo:
    """Return the registry entry of ``name`` (case-insensitive).

    Raises
    ------
    KeyError
        If ``name`` is not registered; the message lists the registered names.
    """
    return entry(MODELS, "model", name.lower())


def get_model(name: str) -> type:
    """Return the model class registered as ``name``.

    Parameters
    ----------
    name : str
        Registry name (case-insensitive), a key of :data:`MODELS`.

    Returns
    -------
    type
        The model class.

    Raises
    ------
    KeyError
        If ``name`` is not registered; the message lists the registered names.
    """
    return model_info(name).load()


def __getattr__(attr: str) -> Any:
    """Resolve ``l2h.models.FlatModel`` and the model classes (``l2h.models.KMeans``, ...) lazily,
    so that reading the registry imports no model code."""
    if attr == "FlatModel":
        return importlib.import_module("l2h.models._base").FlatModel
    for info in MODELS.values():
        if info.cls == attr:
            return info.load()
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
