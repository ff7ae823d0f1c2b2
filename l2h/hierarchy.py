"""The tree returned by L2H: a binary merge sequence over the K clusters of a flat model.

L2H starts from the K singleton groups ``(0,), (1,), ..., (K-1,)`` and performs K-1 merges.
Merge ``i`` joins two current groups ``A`` and ``B`` into the group ``A + B`` (A's cluster ids
first). Groups are numbered like scipy linkage nodes: leaves ``0..K-1``, then the group made by
merge ``i`` is node ``K + i``; the *current groups* are the groups still alive, in that order.

>>> tree = Hierarchy(3, [((0,), (1,)), ((0, 1), (2,))])
>>> tree.cut(2).tolist()
[0, 0, 1]
>>> tree.to_newick()
'((0,1),2);'
"""

from __future__ import annotations

import json
import operator
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from l2h._groups import cut_linkage
from l2h._newick import newick_label
from l2h.io import atomic_write_text

__all__ = ["Hierarchy", "JSON_AGGREGATIONS", "JSON_FORMAT", "JSON_VERSION"]

JSON_FORMAT = "l2h-tree"
"""Value of the ``"format"`` key of the JSON serialisation."""

JSON_VERSION = 1
"""Value of the ``"version"`` key of the JSON serialisation."""

JSON_AGGREGATIONS: tuple[str, ...] = (
    *("cluster_mean", "point_sum", "point_mean"),  # l2h.algorithm.AGGREGATIONS
    *("centroid_ward", "centroid_cosine", "logit_affinity", "point_ward", "bisecting_kmeans"),
    "deepect",  # the keys of l2h.baselines.BASELINES
    "treevae",  # l2h.baselines.treevae
)
"""The methods a tree file may name as its ``"aggregation"``, besides null and
``"custom:<name>"`` (a callable aggregation, or a method registered after this list was made:
its trees round-trip as ``custom:`` names, so a new baseline needs no edit here). Part of the
file format, like a schema's enum: a test checks that the L2H aggregations are all listed and
that no name here is stale."""

Group = tuple[int, ...]
Step = tuple[Group, Group]

_JSON_REQUIRED = ("format", "version", "n_clusters", "aggregation", "steps")
_JSON_OPTIONAL = ("heights",)


def _as_int(value: Any, name: str = "value") -> int:
    """Return ``value`` as a Python int, rejecting bools, floats and other non-integers."""
    if not isinstance(value, bool | np.bool_):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{name} must be an integer, got {value!r}")


def _as_group(ids: Any, n_clusters: int, where: str) -> Group:
    """Convert a sequence of cluster ids to a tuple of Python ints in ``0..n_clusters-1``."""
    if type(ids) is tuple and all(type(i) is int for i in ids):  # fast path: plain ints
        if ids and not (0 <= min(ids) and max(ids) < n_clusters):
            raise ValueError(
                f"{where} has cluster ids out of range 0..{n_clusters - 1}: "
                f"{[i for i in ids if not 0 <= i < n_clusters]}"
            )
        return ids
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        raise ValueError(f"{where} must be a sequence of cluster ids, got {ids!r}")
    try:
        group = tuple(_as_int(i, "cluster id") for i in ids)
    except TypeError as err:
        raise ValueError(f"{where} contains a non-integer cluster id: {err}") from None
    bad = [i for i in group if not 0 <= i < n_clusters]
    if bad:
        raise ValueError(f"{where} has cluster ids out of range 0..{n_clusters - 1}: {bad}")
    return group


def _as_step(step: Any, index: int, n_clusters: int) -> Step:
    """Convert one ``(A, B)`` pair, checking its shape and id range (not its groups)."""
    plain = type(step) is tuple and len(step) == 2
    if not plain and (
        isinstance(step, str | bytes) or not isinstance(step, Sequence) or len(step) != 2
    ):
        raise ValueError(f"step {index} must be a pair (A, B) of groups, got {step!r}")
    a = _as_group(step[0], n_clusters, f"step {index}: group A")
    b = _as_group(step[1], n_clusters, f"step {index}: group B")
    return a, b


def _replay(n_clusters: int, steps: Sequence[Step]) -> list[tuple[int, int]]:
    """Check that every step merges two distinct current groups; return their node ids."""
    current: dict[Group, int] = {(k,): k for k in range(n_clusters)}
    nodes = []
    for i, (a, b) in enumerate(steps):
        if a == b:
            raise ValueError(f"step {i}: A and B are the same group {a}")
        for label, group in (("A", a), ("B", b)):
            if group not in current:
                raise ValueError(
                    f"step {i}: group {label}={group} is not a current group "
                    "(it must equal, ids in order, a group alive before this step)"
                )
        nodes.append((current.pop(a), current.pop(b)))
        current[a + b] = n_clusters + i
    return nodes


def _default_heights(n_clusters: int) -> np.ndarray:
    """Merge order heights ``1.0, 2.0, ..., K-1``."""
    return np.arange(1, n_clusters, dtype=np.float64)


def _as_heights(heights: Any, n_steps: int) -> np.ndarray:
    """Validate heights (length ``n_steps``, finite, non-negative); return a read-only copy."""
    try:
        out = np.array(heights, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"heights must be a sequence of numbers: {err}") from None
    if out.shape != (n_steps,):
        raise ValueError(f"heights must have shape ({n_steps},) (one per step), got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ValueError(
            f"heights must be finite, got non-finite values at steps "
            f"{np.flatnonzero(~np.isfinite(out)).tolist()}"
        )
    if np.any(out < 0):
        raise ValueError(
            f"heights must be non-negative, got negative values at steps "
            f"{np.flatnonzero(out < 0).tolist()}"
        )
    out.flags.writeable = False
    return out


class Hierarchy:
    """A binary hierarchy over ``n_clusters`` clusters, stored as its sequence of merges.

    Parameters
    ----------
    n_clusters : int
        Number K of leaf clusters, at least 1.
    steps : sequence of (sequence of int, sequence of int)
        Exactly K-1 merges. Step ``i`` is a pair ``(A, B)`` of distinct groups that are current
        before the step, each given exactly as stored (same ids, same order); the step replaces
        them by ``A + B``.
    aggregation : str, optional
        Name of the aggregation that produced the tree (metadata only).
    heights : sequence of float, optional
        Height of each merge: K-1 finite, non-negative numbers, not necessarily increasing.
        Defaults to the merge order ``1.0, 2.0, ..., K-1``.

    Raises
    ------
    ValueError
        If ``n_clusters < 1``, the number of steps is not K-1, a step is malformed, has ids out
        of range, merges a group with itself or uses a group that is not current, or the
        heights are invalid. Messages name the offending step.

    Examples
    --------
    >>> tree = Hierarchy(4, [((2,), (3,)), ((0,), (1,)), ((0, 1), (2, 3))], aggregation="sum")
    >>> tree.linkage()[:, :2].tolist()
    [[2.0, 3.0], [0.0, 1.0], [5.0, 4.0]]
    >>> tree.groups(2)
    [(2, 3), (0, 1)]
    """

    def __init__(
        self,
        n_clusters: int,
        steps: Sequence[tuple[Sequence[int], Sequence[int]]],
        aggregation: str | None = None,
        heights: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        n_clusters = _as_int(n_clusters, "n_clusters")
        if n_clusters < 1:
            raise ValueError(f"n_clusters must be at least 1, got {n_clusters}")
        if aggregation is not None and not isinstance(aggregation, str):
            raise TypeError(f"aggregation must be a str or None, got {aggregation!r}")
        steps = list(steps)
        if len(steps) != n_clusters - 1:
            raise ValueError(
                f"expected exactly n_clusters - 1 = {n_clusters - 1} steps, got {len(steps)}"
            )
        self._n_clusters = n_clusters
        self._steps = [_as_step(step, i, n_clusters) for i, step in enumerate(steps)]
        self._nodes = _replay(n_clusters, self._steps)
        self._aggregation = aggregation
        if heights is None:
            heights = _default_heights(n_clusters)
        self._heights = _as_heights(heights, n_clusters - 1)

    # ------------------------------------------------------------------ attributes

    @property
    def n_clusters(self) -> int:
        """int : Number K of leaf clusters."""
        return self._n_clusters

    @property
    def steps(self) -> list[Step]:
        """list of (tuple of int, tuple of int) : The K-1 merges ``(A, B)`` (a copy)."""
        return list(self._steps)

    @property
    def aggregation(self) -> str | None:
        """str or None : Name of the aggregation that produced the tree."""
        return self._aggregation

    @property
    def heights(self) -> np.ndarray:
        """numpy.ndarray : Read-only float64 array of the K-1 merge heights."""
        return self._heights

    def __len__(self) -> int:
        """Return the number of merges, K-1."""
        return len(self._steps)

    def __bool__(self) -> bool:
        """Return True: a hierarchy is truthy even with a single cluster (no merges)."""
        return True

    def __eq__(self, other: object) -> bool:
        """Compare clusters, steps, heights and aggregation."""
        if not isinstance(other, Hierarchy):
            return NotImplemented
        return (
            self._n_clusters == other._n_clusters
            and self._steps == other._steps
            and self._aggregation == other._aggregation
            and np.array_equal(self._heights, other._heights)
        )

    __hash__ = None  # compared by content (heights included), so not hashable

    def __repr__(self) -> str:
        """Return ``Hierarchy(n_clusters=K, aggregation=...)``."""
        return f"Hierarchy(n_clusters={self._n_clusters}, aggregation={self._aggregation!r})"

    # ------------------------------------------------------------------ views

    def linkage(self) -> np.ndarray:
        """Return the tree as a scipy linkage matrix.

        Returns
        -------
        numpy.ndarray
            ``(K-1, 4)`` float64 array; row ``i`` is ``[node(A), node(B), heights[i],
            len(A) + len(B)]`` with scipy node numbering. Usable with
            :func:`scipy.cluster.hierarchy.dendrogram`, ``fcluster`` and ``to_tree``.
        """
        z = np.empty((len(self._steps), 4), dtype=np.float64)
        z[:, :2] = np.asarray(self._nodes, dtype=np.float64).reshape(-1, 2)
        z[:, 2] = self._heights
        z[:, 3] = [len(a) + len(b) for a, b in self._steps]
        return z

    def _check_n_groups(self, n_groups: int) -> int:
        """Validate a number of groups in ``1..K``."""
        n_groups = _as_int(n_groups, "n_groups")
        if not 1 <= n_groups <= self._n_clusters:
            raise ValueError(f"n_groups must be in 1..{self._n_clusters}, got {n_groups}")
        return n_groups

    def groups(self, n_groups: int) -> list[Group]:
        """Return the current groups after ``K - n_groups`` merges.

        Parameters
        ----------
        n_groups : int
            Number of groups, in ``1..K``.

        Returns
        -------
        list of tuple of int
            The ``n_groups`` alive groups in creation order (leaves first, then merged groups in
            merge order), each with its ids in merge order.

        Raises
        ------
        ValueError
            If ``n_groups`` is not in ``1..K``.
        """
        n_groups = self._check_n_groups(n_groups)
        current: dict[Group, None] = {(k,): None for k in range(self._n_clusters)}
        for a, b in self._steps[: self._n_clusters - n_groups]:
            del current[a], current[b]
            current[a + b] = None
        return list(current)

    def cut(self, n_groups: int) -> np.ndarray:
        """Return a flat clustering of the K clusters into ``n_groups`` groups.

        Parameters
        ----------
        n_groups : int
            Number of groups, in ``1..K``.

        Returns
        -------
        numpy.ndarray
            int64 array of length K: the group of each cluster after ``K - n_groups`` merges,
            numbered ``0..n_groups-1`` in order of first appearance over clusters ``0..K-1``
            (cluster 0 is always in group 0).

        Raises
        ------
        ValueError
            If ``n_groups`` is not in ``1..K``.
        """
        return cut_linkage(self.linkage(), self._check_n_groups(n_groups))

    def _node_heights(self) -> np.ndarray:
        """Height of every node: 0 for leaves, then the merge heights."""
        return np.concatenate([np.zeros(self._n_clusters), self._heights])

    def to_newick(self, names: Sequence[Any] | None = None, branch_lengths: bool = False) -> str:
        """Return the tree in Newick format.

        Parameters
        ----------
        names : sequence, optional
            K leaf names (converted with ``str``); defaults to the cluster ids. Names with any
            character outside ``[A-Za-z0-9.-]`` (``_`` included), or empty, are single-quoted,
            inner quotes doubled, so Newick readers give back the exact names.
        branch_lengths : bool, default False
            Append ``:length`` to every non-root node, the parent's height minus the node's
            height (leaves have height 0). Lengths are negative where heights decrease.

        Returns
        -------
        str
            Newick string ending in ``;``, children in ``(A, B)`` order.

        Examples
        --------
        >>> Hierarchy(3, [((0,), (1,)), ((0, 1), (2,))]).to_newick(["a b", "c", "d"])
        "(('a b',c),d);"
        """
        k = self._n_clusters
        if names is None:
            names = range(k)
        names = list(names)
        if len(names) != k:
            raise ValueError(f"names must have one entry per cluster ({k}), got {len(names)}")
        labels = [newick_label(n) for n in names]
        heights = self._node_heights()
        pieces: list[str] = []
        stack: list[tuple[int, int | None] | str] = [(2 * k - 2, None)]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                pieces.append(item)
                continue
            node, parent = item
            length = (
                ""
                if parent is None or not branch_lengths
                else (f":{float(heights[parent] - heights[node])!r}")
            )
            if node < k:
                pieces.append(labels[node] + length)
                continue
            left, right = self._nodes[node - k]
            stack.extend([")" + length, (right, node), ",", (left, node)])
            pieces.append("(")
        return "".join(pieces) + ";"

    # ------------------------------------------------------------------ serialisation

    def to_json(self) -> str:
        """Return the tree as a JSON document.

        Returns
        -------
        str
            ``{"format": "l2h-tree", "version": 1, "n_clusters": K, "aggregation": ...,
            "steps": [[A, B], ...]}`` plus ``"heights"`` when they are not the default
            merge order. ``aggregation`` is null, an L2H aggregation, a registered baseline
            or ``"treevae"``; any other name (a callable's) is written ``"custom:<name>"``.
        """
        data: dict[str, Any] = {
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "n_clusters": self._n_clusters,
            "aggregation": _aggregation_to_json(self._aggregation),
            "steps": [[list(a), list(b)] for a, b in self._steps],
        }
        if not np.array_equal(self._heights, _default_heights(self._n_clusters)):
            data["heights"] = self._heights.tolist()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Hierarchy:
        """Build a tree from the output of :meth:`to_json`.

        Parameters
        ----------
        text : str
            JSON document.

        Returns
        -------
        Hierarchy

        Raises
        ------
        ValueError
            If ``text`` is not JSON (or nests too deeply), not an ``l2h-tree`` version 1
            object, misses or has unknown keys, names an unknown aggregation, or describes an
            invalid tree.
        """
        if isinstance(text, str) and _json_depth(text) > _MAX_JSON_DEPTH:
            raise ValueError("invalid l2h-tree JSON: nested too deeply")
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"invalid l2h-tree JSON: {err}") from None
        except RecursionError:
            raise ValueError("invalid l2h-tree JSON: nested too deeply") from None
        _check_json_header(data)
        try:
            return cls(
                _json_int(data["n_clusters"]),
                _json_steps(data["steps"]),
                aggregation=_aggregation_from_json(data["aggregation"]),
                heights=data.get("heights"),
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"invalid l2h-tree: {err}") from None
        except RecursionError:
            raise ValueError("invalid l2h-tree: steps nested too deeply") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_json` to ``path`` with :func:`l2h.io.open_output` (atomically).

        Parameters
        ----------
        path : path-like
            Destination file; missing parent folders are created.
        """
        atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Hierarchy:
        """Read a tree written by :meth:`save`.

        Parameters
        ----------
        path : path-like
            JSON file.

        Returns
        -------
        Hierarchy

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If the file is not a valid tree; the message names ``path``.
        """
        data = Path(path).read_bytes()
        try:
            return cls.from_json(data.decode("utf-8"))
        except ValueError as err:
            raise ValueError(f"{os.fspath(path)}: {err}") from None

    @classmethod
    def from_linkage(cls, z: Any, aggregation: str | None = None) -> Hierarchy:
        """Build a tree from a scipy linkage matrix.

        Parameters
        ----------
        z : array_like
            ``(K-1, 4)`` linkage matrix accepted by :func:`scipy.cluster.hierarchy.
            is_valid_linkage`, with integral node ids and correct counts. An empty ``(0, 4)``
            matrix gives the one-cluster tree.
        aggregation : str, optional
            Stored as :attr:`aggregation`.

        Returns
        -------
        Hierarchy
            Step ``i`` merges the clusters of nodes ``z[i, 0]`` and ``z[i, 1]`` (each node's
            clusters listed left subtree first); heights are ``z[:, 2]``.

        Raises
        ------
        ValueError
            If ``z`` is not a valid linkage matrix.
        """
        z = np.asarray(z, dtype=np.float64)
        if z.shape == (0, 4):
            return cls(1, [], aggregation=aggregation)
        import scipy.cluster.hierarchy as sch  # here: `import l2h` stays fast without SciPy

        if not sch.is_valid_linkage(z):
            raise ValueError(
                "not a valid linkage matrix (scipy.cluster.hierarchy.is_valid_linkage is False)"
            )
        k = z.shape[0] + 1
        ids = z[:, :2]
        formed = (k + np.arange(k - 1))[:, None]
        if np.any(ids != np.floor(ids)) or np.any(ids < 0) or np.any(ids >= formed):
            raise ValueError("linkage node ids must be integers referring to earlier nodes")
        members: list[Group] = [(i,) for i in range(k)]
        steps = []
        for row in ids.astype(np.int64):
            a, b = members[row[0]], members[row[1]]
            steps.append((a, b))
            members.append(a + b)
        tree = cls(k, steps, aggregation=aggregation, heights=z[:, 2])
        if not np.array_equal(tree.linkage()[:, 3], z[:, 3]):
            raise ValueError("linkage counts (column 3) do not match the cluster sizes")
        return tree


def _check_json_header(data: Any) -> None:
    """Check that decoded JSON is an ``l2h-tree`` version 1 object with exactly known keys."""
    if not isinstance(data, dict):
        raise ValueError(f"invalid l2h-tree JSON: expected an object, got {type(data).__name__}")
    if data.get("format") != JSON_FORMAT:
        raise ValueError(
            f"not an l2h-tree: format is {data.get('format')!r}, expected {JSON_FORMAT!r}"
        )
    if data.get("version") != JSON_VERSION:
        raise ValueError(
            f"unsupported l2h-tree version {data.get('version')!r}, expected {JSON_VERSION}"
        )
    missing = [key for key in _JSON_REQUIRED if key not in data]
    if missing:
        raise ValueError(f"invalid l2h-tree: missing key(s) {missing}")
    unknown = sorted(set(data) - set(_JSON_REQUIRED) - set(_JSON_OPTIONAL))
    if unknown:
        raise ValueError(f"invalid l2h-tree: unknown key(s) {unknown}")


# A tree document nests 4 deep ({"steps": [[[ids]]]}). json.loads recurses once per level, and
# with a raised recursion limit a deep document overflows the C stack (a crash, not an error).
_MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _json_depth(text: str) -> int:
    """Deepest nesting of ``[]``/``{}`` in a JSON text, strings left out (linear time)."""
    codes = np.frombuffer(_JSON_STRING.sub("", text).encode("utf-8"), dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
    steps -= np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def _json_int(value: Any) -> int:
    """Accept only a JSON integer (not a float, bool or string)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"n_clusters must be an integer, got {value!r}")
    return value


_CUSTOM = "custom:"


def _aggregation_to_json(name: str | None) -> str | None:
    """``name`` as written to JSON: known names as they are, others marked ``custom:``."""
    if name is None or name in JSON_AGGREGATIONS:
        return name
    return _CUSTOM + name


def _aggregation_from_json(value: Any) -> str | None:
    """Inverse of :func:`_aggregation_to_json`; unknown names are refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"aggregation must be a string or null, got {value!r}")
    if value.startswith(_CUSTOM) and len(value) > len(_CUSTOM):
        return value[len(_CUSTOM) :]
    if value not in JSON_AGGREGATIONS:
        raise ValueError(
            f"unknown aggregation {value!r}: expected null, one of "
            f"{', '.join(JSON_AGGREGATIONS)}, or 'custom:<name>'"
        )
    return value


def _json_steps(value: Any) -> list[Any]:
    """Accept only a JSON list of steps (each step is checked by :class:`Hierarchy`)."""
    if not isinstance(value, list):
        raise ValueError(f"steps must be a list, got {type(value).__name__}")
    return value
