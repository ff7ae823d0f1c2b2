"""Provenance of a results folder: code version, package versions, platform and config hash.

>>> info = provenance({"study": "demo", "seeds": [0, 1]})
>>> sorted(info)  # doctest: +NORMALIZE_WHITESPACE
['config', 'config_sha256', 'git', 'implementation', 'machine', 'packages', 'platform',
 'python', 'timestamp']
>>> info["config_sha256"] == config_hash({"seeds": [0, 1], "study": "demo"})
True
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from l2h._code import code_files
from l2h.io import atomic_write_text

__all__ = [
    "PACKAGES",
    "STAND_IN_NOTE",
    "code_version",
    "config_hash",
    "git_info",
    "package_versions",
    "provenance",
    "write_provenance",
]

#: Distributions whose versions are recorded (``None`` when not installed).
PACKAGES: tuple[str, ...] = (
    "l2h",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "numba",
    "matplotlib",
    "snakemake",
    "torch",
    "torchvision",
    "timm",
    "clustpy",
)


#: What every table, figure, embedding sidecar and provenance record of a study with
#: ``stand_in_backbones: true`` says (see :mod:`l2h.stand_in`).
STAND_IN_NOTE = "REHEARSAL: stand-in backbones on stand-in data, the numbers mean nothing"


def config_hash(config: Any) -> str:
    """SHA-256 of the config as canonical JSON (sorted keys, no whitespace, UTF-8).

    Two configs that differ only in key order have the same hash.

    Raises
    ------
    ValueError
        If the config holds a value JSON cannot represent (e.g. a set or an object).
    """
    try:
        text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"config is not JSON-serialisable: {exc}") from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution, read from its metadata (nothing is imported)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _l2h_version() -> str:
    """The version of the imported ``l2h`` (may differ from an older installed distribution)."""
    import l2h

    return str(l2h.__version__)


def git_info(repo_dir: str | os.PathLike = ".") -> dict[str, Any]:
    """The commit checked out in ``repo_dir`` and whether tracked files are modified.

    Returns ``{"commit": "unknown", "dirty": None}`` outside a git work tree or without git.
    """
    commit = _git(repo_dir, "rev-parse", "HEAD")
    if commit is None:
        return {"commit": "unknown", "dirty": None}
    status = _git(repo_dir, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _git(repo_dir: str | os.PathLike, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", os.fspath(repo_dir), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_version(script: str | os.PathLike, root: str | os.PathLike) -> dict[str, Any]:
    """Hash of a workflow script and of every local module and data file it may use.

    The files are found statically (:mod:`l2h._code`: imports anywhere in a module, module
    names and file names spelled as strings, PEP 562 lazy attributes only when read), from
    the script through the ``l2h`` package under ``root``. The workflow gives each rule this
    hash as a ``params`` entry, so editing any of the files plans the rule's jobs again.

    Parameters
    ----------
    script : path-like
        The script.
    root : path-like
        The checkout holding the ``l2h`` package (the workflow's base folder).

    Returns
    -------
    dict
        ``script`` (path relative to ``root``), ``sha256`` (hex digest over the relative
        path and content of every file, in sorted order) and ``files`` (the relative paths).
    """
    root = Path(root).resolve()
    files = code_files(script, root)
    digest = hashlib.sha256()
    names = [_relative(path, root) for path in files]
    for name, path in zip(names, files, strict=True):
        digest.update(f"{name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return {
        "script": _relative(Path(script).resolve(), root),
        "sha256": digest.hexdigest(),
        "files": names,
    }


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def provenance(
    config: dict, repo_dir: str | os.PathLike = ".", code: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything needed to tell how a results folder was made.

    Parameters
    ----------
    config : dict
        The study's configuration (JSON-serialisable).
    repo_dir : path-like, default "."
        The checkout whose git commit is recorded.
    code : dict, optional
        Rule name -> :func:`code_version` of its script: the code behind each result.

    Returns
    -------
    dict
        ``git`` (``commit``, ``dirty``), ``packages`` (distribution -> version or None),
        ``python``, ``platform``, ``config_sha256``, ``config`` and ``timestamp`` (UTC, ISO 8601),
        plus ``code`` when given; for a config with ``stand_in_backbones: true`` also
        ``stand_in_backbones`` and ``note`` (:data:`STAND_IN_NOTE`: the results are a rehearsal
        whose numbers mean nothing).

    Raises
    ------
    ValueError
        If ``config`` is not a dict or not JSON-serialisable.
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    record = {
        "git": git_info(repo_dir),
        "packages": {**package_versions(), "l2h": _l2h_version()},
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "config_sha256": config_hash(config),
        "config": config,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if config.get("stand_in_backbones"):
        record["stand_in_backbones"] = True
        record["note"] = STAND_IN_NOTE
    if code is not None:
        record["code"] = code
    return record


def write_provenance(
    path: str | os.PathLike,
    config: dict,
    repo_dir: str | os.PathLike = ".",
    code: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write :func:`provenance` as indented JSON to ``path``, atomically; return the record."""
    record = provenance(config, repo_dir, code)
    atomic_write_text(Path(path), json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record
