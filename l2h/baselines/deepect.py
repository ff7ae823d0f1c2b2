"""DeepECT (Mautz, Plant, Boehm; ICDM 2019) through ClustPy 0.0.3, on raw pixels.

ClustPy (``clustpy.deep.DeepECT``, pinned to version 0.0.3 by the ``deep`` extra) pretrains a
feedforward autoencoder ``[P, 500, 500, 2000, embedding_size]`` and grows a binary cluster tree
in its embedding, one split every ``grow_interval`` clustering epochs, up to
``max_n_leaf_nodes = n_clusters`` leaves; leaves whose weight drops below
``pruning_threshold`` are pruned. The tree therefore often has **fewer than K leaves**
(the L2H and TreeVAE papers report collapses to 2-3 leaves on colour images). This module
returns a :class:`~l2h.hierarchy.Hierarchy` over the leaves that exist at the end (its
``n_clusters`` is that number, possibly below K) and places the ``evaluate`` points with
ClustPy's ``predict`` (nearest leaf centre in the embedding of the trained encoder).

torch and clustpy are imported only when :func:`deepect` runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from l2h.baselines._common import BaselineData
from l2h.hierarchy import Hierarchy

__all__ = ["CLUSTPY_VERSION", "deepect", "hierarchy_from_cluster_tree"]

CLUSTPY_VERSION = "0.0.3"
"""The ClustPy version whose API this module uses."""


def _resolve_device(device: str) -> str:
    """``"auto"`` becomes ``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but torch sees no CUDA device")
    return device


def _import_deepect():
    """Return ``clustpy.deep.DeepECT``, with a one-line error when clustpy is missing."""
    try:
        import clustpy
        from clustpy.deep import DeepECT
    except ImportError as err:
        raise ImportError(
            f"DeepECT needs clustpy=={CLUSTPY_VERSION} and torch: pip install 'l2h-bench[deep]' "
            f"({err})"
        ) from None
    if clustpy.__version__ != CLUSTPY_VERSION:
        raise ImportError(f"DeepECT needs clustpy=={CLUSTPY_VERSION}, found {clustpy.__version__}")
    return DeepECT


def hierarchy_from_cluster_tree(root: Any) -> tuple[Hierarchy, dict[int, int]]:
    """Convert a ClustPy ``BinaryClusterTree`` (its ``root_node_``) into a Hierarchy.

    Parameters
    ----------
    root : clustpy node
        Any object with ``left_node_``/``right_node_`` (both None at a leaf) and, at leaves,
        ``labels`` (the leaf's ClustPy label is ``labels[0]``).

    Returns
    -------
    tree : Hierarchy
        Tree over the L leaves, numbered ``0..L-1`` by increasing ClustPy label; merge
        heights are the depth-from-bottom of each split node (1 for a split of two leaves).
    label_to_leaf : dict of int to int
        ClustPy leaf label -> leaf index of ``tree``.
    """
    leaves, post = [], []
    stack = [(root, False)]
    while stack:  # iterative post-order, left child first
        node, seen = stack.pop()
        if node.left_node_ is None:
            leaves.append(int(node.labels[0]))
        elif seen:
            post.append(node)
        else:
            stack += [(node, True), (node.right_node_, False), (node.left_node_, False)]
    label_to_leaf = {label: i for i, label in enumerate(sorted(leaves))}
    group: dict[int, tuple[int, ...]] = {}
    level: dict[int, int] = {}

    def info(node) -> tuple[tuple[int, ...], int]:
        if node.left_node_ is None:
            return (label_to_leaf[int(node.labels[0])],), 0
        return group[id(node)], level[id(node)]

    steps, heights = [], []
    for node in post:
        (a, ha), (b, hb) = info(node.left_node_), info(node.right_node_)
        steps.append((a, b))
        group[id(node)], level[id(node)] = a + b, max(ha, hb) + 1
        heights.append(float(level[id(node)]))
    tree = Hierarchy(len(leaves), steps, aggregation="deepect", heights=heights)
    return tree, label_to_leaf


def deepect(
    fit: BaselineData,
    evaluate: BaselineData,
    *,
    n_clusters: int,
    seed: int = 0,
    pretrain_epochs: int = 100,
    clustering_epochs: int = 150,
    grow_interval: int = 2,
    pruning_threshold: float = 0.1,
    batch_size: int = 256,
    embedding_size: int = 10,
    pretrain_lr: float = 1e-3,
    clustering_lr: float = 1e-4,
    device: str = "auto",
) -> tuple[Hierarchy, np.ndarray]:
    """DeepECT with ``max_n_leaf_nodes = n_clusters`` on ``fit.pixels``.

    Defaults are ClustPy's (which follow the paper's autoencoder); reaching K leaves needs
    ``clustering_epochs >= grow_interval * (K - 2)``. ``seed`` is ClustPy's ``random_state``
    (it seeds numpy and torch; on CPU two runs with the same seed give the same tree).

    Returns
    -------
    tree : Hierarchy
        Tree over the L <= K leaves DeepECT ends with (see :func:`hierarchy_from_cluster_tree`).
    leaf_labels : numpy.ndarray
        Leaf ``0..L-1`` of every point of ``evaluate``.
    """
    deep_ect_class = _import_deepect()
    model = deep_ect_class(
        max_n_leaf_nodes=int(n_clusters),
        batch_size=int(batch_size),
        pretrain_optimizer_params={"lr": float(pretrain_lr)},
        clustering_optimizer_params={"lr": float(clustering_lr)},
        pretrain_epochs=int(pretrain_epochs),
        clustering_epochs=int(clustering_epochs),
        grow_interval=int(grow_interval),
        pruning_threshold=float(pruning_threshold),
        embedding_size=int(embedding_size),
        device=_resolve_device(device),
        random_state=int(seed),
    )
    model.fit(np.asarray(fit.pixels, dtype=np.float32))
    tree, label_to_leaf = hierarchy_from_cluster_tree(model.tree_.root_node_)
    labels = model.predict(np.asarray(evaluate.pixels, dtype=np.float32))
    lookup = np.full(max(label_to_leaf) + 1, -1, dtype=np.int64)
    lookup[list(label_to_leaf)] = list(label_to_leaf.values())
    return tree, lookup[np.asarray(labels, dtype=np.int64)]
