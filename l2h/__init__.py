"""L2H: Logits to Hierarchies.

Build a hierarchy over the K clusters of a flat clustering model from its (N, K) logits, as in
Palumbo et al., "From Logits to Hierarchies: Hierarchical Clustering made Simple" (ICML 2025).

>>> import numpy as np, l2h
>>> tree = l2h.fit(np.random.default_rng(0).normal(size=(100, 4)))
>>> tree.n_clusters
4
"""

from typing import Any

from l2h.hierarchy import Hierarchy

__all__ = ["AGGREGATIONS", "Hierarchy", "fit"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import the algorithm (and compile-load its numba kernels) only when it is used, so that
    ``import l2h.metrics`` or ``import l2h.hierarchy`` stays fast."""
    if name in ("AGGREGATIONS", "fit"):
        from l2h import algorithm

        return getattr(algorithm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
