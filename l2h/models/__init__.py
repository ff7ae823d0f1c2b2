"""Flat clustering models that produce the (N, K) logits L2H consumes.

Every model shares one interface (see ``docs/models.md``):

* ``Model(n_clusters=K, seed=..., device="auto", **hparams)``;
* ``.fit(spaces, progress=True, log_file=None)`` returns self, with ``spaces`` a list of
  (N, d_s) float arrays (one per embedding space; memory-mapped arrays are streamed);
* ``.logits(spaces, batch_size=...) -> (N, K) float32`` and ``.predict(spaces) -> (N,) int64``;
* ``.save(path)`` and the classmethod ``Model.load(path)`` (one file, no training data needed);
* after fitting, ``n_empty_clusters_`` and ``history_`` (loss per iteration or epoch).

Models: :class:`~l2h.models.turtle.TURTLE` and :class:`~l2h.models.temi.TEMI` (PyTorch) and
:class:`~l2h.models.kmeans.KMeans` (scikit-learn). They are imported lazily, so
``import l2h.models`` never imports torch:

>>> from l2h.models import get_model
>>> get_model("kmeans").__name__
'KMeans'
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any, NamedTuple

__all__ = [
    "MODELS",
    "TEMI",
    "TURTLE",
    "KMeans",
    "ModelInfo",
    "ModelNotAvailableError",
    "get_model",
]


class ModelInfo(NamedTuple):
    """Registry entry of a flat model: where it is implemented and whether it uses a GPU."""

    module: str
    """Module that implements the model (imported lazily)."""
    cls: str
    """Class name in that module."""
    uses_gpu: bool
    """Whether training computes on a GPU when the study has one (the workflow requests a GPU
    for such jobs only)."""


MODELS: dict[str, ModelInfo] = {
    "kmeans": ModelInfo("l2h.models.kmeans", "KMeans", uses_gpu=False),
    "turtle": ModelInfo("l2h.models.turtle", "TURTLE", uses_gpu=True),
    "temi": ModelInfo("l2h.models.temi", "TEMI", uses_gpu=True),
}
"""Registered model names and their :class:`ModelInfo`."""

_CLASSES = {info.cls: name for name, info in MODELS.items()}


class ModelNotAvailableError(NotImplementedError):
    """A registered model whose module has not been written yet."""


def get_model(name: str) -> type:
    """Return the model class registered as ``name``.

    Parameters
    ----------
    name : {"kmeans", "turtle", "temi"}
        Registry name (case-insensitive).

    Returns
    -------
    type
        The model class.

    Raises
    ------
    KeyError
        If ``name`` is not registered; the message lists the registered names.
    ModelNotAvailableError
        If the model is registered but its module does not exist yet.
    """
    key = name.lower()
    if key not in MODELS:
        raise KeyError(f"unknown model {name!r}; registered models: {', '.join(sorted(MODELS))}")
    module_name, class_name = MODELS[key].module, MODELS[key].cls
    if importlib.util.find_spec(module_name) is None:
        raise ModelNotAvailableError(
            f"model {name!r} is registered but {module_name} has not been implemented yet "
            "(flat clustering models issue); use 'kmeans'"
        )
    return getattr(importlib.import_module(module_name), class_name)


def __getattr__(attr: str) -> Any:
    """Resolve ``l2h.models.KMeans`` (and the other model classes) lazily."""
    if attr in _CLASSES:
        return get_model(_CLASSES[attr])
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
