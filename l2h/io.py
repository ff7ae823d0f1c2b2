"""File input/output at the edges of the library: the one output writer and logits readers.

Every file ``l2h`` writes (trees, tables, figures, arrays, models, downloads) goes through
:func:`open_output`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "LOGITS_FORMATS",
    "MissingDependencyError",
    "atomic_save_npy",
    "atomic_write_text",
    "check_output",
    "load_logits",
    "load_names",
    "open_output",
]


@contextlib.contextmanager
def open_output(
    path: str | os.PathLike,
    mode: str = "w",
    *,
    inputs: Iterable[str | os.PathLike] = (),
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing the way every output of ``l2h`` is written.

    * A regular file, or a path that does not exist yet, is written atomically: the block
      writes a temporary file in the same folder, which is flushed, fsynced and renamed onto
      ``path`` (then the folder is fsynced) when the block ends without an error. A run killed
      half-way leaves only a hidden ``.<name>.<token>.tmp`` file, never a half-written ``path``.
    * A symbolic link is followed: its final target is written as above and the link is kept.
    * A character device or a FIFO (``/dev/null``, a named pipe) is written in place, never
      replaced; a name of an open descriptor (``/dev/stdout``, ``/dev/fd/N``) is appended to,
      whatever it points at. Sockets, block devices and folders are refused.
    * A new file gets the permissions ``open()`` would give (``0o666`` less the umask); a
      replaced file keeps its permission bits.
    * Missing parent folders are created. Errors name ``path``, never the temporary file.

    Parameters
    ----------
    path : path-like
        The output as the user named it.
    mode : {"w", "wb"}, default "w"
        Text (UTF-8) or binary.
    inputs : iterable of path-like, optional
        Files this output is computed from; ``path`` must not be any of them (compared by
        device and inode, so links and other spellings of the same file are caught).

    Yields
    ------
    file object
        Write to it; do not close it.

    Raises
    ------
    ValueError
        If ``path`` is one of ``inputs``, a socket or a block device, or ``mode`` is not
        ``"w"``/``"wb"``.
    OSError
        If the output cannot be written (``IsADirectoryError`` for a folder); the message and
        ``filename`` name ``path``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "groups.txt"
    >>> with open_output(out) as fh:
    ...     _ = fh.write("0\\n1\\n")
    >>> out.read_text()
    '0\\n1\\n'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    shown = os.fspath(path)
    in_body = False
    try:
        info = check_output(path, inputs)
        if _names_a_descriptor(path):  # /dev/stdout, /dev/fd/N: append, as `>>` would
            opened = open(path, mode.replace("w", "a"), **_text_args(mode))
        elif info is not None and not stat.S_ISREG(info.st_mode):
            opened = open(path, mode, **_text_args(mode))
        else:
            opened = _replace_atomically(Path(os.path.realpath(path)), mode, info)
        with opened as fh:
            in_body = True
            yield fh
            in_body = False
    except OSError as exc:
        raise _naming(exc, shown, in_body) from None


def check_output(
    path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()
) -> os.stat_result | None:
    """Check that :func:`open_output` may write ``path``, before any work is done.

    Returns
    -------
    os.stat_result or None
        What ``path`` names now (links followed), or None if it does not exist.

    Raises
    ------
    ValueError
        If ``path`` is one of ``inputs``, a socket or a block device.
    IsADirectoryError
        If ``path`` is a folder.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    kind = stat.S_IFMT(info.st_mode)
    if kind == stat.S_IFDIR:
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    if kind in _REFUSED:
        raise ValueError(f"cannot write {os.fspath(path)}: it is a {_REFUSED[kind]}")
    for other in inputs:
        try:
            same = os.path.samestat(info, os.stat(other))
        except OSError:
            continue
        if same:
            raise ValueError(
                f"output {os.fspath(path)} is also an input ({os.fspath(other)}); "
                "choose another output path"
            )
    return info


_REFUSED = {stat.S_IFSOCK: "socket", stat.S_IFBLK: "block device"}
_DESCRIPTORS = ("/proc/", "/dev/fd/")
_NAME_MAX = 255  # bytes, when the file system does not say


def _names_a_descriptor(path: str | os.PathLike) -> bool:
    """Whether ``path`` (or a link it goes through) names an open file descriptor."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's limit on chained links
        if current.startswith(_DESCRIPTORS):
            return True
        if not os.path.islink(current):
            return False
        current = os.path.normpath(os.path.join(os.path.dirname(current), os.readlink(current)))
    return False


@contextlib.contextmanager
def _replace_atomically(target: Path, mode: str, info: Any) -> Iterator[IO[Any]]:
    """Write a temporary file beside ``target``, then fsync and rename it onto ``target``."""
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(folder, target.name)
    try:
        with os.fdopen(fd, mode, **_text_args(mode)) as fh:
            yield fh
            fh.flush()
            if info is not None:  # open() keeps the mode of a file it truncates
                os.fchmod(fh.fileno(), stat.S_IMODE(info.st_mode))
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _create_temporary(folder: Path, name: str) -> tuple[int, str]:
    """Create ``folder/.<name>.<token>.tmp`` (name shortened to fit), mode 0o666 less umask."""
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = _NAME_MAX
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        token = secrets.token_hex(4)
        stem = name
        while len(os.fsencode(f".{stem}.{token}.tmp")) > limit:
            stem = stem[:-1]
        tmp = os.path.join(folder, f".{stem}.{token}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems do not support fsync on folders
        pass
    finally:
        os.close(fd)


def _text_args(mode: str) -> dict[str, str]:
    return {} if "b" in mode else {"encoding": "utf-8"}


def _naming(exc: OSError, shown: str, in_body: bool) -> OSError:
    """``exc`` naming the user's path where it named the temporary file (or, outside the
    caller's block, no file)."""
    unnamed = exc.filename is None and not in_body
    if exc.errno is None or not (unnamed or _is_temporary(exc.filename)):
        return exc
    return type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), shown)


def _is_temporary(filename: Any) -> bool:
    return filename is not None and os.path.basename(os.fsdecode(filename)).endswith(".tmp")


def atomic_write_text(
    path: str | os.PathLike, text: str, *, inputs: Iterable[str | os.PathLike] = ()
) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`open_output`."""
    with open_output(path, "w", inputs=inputs) as fh:
        fh.write(text)


def atomic_save_npy(
    path: str | os.PathLike, array: np.ndarray, *, inputs: Iterable[str | os.PathLike] = ()
) -> None:
    """Save ``array`` as ``.npy`` at ``path`` through :func:`open_output` (no suffix added)."""
    with open_output(path, "wb", inputs=inputs) as fh:
        np.save(fh, array, allow_pickle=False)


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
        raise ValueError(f"cannot read logits from {path}: {_torch_reason(exc)}") from None
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


def _torch_reason(exc: Exception) -> str:
    """Why ``torch.load(..., weights_only=True)`` failed, without torch's advice to retry
    with ``weights_only=False`` (which runs any code the file holds)."""
    text = str(exc)
    unsafe = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if unsafe:
        return (
            f"it holds a pickled Python object ({unsafe[1]}), not only tensors; l2h never "
            "unpickles objects, as that can run code: save a tensor, or a dict with a "
            "'logits' tensor, or use .npy/.npz"
        )
    if "weights_only" in text or "Weights only" in text:
        return "not a PyTorch tensor file (damaged, or not written by torch.save)"
    return " ".join(text.split()) or type(exc).__name__


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
