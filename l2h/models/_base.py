"""What every flat clustering model shares: input checks, device, seeding, progress, files.

The helpers here keep each model module short and close to its paper. Nothing in this module
imports torch at import time; the torch helpers import it lazily.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from l2h._params import WORKFLOW_ARGUMENTS, hyperparameters

__all__ = [
    "FlatModel",
    "TrainingLog",
    "as_spaces",
    "check_finite",
    "check_loss",
    "check_n_clusters",
    "check_positive",
    "load_torch",
    "output_array",
    "resolve_device",
    "row_blocks",
    "rows_to_tensor",
    "save_torch",
    "seed_torch",
    "take_rows",
]


_CHECK_ROWS = 65_536  # rows per block when scanning spaces for non-finite values


def as_spaces(spaces: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """Accept one (N, d) array or a list of them; check they are 2-D with equal, non-zero N."""
    if isinstance(spaces, np.ndarray):
        spaces = [spaces]
    spaces = list(spaces)
    if not spaces:
        raise ValueError("spaces must hold at least one (N, d) array")
    n = None
    for s, space in enumerate(spaces):
        if getattr(space, "ndim", None) != 2:
            raise ValueError(f"space {s} must be a 2-D (N, d) array, got shape {np.shape(space)}")
        if space.shape[1] == 0:
            raise ValueError(f"space {s} has no columns")
        if n is None:
            n = space.shape[0]
        elif space.shape[0] != n:
            raise ValueError(f"space {s} has {space.shape[0]} rows, space 0 has {n}")
    if n == 0:
        raise ValueError("spaces have no rows")
    return spaces


def row_blocks(n: int, size: int) -> Iterator[tuple[int, int]]:
    """Yield ``(start, stop)`` of consecutive row blocks of at most ``size`` rows."""
    for start in range(0, n, size):
        yield start, min(start + size, n)


def check_finite(spaces: list[np.ndarray]) -> None:
    """Raise ValueError if any space holds NaN or infinity (scanned block by block)."""
    for s, space in enumerate(spaces):
        for start, stop in row_blocks(space.shape[0], _CHECK_ROWS):
            if not np.all(np.isfinite(space[start:stop])):
                raise ValueError(f"space {s} contains NaN or infinite values")


def check_n_clusters(n_clusters: int, n: int | None = None) -> int:
    """Return ``n_clusters`` as int after checking ``2 <= n_clusters (<= n)``."""
    if isinstance(n_clusters, bool) or int(n_clusters) != n_clusters or n_clusters < 2:
        raise ValueError(f"n_clusters must be an integer >= 2, got {n_clusters!r}")
    if n is not None and n_clusters > n:
        raise ValueError(f"{n} points cannot form {n_clusters} clusters")
    return int(n_clusters)


def check_positive(name: str, value: float, integer: bool = False) -> None:
    """Raise ValueError unless ``value`` is a finite positive number (an integer if asked)."""
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and value > 0
    if ok and integer:
        ok = int(value) == value
    if not ok:
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


def resolve_device(device: str) -> str:
    """Map ``"auto"`` to ``"cuda"`` when a GPU is available, else ``"cpu"``; check the name."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:i]', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:i]', got {device!r}")
    return str(dev)


def check_loss(loss: float, step: int | str, what: str = "iteration") -> None:
    """Stop training with FloatingPointError when the loss is NaN or infinite."""
    if not math.isfinite(loss):
        raise FloatingPointError(
            f"loss is {loss} at {what} {step}; training stopped (lower the learning rate "
            "or check the features)"
        )


class TrainingLog:
    """A tqdm progress bar with the loss and non-empty cluster count, plus an optional log file.

    Parameters
    ----------
    total : int
        Number of steps (iterations or epochs).
    desc : str
        Name shown in the bar and at the start of each log line.
    n_clusters : int
        K, shown as ``clusters=nonempty/K``.
    progress : bool
        Show the bar (on stderr).
    log_file : path-like, optional
        Append one line per :meth:`update` with a message to this file.
    """

    def __init__(
        self,
        total: int,
        desc: str,
        n_clusters: int,
        progress: bool = True,
        log_file: str | os.PathLike | None = None,
    ) -> None:
        from tqdm.auto import tqdm

        self.desc = desc
        self.n_clusters = n_clusters
        self.bar = tqdm(total=total, desc=desc, disable=not progress, dynamic_ncols=True)
        self._file: TextIO | None = None
        if log_file is not None:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(log_file, "a", encoding="utf-8")  # noqa: SIM115 (closed in close)

    def update(self, step: int, loss: float, nonempty: int | None = None, log: bool = False):
        """Advance the bar by one step; show ``loss`` and ``nonempty``; log a line if asked."""
        postfix = {"loss": f"{loss:.4f}"}
        if nonempty is not None:
            postfix["clusters"] = f"{nonempty}/{self.n_clusters}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(1)
        if log and nonempty is not None:
            self.write(
                f"step {step}: loss {loss:.6f}, non-empty clusters {nonempty}/{self.n_clusters}"
            )

    def write(self, message: str) -> None:
        """Write ``message`` to the log file (if any) and above the bar (if shown)."""
        if self._file is not None:
            self._file.write(f"{self.desc}: {message}\n")
            self._file.flush()
        if not self.bar.disable:
            self.bar.write(f"{self.desc}: {message}")

    def close(self) -> None:
        """Close the bar and the log file."""
        self.bar.close()
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> TrainingLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FlatModel(ABC):
    """What every flat clustering model is: a constructor of keyword hyperparameters, ``fit``,
    ``logits``, ``save`` and ``load``; ``predict`` and the parameter helpers come with it.

    A subclass takes ``n_clusters`` and ``seed`` (default 0) first, then its hyperparameters as
    keyword arguments with defaults, stores each argument under its own name (so that
    :meth:`get_params` reads them back), and sets ``space_dims_``, ``n_empty_clusters_`` and
    ``history_`` when fitted.
    """

    @classmethod
    def hyperparameters(cls) -> dict[str, Any]:
        """``{name: default}`` of the constructor's settings, without the arguments the
        workflow sets itself (:data:`WORKFLOW_ARGUMENTS`)."""
        return hyperparameters(cls, skip=tuple(WORKFLOW_ARGUMENTS))

    def get_params(self) -> dict[str, Any]:
        """Return the constructor arguments (read from the signature) as a JSON-serialisable
        dict."""
        return {name: getattr(self, name) for name in hyperparameters(type(self))}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_fitted(self) -> None:
        if not hasattr(self, "space_dims_"):
            name = type(self).__name__
            raise RuntimeError(f"this {name} is not fitted yet: call fit() or {name}.load()")

    def _check_dims(self, spaces: list[np.ndarray]) -> None:
        dims = tuple(int(space.shape[1]) for space in spaces)
        if dims != tuple(self.space_dims_):
            raise ValueError(
                f"spaces have dimensions {dims}, the model was fitted on {tuple(self.space_dims_)}"
            )

    @abstractmethod
    def fit(
        self,
        spaces: Sequence[np.ndarray] | np.ndarray,
        progress: bool = True,
        log_file: str | os.PathLike | None = None,
    ) -> FlatModel:
        """Train the model on the training split.

        Parameters
        ----------
        spaces : list of array-like of shape (N, d_s)
            One feature matrix per embedding space (a single array is accepted too);
            memory-mapped arrays may be streamed.
        progress : bool, default True
            Show a progress bar with the loss and the number of non-empty clusters.
        log_file : path-like, optional
            Append progress lines and a summary to this file.

        Returns
        -------
        FlatModel
            ``self``, fitted (``space_dims_``, ``n_empty_clusters_`` and ``history_`` set).
        """

    @abstractmethod
    def logits(
        self,
        spaces: Sequence[np.ndarray] | np.ndarray,
        batch_size: int = 65_536,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the ``(N, K)`` float32 logits of every point (their argmax is the cluster).

        Parameters
        ----------
        spaces : list of array-like of shape (N, d_s)
            The spaces of :meth:`fit`, with the same dimensions.
        batch_size : int, default 65536
            Rows computed at a time.
        out : numpy.ndarray, optional
            A writable ``(N, K)`` float32 array to fill (e.g. memory-mapped; see
            :func:`output_array`).
        """

    @abstractmethod
    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to one file, atomically (no training data needed to load it)."""

    @classmethod
    @abstractmethod
    def load(cls, path: str | os.PathLike) -> FlatModel:
        """Read a model written by :meth:`save` (a fitted model)."""

    def predict(
        self, spaces: Sequence[np.ndarray] | np.ndarray, batch_size: int = 65_536
    ) -> np.ndarray:
        """Return the cluster ``(N,)`` int64 of every point (argmax of :meth:`logits`)."""
        return np.argmax(self.logits(spaces, batch_size=batch_size), axis=1).astype(np.int64)

    def _count_empty(self, labels: np.ndarray) -> int:
        """Number of clusters that no point in ``labels`` is assigned to."""
        sizes = np.bincount(labels, minlength=self.n_clusters)
        return int(np.sum(sizes == 0))


def output_array(out: np.ndarray | None, n: int, k: int) -> np.ndarray:
    """``out`` checked to be a writable (n, k) float32 array, or a new one if ``None``.

    Passing a memory-mapped ``out`` (e.g. ``np.lib.format.open_memmap``) writes the logits
    block by block to disk instead of holding them in memory.
    """
    if out is None:
        return np.empty((n, k), dtype=np.float32)
    if getattr(out, "shape", None) != (n, k) or getattr(out, "dtype", None) != np.float32:
        raise ValueError(
            f"out must be a ({n}, {k}) float32 array, got {getattr(out, 'shape', None)} "
            f"{getattr(out, 'dtype', None)}"
        )
    if not out.flags.writeable:
        raise ValueError("out must be writable")
    return out


def seed_torch(seed: int) -> Any:
    """Seed torch's global generator and return a CPU ``torch.Generator`` for sampling."""
    import torch

    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def take_rows(space: np.ndarray, index: np.ndarray | slice) -> np.ndarray:
    """Rows ``index`` of ``space`` as a float32 array, read in ascending row order.

    Reading a memory-mapped array in ascending order touches each page once; the rows are
    returned in the order of ``index``.
    """
    if isinstance(index, slice):  # a copy: memory-mapped rows are read-only
        return np.array(space[index], dtype=np.float32, order="C", copy=True)
    index = np.asarray(index, dtype=np.int64)
    order = np.argsort(index, kind="stable")
    out = np.empty((len(index), space.shape[1]), dtype=np.float32)
    out[order] = space[index[order]]
    return out


def rows_to_tensor(spaces: list[np.ndarray], index: np.ndarray | slice, device: str) -> list:
    """Rows ``index`` of every space as float32 tensors on ``device`` (see :func:`take_rows`)."""
    import torch

    return [torch.from_numpy(take_rows(space, index)).to(device) for space in spaces]


#: Timestamp of every member of a saved model archive (zip's earliest), so that the same
#: model gives the same bytes whenever it is saved.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def save_torch(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` (tensors, numbers, strings, lists, dicts) to ``path`` atomically.

    The same payload gives the same bytes: ``torch.save`` names the folder inside its zip
    archive after the file it writes to (here a random temporary name), unless it is given an
    open file, when the folder is always ``archive``; its member timestamps are fixed.
    """
    import torch

    from l2h.io import open_output

    with open_output(path, "wb") as fh:
        torch.save(payload, fh)


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` (read by ``np.load``) at ``path`` atomically.

    Unlike ``np.savez``, which stamps each member with the current time, the same arrays give
    the same bytes: members in the order given, each dated :data:`_ZIP_TIME`.
    """
    import zipfile

    from l2h.io import open_output

    with (
        open_output(path, "wb") as fh,
        zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as archive,
    ):
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.create_system = 3  # the same on every platform
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def load_torch(path: str | os.PathLike, fmt: str, version: int) -> dict[str, Any]:
    """Read a file written by :func:`save_torch`, checking its ``format`` and ``version``."""
    import pickle

    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError) as err:
        raise ValueError(f"{os.fspath(path)}: not a saved l2h {fmt} model ({err})") from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise ValueError(f"{os.fspath(path)}: not a saved l2h {fmt} model")
    if payload.get("version") != version:
        raise ValueError(
            f"{os.fspath(path)}: saved {fmt} version {payload.get('version')!r}, "
            f"this l2h reads version {version}"
        )
    return payload
