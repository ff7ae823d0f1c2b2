"""Verified downloads for :mod:`l2h.datasets`: fetch a URL through :func:`l2h.io.open_output`.

A file is only ever given its final name after its MD5 (and size, when known) matched, so an
interrupted or corrupted download never looks complete. A file already on disk is checked the
same way before use; a mismatch names the file and says how to recover.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from l2h.io import open_output

__all__ = ["DatasetIntegrityError", "Resource", "extract_tar", "fetch", "md5sum", "verify"]

#: Seconds without progress after which a download is abandoned.
TIMEOUT_S = 60.0
_CHUNK = 1 << 20


class DatasetIntegrityError(ValueError):
    """A dataset file is corrupted or truncated (checksum or size mismatch)."""


@dataclass(frozen=True)
class Resource:
    """One downloadable file.

    Attributes
    ----------
    filename : str
        Name of the file in its folder.
    urls : tuple of str
        Mirrors, tried in order.
    md5 : str
        Expected MD5 hex digest of the whole file.
    size : int or None
        Expected size in bytes, when known (checked before the digest).
    """

    filename: str
    urls: tuple[str, ...]
    md5: str
    size: int | None = None


def md5sum(path: str | os.PathLike) -> str:
    """MD5 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(path: Path, res: Resource) -> str | None:
    """Why ``path`` does not match ``res``, or None when it does."""
    return _why(path.stat().st_size, md5sum(path), res)


def _why(size: int, md5: str, res: Resource) -> str | None:
    """Why a file of ``size`` bytes with digest ``md5`` does not match ``res``, or None."""
    if res.size is not None and size != res.size:
        return f"size {size} bytes, expected {res.size}"
    if md5 != res.md5:
        return f"md5 {md5}, expected {res.md5} (size {size} bytes)"
    return None


class _Mismatch(Exception):
    """A downloaded copy failed the check (its temporary file is discarded)."""


def verify(path: str | os.PathLike, res: Resource) -> None:
    """Raise :class:`DatasetIntegrityError` naming ``path`` unless it matches ``res``."""
    path = Path(path)
    why = _mismatch(path, res)
    if why is not None:
        raise DatasetIntegrityError(
            f"{path} is corrupted or truncated ({why}); delete it and run again to download it anew"
        )


def _download_to(url: str, dest: BinaryIO) -> tuple[int, str]:
    """Stream ``url`` into ``dest``; return the size and MD5 of what was written.

    Raises OSError/URLError on failure.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "l2h-bench"})
    digest, size = hashlib.md5(usedforsecurity=False), 0
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            dest.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def fetch(res: Resource, folder: str | os.PathLike, download: bool = True) -> Path:
    """Return ``folder/res.filename`` after verifying it, downloading it first if missing.

    Parameters
    ----------
    res : Resource
        What to fetch.
    folder : path-like
        Destination folder (created if needed).
    download : bool, default True
        Whether a missing file may be downloaded.

    Returns
    -------
    pathlib.Path
        The verified file.

    Raises
    ------
    FileNotFoundError
        If the file is missing and ``download`` is False.
    DatasetIntegrityError
        If the file on disk, or every downloaded copy, fails the check (the message names it).
    OSError
        If no mirror could be reached (the message lists the URLs tried).
    """
    path = Path(folder) / res.filename
    if path.exists():
        verify(path, res)
        return path
    if not download:
        raise FileNotFoundError(f"{path} is missing (download it from {res.urls[0]})")
    failures = []
    for url in res.urls:
        try:
            with open_output(path, "wb") as fh:  # renamed onto ``path`` only when it matches
                why = _why(*_download_to(url, fh), res)
                if why is not None:
                    raise _Mismatch(why)
            return path
        except _Mismatch as exc:
            failures.append(f"{url}: download is corrupted or truncated ({exc})")
        except (OSError, urllib.error.URLError) as exc:
            failures.append(f"{url}: {exc}")
    message = f"could not download {res.filename}: " + "; ".join(failures)
    if all("corrupted" in f for f in failures):
        raise DatasetIntegrityError(message)
    raise OSError(message)


def extract_tar(archive: str | os.PathLike, folder: str | os.PathLike) -> None:
    """Extract a (compressed) tar archive into ``folder``, refusing unsafe member paths."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DatasetIntegrityError(f"{archive} could not be extracted: {exc}") from exc
