"""Time the tree metrics at ImageNet size against one bincount pass over the points.

The floor for any per-point metric is reading the N labels once; ``np.bincount`` over the
(y_pred, y_true) pairs is that floor. Dendrogram and leaf purity use exactly such per-node
class counts, so their time should be a small multiple of it.

Usage::

    python benchmarks/bench_metrics.py [--rows 1281167] [--clusters 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy.cluster.hierarchy import linkage

from l2h import metrics


def median_time(fn, *args, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_281_167)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--points", type=int, default=10_000, help="size of a point-level tree")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    n, k = args.rows, args.clusters
    y_true = rng.integers(0, k, n)
    y_pred = (y_true + (rng.random(n) < 0.2) * rng.integers(0, k, n)) % k
    tree = linkage(rng.standard_normal((k, 8)), "ward")
    floor = median_time(lambda: np.bincount(y_pred * k + y_true, minlength=k * k))
    rows = [
        ("bincount floor", floor),
        ("dendrogram_purity", median_time(metrics.dendrogram_purity, tree, y_true, y_pred)),
        ("leaf_purity", median_time(metrics.leaf_purity, tree, y_true, y_pred)),
        ("acc (Hungarian)", median_time(metrics.acc, y_true, y_pred)),
        ("nmi", median_time(metrics.nmi, y_true, y_pred)),
    ]
    points = rng.standard_normal((args.points, 4))
    labels = rng.integers(0, 100, args.points)
    point_tree = linkage(points, "ward")
    dp_points = median_time(
        lambda: metrics.dendrogram_purity(point_tree, labels, leaves="points"), repeat=1
    )
    print(f"N={n:,} points, K={k:,} clusters (point-level tree: {args.points:,} leaves)")
    print(f"{'metric':<22}{'seconds':>10}{'x floor':>10}")
    for name, seconds in rows:
        print(f"{name:<22}{seconds:>10.3f}{seconds / floor:>10.1f}")
    print(f"{'DP, point-level tree':<22}{dp_points:>10.3f}")


if __name__ == "__main__":
    main()
