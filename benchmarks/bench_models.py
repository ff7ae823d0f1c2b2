"""Quality and speed of the flat clustering models TURTLE, TEMI and k-means.

Three parts, each printed with the settings that produced it:

1. **Quality**: fit every model on the training features, report ACC and NMI on the test
   features (and train). Give real features with ``--features`` (one ``.npy`` per space) and
   ``--labels``, plus ``--test-features``/``--test-labels``; without them the script uses a
   SYNTHETIC Gaussian mixture and says so on every line.
2. **CPU time** on 60,000 x 1,280 features, K=10 (Fashion-MNIST with EfficientNet-Lite0 size).
   TURTLE and TEMI at their defaults take hours on a small CPU, so the script times two short
   runs and extrapolates the per-iteration time (the difference of the two runs, so the fixed
   costs cancel) to the defaults: TURTLE's 6000 outer iterations, TEMI's 100 epochs (plus its
   neighbour search, timed on the full input). k-means runs in full. Lines say "extrapolated".
3. **GPU time** on 50,000 x (768 + 1536) features, K=100 (CIFAR-100 with CLIP + DINOv2 size) and
   the speed-up over the CPU on the same input, measured the same way; "not measured" without
   CUDA.

Usage::

    python benchmarks/bench_models.py --features train.npy --labels train_labels.npy \\
        --test-features test.npy --test-labels test_labels.npy [--turtle '{"outer_steps": 600}']
    python benchmarks/bench_models.py                 # synthetic quality + timings
    python benchmarks/bench_models.py --quick         # a smoke run with tiny sizes
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from l2h.metrics import acc, nmi
from l2h.models import KMeans
from l2h.models.temi import TEMI, mine_neighbours
from l2h.models.turtle import TURTLE

#: Reduced settings for a 2-core demo (about 10k x 1280, K=10); see docs/models.md.
DEMO = {
    "turtle": {"outer_steps": 300, "batch_size": 2048},
    "temi": {
        "n_heads": 2,
        "epochs": 8,
        "batch_size": 256,
        "lr": 1e-3,
        "warmup_epochs": 1,
        "momentum": 0.9,
        "embed_norm": True,
    },
    "kmeans": {},
}


def synthetic(n: int, dim: int, k: int, seed: int, sep: float = 3.0):
    """A SYNTHETIC Gaussian mixture with overlapping blobs (not real embeddings)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(k, dim)) * sep / np.sqrt(dim)
    y = rng.integers(0, k, size=n)
    x = means[y] + rng.normal(size=(n, dim)) / np.sqrt(dim) * 1.5
    return x.astype(np.float32), y


def load_split(paths: list[str], labels: str) -> tuple[list[np.ndarray], np.ndarray]:
    spaces = [np.load(p, mmap_mode="r") for p in paths]
    return spaces, np.load(labels)


def make_model(name: str, k: int, hparams: dict, device: str = "auto"):
    cls = {"turtle": TURTLE, "temi": TEMI, "kmeans": KMeans}[name]
    if name == "kmeans":
        return cls(k, **hparams)
    return cls(k, device=device, **hparams)


def quality(args, hparams: dict) -> None:
    if args.features:
        train, y_train = load_split(args.features, args.labels)
        test, y_test = load_split(
            args.test_features or args.features, args.test_labels or args.labels
        )
        source = f"features {args.features}"
    else:
        n, dim = (2000, 64) if args.quick else (10_000, 1280)
        x, y = synthetic(n + n // 5, dim, 10, seed=0)
        train, y_train, test, y_test = [x[:n]], y[:n], [x[n:]], y[n:]
        source = f"SYNTHETIC Gaussian mixture {n} x {dim} (not real embeddings)"
    k = args.clusters or int(max(y_train.max(), y_test.max()) + 1)
    print(f"== quality: {source}, K={k}, train N={len(y_train)}, test N={len(y_test)}")
    print(f"{'model':8} {'ACC test':>9} {'NMI test':>9} {'ACC train':>9} {'fit s':>8}  settings")
    for name in args.models:
        model = make_model(name, k, hparams[name])
        start = time.perf_counter()
        model.fit(train, progress=False)
        seconds = time.perf_counter() - start
        p_test, p_train = model.predict(test), model.predict(train)
        print(
            f"{name:8} {acc(y_test, p_test):9.4f} {nmi(y_test, p_test):9.4f} "
            f"{acc(y_train, p_train):9.4f} {seconds:8.1f}  {json.dumps(hparams[name])} "
            f"(empty clusters {model.n_empty_clusters_})"
            + (" [SYNTHETIC]" if not args.features else "")
        )


def _fit_seconds(name: str, spaces, k: int, hparams: dict, device: str) -> float:
    model = make_model(name, k, hparams, device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.fit(spaces, progress=False)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def time_turtle(spaces, k: int, device: str, steps: tuple[int, int]) -> tuple[float, str]:
    """Extrapolated seconds of TURTLE's 6000 default iterations (per-iteration difference)."""
    t1 = _fit_seconds("turtle", spaces, k, {"outer_steps": steps[0]}, device)
    t2 = _fit_seconds("turtle", spaces, k, {"outer_steps": steps[1]}, device)
    per = max(t2 - t1, 0.0) / (steps[1] - steps[0])
    fixed = max(t1 - steps[0] * per, 0.0)
    total = fixed + 6000 * per
    note = f"extrapolated: {per * 1e3:.1f} ms/iteration x 6000 + {fixed:.1f} s fixed"
    return total, note


def time_temi(spaces, k: int, device: str, sub: int) -> tuple[float, str]:
    """Extrapolated seconds of TEMI's defaults: kNN on all rows + 100 epochs of iterations."""
    n = spaces[0].shape[0]
    start = time.perf_counter()
    mine_neighbours(spaces, 50, device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    knn_s = time.perf_counter() - start
    part = [s[:sub] for s in spaces]  # iteration cost does not depend on N
    batch = min(1024, sub // 2)
    per_epoch_sub = sub // batch
    t1 = _fit_seconds("temi", part, k, {"epochs": 1, "batch_size": batch}, device)
    t2 = _fit_seconds("temi", part, k, {"epochs": 2, "batch_size": batch}, device)
    per = max(t2 - t1, 0.0) / per_epoch_sub
    iterations = 100 * (n // 1024)
    scale = 1024 / batch  # the quick run uses smaller batches
    total = knn_s + iterations * per * scale
    note = (
        f"extrapolated: kNN {knn_s:.1f} s + {per * scale * 1e3:.0f} ms/iteration x {iterations} "
        f"(100 epochs x {n // 1024} batches of 1024, 16 heads)"
    )
    return total, note


def time_kmeans(spaces, k: int) -> tuple[float, str]:
    return _fit_seconds("kmeans", spaces, k, {}, "cpu"), "measured (full run, n_init=10)"


def speed(args) -> None:
    n, dim = (3000, 128) if args.quick else (60_000, 1280)
    x, _ = synthetic(n, dim, 10, seed=1)
    threads = torch.get_num_threads()
    print(f"\n== CPU time, SYNTHETIC {n} x {dim}, K=10, default settings, {threads} torch threads")
    steps = (2, 4) if args.quick else (5, 15)
    sub = 512 if args.quick else 4096
    rows = {
        "turtle": lambda: time_turtle([x], 10, "cpu", steps),
        "temi": lambda: time_temi([x], 10, "cpu", sub),
        "kmeans": lambda: time_kmeans([x], 10),
    }
    for name in args.models:
        seconds, note = rows[name]()
        print(f"{name:8} {seconds:10.1f} s  {note}")
    n, dims = (2000, (48, 96)) if args.quick else (50_000, (768, 1536))
    print(f"\n== GPU time, SYNTHETIC {n} x ({' + '.join(map(str, dims))}), K=100, default settings")
    if not torch.cuda.is_available():
        print("not measured (no CUDA device on this machine)")
        return
    rng = np.random.default_rng(2)
    spaces = [rng.normal(size=(n, d)).astype(np.float32) for d in dims]
    sub = 512 if args.quick else 8192
    for name in [m for m in args.models if m != "kmeans"]:
        fn = time_turtle if name == "turtle" else time_temi
        arg = steps if name == "turtle" else sub
        gpu, note = fn(spaces, 100, "cuda", arg)
        cpu, _ = fn(spaces, 100, "cpu", arg)
        print(f"{name:8} GPU {gpu:10.1f} s  CPU {cpu:10.1f} s  speed-up {cpu / gpu:6.1f}x  {note}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", nargs="+", help="training features, one .npy per space")
    parser.add_argument("--labels", help="training labels .npy")
    parser.add_argument("--test-features", nargs="+", help="test features, one .npy per space")
    parser.add_argument("--test-labels", help="test labels .npy")
    parser.add_argument("--clusters", type=int, help="K (default: number of classes)")
    parser.add_argument("--models", nargs="+", default=["turtle", "temi", "kmeans"])
    parser.add_argument(
        "--settings",
        choices=["demo", "default"],
        default="demo",
        help="hyperparameters of the quality part (demo: reduced, see DEMO)",
    )
    for name in ("turtle", "temi", "kmeans"):
        parser.add_argument(f"--{name}", default="{}", help=f"JSON hyperparameters of {name}")
    parser.add_argument("--no-speed", action="store_true", help="skip the timing parts")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality part")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    args = parser.parse_args(argv)
    if args.features and not args.labels:
        parser.error("--features needs --labels")
    if bool(args.test_features) != bool(args.test_labels):
        parser.error("--test-features and --test-labels go together")
    if args.threads:
        torch.set_num_threads(args.threads)
    hparams = {}
    for name in ("turtle", "temi", "kmeans"):
        base = dict(DEMO[name]) if args.settings == "demo" else {}
        if args.quick and name == "turtle":
            base |= {"outer_steps": 30}
        if args.quick and name == "temi":
            base |= {"epochs": 3, "n_heads": 2, "knn": 10}
        hparams[name] = base | json.loads(getattr(args, name))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs, CUDA {'yes' if torch.cuda.is_available() else 'no'}"
    )
    if not args.no_quality:
        quality(args, hparams)
    if not args.no_speed:
        speed(args)


if __name__ == "__main__":
    main()
