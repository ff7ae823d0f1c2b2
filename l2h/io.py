"""File input/output at the edges of the library: atomic writes and logits readers."""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = [
    "LOGITS_FORMATS",
    "MissingDependencyError",
    "atomic_path",
    "atomic_write_text",
    "atomic_save_npy",
    "load_logits",
    "load_names",
]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` that is renamed onto ``path`` on success.

    A run killed half-way leaves only a hidden ``.<name>.*.tmp`` file, never a
    half-written ``path`` that a workflow manager would take for a finished output.

    Parameters
    ----------
    path : path-like
        The final destination.
    suffix : str, optional
        Suffix of the temporary file (some writers, such as ``np.save``, append their own
        extension unless the name already ends with it). Defaults to ``path``'s suffix.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file, then rename)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Save ``array`` as ``.npy`` at ``path`` atomically."""
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)


#: File suffixes that :func:`load_logits` understands.
LOGITS_FORMATS = (".npy", ".npz", ".pt", ".pth")

_NPY_MAGIC = b"\x93NUMPY"
# What numpy, zipfile and zlib raise on damaged input (FileNotFoundError is checked first).
_CORRUPT_ERRORS = (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error)


class MissingDependencyError(ImportError, ValueError):
    """An optional dependency needed for one file format is not installed."""


def load_logits(path: str | os.PathLike) -> np.ndarray:
    """Read an ``(N, K)`` logits array from ``.npy``, ``.npz``, ``.pt`` or ``.pth``.

    Parameters
    ----------
    path : path-like
        The file to read. ``.npy`` is memory-mapped read-only (no copy, so arrays larger
        than memory work); ``.npz`` must hold an array named ``logits`` or exactly one
        array; ``.pt``/``.pth`` (needs PyTorch) must hold a tensor, or a dict with a
        ``"logits"`` tensor. Pickled Python objects are never loaded.

    Returns
    -------
    numpy.ndarray
        The array as stored; its shape and values are checked by :func:`l2h.fit`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a directory.
    ValueError
        If the suffix is not supported, or the file is damaged or holds no single array.
    MissingDependencyError
        For ``.pt``/``.pth`` when PyTorch is not installed (also a ``ValueError``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LOGITS_FORMATS:
        raise ValueError(
            f"unsupported logits file {str(path)!r}: expected one of {', '.join(LOGITS_FORMATS)}"
        )
    if path.is_dir():
        raise IsADirectoryError(f"expected a logits file, got a directory: {path}")
    if not path.exists():
        raise FileNotFoundError(f"logits file not found: {path}")
    if suffix in (".pt", ".pth"):
        return _load_torch(path)
    try:
        return _load_npy(path) if suffix == ".npy" else _load_npz(path)
    except FileNotFoundError:
        raise
    except _CORRUPT_ERRORS as exc:
        raise ValueError(f"cannot read logits from {path}: {exc}") from exc


def _load_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as fh:
        if fh.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
            raise ValueError("not a .npy file (bad header)")
    return np.load(path, mmap_mode="r", allow_pickle=False)


def _load_npz(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.files)
        if "logits" in keys:
            return archive["logits"]
        if len(keys) == 1:
            return archive[keys[0]]
    found = ", ".join(repr(key) for key in keys) or "none"
    raise ValueError(f"expected an array named 'logits' or exactly one array; found keys: {found}")


def _load_torch(path: Path) -> np.ndarray:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError(
            f"reading .pt needs PyTorch: pip install torch (file: {path})"
        ) from exc
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types (RuntimeError, UnpicklingError, ...)
        raise ValueError(f"cannot read logits from {path}: {exc}") from exc
    if isinstance(obj, dict) and "logits" in obj:
        obj = obj["logits"]
    if not isinstance(obj, torch.Tensor):
        raise ValueError(
            f"{path} holds {type(obj).__name__}, expected a tensor or a dict with key 'logits'"
        )
    tensor = obj.detach().cpu()
    if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16
        tensor = tensor.float()
    return tensor.numpy()


def load_names(path: str | os.PathLike) -> list[str]:
    """Read cluster names, one per line, from a UTF-8 text file.

    Parameters
    ----------
    path : path-like
        The names file. Blank lines at the end are ignored; a blank line before the last
        name is an error, since it would silently shift every following name.

    Returns
    -------
    list of str
        The names, in file order, without line endings.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not UTF-8 text or has a blank line between names.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"names file not found: {path}")
    try:
        names = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ValueError(f"names file {path} is not UTF-8 text: {exc}") from exc
    while names and not names[-1].strip():
        names.pop()
    for lineno, name in enumerate(names, start=1):
        if not name.strip():
            raise ValueError(f"names file {path}: line {lineno} is blank")
    return names
