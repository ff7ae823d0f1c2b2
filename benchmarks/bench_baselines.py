"""Benchmark the hierarchical baselines: runtime at CIFAR-100 size, DP beside L2H's.

Two parts, both on synthetic, clearly labelled data (no download):

1. **Runtime** at CIFAR-100 size: ``--rows`` x ``--dim`` float32 features (default
   50,000 x 768, one space) and logits over ``--clusters`` classes (default 100) in families of
   10, fitted and evaluated on the same points; each baseline runs once, beside ``l2h.fit`` on
   the same logits (ratio = baseline time / L2H time).
2. **Dendrogram purity** on a two-level Gaussian mixture in 16 dimensions (``--groups``
   super-groups of ``--per-group`` classes; super-group centres ~ N(0, 0.5^2), class offsets
   ~ N(0, 0.5^2), point noise ~ N(0, 0.5^2), so classes and groups overlap and methods
   differ), fitted on one split and
   scored on another: DP against the classes and against the super-groups, for every baseline
   and for L2H on the same logits.

With ``--deepect``, DeepECT (ClustPy) also runs on ``--rows`` x 3,072 uniform pixels: three
short runs give the time of one pretraining epoch and one clustering epoch, extrapolated to
ClustPy's defaults (100 pretraining epochs, max(150, 2(K-2)) clustering epochs to reach K
leaves).

Usage::

    python benchmarks/bench_baselines.py                     # CIFAR-100 size, no DeepECT
    python benchmarks/bench_baselines.py --deepect           # plus DeepECT epoch timings
    python benchmarks/bench_baselines.py --quick             # a smoke run (seconds)
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import l2h
from l2h.baselines import BaselineData, run_baseline
from l2h.metrics import acc, dendrogram_purity

CHEAP = ["centroid_ward", "centroid_cosine", "logit_affinity", "point_ward", "bisecting_kmeans"]


def clustered(n, dim, groups, per_group, spread, noise, seed, top=1.0):
    """Features, logits, classes and super-groups of a two-level Gaussian mixture."""
    k = groups * per_group
    rng = np.random.default_rng(0)
    tops = top * rng.normal(size=(groups, dim)).astype(np.float32)
    centres = np.repeat(tops, per_group, axis=0) + spread * rng.normal(size=(k, dim)).astype(
        np.float32
    )
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    x = centres[y] + noise * rng.normal(size=(n, dim)).astype(np.float32)
    d2 = (x * x).sum(1)[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)[None]
    logits = -d2 / (2 * noise**2 * dim) * 4.0
    return BaselineData(features=[x], logits=logits.astype(np.float32)), y, y // per_group


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def runtime_part(args) -> None:
    k = args.clusters
    data, y, _ = clustered(args.rows, args.dim, k // 10, 10, 0.5, 0.25, seed=1)
    print(f"runtime: {args.rows} x {args.dim} features, K={k} (fit = evaluate)")
    small = BaselineData(features=[data.features[0][:500]], logits=data.logits[:500])
    with warnings.catch_warnings():  # warm up (numba kernels, lazy imports) before timing
        warnings.simplefilter("ignore")
        l2h.fit(small.logits, n_jobs=1)
        for name in CHEAP:
            run_baseline(name, fit=small, n_clusters=k)
    (tree, t_l2h) = timed(lambda: l2h.fit(data.logits, n_jobs=1))
    print(f"{'l2h.fit (1 thread)':<22}{t_l2h:9.2f} s  ratio 1.0")
    for name in CHEAP:
        params = {"max_points": args.max_points} if name == "point_ward" else {}
        (tree, leaves), sec = timed(
            lambda name=name, params=params: run_baseline(
                name, fit=data, n_clusters=k, seed=0, **params
            )
        )
        print(
            f"{name:<22}{sec:9.2f} s  ratio {sec / t_l2h:7.1f}  leaves {tree.n_clusters}"
            f"  ACC {acc(y, leaves):.3f}"
        )


def dp_part(args) -> None:
    k = args.groups * args.per_group
    shape = (args.groups, args.per_group, 0.5, 0.5)  # spread of classes, noise of points
    fit, _, _ = clustered(args.dp_rows, 16, *shape, seed=2, top=0.5)
    test, y, coarse = clustered(args.dp_rows // 2, 16, *shape, seed=3, top=0.5)
    print(
        f"\nDP on a two-level mixture: {args.groups} groups x {args.per_group} classes, "
        f"fit {args.dp_rows}, test {args.dp_rows // 2} points"
    )
    print(f"{'method':<22}{'DP(fine)':>9}{'DP(coarse)':>11}{'ACC':>7}")
    tree = l2h.fit(fit.logits)
    leaves = np.argmax(test.logits, axis=1)
    rows = [("l2h.fit", tree, leaves)]
    for name in CHEAP:
        rows.append((name, *run_baseline(name, fit=fit, evaluate=test, n_clusters=k, seed=0)))
    for name, tree, leaves in rows:
        print(
            f"{name:<22}{dendrogram_purity(tree, y, leaves):9.3f}"
            f"{dendrogram_purity(tree, coarse, leaves):11.3f}{acc(y, leaves):7.3f}"
        )


def deepect_part(args) -> None:
    import torch

    from l2h.baselines.deepect import deepect

    torch.set_num_threads(max(1, torch.get_num_threads()))
    pixels = np.random.default_rng(0).random((args.rows, 3072), dtype=np.float32)
    data = BaselineData(pixels=pixels)
    times = {}
    for pre, clu in ((1, 1), (2, 1), (1, 3)):
        _, sec = timed(
            lambda pre=pre, clu=clu: deepect(
                data,
                BaselineData(pixels=pixels[:10]),
                n_clusters=args.clusters,
                pretrain_epochs=pre,
                clustering_epochs=clu,
                grow_interval=1,
                device=args.device,
            )
        )
        times[pre, clu] = sec
    t_pre = times[2, 1] - times[1, 1]
    t_clu = (times[1, 3] - times[1, 1]) / 2
    n_clu = max(150, 2 * (args.clusters - 2))
    total = 100 * t_pre + n_clu * t_clu
    print(f"\nDeepECT on {args.rows} x 3072 pixels, device {args.device}: runs {times}")
    print(f"pretrain epoch {t_pre:.1f} s, clustering epoch (with growth) {t_clu:.1f} s")
    print(f"extrapolated: 100 pretrain + {n_clu} clustering epochs = {total / 3600:.2f} h")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--max-points", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--per-group", type=int, default=10)
    parser.add_argument("--dp-rows", type=int, default=20_000)
    parser.add_argument("--deepect", action="store_true")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.dim, args.clusters, args.max_points = 2000, 32, 20, 500
        args.groups, args.per_group, args.dp_rows = 4, 3, 1200
    runtime_part(args)
    dp_part(args)
    if args.deepect:
        deepect_part(args)


if __name__ == "__main__":
    main()
