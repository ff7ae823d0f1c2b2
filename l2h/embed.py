"""Image embeddings: batched extraction through a registered backbone to ``.npy`` files.

Backbones are registered in :mod:`l2h.backbones` (``pixels``, ``efficientnet_lite0``,
``clip_vitl14``, ``dinov2_vitg14``); a supervised ImageNet classifier can be any timm name.
``stand_in=True`` replaces every network (not ``pixels``) by a small deterministic stand-in
of the same output size, for rehearsals (:mod:`l2h.stand_in`).

Images are resized and normalised on the device in batches (in-memory datasets) or decoded,
resized and cropped by DataLoader workers (image files); the model runs under
``torch.inference_mode``, with bf16 autocast on CUDA only, so CPU results are deterministic.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from l2h.backbones import BACKBONES, FILE_PIXELS_SIZE, BackboneInfo, backbone_info
from l2h.datasets import ImageDataset, load_dataset, subset_indices
from l2h.io import atomic_save_npy, atomic_write_text

if TYPE_CHECKING:
    pass

__all__ = [
    "OUTPUTS",
    "extract",
    "extract_to_file",
    "extract_with_model",
    "save_embeddings",
]

OUTPUTS = ("features", "logits")

#: Batches kept on the device before their outputs are copied back.
_SYNC_EVERY = 16


def _forward(model: Any, info: BackboneInfo, output: str) -> Callable[[Any], Any]:
    """The function mapping a normalised batch to features or logits."""
    if output == "logits" or info.features is None:
        return model
    return info.features(model)


# ----------------------------------------------------------------------------- data pipeline


class _ArrayBatches:
    """Whole batches of an in-memory uint8 image array as ``(B, C, H, W)`` uint8 tensors."""

    def __init__(self, images: np.ndarray, batch_size: int) -> None:
        self.images, self.batch_size = images, batch_size

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def __getitem__(self, b: int) -> Any:
        import torch

        chunk = self.images[b * self.batch_size : (b + 1) * self.batch_size]
        x = torch.from_numpy(np.ascontiguousarray(chunk))
        return x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)


class _FileImages:
    """Image files decoded, resized (shorter side) and center-cropped to ``(3, S, S)`` uint8."""

    def __init__(self, dataset: ImageDataset, resize: int, crop: int) -> None:
        self.dataset, self.resize, self.crop = dataset, resize, crop

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> Any:
        import torch
        from PIL import Image

        img = self.dataset.get_image(i)
        w, h = img.size
        scale = self.resize / min(w, h)
        new = (max(self.crop, round(w * scale)), max(self.crop, round(h * scale)))
        img = img.resize(new, Image.Resampling.BICUBIC)
        left, top = (new[0] - self.crop) // 2, (new[1] - self.crop) // 2
        img = img.crop((left, top, left + self.crop, top + self.crop))
        return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)


def _normalise(x: Any, info: BackboneInfo, crop: int, resize: int) -> Any:
    """uint8 ``(B, C, H, W)`` -> float ``(B, 3, crop, crop)`` resized, cropped, normalised."""
    import torch
    import torch.nn.functional as F

    x = x.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    h, w = x.shape[-2:]
    if (h, w) != (crop, crop):
        scale = resize / min(h, w)
        size = (max(crop, round(h * scale)), max(crop, round(w * scale)))
        if size != (h, w):
            x = F.interpolate(x, size=size, mode="bicubic", antialias=True, align_corners=False)
            x = x.clamp(0.0, 255.0)
        top, left = (size[0] - crop) // 2, (size[1] - crop) // 2
        x = x[..., top : top + crop, left : left + crop]
    mean = torch.tensor(info.mean, device=x.device).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(info.std, device=x.device).view(1, 3, 1, 1) * 255.0
    return ((x - mean) / std).contiguous()


@contextlib.contextmanager
def _flush_denormals(enabled: bool) -> Iterator[None]:
    """Flush denormal floats to zero on the CPU for the block (torch's default is off after).

    Real images (flat black backgrounds) drive EfficientNet activations into denormals, which
    made CPU extraction 3-5 times slower in our measurements; flushing changes values by less
    than 1e-37.
    """
    import torch

    if not enabled:
        yield
        return
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def _device(device: str) -> Any:
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


def _loader(dataset: ImageDataset, batch_size: int, num_workers: int, pin: bool, sizes) -> Any:
    from torch.utils.data import DataLoader

    if dataset.in_memory:
        return DataLoader(
            _ArrayBatches(dataset.images, batch_size),
            batch_size=None,
            num_workers=num_workers,
            pin_memory=pin,
        )
    return DataLoader(
        _FileImages(dataset, *sizes),
        batch_size=batch_size,
        num_workers=num_workers,
        pin_memory=pin,
    )


# ----------------------------------------------------------------------------- extraction


def _check_args(backbone: str, output: str, batch_size: int, num_workers: int, image_size) -> None:
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    if backbone not in BACKBONES and output != "logits":
        backbone_info(backbone)  # raises the KeyError listing the names
    if backbone in BACKBONES and output == "logits" and not BACKBONES[backbone].logits_dim:
        raise ValueError(f"backbone {backbone!r} has no classifier; output='logits' needs one")
    for name, value, low in (("batch_size", batch_size, 1), ("num_workers", num_workers, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if image_size is not None and (not isinstance(image_size, int) or image_size < 8):
        raise ValueError(f"image_size must be an integer >= 8, got {image_size!r}")
    if backbone == "pixels" and image_size is not None:
        raise ValueError(
            "backbone 'pixels' has a fixed size (the images as stored, image files "
            f"{FILE_PIXELS_SIZE} px); image_size must be None"
        )


def _pixels(dataset: ImageDataset, batch_size: int, num_workers: int) -> np.ndarray:
    """``(N, P)`` float32 pixels in [0, 1] (see ``BACKBONES["pixels"].preprocessing``)."""
    if dataset.in_memory:
        return dataset.pixels()
    from torch.utils.data import DataLoader

    size = FILE_PIXELS_SIZE
    images = _FileImages(dataset, size, size)
    out = np.empty((len(dataset), size * size * 3), dtype=np.float32)
    done = 0
    for batch in DataLoader(images, batch_size=batch_size, num_workers=num_workers):
        flat = batch.permute(0, 2, 3, 1).reshape(len(batch), -1).numpy()  # (H, W, C) order
        out[done : done + len(flat)] = flat / np.float32(255)
        done += len(flat)
    return out


def extract(
    dataset: ImageDataset,
    backbone: str,
    *,
    indices: Any = None,
    batch_size: int = 256,
    device: str = "auto",
    num_workers: int = 0,
    image_size: int | None = None,
    output: str = "features",
    progress: bool = True,
    stand_in: bool = False,
) -> np.ndarray:
    """Embed every image of ``dataset`` (or the points ``indices``) with ``backbone``.

    Parameters
    ----------
    dataset : ImageDataset
        From :func:`l2h.datasets.load_dataset`.
    backbone : str
        A name in :data:`BACKBONES`; with ``output="logits"`` also any timm ImageNet
        classifier name (weights downloaded).
    indices : array_like of int, optional
        Points to embed, in this order (e.g. :func:`l2h.datasets.subset_indices`).
    batch_size : int, default 256
    device : {"auto", "cpu", "cuda"}, default "auto"
        ``auto`` picks CUDA when available.
    num_workers : int, default 0
        DataLoader worker processes (decoding and resizing image files).
    image_size : int, optional
        Crop size fed to the model; default the backbone's (``BackboneInfo.image_size``).
    output : {"features", "logits"}, default "features"
        Pooled features, or the classifier's ImageNet logits.
    progress : bool, default True
        Show a tqdm progress bar on stderr.
    stand_in : bool, default False
        Run :func:`l2h.stand_in.stand_in_model` instead of the backbone's network (rehearsals:
        no weights, same output size, meaningless numbers). No effect on ``pixels``.

    Returns
    -------
    numpy.ndarray
        ``(N, d)`` float32.

    Raises
    ------
    KeyError
        Unknown backbone.
    ValueError
        Invalid option.
    WeightsNotAvailableError
        Weights that must be downloaded could not be fetched.
    """
    _check_args(backbone, output, batch_size, num_workers, image_size)
    if indices is not None:
        dataset = dataset.subset(indices)
    if backbone == "pixels":
        return _pixels(dataset, batch_size, num_workers)
    return _extract_torch(
        dataset, backbone, batch_size, device, num_workers, image_size, output, progress, stand_in
    )


def _model_and_info(backbone: str, output: str, stand_in: bool) -> tuple[Any, BackboneInfo, Any]:
    """The network, its registry entry and the function mapping a batch to ``output``."""
    if stand_in:
        from l2h.stand_in import stand_in_info, stand_in_model

        info = stand_in_info(backbone, BACKBONES.get(backbone))
        model = stand_in_model(backbone, info.logits_dim if output == "logits" else info.dim)
        return model, info, model
    info = BACKBONES.get(backbone)
    if info is not None and info.loader is not None:
        model = info.load()
    else:
        from l2h._weights import timm_classifier

        model, info = timm_classifier(backbone)
    return model, info, _forward(model, info, output)


def _extract_torch(
    dataset, backbone, batch_size, device, num_workers, image_size, output, progress, stand_in
):
    dev = _device(device)
    model, info, forward = _model_and_info(backbone, output, stand_in)
    return extract_with_model(
        dataset,
        model,
        info,
        forward=forward,
        batch_size=batch_size,
        device=dev,
        num_workers=num_workers,
        image_size=image_size,
        out_dim=info.logits_dim if output == "logits" else info.dim,
        progress=progress,
    )


def extract_with_model(
    dataset: ImageDataset,
    model: Any,
    info: BackboneInfo,
    *,
    forward: Callable[[Any], Any] | None = None,
    batch_size: int = 256,
    device: Any = "auto",
    num_workers: int = 0,
    image_size: int | None = None,
    out_dim: int = 0,
    progress: bool = True,
) -> np.ndarray:
    """Run an already built torch ``model`` over ``dataset`` with ``info``'s preprocessing.

    The pipeline of :func:`extract` (batched DataLoader, on-device resize and normalisation,
    bf16 autocast on CUDA only), for any model: used by the benchmarks with random-weight
    models. ``forward`` defaults to ``model`` itself; ``out_dim`` only shapes an empty result.
    """
    import torch
    from tqdm.auto import tqdm

    dev = device if isinstance(device, torch.device) else _device(device)
    model = model.eval().to(dev)
    forward = model if forward is None else forward
    crop = image_size or info.image_size
    resize = round(crop * info.resize)
    cuda = dev.type == "cuda"
    loader = _loader(dataset, batch_size, num_workers, cuda, (resize, crop))
    chunks: list[np.ndarray] = []
    pending: list[Any] = []
    with (
        _flush_denormals(not cuda),
        torch.inference_mode(),
        tqdm(total=len(dataset), desc=f"{info.name} {dataset.name}", disable=not progress) as bar,
    ):
        for batch in loader:
            x = _normalise(batch.to(dev, non_blocking=True), info, crop, resize)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
                pending.append(forward(x).float())
            if len(pending) >= _SYNC_EVERY:  # copy back in groups: the GPU keeps running
                chunks += [t.cpu().numpy() for t in pending]
                pending.clear()
            bar.update(len(batch))
    chunks += [t.cpu().numpy() for t in pending]
    if not chunks:
        return np.zeros((0, out_dim), np.float32)
    return np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)


# ----------------------------------------------------------------------------- files


def save_embeddings(path: str | os.PathLike, array: np.ndarray, metadata: dict[str, Any]) -> None:
    """Write ``array`` to ``path`` (.npy) and ``metadata`` to ``f"{path}.json"``, atomically.

    The sidecar is written first and the ``.npy`` last, each through a temporary file and a
    rename, so a killed run never leaves a ``.npy`` that looks complete.
    """
    array = np.asarray(array)
    if array.ndim != 2 or array.dtype != np.float32:
        raise ValueError(f"embeddings must be a 2-D float32 array, got {array.dtype} {array.shape}")
    meta = {**metadata, "n": int(array.shape[0]), "dim": int(array.shape[1])}
    atomic_write_text(f"{os.fspath(path)}.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
    atomic_save_npy(path, array)


def extract_to_file(
    dataset_name: str,
    split: str,
    backbone: str,
    path: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    indices: Any = None,
    subset: int | None = None,
    seed: int = 0,
    download: bool = True,
    stand_in: bool = False,
    **kw: Any,
) -> None:
    """Load a dataset split, :func:`extract` it and :func:`save_embeddings` with metadata.

    Parameters
    ----------
    dataset_name, split : str
        As in :func:`l2h.datasets.load_dataset`.
    backbone : str
        As in :func:`extract`.
    path : path-like
        Output ``.npy``; the metadata goes to ``f"{path}.json"``.
    root : path-like, optional
        Data folder.
    indices : array_like of int, optional
        Points to embed (exclusive with ``subset``).
    subset : int, optional
        Embed :func:`l2h.datasets.subset_indices` ``(labels, subset, seed)`` instead of all points.
    seed : int, default 0
        Seed of ``subset``.
    download : bool, default True
        Whether missing downloadable data is fetched.
    stand_in : bool, default False
        As in :func:`extract`; recorded in the metadata (``stand_in``, and ``note`` saying the
        numbers mean nothing) whenever a network was replaced.
    **kw
        Passed to :func:`extract` (batch_size, device, image_size, output, ...).

    Notes
    -----
    Metadata: dataset, split, backbone, output, source, preprocessing, image_size, n, dim,
    subset, seed, indices (when a subset was taken), stand_in (and note), l2h version.
    """
    import l2h

    if indices is not None and subset is not None:
        raise ValueError("pass indices or subset, not both")
    dataset = load_dataset(dataset_name, split, root=root, download=download)
    if subset is not None:
        indices = subset_indices(dataset.labels, subset, seed=seed)
    features = extract(dataset, backbone, indices=indices, stand_in=stand_in, **kw)
    replaced = stand_in and backbone != "pixels"
    info = BACKBONES.get(backbone)
    if replaced:
        from l2h.provenance import STAND_IN_NOTE
        from l2h.stand_in import stand_in_info

        info = stand_in_info(backbone, info)
    image_size = kw.get("image_size") or (info.image_size if info else None)
    meta = {
        "dataset": dataset_name,
        "split": split,
        "backbone": backbone,
        "output": kw.get("output", "features"),
        "source": info.source if info else f"timm {backbone} (pretrained)",
        "preprocessing": info.preprocessing if info else "timm pretrained_cfg of the model",
        "image_size": image_size or None,
        "subset": subset,
        "seed": seed if subset is not None else None,
        "indices": None if indices is None else np.asarray(indices).astype(int).tolist(),
        "stand_in": replaced,
        "l2h_version": l2h.__version__,
    }
    if replaced:
        meta["note"] = STAND_IN_NOTE
    save_embeddings(Path(path), features, meta)
