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

# l2h and SciPy are imported where they are used, so that the child processes of
# --fresh-process import only what the code they time imports.


def listing(logits: np.ndarray) -> list:
    """The paper's listing, transcribed plainly (float64, all rows every step)."""
    from scipy.special import softmax

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
    from scipy.special import softmax

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


def warm_kernels(logits: np.ndarray) -> None:
    """Compile (or load cached) the numba kernels outside the timings: a fit of a few rows
    on the compiled path (small inputs take the NumPy path, which loads no kernel)."""
    import l2h
    from l2h import algorithm

    saved = algorithm._NUMPY_ELEMENTS
    algorithm._NUMPY_ELEMENTS = -1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            l2h.fit(logits[:2000])
    finally:
        algorithm._NUMPY_ELEMENTS = saved


def peak_extra_mib(fn, *args) -> float:
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run(args) -> None:
    import l2h
    from l2h.algorithm import summarise

    n, k = args.rows, args.clusters
    nbytes = n * k * 4
    tmp = None
    if args.data_dir:  # a kept (or reused) file, memory-mapped
        logits = np.load(_data_file(Path(args.data_dir), n, k, args.seed), mmap_mode="r")
        for lo in range(0, n, 65536):  # warm the page cache
            float(np.asarray(logits[lo : lo + 65536]).sum())
    else:
        if nbytes > args.mmap_above:
            tmp = Path(tempfile.mkdtemp(dir=args.tmpdir)) / "logits.npy"
        logits = make_logits(n, k, args.seed, tmp)
    warm_kernels(logits)
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
        f"{'memory-mapped' if tmp or args.data_dir else 'in memory'}, {os.cpu_count()} CPUs"
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


# ----------------------------------------------------------------------------- fresh processes

FRESH_SIZES = ("1000x10", "10000x100", "50000x1000", "200000x1000", "1281167x1000")
CROSSOVER_SIZES = (
    "20000x100", "50000x100", "100000x100", "200000x100", "500000x100",
    "5000x1000", "10000x1000", "20000x1000", "50000x1000",
)  # fmt: skip


def child(argv: list[str]) -> None:
    """One timed unit of --fresh-process: load a ``.npy`` file, fit, print a digest of the steps.

    ``argv``: ``l2h|listing PATH [numpy|compiled]``. Imports only what that code needs.
    """
    what, path = argv[0], argv[1]
    if what == "l2h":
        import l2h

        if len(argv) > 2:  # force a path (for --crossover)
            from l2h import algorithm

            algorithm._NUMPY_ELEMENTS = 2**62 if argv[2] == "numpy" else -1
            algorithm._NUMPY_CLUSTERS = 2**62
        logits = np.load(path, mmap_mode="r")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            steps = l2h.fit(logits).steps
    else:
        logits = np.load(path, mmap_mode="r")
        steps = listing(np.asarray(logits, np.float64))
    import zlib

    print(zlib.crc32(repr(steps).encode()))


def _parse_size(text: str) -> tuple[int, int]:
    n, k = text.lower().split("x")
    return int(n), int(k)


def _data_file(folder: Path, n: int, k: int, seed: int) -> Path:
    """The benchmark's logits of this size as a ``.npy`` file in ``folder`` (made once)."""
    path = folder / f"logits_{n}x{k}_seed{seed}.npy"
    if not path.exists():
        part = path.with_suffix(".part.npy")
        make_logits(n, k, seed, part)
        part.rename(path)
    return path


def _run_child(args: list[str], env: dict | None = None) -> tuple[float, str]:
    """Wall seconds of a new Python process running :func:`child`, and what it printed."""
    import subprocess

    command = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return seconds, done.stdout.strip()


def _median_child(args: list[str], repeat: int) -> tuple[float, str]:
    runs = [_run_child(args) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), runs[-1][1]


def _first_runs(args: list[str]) -> tuple[float, float]:
    """Wall seconds of a first run: with an empty numba cache (the first run after a plain
    ``pip install``), and after ``l2h precompile`` filled an empty cache (as ``make
    install`` leaves it)."""
    import subprocess

    with tempfile.TemporaryDirectory(prefix="l2h-numba-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cold = _run_child(args, env)[0]
    with tempfile.TemporaryDirectory(prefix="l2h-numba-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        precompile = [sys.executable, "-m", "l2h", "precompile", "--dtypes", "float32"]
        subprocess.run(precompile, env=env, check=True, capture_output=True)
        return cold, _run_child(args, env)[0]


def fresh_process(args) -> None:
    """``l2h.fit`` and the listing, each in new Python processes, at several sizes."""
    folder = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(dir=args.tmpdir))
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [_parse_size(s) for s in args.sizes or FRESH_SIZES]
    measured: dict[int, tuple[int, float]] = {}  # K -> largest N whose listing was run
    print(
        f"fresh processes (import + load + fit), median of {args.repeat}; the listing is "
        f"run up to {int(args.listing_max_elements):,} logits and extrapolated linearly in N "
        "above (every step of it scans all N rows); first runs (one each): with an empty "
        "kernel cache ('cold'), and after `l2h precompile` (as `make install` leaves it)"
    )
    header = (
        f"{'N x K':>14}{'listing s':>12}{'l2h.fit s':>11}{'ratio':>8}{'same steps':>12}"
        f"{'cold s':>9}{'adds s':>8}{'precompiled s':>15}{'adds s':>8}"
    )
    print(header)
    for n, k in sizes:
        path = str(_data_file(folder, n, k, args.seed))
        _run_child(["l2h", path])  # the kernel cache is warm (and the file in the page cache)
        t_fit, digest = _median_child(["l2h", path], args.repeat)
        if n * k <= args.listing_max_elements:
            t_listing, ref = _median_child(["listing", path], args.repeat)
            measured[k] = (n, t_listing)
            same, listing_text = str(digest == ref), f"{t_listing:.3f}"
        elif k in measured:
            n0, t0 = measured[k]
            t_listing, same, listing_text = t0 * n / n0, "-", f"~{t0 * n / n0:.3f}"
        else:
            t_listing, same, listing_text = float("nan"), "-", "-"
        nan = float("nan")
        cold, warm = _first_runs(["l2h", path]) if not args.no_cold else (nan, nan)
        print(
            f"{f'{n}x{k}':>14}{listing_text:>12}{t_fit:>11.3f}{t_fit / t_listing:>8.3f}"
            f"{same:>12}{cold:>9.2f}{cold - t_fit:>8.2f}{warm:>15.2f}{warm - t_fit:>8.2f}",
            flush=True,
        )
    if not args.data_dir:
        for f in folder.glob("*.npy"):
            f.unlink()
        folder.rmdir()


def crossover(args) -> None:
    """Fresh-process ``l2h.fit`` with the NumPy path and with the compiled path."""
    folder = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(dir=args.tmpdir))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"fresh processes, median of {args.repeat}")
    print(f"{'N x K':>14}{'NumPy path s':>14}{'compiled s':>12}{'faster':>10}")
    for n, k in [_parse_size(s) for s in args.sizes or CROSSOVER_SIZES]:
        path = str(_data_file(folder, n, k, args.seed))
        _run_child(["l2h", path, "compiled"])  # warm cache and page cache
        t_numpy, a = _median_child(["l2h", path, "numpy"], args.repeat)
        t_jit, b = _median_child(["l2h", path, "compiled"], args.repeat)
        assert a == b, f"the two paths gave different steps at {n}x{k}"
        faster = "NumPy" if t_numpy < t_jit else "compiled"
        print(f"{f'{n}x{k}':>14}{t_numpy:>14.3f}{t_jit:>12.3f}{faster:>10}", flush=True)
    if not args.data_dir:
        for f in folder.glob("*.npy"):
            f.unlink()
        folder.rmdir()


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
        "--repeat",
        type=int,
        help="runs of each timing, median reported (default 3; 5 with --fresh-process)",
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument(
        "--fresh-process",
        action="store_true",
        help="time l2h.fit and the listing each in new processes at --sizes",
    )
    parser.add_argument(
        "--crossover",
        action="store_true",
        help="fresh-process l2h.fit on its NumPy path and its compiled path at --sizes",
    )
    parser.add_argument("--sizes", nargs="+", help="NxK sizes for --fresh-process/--crossover")
    parser.add_argument(
        "--listing-max-elements",
        type=float,
        default=5e7,
        help="--fresh-process runs the listing up to this many logits, extrapolates above",
    )
    parser.add_argument("--no-cold", action="store_true", help="skip the first runs")
    parser.add_argument("--data-dir", help="keep (and reuse) the logits files here")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    if args.quick:
        args.rows, args.clusters = 5000, 50
    if args.fresh_process:
        args.repeat = args.repeat or 5
        return fresh_process(args)
    if args.crossover:
        args.repeat = args.repeat or 5
        return crossover(args)
    args.repeat = args.repeat or 3
    run(args)


if __name__ == "__main__":
    sys.exit(main())
