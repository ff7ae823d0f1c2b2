"""Ground-truth hierarchies over class ids: the :class:`Taxonomy` type.

A taxonomy is a rooted tree whose leaves are exactly the classes ``0..C-1``; internal nodes
carry names, and *levels* are named depths (root = depth 0). Cutting at a level maps every
class to its ancestor at that depth, or to itself when the class is shallower.

Each dataset's reader lives with the dataset (:mod:`l2h.datasets`; :func:`l2h.datasets.load_tree`
reads a registered dataset's tree): CIFAR-10/100 and Fashion-MNIST from packaged tables,
ImageNet-1k from WordNet 3.0, iNaturalist 2021 from its annotation JSON.

>>> tax = Taxonomy.from_paths([["a", "x"], ["a", "y"], ["b", "z"]], levels=["top", "class"])
>>> tax.cut("top").tolist()
[0, 0, 1]
>>> tax.to_newick()
'((x,y),z);'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from l2h._groups import first_appearance
from l2h._newick import newick_label

__all__ = ["Taxonomy"]


class Taxonomy:
    """A rooted tree over classes ``0..C-1`` with named levels.

    Nodes are numbered classes first (``0..C-1``, the leaves), then internal nodes
    (``C..M-1``). Depth counts edges from the root (depth 0).

    Parameters
    ----------
    parents : sequence of int
        Parent node of every node, ``-1`` for the single root. Classes must be leaves and every
        internal node must have at least one child.
    n_classes : int
        Number C of classes (leaves), at least 1.
    names : sequence of str, optional
        Name of every node; defaults to the node ids. Names need not be unique.
    levels : mapping of str to int, optional
        Named levels as ``{name: depth}``, coarse to fine; defaults to ``depth1``, ``depth2``,
        ... up to the deepest class.

    Raises
    ------
    ValueError
        If ``parents`` is not a rooted tree whose leaves are exactly the classes.
    """

    def __init__(
        self,
        parents: Sequence[int],
        n_classes: int,
        names: Sequence[str] | None = None,
        levels: Mapping[str, int] | None = None,
    ) -> None:
        self._parents = np.array(parents, dtype=np.int64).reshape(-1)
        self._n_classes = int(n_classes)
        self._check_structure()
        self._depths = self._compute_depths()
        n = len(self._parents)
        self._names = [str(i) for i in range(n)] if names is None else [str(x) for x in names]
        if len(self._names) != n:
            raise ValueError(f"names must have one entry per node ({n}), got {len(self._names)}")
        if levels is None:
            levels = {f"depth{d}": d for d in range(1, self.max_depth + 1)}
        self._levels = {str(k): int(v) for k, v in levels.items()}
        for name, depth in self._levels.items():
            if not 0 <= depth <= self.max_depth:
                raise ValueError(f"level {name!r} has depth {depth}, outside 0..{self.max_depth}")
        self._parents.flags.writeable = False
        self._depths.flags.writeable = False
        self._ancestors = self._ancestor_table()

    # ------------------------------------------------------------------ construction

    def _check_structure(self) -> None:
        parents, c = self._parents, self._n_classes
        n = len(parents)
        if c < 1 or n < c:
            raise ValueError(f"need 1 <= n_classes <= number of nodes, got {c} and {n}")
        if np.any(parents < -1) or np.any(parents >= n):
            raise ValueError("parents must be -1 (root) or a node id")
        roots = np.flatnonzero(parents == -1)
        if len(roots) != 1:
            raise ValueError(f"a taxonomy needs exactly one root, got {len(roots)}")
        if np.any(np.isin(parents, np.arange(c))):
            raise ValueError("classes 0..n_classes-1 must be leaves (no children)")
        n_children = np.bincount(parents[parents >= 0], minlength=n)
        childless = np.flatnonzero(n_children[c:] == 0) + c
        if len(childless) and not (n == 1 and c == 1):
            raise ValueError(f"internal nodes without children: {childless[:10].tolist()}")

    def _compute_depths(self) -> np.ndarray:
        parents = self._parents
        depths = np.full(len(parents), -1, dtype=np.int64)
        depths[parents == -1] = 0
        for _ in range(len(parents)):
            todo = depths < 0
            if not todo.any():
                return depths
            ready = todo & (depths[np.maximum(parents, 0)] >= 0)
            if not ready.any():
                break
            depths[ready] = depths[parents[ready]] + 1
        raise ValueError("parents contain a cycle (some nodes never reach the root)")

    def _ancestor_table(self) -> np.ndarray:
        """``(C, D+1)`` table: ancestor of every class at every depth, ``-1 - c`` below it."""
        c, d = self._n_classes, self.max_depth
        table = np.empty((c, d + 1), dtype=np.int64)
        table[:] = -1 - np.arange(c)[:, None]
        node = np.arange(c)
        depth = self._depths[:c].copy()
        while True:
            table[np.arange(c), depth] = node
            alive = depth > 0
            if not alive.any():
                return table
            node = np.where(alive, self._parents[node], node)
            depth = np.where(alive, depth - 1, depth)

    @classmethod
    def from_paths(
        cls,
        paths: Sequence[Sequence[str]],
        levels: Sequence[str] | Mapping[str, int] | None = None,
        root: str = "root",
    ) -> Taxonomy:
        """Build a taxonomy from one path of names per class.

        Parameters
        ----------
        paths : sequence of sequence of str
            ``paths[c]`` lists the names from just below the root down to class ``c`` itself
            (its last element). Nodes are identified by their whole path prefix, so equal
            names under different parents are different nodes.
        levels : sequence of str or mapping, optional
            Level names for depths ``1, 2, ...`` (a sequence) or an explicit ``{name: depth}``.
        root : str, default "root"
            Name of the root node.

        Returns
        -------
        Taxonomy

        Raises
        ------
        ValueError
            If two classes have the same path or a class lies on another class's path.
        """
        paths = [tuple(str(x) for x in p) for p in paths]
        if not paths or any(len(p) == 0 for p in paths):
            raise ValueError("paths must be non-empty, one non-empty path per class")
        if len(set(paths)) != len(paths):
            raise ValueError("two classes have the same path")
        c = len(paths)
        index: dict[tuple[str, ...], int] = {p: i for i, p in enumerate(paths)}
        parents: list[int] = [-2] * c
        names = [p[-1] for p in paths]
        first_seen: dict[tuple[str, ...], int] = {}
        for p in paths:
            for i in range(len(p)):
                first_seen.setdefault(p[:i], len(first_seen))
        # Internal nodes: shallowest first, then by first appearance over classes 0..C-1.
        for prefix in sorted(first_seen, key=lambda q: (len(q), first_seen[q])):
            if prefix in index:
                raise ValueError(f"class {'/'.join(prefix)!r} lies on another class's path")
            index[prefix] = len(parents)
            parents.append(index[prefix[:-1]] if prefix else -1)
            names.append(prefix[-1] if prefix else root)
        for p in index:
            if p:
                parents[index[p]] = index[p[:-1]]
        if isinstance(levels, Sequence) and not isinstance(levels, str):
            levels = {name: d + 1 for d, name in enumerate(levels)}
        return cls(parents, c, names=names, levels=levels)

    # ------------------------------------------------------------------ properties

    @property
    def n_classes(self) -> int:
        """Number C of classes (leaves)."""
        return self._n_classes

    @property
    def n_nodes(self) -> int:
        """Number of nodes, classes included."""
        return len(self._parents)

    @property
    def parents(self) -> np.ndarray:
        """Read-only int64 parent of every node (``-1`` for the root)."""
        return self._parents

    @property
    def depths(self) -> np.ndarray:
        """Read-only int64 depth of every node (root 0)."""
        return self._depths

    @property
    def max_depth(self) -> int:
        """Depth of the deepest class."""
        return int(self._depths[: self._n_classes].max())

    @property
    def names(self) -> list[str]:
        """Name of every node."""
        return list(self._names)

    @property
    def class_names(self) -> list[str]:
        """Names of the classes ``0..C-1``."""
        return self._names[: self._n_classes]

    @property
    def levels(self) -> dict[str, int]:
        """Named levels ``{name: depth}``, in the order given."""
        return dict(self._levels)

    def __repr__(self) -> str:
        return (
            f"Taxonomy(n_classes={self.n_classes}, n_nodes={self.n_nodes}, "
            f"levels={list(self._levels)})"
        )

    # ------------------------------------------------------------------ levels

    def _depth_of(self, level: str | int) -> int:
        if isinstance(level, str):
            if level not in self._levels:
                raise ValueError(f"unknown level {level!r}; levels are {list(self._levels)}")
            return self._levels[level]
        depth = int(level)
        if not 0 <= depth <= self.max_depth:
            raise ValueError(f"depth must be in 0..{self.max_depth}, got {level}")
        return depth

    def ancestors(self, level: str | int) -> np.ndarray:
        """Node id of every class's ancestor at a level (the class itself if shallower).

        Parameters
        ----------
        level : str or int
            A level name or a depth.

        Returns
        -------
        numpy.ndarray
            int64 node ids, one per class.
        """
        depth = self._depth_of(level)
        own = self._depths[: self._n_classes]
        return self._ancestors[np.arange(self._n_classes), np.minimum(depth, own)]

    def cut(self, level: str | int) -> np.ndarray:
        """Group id of every class at a level.

        Parameters
        ----------
        level : str or int
            A level name or a depth; classes shallower than the depth are their own group.

        Returns
        -------
        numpy.ndarray
            int64 group ids ``0..G-1`` numbered by first appearance over classes ``0..C-1``.
        """
        return first_appearance(self.ancestors(level))

    def group_names(self, level: str | int) -> list[str]:
        """Names of the groups of :meth:`cut`, in group id order."""
        nodes = self.ancestors(level)
        groups = self.cut(level)
        first = np.unique(groups, return_index=True)[1]
        return [self._names[nodes[i]] for i in first]

    def n_groups(self, level: str | int) -> int:
        """Number of groups at a level."""
        return int(self.cut(level).max()) + 1

    def coarse_levels(self) -> list[str]:
        """Level names with at least 2 and fewer than C groups (the ones worth scoring)."""
        return [name for name in self._levels if 2 <= self.n_groups(name) < self._n_classes]

    def truncate(self, level: str | int) -> Taxonomy:
        """The taxonomy whose classes are the groups of a level.

        Class ``g`` of the result is group ``g`` of :meth:`cut` (so
        ``tax.cut(level)[y]`` gives the new labels); levels deeper than ``level`` are dropped.

        Parameters
        ----------
        level : str or int
            A level name or a depth.

        Returns
        -------
        Taxonomy
        """
        depth = self._depth_of(level)
        groups = self.cut(level)
        order = np.unique(groups, return_index=True)[1]
        new_classes = self.ancestors(level)[order]
        kept = np.flatnonzero(self._depths < depth)
        kept = kept[kept >= self._n_classes]
        kept = np.setdiff1d(kept, new_classes)
        old = np.concatenate([new_classes, kept])
        new_id = np.full(self.n_nodes, -1, dtype=np.int64)
        new_id[old] = np.arange(len(old))
        parents = [int(new_id[p]) if p >= 0 else -1 for p in self._parents[old]]
        levels = {k: v for k, v in self._levels.items() if v <= depth}
        return Taxonomy(parents, len(new_classes), [self._names[i] for i in old], levels)

    # ------------------------------------------------------------------ distances

    def _class_ids(self, a: Any, name: str) -> np.ndarray:
        arr = np.asarray(a)
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{name} must hold integer class ids, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= self._n_classes):
            raise ValueError(f"{name} must be class ids in 0..{self._n_classes - 1}")
        return arr.astype(np.int64)

    def lca_depth(self, a: Any, b: Any) -> np.ndarray:
        """Depth of the lowest common ancestor of classes ``a`` and ``b`` (broadcast).

        Parameters
        ----------
        a, b : array_like of int
            Class ids.

        Returns
        -------
        numpy.ndarray
            int64 depths; ``lca_depth(a, a)`` is the depth of ``a``.
        """
        a, b = np.broadcast_arrays(self._class_ids(a, "a"), self._class_ids(b, "b"))
        pairs, inverse = np.unique(a * self._n_classes + b, return_inverse=True)
        ua, ub = pairs // self._n_classes, pairs % self._n_classes
        common = (self._ancestors[ua] == self._ancestors[ub]).sum(axis=-1) - 1
        own = np.minimum(self._depths[ua], self._depths[ub])
        return np.minimum(common, own)[inverse].reshape(a.shape)

    def lca_depth_matrix(self) -> np.ndarray:
        """``(C, C)`` int64 matrix of :meth:`lca_depth` over all pairs of classes."""
        c = self._n_classes
        out = np.zeros((c, c), dtype=np.int64)
        for d in range(1, self.max_depth + 1):
            col = self._ancestors[:, d]
            out += col[:, None] == col[None, :]
        return np.minimum(out, np.minimum.outer(self._depths[:c], self._depths[:c]))

    def mistake_distance(self, a: Any, b: Any) -> np.ndarray:
        """Edges from the deeper of two classes up to their LCA.

        ``d(a, b) = max(depth(a), depth(b)) - depth(lca(a, b))``, 0 when ``a == b``; for
        taxonomies with all classes at one depth this is the height of the LCA (Bertinetto et
        al., CVPR 2020). Used by :func:`l2h.metrics.mistake_severity`.

        Parameters
        ----------
        a, b : array_like of int
            Class ids (broadcast).

        Returns
        -------
        numpy.ndarray
            int64 distances.
        """
        a, b = np.broadcast_arrays(self._class_ids(a, "a"), self._class_ids(b, "b"))
        return np.maximum(self._depths[a], self._depths[b]) - self.lca_depth(a, b)

    # ------------------------------------------------------------------ export

    def _children(self) -> list[list[int]]:
        children: list[list[int]] = [[] for _ in range(self.n_nodes)]
        for node, parent in enumerate(self._parents):
            if parent >= 0:
                children[parent].append(node)
        return children

    def linkage(self) -> np.ndarray:
        """The tree as a scipy linkage matrix over the classes.

        Internal nodes are processed deepest first; a node with m children becomes m-1 binary
        merges (children in node id order) at height ``max_depth - depth(node)``, and nodes
        with a single child are skipped. So the cophenetic distance of two classes is
        ``max_depth - lca_depth``, and the heights are monotone.

        Returns
        -------
        numpy.ndarray
            ``(C-1, 4)`` float64 linkage matrix (``(0, 4)`` for one class).
        """
        c = self._n_classes
        children = self._children()
        cluster = np.arange(self.n_nodes, dtype=np.int64)
        size = np.zeros(self.n_nodes, dtype=np.int64)
        size[:c] = 1
        rows: list[list[float]] = []
        internal = np.arange(c, self.n_nodes)
        for node in internal[np.argsort(-self._depths[internal], kind="stable")]:
            kids = children[node]
            current, total = cluster[kids[0]], size[kids[0]]
            height = float(self.max_depth - self._depths[node])
            for kid in kids[1:]:
                total = total + size[kid]
                rows.append([current, cluster[kid], height, total])
                current = c + len(rows) - 1
            cluster[node], size[node] = current, total
        return np.array(rows, dtype=np.float64).reshape(-1, 4)

    def to_hierarchy(self) -> Any:
        """The binarised tree of :meth:`linkage` as a :class:`l2h.hierarchy.Hierarchy`."""
        from l2h.hierarchy import Hierarchy

        return Hierarchy.from_linkage(self.linkage())

    def to_newick(self, names: Sequence[str] | None = None, internal_names: bool = False) -> str:
        """The tree in Newick format, with its original (non-binary) branching.

        Parameters
        ----------
        names : sequence of str, optional
            Class names; defaults to :attr:`class_names`.
        internal_names : bool, default False
            Label internal nodes with their names.

        Returns
        -------
        str
            Newick string ending in ``;``. A chain of single-child nodes is written as its
            lowest node (a class, or the node where the chain branches, whose name is used).
        """
        labels = list(self._names)
        if names is not None:
            names = [str(x) for x in names]
            if len(names) != self._n_classes:
                raise ValueError(f"names must have {self._n_classes} entries, got {len(names)}")
            labels[: self._n_classes] = names
        children = self._children()
        root = int(np.flatnonzero(self._parents == -1)[0])
        pieces: list[str] = []
        stack: list[int | str] = [root]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                pieces.append(item)
                continue
            node = item
            while len(children[node]) == 1:
                node = children[node][0]
            if node < self._n_classes:
                pieces.append(newick_label(labels[node]))
                continue
            close = ")" + (newick_label(labels[node]) if internal_names else "")
            stack.append(close)
            kids = children[node]
            for i, kid in enumerate(reversed(kids)):
                stack.append(kid)
                if i < len(kids) - 1:
                    stack.append(",")
            pieces.append("(")
        return "".join(pieces) + ";"
