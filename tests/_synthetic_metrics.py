"""Synthetic TEST DATA shaped like a study's metrics.csv (values are made up, not results)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from l2h.results import COLUMNS


def synthetic_metrics(seeds: tuple[int, ...] = (0, 1, 2)) -> pd.DataFrame:
    """Rows for cifar10, a cifar100 K sweep with superclass levels and a supervised run.

    Every value is ``base + 0.01 * seed`` so that means and stds are known in closed form:
    mean = base + 0.01 * mean(seeds), std = 0.01 * std(seeds, ddof=1).
    """
    rows = []

    def add(dataset, backbone, model, method, agg, k, metric, base, level="class", split="test"):
        for seed in seeds:
            value = base + 0.01 * seed
            rows.append(
                (dataset, backbone, model, method, agg, k, seed, split, level, metric, value)
            )

    bb = "clip_vitl14+dinov2_vitg14"
    for i, agg in enumerate(("cluster_mean", "point_sum", "point_mean")):
        for j, metric in enumerate(("nmi", "ari", "acc", "lp")):
            add("cifar10", bb, "turtle", "l2h", agg, 10, metric, 0.90 + 0.01 * j)
        add("cifar10", bb, "turtle", "l2h", agg, 10, "dp", 0.80 - 0.1 * i)
        add("cifar10", bb, "turtle", "l2h", agg, 10, "dp", 0.85, split="train")
    for metric in ("nmi", "ari", "acc", "dp", "lp"):
        add("cifar10", "pixels", "none", "deepect", "none", 10, metric, 0.05)
    for k in (98, 100, 102):
        for j, metric in enumerate(("nmi", "ari", "acc", "dp", "lp")):
            add(
                "cifar100", bb, "turtle", "l2h", "cluster_mean", k, metric, 0.5 + k / 1000 + j / 100
            )
        for j, metric in enumerate(("nmi", "acc", "dp")):
            add(
                "cifar100",
                bb,
                "turtle",
                "l2h",
                "cluster_mean",
                k,
                metric,
                0.6 + j / 100,
                "superclass",
            )
    for metric, base in (("lca_spearman", 0.4), ("nmi", 0.8), ("acc", 0.7), ("dp", 0.6)):
        add(
            "imagenet",
            "efficientnet_lite0",
            "supervised",
            "l2h",
            "cluster_mean",
            1000,
            metric,
            base,
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["value"] = frame["value"].astype(np.float64)
    return frame
