"""Embedding extraction throughput against the model's forward-only throughput.

On a CUDA GPU: images/s of :func:`l2h.embed.extract_with_model` (the pipeline of
``l2h embed``: DataLoader, host-to-device copy, on-device resize and normalisation, bf16
autocast) for EfficientNet-Lite0 (real offline weights) and a ViT-L/14-sized timm model with
random weights (``vit_large_patch14_clip_224``, ``pretrained=False``; no internet needed),
against forward-only images/s on normalised tensors already on the GPU (target >= 80%). Both
run on real Fashion-MNIST images held in memory, and (``--files``) on JPEG files decoded by
DataLoader workers. It also checks that bf16 autocast changes features by < 1e-2 relative.

On the CPU it runs a small EfficientNet-Lite0 version and prints ``GPU: not measured``.
``--size-study`` measures, on the CPU, EfficientNet-Lite0 images/s and feature quality
(logistic-regression accuracy and k-means ACC on a stratified Fashion-MNIST subset) at
several input sizes.

Usage::

    python benchmarks/bench_embed.py [--quick] [--n 4096] [--files]
    python benchmarks/bench_embed.py --size-study [--sizes 32 64 112] [--n-train 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from l2h._weights import load_efficientnet_lite0
from l2h.backbones import BACKBONES, BackboneInfo
from l2h.datasets import ImageDataset, load_dataset, subset_indices
from l2h.embed import _forward, _normalise, extract_with_model


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def forward_only(model, forward, info, crop, batch, n, device, amp=True) -> float:
    """Images/s of ``forward`` on normalised batches already on ``device``."""
    import torch

    x = torch.randint(0, 256, (batch, 3, crop, crop), dtype=torch.uint8, device=device)
    x = _normalise(x, info, crop, crop)
    n_batches = max(1, n // batch)
    with (
        torch.inference_mode(),
        torch.autocast("cuda", torch.bfloat16, enabled=amp and device.type == "cuda"),
    ):
        for _ in range(3):  # warm-up (oneDNN/cuDNN pick kernels per shape)
            forward(x)
        _sync(device)
        start = time.perf_counter()
        for _ in range(n_batches):
            forward(x).float()
        _sync(device)
    return n_batches * batch / (time.perf_counter() - start)


def pipeline(model, forward, info, dataset, crop, batch, workers, device) -> float:
    """Images/s of the full extraction pipeline over ``dataset``."""
    extract_with_model(
        dataset.subset(np.arange(min(batch, len(dataset)))),
        model,
        info,
        forward=forward,
        batch_size=batch,
        device=device,
        image_size=crop,
        progress=False,
    )  # warm-up
    _sync(device)
    start = time.perf_counter()
    extract_with_model(
        dataset,
        model,
        info,
        forward=forward,
        batch_size=batch,
        device=device,
        num_workers=workers,
        image_size=crop,
        progress=False,
    )
    _sync(device)
    return len(dataset) / (time.perf_counter() - start)


def amp_error(model, forward, info, crop, device) -> float:
    """Relative Frobenius change of features under bf16 autocast (one batch of 64)."""
    import torch

    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 3, crop, crop), dtype=torch.uint8, generator=gen).to(device)
    x = _normalise(x, info, crop, crop)
    with torch.inference_mode():
        ref = forward(x).float()
        with torch.autocast("cuda", torch.bfloat16):
            low = forward(x).float()
    return float((low - ref).norm() / ref.norm())


def write_jpegs(dataset: ImageDataset, folder: Path, size: int) -> ImageDataset:
    """Save ``dataset``'s images as ``size``-px RGB JPEGs; the same dataset as files."""
    files = []
    for i in range(len(dataset)):
        path = folder / f"{i:06d}.jpg"
        dataset.get_image(i).convert("RGB").resize((size, size)).save(path, quality=90)
        files.append(str(path))
    return ImageDataset(
        dataset.name, dataset.split, tuple(files), dataset.labels, dataset.class_names
    )


def models(device, quick: bool):
    """(label, model, forward, info, crop, batch) for each benchmarked model."""
    import timm

    eff = load_efficientnet_lite0()
    eff_info = BACKBONES["efficientnet_lite0"]
    crop = eff_info.image_size if device.type == "cpu" else 224
    out = [("efficientnet_lite0", eff, _forward(eff, eff_info, "features"), eff_info)]
    out[0] += (crop, 64 if device.type == "cpu" else 512)
    if not quick and device.type == "cuda":
        vit = timm.create_model("vit_large_patch14_clip_224", pretrained=False, num_classes=768)
        info = BackboneInfo(
            "vitl14_random", 768, "random weights", "224 crop, ImageNet mean/std", image_size=224
        )
        out.append(("ViT-L/14 (random weights)", vit.to(device), vit, info, 224, 256))
    for _, model, *_rest in out:
        model.eval().to(device)
    return out


def run_throughput(args) -> None:
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    n = args.n or (64 if args.quick else 4096 if device.type == "cuda" else 512)
    fashion = load_dataset("fashion_mnist", "test").subset(np.arange(n))
    print(f"device: {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}")
    print(f"images: {n} real Fashion-MNIST test images, in memory (28x28 grey)")
    print(f"{'model':<28}{'input':>6}{'pipeline':>10}{'forward':>10}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        files = write_jpegs(fashion, Path(tmp), 256) if args.files else None
        for label, model, fwd, info, crop, batch in models(device, args.quick):
            batch = min(batch, n)
            fwd_rate = forward_only(model, fwd, info, crop, batch, n, device, amp=True)
            rate = pipeline(model, fwd, info, fashion, crop, batch, 0, device)
            print(f"{label:<28}{crop:>6}{rate:>10.1f}{fwd_rate:>10.1f}{rate / fwd_rate:>8.2f}")
            if files is not None:
                rate = pipeline(model, fwd, info, files, crop, batch, args.workers, device)
                name = f"{label} jpeg x{args.workers}w"
                print(f"{name:<28}{crop:>6}{rate:>10.1f}{fwd_rate:>10.1f}{rate / fwd_rate:>8.2f}")
            if device.type == "cuda":
                err = amp_error(model, fwd, info, crop, device)
                print(f"amp relative change {label}: {err:.2e} ({'ok' if err < 1e-2 else 'HIGH'})")
    if device.type != "cuda":
        print("GPU: not measured (no CUDA device)")


def run_size_study(args) -> None:
    """CPU images/s and feature quality of EfficientNet-Lite0 at several sizes."""
    import torch
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from l2h.metrics import acc

    torch.set_num_threads(args.threads)
    train = load_dataset("fashion_mnist", "train")
    test = load_dataset("fashion_mnist", "test")
    tr = train.subset(subset_indices(train.labels, args.n_train, seed=0))
    te = test.subset(subset_indices(test.labels, args.n_test, seed=0))
    model = load_efficientnet_lite0()
    info = BACKBONES["efficientnet_lite0"]
    fwd = _forward(model, info, "features")
    print(f"EfficientNet-Lite0 on CPU ({args.threads} threads), Fashion-MNIST")
    print(f"train {len(tr)} / test {len(te)} stratified images; batch {args.batch}")
    print(f"{'size':>5}{'img/s':>9}{'70k est. (min)':>16}{'logreg acc':>12}{'kmeans ACC':>12}")
    for size in args.sizes:
        kw = dict(forward=fwd, batch_size=args.batch, image_size=size, progress=False)
        extract_with_model(tr.subset(np.arange(args.batch)), model, info, device="cpu", **kw)
        start = time.perf_counter()
        f_tr = extract_with_model(tr, model, info, device="cpu", **kw)
        rate = len(tr) / (time.perf_counter() - start)
        f_te = extract_with_model(te, model, info, device="cpu", **kw)
        scaler = StandardScaler().fit(f_tr)
        clf = LogisticRegression(max_iter=2000).fit(scaler.transform(f_tr), tr.labels)
        lr_acc = clf.score(scaler.transform(f_te), te.labels)
        km = KMeans(10, n_init=10, random_state=0).fit(f_tr)
        km_acc = acc(tr.labels, km.labels_)
        print(f"{size:>5}{rate:>9.1f}{70000 / rate / 60:>16.1f}{lr_acc:>12.3f}{km_acc:>12.3f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny CPU-sized run")
    parser.add_argument("--n", type=int, default=0, help="images (default 4096 GPU, 512 CPU)")
    parser.add_argument("--files", action="store_true", help="also time JPEG files")
    parser.add_argument("--workers", type=int, default=8, help="DataLoader workers for --files")
    parser.add_argument("--size-study", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 112])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.size_study:
        run_size_study(args)
    else:
        run_throughput(args)


if __name__ == "__main__":
    main()
