"""Inputs of the baselines and the helpers they share (numpy and scipy only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse

from l2h.hierarchy import Hierarchy

__all__ = ["INPUTS", "BaselineData", "BaselineInfo", "BaselineFunction"]

INPUTS: tuple[str, ...] = ("features", "logits", "pixels")
"""Names of the inputs a baseline can need."""

CHUNK_ROWS = 65_536
"""Rows per block for passes over large inputs (softmax, normalisation, distances)."""

BaselineFunction = Callable[..., tuple[Hierarchy, np.ndarray]]


@dataclass
class BaselineData:
    """The data of one split (the points a tree is fitted on, or the points to place in it).

    Parameters
    ----------
    features : list of numpy.ndarray, optional
        Embedding spaces, each ``(N, d_s)``. Baselines L2-normalise every row of every space and
        concatenate the spaces, so each space weighs the same.
    logits : numpy.ndarray, optional
        ``(N, K)`` logits of the flat model; its argmax is the flat assignment.
    pixels : numpy.ndarray, optional
        ``(N, P)`` raw pixels scaled to ``[0, 1]`` (images flattened).
    """

    features: list[np.ndarray] | None = None
    logits: np.ndarray | None = None
    pixels: np.ndarray | None = None

    def n_points(self) -> int | None:
        """Return the number of points N of the inputs that are set (None if none is set)."""
        for value in (self.logits, self.pixels):
            if value is not None:
                return int(np.shape(value)[0])
        if self.features:
            return int(np.shape(self.features[0])[0])
        return None


@dataclass(frozen=True)
class BaselineInfo:
    """One entry of :data:`l2h.baselines.BASELINES`.

    Attributes
    ----------
    function : callable
        ``function(fit, evaluate, *, n_clusters, seed, **params) -> (Hierarchy, leaf_labels)``
        on validated :class:`BaselineData`.
    inputs : frozenset of str
        Inputs the baseline needs, a subset of ``{"features", "logits", "pixels"}``.
    description : str
        One line for tables and ``--help`` texts.
    defaults : dict
        Default values of the extra parameters it accepts (documentation only).
    uses_gpu : bool
        Whether it computes on a GPU when the study has one (the workflow requests a GPU for
        such jobs only).
    """

    function: BaselineFunction
    inputs: frozenset[str]
    description: str
    defaults: dict[str, Any] = field(default_factory=dict)
    uses_gpu: bool = False


# ----------------------------------------------------------------------------- validation


def _check_matrix(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as a 2-D numeric array with at least one row and column, all finite."""
    arr = np.asarray(value)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    for start in range(0, arr.shape[0], CHUNK_ROWS):
        if not np.all(np.isfinite(arr[start : start + CHUNK_ROWS])):
            raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_data(data: Any, needs: frozenset[str], split: str) -> BaselineData:
    """Validate one split for a baseline that needs ``needs``; return it with arrays checked.

    Raises
    ------
    ValueError
        If an input is missing, not 2-D, empty, non-finite, pixels outside ``[0, 1]``, or the
        inputs disagree on the number of points.
    """
    if not isinstance(data, BaselineData):
        raise TypeError(f"{split} must be a BaselineData, got {type(data).__name__}")
    out = BaselineData()
    for name in sorted(needs):
        value = getattr(data, name)
        if value is None or (name == "features" and len(value) == 0):
            raise ValueError(f"{split}.{name} is required by this baseline but is missing")
        if name == "features":
            if isinstance(value, np.ndarray):
                raise ValueError(f"{split}.features must be a list of (N, d) arrays")
            out.features = [_check_matrix(v, f"{split}.features[{s}]") for s, v in enumerate(value)]
        else:
            setattr(out, name, _check_matrix(value, f"{split}.{name}"))
    if out.pixels is not None and (out.pixels.min() < 0 or out.pixels.max() > 1):
        raise ValueError(f"{split}.pixels must lie in [0, 1] (divide 8-bit images by 255)")
    rows = {}
    for name in sorted(needs):
        value = getattr(out, name)
        for s, arr in enumerate(value if name == "features" else [value]):
            rows[f"{split}.{name}" + (f"[{s}]" if name == "features" else "")] = arr.shape[0]
    if len(set(rows.values())) > 1:
        raise ValueError(f"inputs of {split} disagree on the number of points: {rows}")
    return out


def check_compatible(fit: BaselineData, evaluate: BaselineData) -> None:
    """Check that ``evaluate`` has the same columns as ``fit`` for every input."""
    pairs = []
    if fit.features is not None:
        if len(fit.features) != len(evaluate.features):
            raise ValueError(
                f"fit has {len(fit.features)} feature spaces, evaluate has {len(evaluate.features)}"
            )
        pairs += [
            (f"features[{s}]", a, b)
            for s, (a, b) in enumerate(zip(fit.features, evaluate.features, strict=True))
        ]
    for name in ("logits", "pixels"):
        if getattr(fit, name) is not None:
            pairs.append((name, getattr(fit, name), getattr(evaluate, name)))
    for name, a, b in pairs:
        if a.shape[1] != b.shape[1]:
            raise ValueError(
                f"fit.{name} has {a.shape[1]} columns but evaluate.{name} has {b.shape[1]}"
            )


# ----------------------------------------------------------------------------- shared maths


def normalised_features(spaces: list[np.ndarray], start: int = 0, stop: int | None = None):
    """Rows ``start:stop`` of the row-L2-normalised spaces, concatenated (float64).

    A zero row stays zero.
    """
    blocks = []
    for space in spaces:
        block = np.asarray(space[start:stop], dtype=np.float64)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        blocks.append(block / np.where(norms > 0, norms, 1.0))
    return np.concatenate(blocks, axis=1)


def feature_matrix(spaces: list[np.ndarray], rows: np.ndarray | None = None) -> np.ndarray:
    """The normalised, concatenated features of ``rows`` (all rows by default), float32."""
    if rows is not None:
        spaces = [space[rows] for space in spaces]
    n = spaces[0].shape[0]
    out = np.empty((n, sum(s.shape[1] for s in spaces)), dtype=np.float32)
    for start in range(0, n, CHUNK_ROWS):
        out[start : start + CHUNK_ROWS] = normalised_features(spaces, start, start + CHUNK_ROWS)
    return out


def argmax_rows(logits: np.ndarray) -> np.ndarray:
    """First argmax of every row, int64."""
    return np.asarray(np.argmax(logits, axis=1), dtype=np.int64)


def _indicator(labels: np.ndarray, k: int) -> scipy.sparse.csr_matrix:
    """Sparse ``(k, n)`` one-hot matrix of ``labels``."""
    n = labels.shape[0]
    return scipy.sparse.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(k, n))


def group_sums(labels: np.ndarray, k: int, rows: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """``(k, d)`` sums of ``rows(start, stop)`` over the points of each label, in chunks."""
    total = None
    n = labels.shape[0]
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        part = _indicator(labels[start:stop], k) @ rows(start, stop)
        total = part if total is None else total + part
    return np.asarray(total, dtype=np.float64)


def softmax_rows(logits: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Softmax of rows ``start:stop`` in float64."""
    z = np.asarray(logits[start:stop], dtype=np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def nearest_center(x_rows: Callable[[int, int], np.ndarray], n: int, centers: np.ndarray):
    """Index of the nearest centre (squared Euclidean, first on ties) of every point."""
    out = np.empty(n, dtype=np.int64)
    c2 = np.einsum("ij,ij->i", centers, centers)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        x = x_rows(start, stop)
        out[start:stop] = np.argmin(c2[None, :] - 2.0 * (x @ centers.T), axis=1)
    return out
