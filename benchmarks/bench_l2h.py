"""Benchmark ``l2h.fit`` against the paper's listing, a cached listing and one exp pass.

Every number is measured in the same run on the same logits:

* ``exp pass``: ``np.exp(chunk, out=buf)`` over row chunks, one thread, median of 3 — the
  floor, since every logit must be read once;
* ``listing``: a plain transcription of the paper's listing (below; never in the package);
* ``cached listing``: the listing with per-cluster means cached and only the lowest-score
  group's rows re-softmaxed, over whole rows (the obvious speed-up);
* ``l2h.fit``: the package, with all cores, median of ``--repeat`` runs ("same steps"
  compares the listing's default aggregation, cluster_mean, with the listing), and its first
  phase (the softmax pass that summarises every row) alone; the rest of its time is the
  merges.

Logits look like a trained model's: each point is near one of K clusters, and clusters come
in families of 10 that share logit mass. Large inputs are written to a ``.npy`` file and
memory-mapped (read once before timing, so the page cache holds them).

Usage::

    python benchmarks/bench_l2h.py --rows 200000 --clusters 1000              # with listing
    python benchmarks/bench_l2h.py --rows 1281167 --clusters 1000 --no-listing  # ImageNet size
    python benchmarks/bench_l2h.py --quick                                    # a smoke run
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from scipy.special import softmax

import l2h
from l2h.algorithm import summarise


def listing(logits: np.ndarray) -> list:
    """The paper's listing, transcribed plainly (float64, all rows every step)."""
    k = logits.shape[-1]
    groups = [(c,) for c in range(k)]
    steps = []
    probs = softmax(logits, axis=-1)
    assignments = np.argmax(probs, axis=-1)
    confidences = np.max(probs, axis=-1)
    for _ in range(1, k):
        scores = {}
        for group in groups:
            scores[group] = sum([np.mean(confidences[assignments == c]) for c in group])
        lsg = min(scores, key=scores.get)
        rows = logits[np.where(np.isin(assignments, lsg))[0]]
        masked = np.zeros_like(rows)
        outside = [c for c in range(k) if c not in lsg]
        masked[:, outside] = softmax(rows[:, outside], axis=-1)
        target = np.argmax(masked, axis=-1)
        mass = np.max(masked, axis=-1)
        values = {g: np.mean([np.sum(mass[target == c]) for c in g]) for g in groups if g != lsg}
        mtg = max(values, key=values.get)
        groups = [g for g in groups if g not in [lsg, mtg]] + [lsg + mtg]
        steps.append((lsg, mtg))
    return steps


def cached_listing(logits: np.ndarray, chunk: int = 4096) -> list:
    """The listing with cached cluster means; re-softmaxes only the lsg rows (whole rows)."""
    n, k = logits.shape
    assign = np.empty(n, np.int64)
    conf = np.empty(n)
    for lo in range(0, n, chunk):
        p = softmax(np.asarray(logits[lo : lo + chunk], np.float64), axis=1)
        assign[lo : lo + chunk] = p.argmax(1)
        conf[lo : lo + chunk] = p.max(1)
    counts = np.bincount(assign, minlength=k)
    means = np.bincount(assign, weights=conf, minlength=k) / np.maximum(counts, 1)
    order = np.argsort(assign, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(counts)])
    groups = [(c,) for c in range(k)]
    score = {g: means[g[0]] for g in groups}
    steps = []
    for _ in range(1, k):
        lsg = min(score, key=score.get)
        rows = np.concatenate([order[offsets[c] : offsets[c + 1]] for c in lsg])
        x = np.asarray(logits[np.sort(rows)], np.float64)
        x[:, list(lsg)] = -np.inf
        p = softmax(x, axis=1)
        mass = np.bincount(p.argmax(1), weights=p.max(1), minlength=k)
        values = {g: mass[list(g)].mean() for g in score if g != lsg}
        mtg = max(values, key=values.get)
        new = lsg + mtg
        score = {g: s for g, s in score.items() if g not in (lsg, mtg)}
        score[new] = sum(means[c] for c in new)
        steps.append((lsg, mtg))
    return steps


def exp_pass(logits: np.ndarray, rows: int = 256) -> float:
    """Seconds for one single-threaded exp over all logits (row chunks, median of 3)."""
    buf = np.empty((rows, logits.shape[1]), logits.dtype)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        for lo in range(0, logits.shape[0], rows):
            part = logits[lo : lo + rows]
            np.exp(part, out=buf[: len(part)])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_logits(n: int, k: int, seed: int, path: Path | None) -> np.ndarray:
    """Model-like float32 logits, written to ``path`` (memory-mapped) when given."""
    rng = np.random.default_rng(seed)
    out = (
        np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, k))
        if path is not None
        else np.empty((n, k), np.float32)
    )
    family = np.arange(k) // 10
    for lo in range(0, n, 65536):
        m = min(65536, n - lo)
        cls = rng.integers(0, k, m)
        block = rng.standard_normal((m, k), dtype=np.float32) * 1.5
        block += 3.0 * (family[None, :] == family[cls][:, None])
        block[np.arange(m), cls] += 7.0
        out[lo : lo + m] = block
    if path is None:
        return out
    out.flush()
    del out
    mapped = np.load(path, mmap_mode="r")
    for lo in range(0, n, 65536):  # warm the page cache
        float(np.asarray(mapped[lo : lo + 65536]).sum())
    return mapped


def timed(fn, *args, repeat: int = 1, **kwargs):
    """Median seconds of ``repeat`` calls, and the last call's result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_extra_mib(fn, *args) -> float:
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run(args) -> None:
    n, k = args.rows, args.clusters
    nbytes = n * k * 4
    tmp = None
    if nbytes > args.mmap_above:
        tmp = Path(tempfile.mkdtemp(dir=args.tmpdir)) / "logits.npy"
    logits = make_logits(n, k, args.seed, tmp)
    l2h.fit(logits[:2000])  # compile (or load cached) kernels outside the timings
    t_exp = exp_pass(logits)
    rows = [("exp pass (1 thread)", t_exp, None)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for aggregation in args.aggregations:
            t_fit, tree = timed(l2h.fit, logits, aggregation, repeat=args.repeat)
            rows.append((f"l2h.fit {aggregation}", t_fit, tree.steps))
        t_pass, _ = timed(summarise, logits, n_jobs=os.cpu_count() or 1, repeat=args.repeat)
        rows.append(("  its softmax pass alone", t_pass, None))
        if not args.no_cached:
            t_cached, steps = timed(cached_listing, logits)
            rows.append(("cached listing", t_cached, steps))
        if not args.no_listing:
            t_listing, steps = timed(listing, np.asarray(logits, np.float64))
            rows.append(("listing", t_listing, steps))
    reference = next((r[2] for r in rows if r[0] == "listing"), None)
    t_fit = rows[1][1]
    print(
        f"\nN={n:,} K={k:,} float32, {nbytes / 2**20:,.0f} MiB, "
        f"{'memory-mapped' if tmp else 'in memory'}, {os.cpu_count()} CPUs"
    )
    print(f"{'method':<26}{'seconds':>10}{'x exp pass':>12}{'fit speed-up':>14}{'same steps':>12}")
    for name, seconds, steps in rows:
        comparable = steps is not None and reference is not None and "point_" not in name
        same = str(steps == reference) if comparable else ""
        baseline = name in ("cached listing", "listing")
        speedup = f"{seconds / t_fit:.1f}x" if baseline else ""
        print(f"{name:<26}{seconds:>10.3f}{seconds / t_exp:>12.2f}{speedup:>14}{same:>12}")
    if args.memory:
        mib = peak_extra_mib(l2h.fit, logits)
        print(
            f"peak extra memory of l2h.fit (tracemalloc): {mib:,.1f} MiB "
            f"= {mib * 2**20 / nbytes:.3f}x the logits"
        )
    if tmp is not None:
        del logits
        tmp.unlink()
        tmp.parent.rmdir()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--aggregations", nargs="+", default=["cluster_mean", "point_sum"])
    parser.add_argument("--no-listing", action="store_true", help="skip the (slow) listing")
    parser.add_argument("--no-cached", action="store_true", help="skip the cached listing")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory")
    parser.add_argument(
        "--mmap-above",
        type=float,
        default=2**30,
        help="bytes above which logits are memory-mapped from a file",
    )
    parser.add_argument("--tmpdir", default=None, help="where the memory-mapped file goes")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of l2h.fit and its pass (median reported)"
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.clusters = 5000, 50
    run(args)


if __name__ == "__main__":
    sys.exit(main())
