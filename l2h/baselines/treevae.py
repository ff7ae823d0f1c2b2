"""TreeVAE (Manduchi et al., NeurIPS 2023) from its official repository, at a pinned commit.

TreeVAE has no package. :func:`checkout_treevae` fetches ``lauramanduchi/treevae`` at
:data:`TREEVAE_COMMIT` into a cache folder (one shallow ``git fetch`` of that commit);
:func:`run_treevae` trains it on CIFAR-10 or CIFAR-100 with the repository's own config
(``configs/cifar10.yml``: 10 leaves; ``configs/cifar100.yml``: 20 leaves on the 20
superclasses, as shipped) through a small driver script that saves the learned tree and the
leaf of every point; :func:`load_treevae_result` turns that into ``(Hierarchy, leaf_labels)``.

Training needs the repository's requirements (torch, torchvision, wandb, torchmetrics, PyYAML)
in the interpreter given as ``python``, a GPU in practice (hours for CIFAR), and the CIFAR
folders torchvision expects in ``data_dir`` (it never downloads: the folders must be there).
Offline, :func:`checkout_treevae` fails at once with one :class:`TreeVAEUnavailableError`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from l2h.hierarchy import Hierarchy

__all__ = [
    "TREEVAE_COMMIT",
    "TREEVAE_CONFIGS",
    "TREEVAE_URL",
    "TreeVAEUnavailableError",
    "checkout_treevae",
    "hierarchy_from_parents",
    "load_treevae_result",
    "run_treevae",
]

TREEVAE_URL = "https://github.com/lauramanduchi/treevae.git"
"""Official PyTorch repository of TreeVAE (CC0-1.0)."""

TREEVAE_COMMIT = "9e6a30c4861e83f9b07c912c91f7a9f0c0806c20"
"""Pinned commit (2026-01-12, "Adding LICENSE"; code as of 2024-09-23)."""

TREEVAE_CONFIGS: dict[str, dict[str, Any]] = {
    "cifar10": {"config_name": "cifar10", "leaves": 10, "folder": "cifar-10-batches-py"},
    "cifar100": {"config_name": "cifar100", "leaves": 20, "folder": "cifar-100-python"},
}
"""Supported data sets: repository config, leaves of the shipped config, torchvision folder."""

_DRIVER = Path(__file__).with_name("_treevae_driver.py")
_REQUIREMENTS = ("torch", "torchvision", "wandb", "torchmetrics", "yaml", "sklearn")


class TreeVAEUnavailableError(RuntimeError):
    """The TreeVAE repository, its requirements or its data cannot be used here."""


def _git(args: Sequence[str], cwd: Path, timeout_s: float) -> str:
    """Run git without prompts; return stdout or raise with git's last error line."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except FileNotFoundError:
        raise OSError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise OSError(f"git {args[0]} took more than {timeout_s:g} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise OSError(lines[-1] if lines else f"git {args[0]} exited with {done.returncode}")
    return done.stdout.strip()


def checkout_treevae(
    cache_dir: str | os.PathLike,
    *,
    url: str = TREEVAE_URL,
    commit: str = TREEVAE_COMMIT,
    timeout_s: float = 120.0,
) -> Path:
    """Return ``cache_dir/treevae-<commit>``, fetching the repository there if needed.

    Parameters
    ----------
    cache_dir : path-like
        Folder for the checkout (created if missing).
    url : str
        Repository to fetch from (a local path or mirror works too).
    commit : str
        Full 40-hex commit to check out.
    timeout_s : float, default 120
        Limit for each git command, so that a stalled network never hangs.

    Raises
    ------
    TreeVAEUnavailableError
        If git is missing or the fetch fails (for instance offline); one line that says how
        to provide the checkout by hand.
    """
    if len(commit) != 40 or any(c not in "0123456789abcdef" for c in commit):
        raise ValueError(f"commit must be a full 40-hex commit id, got {commit!r}")
    dest = Path(cache_dir) / f"treevae-{commit[:12]}"
    if (dest / "main.py").is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".treevae-", dir=dest.parent))
    try:
        _git(["init", "-q"], tmp, timeout_s)
        _git(["fetch", "-q", "--depth", "1", url, commit], tmp, timeout_s)
        _git(["checkout", "-q", "FETCH_HEAD"], tmp, timeout_s)
        if _git(["rev-parse", "HEAD"], tmp, timeout_s) != commit:
            raise OSError(f"fetched commit is not {commit}")
        os.replace(tmp, dest)
    except OSError as err:
        raise TreeVAEUnavailableError(
            f"TreeVAE: cannot fetch {url} at {commit[:8]} ({err}); this needs internet access, "
            f"or check out that commit yourself into {dest}"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _check_requirements(python: str) -> None:
    """Fail with one line when the interpreter lacks the repository's requirements."""
    code = (
        "import importlib.util as u, sys; "
        "gone = ' '.join(m for m in sys.argv[1:] if not u.find_spec(m)); sys.exit(gone or None)"
    )
    try:
        done = subprocess.run(
            [python, "-c", code, *_REQUIREMENTS], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise TreeVAEUnavailableError(f"TreeVAE: cannot run {python} ({err})") from None
    if done.returncode != 0:
        raise TreeVAEUnavailableError(
            f"TreeVAE: {python} lacks {done.stderr.strip() or 'its requirements'}; install the "
            "repository's minimal_requirements.txt in that environment"
        )


def run_treevae(
    dataset: str,
    out_dir: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike,
    data_dir: str | os.PathLike,
    seed: int = 42,
    python: str = sys.executable,
    overrides: Mapping[str, Any] | None = None,
    url: str = TREEVAE_URL,
    commit: str = TREEVAE_COMMIT,
    timeout_s: float | None = None,
) -> Path:
    """Train TreeVAE on ``dataset`` with the official code; write its outputs to ``out_dir``.

    Parameters
    ----------
    dataset : {"cifar10", "cifar100"}
        Data set; the repository's config of that name is used.
    out_dir : path-like
        Receives ``tree.json``, ``leaf_labels_{train,test}.npy``, ``y_{train,test}.npy`` and
        ``treevae.log`` (written by the driver; ``tree.json`` last and atomically).
    cache_dir : path-like
        Where the repository is checked out (:func:`checkout_treevae`).
    data_dir : path-like
        Folder holding the torchvision CIFAR folder (``cifar-10-batches-py`` or
        ``cifar-100-python``).
    seed : int, default 42
        The repository's ``seed`` (its configs use 42).
    python : str
        Interpreter with the repository's requirements.
    overrides : mapping, optional
        Command-line overrides of the repository (``num_epochs``, ``num_epochs_smalltree``,
        ``num_clusters_tree``, ...), for short test runs or other leaf counts.
    url, commit : str
        Repository and pinned commit.
    timeout_s : float, optional
        Limit for the training run (no limit by default).

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    ValueError
        Unknown data set or override.
    TreeVAEUnavailableError
        Repository, requirements or data unavailable, or the training run failed (the message
        points to ``treevae.log``).
    """
    if dataset not in TREEVAE_CONFIGS:
        raise ValueError(f"unknown TreeVAE data set {dataset!r}; known: {sorted(TREEVAE_CONFIGS)}")
    cfg = TREEVAE_CONFIGS[dataset]
    overrides = dict(overrides or {})
    from l2h.baselines import _treevae_driver

    unknown = sorted(set(overrides) - set(_treevae_driver.ARGS))
    if unknown:
        raise ValueError(f"unknown TreeVAE override(s) {unknown}; known: {_treevae_driver.ARGS}")
    data_dir = Path(data_dir).resolve()
    if not (data_dir / cfg["folder"]).is_dir():
        raise TreeVAEUnavailableError(
            f"TreeVAE: {data_dir / cfg['folder']} is missing; put torchvision's {dataset} there"
        )
    repo = checkout_treevae(cache_dir, url=url, commit=commit)
    _check_requirements(python)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="treevae-work-", dir=out))
    (work / "data").symlink_to(data_dir, target_is_directory=True)
    cmd = [python, str(_DRIVER), str(repo), str(out), cfg["config_name"], str(int(seed))]
    cmd.append(json.dumps(overrides))
    with open(out / "treevae.log", "w") as log:
        try:
            code = subprocess.run(
                cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s
            ).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    shutil.rmtree(work, ignore_errors=True)
    if code != 0:
        log_path = out / "treevae.log"
        raise TreeVAEUnavailableError(f"TreeVAE training failed ({code}); see {log_path}")
    return out


def hierarchy_from_parents(
    parents: Sequence[int | None], leaves: Sequence[int | None]
) -> Hierarchy:
    """Binary Hierarchy from a rooted tree given by parent pointers.

    Parameters
    ----------
    parents : sequence of int or None
        Parent of every node (None for the root, exactly one).
    leaves : sequence of int or None
        Leaf index ``0..L-1`` of every childless node, None for the others.

    Returns
    -------
    Hierarchy
        Tree over the L leaves; nodes with one child (TreeVAE's pruned nodes) are skipped.
        Merge heights are the number of binary levels below each merge.

    Raises
    ------
    ValueError
        If the parents do not form one tree, a node has more than two children, or the leaf
        indices are not ``0..L-1`` on exactly the childless nodes.
    """
    n = len(parents)
    if len(leaves) != n:
        raise ValueError(f"parents and leaves differ in length: {n} != {len(leaves)}")
    kids: list[list[int]] = [[] for _ in range(n)]
    roots = [i for i, p in enumerate(parents) if p is None]
    if len(roots) != 1:
        raise ValueError(f"expected one root, got {len(roots)}")
    for i, p in enumerate(parents):
        if p is not None:
            if not 0 <= p < n:
                raise ValueError(f"node {i} has parent {p} outside 0..{n - 1}")
            kids[p].append(i)
    if any(len(k) > 2 for k in kids):
        raise ValueError("a node has more than two children")
    childless = [i for i in range(n) if not kids[i]]
    if sorted(leaves[i] for i in childless if leaves[i] is not None) != list(
        range(len(childless))
    ) or any(leaves[i] is not None for i in range(n) if kids[i]):
        raise ValueError("leaf indices must be 0..L-1 on exactly the childless nodes")
    steps, heights, seen = [], [], 0
    group: dict[int, tuple[tuple[int, ...], int]] = {}
    order, stack = [], [roots[0]]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(kids[node])
        seen += 1
        if seen > n:
            raise ValueError("parents contain a cycle")
    if len(order) != n:
        raise ValueError("some nodes are not connected to the root")
    for node in reversed(order):  # children before parents
        if not kids[node]:
            group[node] = ((int(leaves[node]),), 0)
        elif len(kids[node]) == 1:
            group[node] = group[kids[node][0]]
        else:
            (a, ha), (b, hb) = group[kids[node][0]], group[kids[node][1]]
            steps.append((a, b))
            heights.append(float(max(ha, hb) + 1))
            group[node] = (a + b, max(ha, hb) + 1)
    return Hierarchy(len(childless), steps, aggregation="treevae", heights=heights)


def load_treevae_result(
    out_dir: str | os.PathLike, split: str = "test"
) -> tuple[Hierarchy, np.ndarray]:
    """Read :func:`run_treevae`'s outputs as ``(Hierarchy, leaf_labels)`` of ``split``.

    Raises
    ------
    FileNotFoundError
        If the outputs are missing.
    ValueError
        If ``tree.json`` is not a valid tree or a leaf label is out of range.
    """
    out = Path(out_dir)
    nodes = json.loads((out / "tree.json").read_text())["nodes"]
    tree = hierarchy_from_parents([v["parent"] for v in nodes], [v["leaf"] for v in nodes])
    labels = np.load(out / f"leaf_labels_{split}.npy").astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= tree.n_clusters):
        raise ValueError(f"leaf labels outside 0..{tree.n_clusters - 1} in {out}")
    return tree, labels
