"""Ground-truth hierarchies over class ids: one :class:`Taxonomy` type and readers for datasets.

A taxonomy is a rooted tree whose leaves are exactly the classes ``0..C-1``; internal nodes
carry names, and *levels* are named depths (root = depth 0). Cutting at a level maps every
class to its ancestor at that depth, or to itself when the class is shallower.

Readers (all offline):

- :func:`cifar100` -- fine -> 20 superclasses, from the dataset's python pickles
  (``coarse_labels``/``fine_labels`` of ``train``) or from the packaged table derived from
  torchmeta's CIFAR-FS files (see ``l2h/taxonomies/README.md``).
- :func:`cifar10` -- the common animals/vehicles split.
- :func:`fashion_mnist` -- our three-level grouping after the H-CNN paper (Seo & Shin 2019).
- :func:`inaturalist21` -- kingdom > phylum > class > order > family > genus > species, from the
  dataset's annotation JSON.
- :func:`imagenet1k` -- the WordNet 3.0 noun hierarchy over the 1000 ImageNet-1k wnids, from
  WordNet's ``data.noun`` (Debian ``wordnet-base``) and the wnid list shipped in
  ``l2h/taxonomies/imagenet1k_wnids.txt`` (a verbatim copy of timm's ``imagenet_synsets.txt``).

>>> tax = Taxonomy.from_paths([["a", "x"], ["a", "y"], ["b", "z"]], levels=["top", "class"])
>>> tax.cut("top").tolist()
[0, 0, 1]
>>> tax.to_newick()
'((x,y),z);'
"""

from __future__ import annotations

import json
import os
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from l2h._newick import newick_label

__all__ = [
    "INAT_RANKS",
    "Taxonomy",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "for_dataset",
    "imagenet1k",
    "imagenet1k_wnids",
    "inaturalist21",
    "inaturalist21_in",
    "read_wordnet_nouns",
    "wordnet_noun_file",
]

INAT_RANKS: tuple[str, ...] = (
    "kingdom",
    "phylum",
    "class",
    "order",
    "family",
    "genus",
    "species",
)
"""The iNaturalist21 levels, coarse to fine (depths 1..7)."""

WORDNET_ROOT = "n00001740"
"""wnid of WordNet 3.0's noun root ``entity.n.01``."""

_WNID = re.compile(r"^n\d{8}$")


def _first_appearance(raw: np.ndarray) -> np.ndarray:
    """Relabel values to ``0..G-1`` in order of first appearance."""
    uniques, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(uniques))
    return rank[inverse.reshape(-1)]


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
        return _first_appearance(self.ancestors(level))

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


# ----------------------------------------------------------------------------- packaged tables


def _packaged(name: str) -> str:
    return resources.files("l2h.taxonomies").joinpath(name).read_text(encoding="utf-8")


def _from_table(table: Mapping[str, Any]) -> Taxonomy:
    paths = [list(p) + [n] for p, n in zip(table["paths"], table["class_names"], strict=True)]
    return Taxonomy.from_paths(paths, levels=table["levels"])


def cifar10() -> Taxonomy:
    """CIFAR-10's common animals/vehicles split (levels ``superclass``, ``class``).

    Not part of the dataset: this is the split customarily used in the literature, shipped
    in ``l2h/taxonomies/cifar10.json``. Vehicles: airplane, automobile, ship, truck; animals:
    bird, cat, deer, dog, frog, horse.

    Returns
    -------
    Taxonomy
    """
    return _from_table(json.loads(_packaged("cifar10.json")))


def fashion_mnist() -> Taxonomy:
    """Our three-level grouping of Fashion-MNIST (levels ``coarse``, ``medium``, ``class``).

    Fashion-MNIST has no official hierarchy. This is our choice, after the H-CNN paper (Seo &
    Shin, Expert Systems with Applications 2019): clothes {tops: T-shirt/top, pullover,
    shirt; bottoms: trouser; dresses: dress; outers: coat}, goods {accessories: bag; shoes:
    sandal, sneaker, ankle boot}. Source notes in ``l2h/taxonomies/fashion_mnist.json``.

    Returns
    -------
    Taxonomy
    """
    return _from_table(json.loads(_packaged("fashion_mnist.json")))


def _cifar100_from_arrays(
    fine: np.ndarray, coarse: np.ndarray, fine_names: Sequence[str], coarse_names: Sequence[str]
) -> Taxonomy:
    fine = np.asarray(fine, dtype=np.int64).reshape(-1)
    coarse = np.asarray(coarse, dtype=np.int64).reshape(-1)
    if fine.shape != coarse.shape or fine.size == 0:
        raise ValueError("fine and coarse labels must be non-empty and of equal length")
    n_fine, n_coarse = len(fine_names), len(coarse_names)
    if fine.min() < 0 or fine.max() >= n_fine or coarse.min() < 0 or coarse.max() >= n_coarse:
        raise ValueError("CIFAR-100 labels out of range of the label names")
    pairs = np.unique(fine * n_coarse + coarse)
    if len(pairs) != len(np.unique(fine)):
        raise ValueError("a fine label appears with more than one coarse label")
    if len(pairs) != n_fine:
        raise ValueError(f"only {len(pairs)} of {n_fine} fine labels occur in the file")
    fine_to_coarse = np.empty(n_fine, dtype=np.int64)
    fine_to_coarse[pairs // n_coarse] = pairs % n_coarse
    paths = [[coarse_names[fine_to_coarse[f]], fine_names[f]] for f in range(n_fine)]
    return Taxonomy.from_paths(paths, levels=["superclass", "class"])


def _read_pickle(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        data = pickle.load(f, encoding="latin1")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in data.items()}


def cifar100(path: str | os.PathLike | None = None) -> Taxonomy:
    """CIFAR-100: 100 classes under 20 superclasses (levels ``superclass``, ``class``).

    Parameters
    ----------
    path : path-like, optional
        The dataset's ``cifar-100-python`` folder, or its ``train`` pickle. The mapping is read
        from ``fine_labels`` and ``coarse_labels`` of ``train`` and the names from the sibling
        ``meta`` pickle (``fine_label_names``, ``coarse_label_names``; ids as strings if it is
        missing). Without a path the packaged table ``l2h/taxonomies/cifar100.json`` is used,
        derived from torchmeta's CIFAR-FS files (see ``l2h/taxonomies/README.md``).

    Returns
    -------
    Taxonomy
        Class ``f`` is fine label ``f``; superclass names as in the dataset.

    Raises
    ------
    ValueError
        If a fine label maps to two coarse labels or the file lacks the label keys.
    FileNotFoundError
        If ``path`` does not exist.

    Notes
    -----
    The pickles are read with :mod:`pickle`, which can run code: only read trusted files.
    """
    if path is None:
        table = json.loads(_packaged("cifar100.json"))
        return _cifar100_from_arrays(
            np.arange(100),
            np.array(table["fine_to_coarse"]),
            table["fine_label_names"],
            table["coarse_label_names"],
        )
    path = Path(path)
    train = path / "train" if path.is_dir() else path
    data = _read_pickle(train)
    if "fine_labels" not in data or "coarse_labels" not in data:
        raise ValueError(f"{train} has no 'fine_labels'/'coarse_labels' (not a CIFAR-100 pickle)")
    fine, coarse = np.asarray(data["fine_labels"]), np.asarray(data["coarse_labels"])
    meta_path = train.parent / "meta"
    if meta_path.exists():
        meta = _read_pickle(meta_path)
        fine_names, coarse_names = meta["fine_label_names"], meta["coarse_label_names"]
    else:
        fine_names = [str(i) for i in range(int(fine.max()) + 1)]
        coarse_names = [str(i) for i in range(int(coarse.max()) + 1)]
    return _cifar100_from_arrays(fine, coarse, fine_names, coarse_names)


# ----------------------------------------------------------------------------- iNaturalist 2021


def inaturalist21(path: str | os.PathLike, leaf_level: str = "species") -> Taxonomy:
    """The iNaturalist 2021 taxonomy, read from the dataset's annotation JSON.

    Parameters
    ----------
    path : path-like
        ``train.json``, ``train_mini.json`` or ``val.json`` of iNat21 (or any JSON object with
        a ``categories`` list, or the list itself). Each category has an ``id`` and the keys
        ``kingdom, phylum, class, order, family, genus`` plus ``name`` (the binomial; else
        ``genus`` + ``specific_epithet``).
    leaf_level : str, default "species"
        One of :data:`INAT_RANKS`; with a coarser rank the classes are that rank's taxa (as
        :meth:`Taxonomy.truncate`), numbered by first appearance over category ids.

    Returns
    -------
    Taxonomy
        Levels ``kingdom`` (depth 1) to ``species`` (depth 7); with species leaves, class
        ``c`` is category id ``c``. Taxa are identified by their full path, so homonyms in
        different parents stay apart.

    Raises
    ------
    ValueError
        If category ids are not exactly ``0..C-1`` or a rank is missing.
    """
    if leaf_level not in INAT_RANKS:
        raise ValueError(f"leaf_level must be one of {INAT_RANKS}, got {leaf_level!r}")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    categories = data["categories"] if isinstance(data, Mapping) else data
    categories = sorted(categories, key=lambda cat: int(cat["id"]))
    ids = [int(cat["id"]) for cat in categories]
    if ids != list(range(len(ids))):
        raise ValueError("iNat21 category ids must be exactly 0..C-1")
    paths = [_inat_path(cat) for cat in categories]
    tax = Taxonomy.from_paths(paths, levels=list(INAT_RANKS), root="life")
    return tax if leaf_level == "species" else tax.truncate(leaf_level)


def _inat_path(cat: Mapping[str, Any]) -> list[str]:
    missing = [r for r in INAT_RANKS[:-1] if not cat.get(r)]
    if missing:
        raise ValueError(f"category {cat.get('id')} lacks ranks {missing}")
    epithet = cat.get("specific_epithet")
    species = cat.get("name") or (f"{cat['genus']} {epithet}" if epithet else None)
    if not species:
        raise ValueError(f"category {cat.get('id')} has neither specific_epithet nor name")
    return [str(cat[r]) for r in INAT_RANKS[:-1]] + [str(species)]


# ----------------------------------------------------------------------------- WordNet / ImageNet


_WORDNET_DIRS = (
    "/usr/share/wordnet",
    "/usr/local/share/wordnet",
    "~/nltk_data/corpora/wordnet",
    "/usr/share/nltk_data/corpora/wordnet",
    "/usr/local/share/nltk_data/corpora/wordnet",
)


def wordnet_noun_file(path: str | os.PathLike | None = None) -> Path:
    """Locate WordNet 3.0's ``data.noun``.

    Parameters
    ----------
    path : path-like, optional
        The file or its folder. Otherwise the first existing of ``$WNSEARCHDIR`` (WordNet's own
        variable), ``/usr/share/wordnet`` (Debian ``wordnet-base``), ``/usr/local/share/wordnet``
        and NLTK's ``corpora/wordnet`` folders.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        Naming every place tried.
    """
    if path is not None:
        candidates = [Path(path)]
    else:
        env = os.environ.get("WNSEARCHDIR")
        candidates = ([Path(env)] if env else []) + [Path(d).expanduser() for d in _WORDNET_DIRS]
    tried = []
    for cand in candidates:
        file = cand / "data.noun" if cand.is_dir() else cand
        if file.is_file():
            return file
        tried.append(str(file))
    raise FileNotFoundError(
        "WordNet 3.0 data.noun not found (install Debian 'wordnet-base' or pass its path); "
        f"tried {tried}"
    )


def read_wordnet_nouns(path: str | os.PathLike | None = None) -> dict[str, tuple[str, list[str]]]:
    """Parse WordNet's ``data.noun`` into ``{wnid: (first lemma, hypernym wnids)}``.

    Hypernyms are the ``@`` (hypernym) and ``@i`` (instance hypernym) pointers to nouns, in
    file order. The wnid is ``"n"`` followed by the 8-digit synset offset.

    Parameters
    ----------
    path : path-like, optional
        As in :func:`wordnet_noun_file`.

    Returns
    -------
    dict
    """
    out: dict[str, tuple[str, list[str]]] = {}
    with open(wordnet_noun_file(path), encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  ") or not line.strip():
                continue  # licence header
            fields = line.split(" | ", 1)[0].split()
            n_words = int(fields[3], 16)
            lemma = fields[4]
            at = 4 + 2 * n_words
            n_pointers = int(fields[at])
            hypernyms = []
            for i in range(n_pointers):
                symbol, offset, pos = fields[at + 1 + 4 * i : at + 4 + 4 * i]
                if symbol in ("@", "@i") and pos == "n":
                    hypernyms.append("n" + offset)
            out["n" + fields[0]] = (lemma, hypernyms)
    if WORDNET_ROOT not in out:
        raise ValueError(f"{path}: no 'entity' synset {WORDNET_ROOT}; is this WordNet 3.0?")
    return out


def _shortest_path_parents(nouns: Mapping[str, tuple[str, list[str]]]) -> dict[str, str]:
    """Parent of every synset in the shortest-hypernym-path tree (BFS from ``entity``)."""
    hyponyms: dict[str, list[str]] = {}
    for wnid, (_, hypernyms) in nouns.items():
        for h in hypernyms:
            hyponyms.setdefault(h, []).append(wnid)
    depth = {WORDNET_ROOT: 0}
    frontier = [WORDNET_ROOT]
    while frontier:
        nxt = []
        for node in frontier:
            for child in hyponyms.get(node, ()):
                if child not in depth:
                    depth[child] = depth[node] + 1
                    nxt.append(child)
        frontier = nxt
    parents = {}
    for wnid, (_, hypernyms) in nouns.items():
        known = [h for h in hypernyms if h in depth]
        if known and wnid != WORDNET_ROOT:
            parents[wnid] = min(known, key=lambda h: depth[h])  # first listed wins ties
    return parents


def imagenet1k_wnids(path: str | os.PathLike | None = None) -> list[str]:
    """The 1000 ImageNet-1k wnids in class index order.

    Parameters
    ----------
    path : path-like, optional
        A text file whose lines start with a wnid (timm's ``imagenet_synsets.txt``, or the
        dataset's ``LOC_synset_mapping.txt``). Defaults to ``l2h/taxonomies/imagenet1k_wnids.txt``,
        a verbatim copy of timm 1.0.29's ``timm/data/_info/imagenet_synsets.txt``.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        If a line does not start with a wnid or a wnid repeats.
    """
    text = _packaged("imagenet1k_wnids.txt") if path is None else Path(path).read_text()
    wnids = [line.split()[0] for line in text.splitlines() if line.strip()]
    bad = [w for w in wnids if not _WNID.match(w)]
    if bad:
        raise ValueError(f"not wnids: {bad[:5]}")
    if len(set(wnids)) != len(wnids):
        raise ValueError("repeated wnids")
    return wnids


def imagenet1k(
    wordnet: str | os.PathLike | None = None,
    wnids: str | os.PathLike | Iterable[str] | None = None,
    names: str = "wnid",
) -> Taxonomy:
    """The WordNet 3.0 noun hierarchy over the ImageNet-1k classes.

    WordNet is a DAG (a synset may have several hypernyms). It is made a tree by the
    **shortest hypernym path rule**: every synset's depth is its shortest distance from
    ``entity`` along hypernym (``@``) and instance-hypernym (``@i``) pointers, and its parent
    is the hypernym of smallest depth, ties going to the pointer listed first in
    ``data.noun``. This is a breadth-first-search tree, so each class's path is one of its
    shortest paths and every node's depth is its true shortest WordNet depth. Only the
    classes' ancestors are kept (single-child chains are kept, so depths stay WordNet depths);
    the root is ``entity`` (depth 0) and the levels are ``depth1``, ``depth2``, ... ("cut at
    WordNet depth d"; classes shallower than d are their own group).

    Parameters
    ----------
    wordnet : path-like, optional
        ``data.noun`` or its folder (see :func:`wordnet_noun_file`).
    wnids : path-like or iterable of str, optional
        The classes in index order; defaults to :func:`imagenet1k_wnids`. Any set of noun wnids
        works (for example ImageNet-21k subsets).
    names : {"wnid", "lemma"}, default "wnid"
        Node names: wnids, or each synset's first lemma.

    Returns
    -------
    Taxonomy

    Raises
    ------
    FileNotFoundError
        If ``data.noun`` is not found.
    ValueError
        If a wnid is not a WordNet noun or one class is an ancestor of another.
    """
    if names not in ("wnid", "lemma"):
        raise ValueError(f"names must be 'wnid' or 'lemma', got {names!r}")
    if wnids is None or isinstance(wnids, str | os.PathLike):
        wnids = imagenet1k_wnids(wnids)
    wnids = list(wnids)
    nouns = read_wordnet_nouns(wordnet)
    missing = [w for w in wnids if w not in nouns]
    if missing:
        raise ValueError(f"wnids not in WordNet 3.0 nouns: {missing[:5]}")
    parents = _shortest_path_parents(nouns)
    paths = []
    for wnid in wnids:
        path = [wnid]
        while path[-1] in parents:
            path.append(parents[path[-1]])
        if path[-1] != WORDNET_ROOT:
            raise ValueError(f"{wnid} does not reach entity")
        paths.append(path[-2::-1])
    tax = Taxonomy.from_paths(paths, root=WORDNET_ROOT)
    if names == "lemma":
        lemma_of = {w: nouns[w][0] for w in nouns}
        by_node = {w: lemma_of[w] for w in tax.names}
        tax = Taxonomy(tax.parents, tax.n_classes, [by_node[w] for w in tax.names], tax.levels)
    return tax


def inaturalist21_in(root: str | os.PathLike | None) -> Taxonomy:
    """The iNaturalist 2021 taxonomy from the dataset folder ``root`` (``val.json``, else
    ``train.json``; both list the same categories).

    Raises
    ------
    FileNotFoundError
        If ``root`` is None or holds neither annotation file.
    """
    folder = Path(root) if root is not None else None
    for candidate in ("val.json", "train.json"):
        if folder is not None and (folder / candidate).is_file():
            return inaturalist21(folder / candidate)
    raise FileNotFoundError(
        f"inat21 taxonomy: no val.json or train.json in {root!r}; set datasets.inat21.root "
        "to the folder holding the iNaturalist 2021 annotations"
    )


def for_dataset(name: str, root: str | os.PathLike | None = None) -> Taxonomy | None:
    """The ground-truth hierarchy of a registered dataset, or None when it has none.

    Whether a dataset has one is its registry entry's ``tree`` (``l2h.data.DATASETS``).

    Parameters
    ----------
    name : str
        Registered dataset name (``l2h.data.DATASETS``).
    root : path-like, optional
        The dataset's folder: iNaturalist 2021 reads ``<root>/val.json`` (or ``train.json``);
        the others use packaged tables (or WordNet) and ignore it.

    Returns
    -------
    Taxonomy or None
        None for datasets without a tree (digits, Food-101) and for unknown names.

    Raises
    ------
    FileNotFoundError
        For ``inat21`` without a root holding its annotation JSON.
    """
    from l2h.data import DATASETS

    info = DATASETS.get(name)
    if info is None or info.tree is None:
        return None
    return info.tree(Path(root) if root is not None else None)
