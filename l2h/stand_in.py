"""Stand-in backbones for rehearsals: small deterministic networks with the real output sizes.

The paper's backbones (CLIP ViT-L/14, DINOv2 ViT-g/14, a supervised timm ImageNet classifier)
need hub weights that cannot reach every machine. A study with ``stand_in_backbones: true``
(``config/rehearsal.yaml``; the config schema rejects it in the study named ``paper``) replaces
every pretrained network by a stand-in with the same output size: the feature dimension of a
backbone (768 for CLIP ViT-L/14, 1536 for DINOv2 ViT-g/14, ...) or 1000 ImageNet logits for a
classifier. The stand-in runs through the same extraction pipeline (file decoding, resize,
crop, normalisation, batching) as the real network, at :data:`IMAGE_SIZE` pixels: it averages
the normalised image over a :data:`POOL` x :data:`POOL` grid and maps the 48 values, through
``tanh``, with a fixed random matrix seeded by the backbone's name. No weights are loaded or
downloaded, and the result is the same on every CPU run.

Everything made from stand-ins says so: the embeddings' sidecar JSON (``stand_in: true``),
``provenance.json`` and the caption of every table and figure carry
:data:`l2h.provenance.STAND_IN_NOTE`. Raw pixels
(backbone ``pixels``) are not a network and are never replaced.
"""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from l2h.backbones import BackboneInfo

__all__ = ["IMAGENET_CLASSES", "IMAGE_SIZE", "POOL", "stand_in_info", "stand_in_model"]
#: Input size of every stand-in (shorter side resized to it, then a center crop).
IMAGE_SIZE = 32
#: Side of the average-pooling grid the stand-in reads.
POOL = 4
#: Number of logits of a stand-in ImageNet classifier.
IMAGENET_CLASSES = 1000


def stand_in_info(name: str, real: BackboneInfo | None = None) -> BackboneInfo:
    """The registry entry of the stand-in for ``name``.

    Parameters
    ----------
    name : str
        A backbone of :data:`l2h.backbones.BACKBONES` (then ``real`` is its entry), or the name of a
        supervised ImageNet classifier (``real`` None): 1000 logits.
    real : BackboneInfo, optional
        The entry of the replaced backbone, whose output sizes are kept.
    """
    from l2h.backbones import IMAGENET_MEAN, IMAGENET_STD, BackboneInfo

    dim = real.dim if real is not None else 0
    logits = real.logits_dim if real is not None else IMAGENET_CLASSES
    sizes = ", ".join(f"{n} {what}" for n, what in ((dim, "features"), (logits, "logits")) if n)
    return BackboneInfo(
        name,
        dim,
        f"STAND-IN for {name} (rehearsal; no weights loaded): {sizes}",
        f"grey replicated to RGB; shorter side resized to {IMAGE_SIZE} (bicubic, antialiased), "
        f"center crop {IMAGE_SIZE}; ImageNet mean/std; {POOL}x{POOL} average pool, tanh, fixed "
        f"random linear map seeded by the name (crc32 {_seed(name)})",
        image_size=IMAGE_SIZE,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        logits_dim=logits,
    )


def _seed(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def stand_in_model(name: str, out_dim: int) -> Any:
    """A torch module mapping ``(B, 3, S, S)`` normalised images to ``(B, out_dim)``.

    The weights are drawn from ``torch.Generator().manual_seed(crc32(name))``: the same name
    gives the same module on every machine.
    """
    import torch

    if out_dim < 1:
        raise ValueError(f"stand-in {name!r}: output size must be >= 1, got {out_dim}")
    n_in = 3 * POOL * POOL
    generator = torch.Generator().manual_seed(_seed(name))
    weight = torch.randn(out_dim, n_in, generator=generator) / math.sqrt(n_in)

    class StandIn(torch.nn.Module):
        """Average pool, tanh, fixed random linear map."""

        def __init__(self) -> None:
            super().__init__()
            self.pool = torch.nn.AdaptiveAvgPool2d(POOL)
            self.register_buffer("weight", weight)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.tanh(self.pool(x).flatten(1)) @ self.weight.T

    return StandIn()
