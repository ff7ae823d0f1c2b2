"""k-means as a flat clustering model that yields logits, so that L2H can run on it too.

The features of each embedding space are L2-normalised per row, so every space weighs the same
whatever its dimension, and the spaces are concatenated; scikit-learn's :class:`~sklearn.
cluster.KMeans` (Lloyd, k-means++ initialisation, ``n_init`` restarts drawn from ``seed``) is
fitted on the result. The logits of a point are its negative squared distances to the
centroids divided by a temperature ``T``:

.. math:: z_k(x) = -\\lVert x - \\mu_k \\rVert^2 / T .

Their argmax is the nearest centroid, i.e. k-means' own assignment, whatever ``T``. The
temperature only sets how soft ``softmax(z)`` is, which L2H's confidences depend on. With
``temperature="auto"`` (the default) ``T`` is the mean squared distance of the training points
to their own centroid (the k-means inertia divided by N): a point at the typical distance from
its centroid gets logit -1, and distances to the other centroids count in units of that
typical spread. This keeps the logits on the same scale for any number of spaces, any
dimension and any data set, and never saturates the softmax the way the isotropic-Gaussian
posterior (``T = 2 sigma^2`` per dimension) does in high dimension. The value used is stored
in :attr:`KMeans.temperature_` and saved with the model.

TURTLE's k-means baseline normalises only when two or more spaces are concatenated; here
``normalize=True`` applies to one space as well (set ``normalize=False`` to match TURTLE's
single-space baseline).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np

from l2h.models._base import (
    FlatModel,
    TrainingLog,
    as_spaces,
    check_n_clusters,
    output_array,
    row_blocks,
    save_npz,
)

__all__ = ["KMeans"]

_FORMAT = "l2h-kmeans"
_VERSION = 2
_CHUNK_ROWS = 65_536  # rows per block when normalising and computing logits


def _stack(spaces: list[np.ndarray], start: int, stop: int, normalize: bool) -> np.ndarray:
    """Rows ``start:stop`` of the (optionally L2-normalised) spaces, concatenated, float64."""
    blocks = []
    for space in spaces:
        block = np.asarray(space[start:stop], dtype=np.float64)
        if normalize:
            norms = np.linalg.norm(block, axis=1, keepdims=True)
            block = block / np.where(norms > 0, norms, 1.0)
        blocks.append(block)
    return np.concatenate(blocks, axis=1)


def _features(spaces: list[np.ndarray], normalize: bool) -> np.ndarray:
    """All rows of the prepared feature matrix as float32, built block by block."""
    n = spaces[0].shape[0]
    d = sum(space.shape[1] for space in spaces)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, n)
        out[start:stop] = _stack(spaces, start, stop, normalize)
    if not np.all(np.isfinite(out)):
        raise ValueError("features contain NaN or infinite values")
    return out


def _sq_distances(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``(n, K)`` between rows of ``x`` and ``centers`` (float64)."""
    d2 = (
        np.einsum("ij,ij->i", x, x)[:, None]
        - 2.0 * (x @ centers.T)
        + np.einsum("ij,ij->i", centers, centers)[None, :]
    )
    return np.maximum(d2, 0.0)


class KMeans(FlatModel):
    """k-means on L2-normalised, concatenated embedding spaces, with temperature-scaled logits.

    Parameters
    ----------
    n_clusters : int
        Number K of clusters (>= 2).
    seed : int, default 0
        Seed of the k-means++ initialisations; a fixed seed gives the same model on the same
        machine and thread count.
    temperature : "auto" or float, default "auto"
        Divisor ``T`` of the negative squared distances. ``"auto"`` uses the mean squared
        distance of the training points to their own centroid (see the module docstring).
    n_init : int, default 10
        Number of k-means++ restarts; the run with the lowest inertia is kept.
    max_iter : int, default 1000
        Lloyd iterations per restart (TURTLE's k-means baseline uses 1000).
    tol : float, default 1e-4
        scikit-learn's relative convergence tolerance.
    normalize : bool, default True
        L2-normalise every row of every space before concatenating.
    device : {"auto", "cpu"}, default "auto"
        Accepted for the shared model interface; k-means always runs on the CPU.

    Attributes
    ----------
    cluster_centers_ : numpy.ndarray
        ``(K, D)`` float64 centroids in the prepared (normalised, concatenated) space.
    temperature_ : float
        The temperature used by :meth:`logits`.
    inertia_ : float
        Sum of squared distances of the training points to their centroid.
    labels_ : numpy.ndarray
        ``(N,)`` int64 training assignments (not saved).
    n_empty_clusters_ : int
        Clusters without a training point (0 for scikit-learn's k-means, which re-seeds empty
        clusters; reported for the shared interface).
    history_ : list of float
        The final inertia divided by N (scikit-learn does not expose per-iteration values).
    space_dims_ : tuple of int
        Dimension of each space seen in :meth:`fit`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(m, 0.1, (50, 3)) for m in (-1.0, 1.0)])
    >>> model = KMeans(2, seed=0).fit([x])
    >>> model.logits([x]).shape
    (100, 2)
    """

    def __init__(
        self,
        n_clusters: int,
        seed: int = 0,
        temperature: str | float = "auto",
        *,
        n_init: int = 10,
        max_iter: int = 1000,
        tol: float = 1e-4,
        normalize: bool = True,
        device: str = "auto",
    ) -> None:
        check_n_clusters(n_clusters)
        is_number = isinstance(temperature, int | float) and not isinstance(temperature, bool)
        if temperature != "auto" and not (
            is_number and np.isfinite(temperature) and temperature > 0
        ):
            raise ValueError(
                f"temperature must be 'auto' or a positive number, got {temperature!r}"
            )
        if device not in ("auto", "cpu"):
            raise ValueError(
                f"KMeans runs on the CPU only; device must be 'auto' or 'cpu', got {device!r}"
            )
        self.n_clusters = int(n_clusters)
        self.seed = int(seed)
        self.temperature = temperature
        self.n_init = int(n_init)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.normalize = bool(normalize)
        self.device = device

    # ----------------------------------------------------------------- fitting

    def fit(
        self,
        spaces: Sequence[np.ndarray] | np.ndarray,
        progress: bool = True,
        log_file: str | os.PathLike | None = None,
    ) -> KMeans:
        """Fit k-means on the prepared spaces.

        Parameters
        ----------
        spaces : list of array-like of shape (N, d_s)
            One feature matrix per embedding space (a single array is accepted too).
            Memory-mapped arrays are read block by block (the prepared float32 matrix that
            scikit-learn clusters is held in memory).
        progress : bool, default True
            Show a one-step progress bar with the final loss (inertia / N) and the number of
            non-empty clusters.
        log_file : path-like, optional
            Append a summary line to this file.

        Returns
        -------
        KMeans
            ``self``, fitted.

        Raises
        ------
        ValueError
            If the spaces are not 2-D with equal N, contain NaN or infinite values, or have
            fewer rows than ``n_clusters``.
        """
        from sklearn.cluster import KMeans as SklearnKMeans

        spaces = as_spaces(spaces)
        check_n_clusters(self.n_clusters, spaces[0].shape[0])
        x = _features(spaces, self.normalize)
        km = SklearnKMeans(
            n_clusters=self.n_clusters,
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.seed,
        ).fit(x)
        self.cluster_centers_ = np.asarray(km.cluster_centers_, dtype=np.float64)
        self.space_dims_ = tuple(int(space.shape[1]) for space in spaces)
        self.labels_ = np.asarray(km.labels_, dtype=np.int64)
        self.n_iter_ = int(km.n_iter_)
        self.inertia_ = float(km.inertia_)
        if self.temperature == "auto":
            mean_sq = self.inertia_ / x.shape[0]
            # all points on their centroids (e.g. K = N): any positive T gives the same argmax
            self.temperature_ = mean_sq if mean_sq > 0 else 1.0
        else:
            self.temperature_ = float(self.temperature)
        self.n_empty_clusters_ = self._count_empty(self.labels_)
        self.history_ = [self.inertia_ / x.shape[0]]
        with TrainingLog(1, "KMeans", self.n_clusters, progress, log_file) as log:
            nonempty = self.n_clusters - self.n_empty_clusters_
            log.update(1, self.history_[0], nonempty)
            log.write(
                f"N={x.shape[0]}, dims={list(self.space_dims_)}, {self!r}: inertia/N "
                f"{self.history_[0]:.6f} after {self.n_iter_} iterations, "
                f"{nonempty}/{self.n_clusters} clusters non-empty "
                f"({self.n_empty_clusters_} empty), "
                f"temperature {self.temperature_:.6g}"
            )
        return self

    def logits(
        self,
        spaces: Sequence[np.ndarray] | np.ndarray,
        batch_size: int = _CHUNK_ROWS,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the logits ``-||x - mu_k||^2 / T`` of every point.

        Parameters
        ----------
        spaces : list of array-like of shape (N, d_s)
            The same spaces, in the same order, as given to :meth:`fit` (any N).
        batch_size : int, default 65536
            Rows per block.
        out : numpy.ndarray, optional
            A writable ``(N, K)`` float32 array (e.g. a ``.npy`` memmap) filled block by block
            and returned; default a new array.

        Returns
        -------
        numpy.ndarray
            ``(N, K)`` float32 logits; their argmax is the nearest centroid.

        Raises
        ------
        RuntimeError
            If the model is not fitted.
        ValueError
            If the number or dimensions of the spaces differ from those seen in :meth:`fit`.
        """
        self._check_fitted()
        spaces = as_spaces(spaces)
        self._check_dims(spaces)
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        n = spaces[0].shape[0]
        out = output_array(out, n, self.n_clusters)
        for start, stop in row_blocks(n, int(batch_size)):
            # the float32 values fit() clustered, then float64 arithmetic
            with np.errstate(invalid="ignore", over="ignore"):  # non-finite rows: error below
                x = _stack(spaces, start, stop, self.normalize)
            x = x.astype(np.float32).astype(np.float64)
            if not np.all(np.isfinite(x)):
                raise ValueError(f"spaces contain NaN or infinite values in rows {start}:{stop}")
            out[start:stop] = -_sq_distances(x, self.cluster_centers_) / self.temperature_
        return out

    # ----------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike) -> None:
        """Save the fitted model to ``path`` (``.npz``) atomically.

        Parameters
        ----------
        path : path-like
            Destination; missing parent folders are created.
        """
        self._check_fitted()
        meta = {
            "format": _FORMAT,
            "version": _VERSION,
            "params": self.get_params(),
            "temperature_": self.temperature_,
            "inertia_": self.inertia_,
            "n_iter_": self.n_iter_,
            "space_dims_": list(self.space_dims_),
            "n_empty_clusters_": self.n_empty_clusters_,
            "history_": self.history_,
        }
        save_npz(
            path, {"cluster_centers": self.cluster_centers_, "meta": np.array(json.dumps(meta))}
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> KMeans:
        """Load a model written by :meth:`save`.

        Parameters
        ----------
        path : path-like
            ``.npz`` file.

        Returns
        -------
        KMeans
            A fitted model (without ``labels_``, which are not saved).

        Raises
        ------
        ValueError
            If the file is not a saved :class:`KMeans`; the message names ``path``.
        """
        with np.load(path, allow_pickle=False) as data:
            try:
                meta = json.loads(str(data["meta"]))
                centers = np.asarray(data["cluster_centers"], dtype=np.float64)
            except (KeyError, ValueError) as err:
                raise ValueError(f"{os.fspath(path)}: not a saved l2h KMeans ({err})") from None
        if meta.get("format") != _FORMAT or meta.get("version") != _VERSION:
            raise ValueError(
                f"{os.fspath(path)}: not a saved l2h KMeans version {_VERSION} "
                f"(format {meta.get('format')!r}, version {meta.get('version')!r})"
            )
        model = cls(**meta["params"])
        model.cluster_centers_ = centers
        model.temperature_ = float(meta["temperature_"])
        model.inertia_ = float(meta["inertia_"])
        model.n_iter_ = int(meta["n_iter_"])
        model.space_dims_ = tuple(meta["space_dims_"])
        model.n_empty_clusters_ = int(meta["n_empty_clusters_"])
        model.history_ = [float(v) for v in meta["history_"]]
        if centers.shape != (model.n_clusters, sum(model.space_dims_)):
            raise ValueError(f"{os.fspath(path)}: centroids have shape {centers.shape}")
        return model
