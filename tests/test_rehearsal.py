"""The rehearsal of the paper's study (``make rehearsal``): its stand-in data, its stand-in
backbones and its config, which must stay the paper's study with only the documented changes.

The rehearsal itself runs in ``make rehearsal`` (CI), not here: these tests check its parts
in seconds.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from l2h import rehearsal
from l2h.config import ConfigError, check_study
from l2h.datasets import DATASETS, check_available, load_dataset, release_mismatches
from l2h.datasets.cifar import cifar100_tree
from l2h.datasets.imagenet import wnids
from l2h.provenance import STAND_IN_NOTE

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "config.yaml"
REHEARSAL = ROOT / "config" / "rehearsal.yaml"
SCHEMA = ROOT / "config" / "schema.yaml"
# Rules whose job count does not depend on seeds or K: the same in the rehearsal.
SAME_COUNT = (
    "download",
    "class_names",
    "prepare_split",
    "embed",
    "classifier_logits",
    "plot_levels",
    "tables",
    "collect_metrics",
    "provenance",
)


@pytest.fixture(scope="module")
def stand_in_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("rehearsal-data")
    rehearsal.build(out)
    return out


def root_of(name: str, out: Path) -> Path:
    return out / name if DATASETS[name].needs_root else out


# ----------------------------------------------------------------------------- stand-in data


@pytest.mark.parametrize("name", list(rehearsal.BUILDERS))
def test_stand_in_data_load_through_the_public_loaders(stand_in_data, name):
    root = root_of(name, stand_in_data)
    check_available(name, root, download=False)
    train, test = (
        load_dataset(name, split, root=root, download=False) for split in ("train", "test")
    )
    assert train.class_names == test.class_names
    n_classes = len(train.class_names)
    if name != "inat21":  # the real iNat21 has 10,000 species; the stand-in fewer (see below)
        assert n_classes == DATASETS[name].n_classes
    per_train, per_test = rehearsal.PER_CLASS[name]
    for ds, per_class in ((train, per_train), (test, per_test)):
        assert np.bincount(ds.labels, minlength=n_classes).tolist() == [per_class] * n_classes
        image = np.asarray(ds.get_image(len(ds) - 1))
        assert image.dtype == np.uint8 and 8 <= min(image.shape[:2]) <= 32


def test_stand_in_data_use_the_real_class_names(stand_in_data):
    out = stand_in_data
    cifar10 = load_dataset("cifar10", "test", root=out, download=False)
    assert cifar10.class_names[:3] == ("airplane", "automobile", "bird")
    assert cifar10.taxonomy().class_names == list(cifar10.class_names)
    # the coarse labels in the pickles give back the packaged superclass table
    from_pickles = cifar100_tree(out / "cifar-100-python")
    packaged = cifar100_tree()
    assert from_pickles.class_names == packaged.class_names
    assert from_pickles.cut("superclass").tolist() == packaged.cut("superclass").tolist()
    food = load_dataset("food101", "train", root=out, download=False)
    assert food.class_names[0] == "apple_pie" and len(set(food.class_names)) == 101
    assert (out / "food-101" / "meta" / "test.txt").read_text().startswith("apple_pie/")
    imagenet = load_dataset("imagenet", "test", root=out / "imagenet", download=False)
    folders = sorted(p.name for p in (out / "imagenet" / "val").iterdir())
    assert folders == sorted(wnids()) and imagenet.class_names[0] == "tench"


def test_stand_in_inat21_has_the_official_fields_and_the_family_level_of_the_study(
    stand_in_data,
):
    root = stand_in_data / "inat21"
    document = json.loads((root / "val.json").read_text())
    assert set(document) == {"info", "images", "categories", "annotations", "licenses"}
    category = document["categories"][0]
    ranks = ("kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet")
    assert set(ranks) <= set(category) and "image_dir_name" in category
    assert document["images"][0]["file_name"].startswith("val/" + category["image_dir_name"])
    tree = load_dataset("inat21", "test", root=root, download=False).taxonomy()
    k = yaml.safe_load(PAPER.read_text())["datasets"]["inat21"]["n_clusters"][0]
    assert tree.n_groups("family") == k == 1103
    assert [tree.n_groups(r) for r in ("kingdom", "phylum", "class", "order")] == [3, 13, 51, 273]


def test_stand_in_data_are_the_same_bytes_every_time(stand_in_data, tmp_path):
    again = rehearsal.build(tmp_path)
    for folder in again.values():
        files = sorted(p.relative_to(tmp_path) for p in folder.rglob("*") if p.is_file())
        before = sorted(
            p.relative_to(stand_in_data) for p in (stand_in_data / folder.name).rglob("*")
        )
        assert files and files == [p for p in before if (stand_in_data / p).is_file()]
        for path in files:
            assert (tmp_path / path).read_bytes() == (stand_in_data / path).read_bytes(), path


def test_release_check_tells_stand_in_cifar_from_the_release(stand_in_data):
    # loading never requires the release's bytes (the layout is checked); the download job
    # records which files differ
    assert "data_batch_1" in release_mismatches("cifar10", stand_in_data)
    assert release_mismatches("food101", stand_in_data) is None


# ----------------------------------------------------------------------------- stand-in backbones


@pytest.mark.parametrize(
    ("backbone", "output", "dim"),
    [
        ("clip_vitl14", "features", 768),
        ("dinov2_vitg14", "features", 1536),
        ("convnext_large.fb_in22k_ft_in1k", "logits", 1000),
    ],
)
def test_stand_in_backbones_keep_the_output_size_and_load_no_weights(
    stand_in_data, monkeypatch, backbone, output, dim
):
    from l2h import _weights, embed

    def no_hub(*args, **kwargs):
        raise AssertionError("a stand-in must not load weights")

    for name in _weights.__all__:  # every network loader, the timm classifiers' too
        monkeypatch.setattr(_weights, name, no_hub)
    ds = load_dataset("food101", "test", root=stand_in_data, download=False)
    kw = dict(indices=range(6), output=output, device="cpu", progress=False, stand_in=True)
    first = embed.extract(ds, backbone, **kw)
    assert first.shape == (6, dim) and first.dtype == np.float32 and np.isfinite(first).all()
    np.testing.assert_array_equal(first, embed.extract(ds, backbone, **kw))
    assert not np.allclose(first[0], first[-1])  # different classes, different outputs


def test_stand_in_embeddings_say_so_in_their_metadata(stand_in_data, tmp_path):
    from l2h.embed import extract_to_file

    path = tmp_path / "x.npy"
    kw = dict(root=stand_in_data, indices=[0, 1], device="cpu", progress=False)
    extract_to_file("cifar10", "test", "clip_vitl14", path, stand_in=True, **kw)
    meta = json.loads(Path(f"{path}.json").read_text())
    assert meta["stand_in"] is True and meta["note"] == STAND_IN_NOTE
    assert meta["source"].startswith("STAND-IN for clip_vitl14") and meta["dim"] == 768
    extract_to_file("cifar10", "test", "pixels", path, stand_in=True, **kw)
    assert json.loads(Path(f"{path}.json").read_text())["stand_in"] is False


def test_raw_pixels_of_image_files_are_resized_to_a_fixed_square(stand_in_data):
    from PIL import Image

    from l2h.embed import FILE_PIXELS_SIZE, extract

    ds = load_dataset("food101", "train", root=stand_in_data, download=False)
    pixels = extract(ds, "pixels", indices=[0, 5], progress=False)
    size = FILE_PIXELS_SIZE
    assert pixels.shape == (2, size * size * 3) and 0 <= pixels.min() < pixels.max() <= 1
    with Image.open(ds.images[5]) as img:
        w, h = img.size  # 16 x 12: shorter side to 32, then the central 32 x 32
        wide = img.convert("RGB").resize((round(w * size / h), size), Image.Resampling.BICUBIC)
    left = (wide.size[0] - size) // 2
    expected = np.asarray(wide.crop((left, 0, left + size, size)), np.float32) / 255
    np.testing.assert_allclose(pixels[1], expected.reshape(-1))


# ----------------------------------------------------------------------------- configs


def leaves(tree, prefix=()):
    """Every leaf of a nested dict as (path, value)."""
    if isinstance(tree, dict) and tree:
        for key, value in tree.items():
            yield from leaves(value, (*prefix, key))
    else:
        yield prefix, tree


ALLOWED = (
    r"study",
    r"stand_in_backbones",
    r"data_root",
    r"datasets\.(imagenet|inat21)\.root",
    r"seeds",
    r"datasets\.cifar100\.k_sweep\.values",
    # training settings (a model or baseline left at {} in config.yaml may get some)
    r"models\.(turtle|temi|kmeans)(\..+)?",
    r"baselines\.\w+(\.params(\..+)?)?",
)


def test_the_rehearsal_is_the_paper_study_with_only_the_documented_changes():
    paper, rehearsal_config = (yaml.safe_load(p.read_text()) for p in (PAPER, REHEARSAL))
    a = {".".join(p): v for p, v in leaves(paper)}
    b = {".".join(p): v for p, v in leaves(rehearsal_config)}
    changed = {key for key in a.keys() | b.keys() if a.get(key, "absent") != b.get(key, "absent")}
    unexplained = sorted(k for k in changed if not any(re.fullmatch(r, k) for r in ALLOWED))
    assert not unexplained, f"rehearsal.yaml differs from config.yaml in {unexplained}"
    # what may not drift: every dataset, backbone, model, baseline, aggregation, supervised
    for key in ("datasets", "models", "baselines"):
        assert list(rehearsal_config[key]) == list(paper[key])
    assert rehearsal_config["study"] == "rehearsal" and rehearsal_config["stand_in_backbones"]
    assert rehearsal_config["seeds"] == [0]
    sweep = rehearsal_config["datasets"]["cifar100"]["k_sweep"]["values"]
    assert len(sweep) == 2 and set(sweep) <= set(paper["datasets"]["cifar100"]["k_sweep"]["values"])
    data = [rehearsal_config["data_root"]]
    data += [rehearsal_config["datasets"][n]["root"] for n in ("imagenet", "inat21")]
    assert all(path.startswith("build/rehearsal-data") for path in data)  # ignored by git
    assert "/build/" in (ROOT / ".gitignore").read_text().split()


def validate(config: dict) -> dict:
    check_study(config, SCHEMA)
    return config


def test_stand_in_backbones_are_off_unless_asked_and_never_in_the_paper_study():
    paper = yaml.safe_load(PAPER.read_text())
    assert "stand_in_backbones" not in paper
    assert validate(dict(paper))["stand_in_backbones"] is False  # the default
    schema = yaml.safe_load(SCHEMA.read_text())
    assert schema["properties"]["stand_in_backbones"]["default"] is False
    with pytest.raises(ConfigError, match="stand_in_backbones = True: False was expected"):
        validate({**paper, "stand_in_backbones": True})
    validate({**paper, "study": "rehearsal", "stand_in_backbones": True})
    validate(yaml.safe_load(REHEARSAL.read_text()))


def dry_run(config: Path, tmp_path: Path) -> str:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", ROOT / "Snakefile", "--dry-run"]
    cmd += ["--directory", tmp_path, "--configfile", config, "--cores", "2"]
    result = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def job_counts(stdout: str) -> dict[str, int]:
    table = stdout.split("Job stats:", 1)[1]
    return {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.MULTILINE)}


def test_the_rehearsal_plans_every_rule_of_the_paper_study(tmp_path):
    paper = job_counts(dry_run(PAPER, tmp_path))
    rehearsal_counts = job_counts(dry_run(REHEARSAL, tmp_path))
    assert rehearsal_counts.keys() == paper.keys()
    assert {r: rehearsal_counts[r] for r in SAME_COUNT} == {r: paper[r] for r in SAME_COUNT}
    # the README and docs/workflow.md state the paper study's size as planned
    for doc, pattern, total in (
        ("README.md", r"plan all ([\d,]+) jobs", paper["total"]),
        ("docs/workflow.md", r"paper DAG \(([\d,]+)\s+jobs\)", paper["total"]),
        ("README.md", r"all ([\d,]+) jobs of the rehearsal", rehearsal_counts["total"]),
    ):
        stated = re.search(pattern, (ROOT / doc).read_text())
        assert stated and int(stated.group(1).replace(",", "")) == total, (doc, pattern)
