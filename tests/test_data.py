"""Tests of l2h.datasets: the registry, loaders on real or fixture data, downloads, subsets.

Downloads are tested against a local ``http.server`` (or ``file://`` URLs) serving tiny
fixture files built here; no test touches the network.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import pickle
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

from l2h._download import Resource, fetch
from l2h.datasets import (
    DATASETS,
    DatasetIntegrityError,
    DatasetNotAvailableError,
    ImageDataset,
    check_available,
    cifar,
    digits,
    fashion_mnist,
    food101,
    load_dataset,
    load_labels,
    release_mismatches,
    subset_indices,
)

FASHION_DIR = Path(fashion_mnist.SYSTEM_DIRS[0])
needs_debian_fashion = pytest.mark.skipif(
    not (FASHION_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="Debian dataset-fashion-mnist not installed",
)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _isolated_root(tmp_path, monkeypatch):
    """Never read or write the user's data folder."""
    monkeypatch.setenv("L2H_DATA", str(tmp_path / "default-root"))


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over ``tmp_path/www``; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


# ----------------------------------------------------------------------------- registry


def test_registry_facts_of_the_paper_datasets():
    sizes = {name: info.n_classes for name, info in DATASETS.items()}
    assert sizes["cifar100"] == 100 and sizes["imagenet"] == 1000 and sizes["inat21"] == 10000
    assert DATASETS["imagenet"].needs_root and DATASETS["inat21"].needs_root
    assert not DATASETS["cifar10"].needs_root and not DATASETS["food101"].needs_root
    assert DATASETS["imagenet"].imagenet_labels and not DATASETS["cifar100"].imagenet_labels


def test_whether_a_dataset_has_a_tree_is_decided_by_its_registry_entry():
    from l2h.datasets import load_tree

    without = {"digits", "food101"}  # no class hierarchy
    assert not any(DATASETS[name].has_tree for name in without)
    for name in ("digits", "food101", "cifar10", "cifar100", "fashion_mnist"):
        tree = load_tree(name)
        assert (tree is None) == (name in without)
        if tree is not None:
            assert tree.n_classes == DATASETS[name].n_classes
    with pytest.raises(FileNotFoundError, match="inat21"):
        load_tree("inat21")  # has a tree, read from the dataset's annotations


def test_unknown_dataset_and_split_are_named():
    with pytest.raises(KeyError, match="digits"):
        load_dataset("cifar11")
    with pytest.raises(ValueError, match="'val'"):
        load_dataset("digits", "val")


def test_library_imports_without_torch():
    code = "import sys, l2h.datasets, l2h.embed; assert 'torch' not in sys.modules, 'torch'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_checksums_match_torchvision():
    datasets = pytest.importorskip("torchvision.datasets")
    fashion = {name: md5 for name, md5 in datasets.FashionMNIST.resources}
    assert {f: m for f, m in fashion_mnist.FILES.values()} == fashion
    for name, cls in (("cifar10", datasets.CIFAR10), ("cifar100", datasets.CIFAR100)):
        spec = cifar.RELEASES[name]
        assert spec.archive.md5 == cls.tgz_md5 and spec.archive.urls == (cls.url,)
        assert [list(x) for x in spec.train + spec.test] == cls.train_list + cls.test_list
        assert spec.meta == (cls.meta["filename"], cls.meta["md5"])
    assert food101.ARCHIVE.md5 == datasets.Food101._MD5


# ----------------------------------------------------------------------------- digits


def test_digits_splits_are_a_fixed_stratified_partition():
    full = load_dataset("digits", "all")
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    assert full.images.shape == (1797, 8, 8) and full.images.dtype == np.uint8
    assert full.images.max() == 16 and full.pixel_max == 16
    assert (len(train), len(test)) == (1198, 599)
    mask = digits.test_mask(full.labels)
    assert np.array_equal(test.images, full.images[mask])
    assert np.array_equal(train.labels, full.labels[~mask])
    ratio = np.bincount(test.labels) / np.bincount(full.labels)
    assert np.all(np.abs(ratio - 1 / 3) < 0.02)
    assert np.array_equal(load_dataset("digits", "test").labels, test.labels)
    assert full.taxonomy() is None and full.n_classes == 10


def test_get_image_scales_digits_to_full_range():
    ds = load_dataset("digits", "all")
    img = ds.get_image(0)
    assert img.mode == "L" and img.size == (8, 8)
    pixels = np.asarray(img)
    assert np.array_equal(pixels, (ds.images[0].astype(int) * 255 // 16).astype(np.uint8))


def test_subset_keeps_order_and_checks_range():
    ds = load_dataset("digits", "test")
    sub = ds.subset([5, 2])
    assert np.array_equal(sub.images, ds.images[[5, 2]]) and sub.split == "test"
    with pytest.raises(ValueError, match="indices"):
        ds.subset([len(ds)])


def test_dataset_validates_labels():
    with pytest.raises(ValueError, match="out of range"):
        ImageDataset("x", "train", np.zeros((2, 4, 4), np.uint8), np.array([0, 2]), ("a", "b"))


# ----------------------------------------------------------------------------- Fashion-MNIST


@needs_debian_fashion
def test_fashion_mnist_from_debian():
    test = load_dataset("fashion_mnist", "test")
    assert test.images.shape == (10000, 28, 28) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert test.labels[:5].tolist() == [9, 2, 1, 1, 6]
    assert test.get_image(0).mode == "L"
    assert test.taxonomy().class_names == list(test.class_names)
    assert np.array_equal(load_labels("fashion_mnist", "test"), test.labels)
    assert load_labels("fashion_mnist", "all").shape == (70000,)
    check_available("fashion_mnist", download=False)


def _idx_gz(path: Path, array: np.ndarray, magic: int) -> None:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_fashion(tmp_path, monkeypatch, server):
    """Tiny IDX files served over HTTP in place of Fashion-MNIST's (Debian copy hidden)."""
    www, url = server
    rng = np.random.default_rng(0)
    arrays, files = {}, {}
    for split, n in (("train", 6), ("test", 4)):
        arrays[split] = (rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n))
        for kind, array, magic in (
            ("images", arrays[split][0], 2051),
            ("labels", arrays[split][1], 2049),
        ):
            name = fashion_mnist.FILES[(split, kind)][0]
            _idx_gz(www / name, array, magic)
            files[(split, kind)] = (name, md5(www / name))
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", (str(tmp_path / "no-debian"),))
    monkeypatch.setattr(fashion_mnist, "FILES", files)
    monkeypatch.setattr(fashion_mnist, "_URLS", (url,))
    monkeypatch.setattr(fashion_mnist, "_N", {"train": 6, "test": 4})
    return www, arrays


def test_fashion_mnist_downloads_and_verifies(tiny_fashion, tmp_path):
    _, arrays = tiny_fashion
    root = tmp_path / "data"
    with pytest.raises(DatasetNotAvailableError, match="dataset-fashion-mnist"):
        load_dataset("fashion_mnist", "test", root=root, download=False)
    with pytest.raises(DatasetNotAvailableError, match="dataset-fashion-mnist"):
        check_available("fashion_mnist", root=root, download=False)
    check_available("fashion_mnist", root=root, download=True)
    ds = load_dataset("fashion_mnist", "all", root=root)
    assert np.array_equal(ds.images, np.concatenate([arrays["train"][0], arrays["test"][0]]))
    assert np.array_equal(ds.labels, np.concatenate([arrays["train"][1], arrays["test"][1]]))
    assert sorted(p.name for p in (root / "fashion_mnist").iterdir()) == sorted(
        name for name, _ in fashion_mnist.FILES.values()
    )
    check_available("fashion_mnist", root=root, download=False)


def test_truncated_download_is_named_and_not_kept(tiny_fashion, tmp_path):
    www, _ = tiny_fashion
    name = fashion_mnist.FILES[("train", "images")][0]
    payload = (www / name).read_bytes()
    (www / name).write_bytes(payload[: len(payload) // 2])
    root = tmp_path / "data"
    with pytest.raises(DatasetIntegrityError, match=name) as info:
        load_dataset("fashion_mnist", "train", root=root)
    assert "corrupted or truncated" in str(info.value)
    assert not (root / "fashion_mnist" / name).exists()
    assert not list((root / "fashion_mnist").glob(".*.tmp"))


def test_corrupted_file_on_disk_is_named(tiny_fashion, tmp_path):
    root = tmp_path / "data"
    load_dataset("fashion_mnist", "test", root=root)
    name = fashion_mnist.FILES[("test", "labels")][0]
    path = root / "fashion_mnist" / name
    path.write_bytes(path.read_bytes()[:-3] + b"xyz")
    with pytest.raises(DatasetIntegrityError, match=str(path)):
        load_dataset("fashion_mnist", "test", root=root)


def test_truncated_system_copy_is_named(tmp_path, monkeypatch):
    folder = tmp_path / "debian"
    folder.mkdir()
    _idx_gz(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(10000), 2049)
    payload = (folder / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(payload[:-20])
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", (str(folder),))
    with pytest.raises(DatasetIntegrityError, match="t10k-labels-idx1-ubyte.gz"):
        load_labels("fashion_mnist", "test")


def test_unreachable_mirror_is_an_oserror_listing_the_url(tmp_path):
    res = Resource("x.bin", ("http://127.0.0.1:9/x.bin",), "0" * 32)
    with pytest.raises(OSError, match="127.0.0.1:9/x.bin"):
        fetch(res, tmp_path)
    assert not (tmp_path / "x.bin").exists()


# ----------------------------------------------------------------------------- CIFAR


def _tar(folder: Path, archive: Path, arcname: str) -> None:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=arcname)


@pytest.fixture
def tiny_cifar10(tmp_path, monkeypatch):
    """A CIFAR-10-format archive with 2 images per batch, served from a file:// URL."""
    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(1)
    batches = []
    names = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
    for name in [*names, "test_batch"]:
        batch = {"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), "labels": [1, 7]}
        (src / name).write_bytes(pickle.dumps(batch))
        batches.append((name, md5(src / name)))
    label_names = ["airplane", "automobile", "bird", "cat", "deer"]
    label_names += ["dog", "frog", "horse", "ship", "truck"]
    (src / "batches.meta").write_bytes(pickle.dumps({"label_names": label_names}))
    archive = tmp_path / "cifar-10-python.tar.gz"
    _tar(src, archive, "cifar-10-batches-py")
    spec = cifar.RELEASES["cifar10"]
    fake = cifar.Release(
        spec.folder,
        Resource(archive.name, (archive.as_uri(),), md5(archive)),
        tuple(batches[:5]),
        (batches[5],),
        ("batches.meta", md5(src / "batches.meta")),
        "labels",
        "label_names",
        10,
    )
    monkeypatch.setitem(cifar.RELEASES, "cifar10", fake)
    return src


def test_cifar10_download_layout_and_taxonomy(tiny_cifar10, tmp_path):
    root = tmp_path / "data"
    with pytest.raises(DatasetNotAvailableError, match="cifar10 not found"):
        check_available("cifar10", root=root, download=False)
    train = load_dataset("cifar10", "train", root=root)
    assert train.images.shape == (10, 32, 32, 3) and train.labels.tolist() == [1, 7] * 5
    raw = pickle.loads((tiny_cifar10 / "data_batch_1").read_bytes())["data"][0]
    assert train.images[0, 0, 1].tolist() == [raw[1], raw[1024 + 1], raw[2048 + 1]]
    assert train.get_image(0).mode == "RGB"
    assert len(load_dataset("cifar10", "test", root=root)) == 2
    assert train.taxonomy().class_names == list(train.class_names)
    check_available("cifar10", root=root, download=False)


def test_cifar10_corrupted_batch_is_named(tiny_cifar10, tmp_path):
    root = tmp_path / "data"
    load_dataset("cifar10", "test", root=root)
    batch = root / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(DatasetIntegrityError, match="data_batch_3"):
        load_dataset("cifar10", "train", root=root)


@pytest.mark.parametrize(
    ("file", "content", "named"),
    [
        ("data_batch_2", {"data": np.zeros((2, 100), np.uint8), "labels": [1, 7]}, "3072"),
        ("data_batch_2", {"data": np.zeros((2, 3072), np.uint8)}, "labels"),
        ("data_batch_2", [1, 2, 3], "not a CIFAR pickle"),
        ("batches.meta", {"label_names": ["a", "b"]}, "expected 10"),
    ],
)
def test_an_extracted_cifar_folder_is_checked_for_its_layout(
    tiny_cifar10, tmp_path, file, content, named
):
    root = tmp_path / "data"
    load_dataset("cifar10", "test", root=root)
    (root / "cifar-10-batches-py" / file).write_bytes(pickle.dumps(content))
    with pytest.raises(DatasetIntegrityError, match=named) as info:
        load_dataset("cifar10", "train", root=root)
    assert file in str(info.value)


def test_release_mismatches_names_the_files_that_differ_from_the_release(tiny_cifar10, tmp_path):
    root = tmp_path / "data"
    load_dataset("cifar10", "test", root=root)
    assert release_mismatches("cifar10", root) == []  # the (fake) release's own bytes
    batch = root / "cifar-10-batches-py" / "data_batch_4"
    raw = pickle.loads(batch.read_bytes())
    batch.write_bytes(pickle.dumps(raw, protocol=2))  # same data, other bytes: still loads
    assert len(load_dataset("cifar10", "train", root=root)) == 10
    assert release_mismatches("cifar10", root) == ["data_batch_4"]
    assert release_mismatches("digits") is None


# ----------------------------------------------------------------------------- Food-101


def _save_image(path: Path, seed: int, size=(10, 8), fmt=None) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format=fmt)


def test_food101_from_a_downloaded_archive(tmp_path, monkeypatch):
    src = tmp_path / "src"
    classes = ["apple_pie", "baby_back_ribs"]
    for i, entry in enumerate(["apple_pie/1", "apple_pie/2", "baby_back_ribs/3"]):
        _save_image(src / "images" / f"{entry}.jpg", i)
    (src / "meta").mkdir()
    (src / "meta" / "classes.txt").write_text("\n".join(classes) + "\n")
    (src / "meta" / "train.txt").write_text("apple_pie/1\nbaby_back_ribs/3\n")
    (src / "meta" / "test.txt").write_text("apple_pie/2\n")
    archive = tmp_path / "food-101.tar.gz"
    _tar(src, archive, "food-101")
    monkeypatch.setattr(
        food101, "ARCHIVE", Resource(archive.name, (archive.as_uri(),), md5(archive))
    )
    root = tmp_path / "data"
    train = load_dataset("food101", "train", root=root)
    assert train.labels.tolist() == [0, 1] and train.class_names == tuple(classes)
    img = train.get_image(1)
    assert img.mode == "RGB" and img.size == (10, 8)
    assert load_labels("food101", "test", root=root).tolist() == [0]
    assert train.taxonomy() is None


def test_food101_bad_archive_is_named(tmp_path, monkeypatch):
    archive = tmp_path / "food-101.tar.gz"
    archive.write_bytes(b"not a tar archive")
    monkeypatch.setattr(food101, "ARCHIVE", Resource(archive.name, (archive.as_uri(),), "0" * 32))
    with pytest.raises(DatasetIntegrityError, match="food-101.tar.gz"):
        load_dataset("food101", root=tmp_path / "data")


# ----------------------------------------------------------------------------- ImageNet


def test_imagenet_image_folder(tmp_path):
    root = tmp_path / "imagenet"
    for split in ("train", "val"):
        _save_image(root / split / "n01440764" / "a.JPEG", 0, fmt="JPEG")
        _save_image(root / split / "n02124075" / "b.JPEG", 1, fmt="JPEG")
    _save_image(root / "train" / "n02124075" / "c.JPEG", 2, fmt="JPEG")
    (root / "train" / "n02124075" / "notes.txt").write_text("not an image")
    check_available("imagenet", root=root)
    train = load_dataset("imagenet", "train", root=root)
    assert train.n_classes == 1000 and train.labels.tolist() == [0, 285, 285]
    assert train.images[0].endswith("a.JPEG") and train.get_image(2).mode == "RGB"
    assert train.class_names[0] in ("tench", "n01440764")
    assert load_labels("imagenet", "test", root=root).tolist() == [0, 285]


def test_imagenet_missing_folders_say_what_to_place(tmp_path):
    root = tmp_path / "imagenet"
    with pytest.raises(DatasetNotAvailableError, match=r"root/train/<wnid>/\*\.JPEG") as info:
        check_available("imagenet", root=root)
    assert str(root / "train") in str(info.value)
    (root / "train" / "n01440764").mkdir(parents=True)
    with pytest.raises(DatasetNotAvailableError, match=str(root / "val")):
        load_dataset("imagenet", "test", root=root)
    (root / "val" / "dogs").mkdir(parents=True)
    with pytest.raises(ValueError, match="dogs"):
        load_dataset("imagenet", "test", root=root)


# ----------------------------------------------------------------------------- iNat21


def _inat_json(path: Path, files: list[tuple[int, str, int]]) -> None:
    ranks = dict(kingdom="Animalia", phylum="Chordata", **{"class": "Aves"}, order="O")
    categories = [
        {"id": 0, **ranks, "family": "F1", "genus": "G1", "name": "G1 a"},
        {"id": 1, **ranks, "family": "F1", "genus": "G1", "name": "G1 b"},
        {"id": 2, **ranks, "family": "F2", "genus": "G2", "name": "G2 c"},
    ]
    images = [{"id": i, "file_name": f} for i, f, _ in files]
    annotations = [{"id": i, "image_id": i, "category_id": c} for i, _, c in files]
    path.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": categories})
    )


def test_inat21_layout_labels_and_taxonomy(tmp_path):
    root = tmp_path / "inat"
    train = [(10, "train/00000_G1_a/x.jpg", 0), (11, "train/00002_G2_c/y.jpg", 2)]
    val = [(20, "val/00001_G1_b/z.jpg", 1)]
    for i, (_, name, _) in enumerate(train + val):
        _save_image(root / name, i, fmt="JPEG")
    with pytest.raises(DatasetNotAvailableError, match="train.json") as info:
        check_available("inat21", root=root)
    assert "val.json" in str(info.value) and "inat_comp" in str(info.value)
    _inat_json(root / "train.json", train)
    _inat_json(root / "val.json", val)
    check_available("inat21", root=root)
    ds = load_dataset("inat21", "train", root=root)
    assert ds.labels.tolist() == [0, 2] and ds.class_names == ("G1 a", "G1 b", "G2 c")
    assert ds.get_image(1).size == (10, 8)
    tax = ds.taxonomy()
    assert tax.n_classes == 3 and tax.cut("genus").tolist() == [0, 0, 1]
    assert load_labels("inat21", "test", root=root).tolist() == [1]


# ----------------------------------------------------------------------------- subsets


def test_subset_indices_is_stratified_deterministic_and_sorted():
    labels = np.repeat(np.arange(4), [100, 50, 30, 20])
    idx = subset_indices(labels, 40, seed=3)
    assert idx.size == 40 and np.all(np.diff(idx) > 0) and idx.dtype == np.int64
    assert np.bincount(labels[idx]).tolist() == [20, 10, 6, 4]
    assert np.array_equal(idx, subset_indices(labels, 40, seed=3))
    assert not np.array_equal(idx, subset_indices(labels, 40, seed=4))
    odd = subset_indices(labels, 7, seed=0)
    assert odd.size == 7 and np.all(
        np.abs(np.bincount(labels[odd], minlength=4) - [3.5, 1.75, 1.05, 0.7]) < 1
    )
    assert np.array_equal(subset_indices(labels, 500, seed=0), np.arange(200))


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_subset_indices_rejects_bad_sizes(n):
    with pytest.raises(ValueError, match="positive integer"):
        subset_indices([0, 1, 1], n, seed=0)


def test_check_available_for_downloadable_and_bundled():
    check_available("digits")
    check_available("cifar100", download=True)
    with pytest.raises(KeyError, match="registered"):
        check_available("mnist")


def test_gzip_reader_rejects_wrong_length(tmp_path):
    path = tmp_path / "labels.gz"
    _idx_gz(path, np.zeros(5), 2049)
    with pytest.raises(DatasetIntegrityError, match="labels.gz"):
        fashion_mnist.read_idx(path, 6, "labels")
