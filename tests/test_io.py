"""Tests for the logits and names readers in :mod:`l2h.io`."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from l2h.io import LOGITS_FORMATS, MissingDependencyError, load_logits, load_names


@pytest.fixture
def logits() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(20, 4))


def _is_memmap(array: np.ndarray) -> bool:
    return isinstance(array, np.memmap) or isinstance(array.base, np.memmap)


# --- .npy ---------------------------------------------------------------------------------------


def test_npy_is_memory_mapped_without_copy(tmp_path, logits):
    path = tmp_path / "logits.npy"
    np.save(path, logits)
    result = load_logits(path)
    assert _is_memmap(result)
    assert not result.flags.writeable
    np.testing.assert_array_equal(result, logits)


def test_npy_accepts_str_path(tmp_path, logits):
    path = tmp_path / "logits.npy"
    np.save(path, logits)
    np.testing.assert_array_equal(load_logits(str(path)), logits)


def test_npy_object_array_is_refused(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([1, "a", None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="objects.npy"):
        load_logits(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not an npy file at all", b"\x93NUMPY\x01\x00v\x00{'descr'"],
    ids=["empty", "garbage", "bad-header"],
)
def test_corrupt_npy_raises_value_error_naming_file(tmp_path, content):
    path = tmp_path / "broken.npy"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="broken.npy"):
        load_logits(path)


def test_truncated_npy_raises_value_error_naming_file(tmp_path, logits):
    path = tmp_path / "cut.npy"
    np.save(path, logits)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="cut.npy"):
        load_logits(path)


# --- .npz ---------------------------------------------------------------------------------------


def test_npz_prefers_logits_key(tmp_path, logits):
    path = tmp_path / "bundle.npz"
    np.savez(path, labels=np.arange(20), logits=logits, other=np.zeros(3))
    np.testing.assert_array_equal(load_logits(path), logits)


def test_npz_single_array_under_any_name(tmp_path, logits):
    path = tmp_path / "single.npz"
    np.savez_compressed(path, scores=logits)
    np.testing.assert_array_equal(load_logits(path), logits)


def test_npz_ambiguous_arrays_list_the_keys(tmp_path, logits):
    path = tmp_path / "many.npz"
    np.savez(path, first=logits, second=logits)
    with pytest.raises(ValueError, match="logits") as info:
        load_logits(path)
    assert "'first'" in str(info.value)
    assert "'second'" in str(info.value)
    assert "many.npz" in str(info.value)


def test_npz_without_arrays_is_refused(tmp_path):
    path = tmp_path / "nothing.npz"
    np.savez(path)
    with pytest.raises(ValueError, match="nothing.npz"):
        load_logits(path)


def test_corrupt_npz_raises_value_error_naming_file(tmp_path, logits):
    path = tmp_path / "damaged.npz"
    np.savez(path, logits=logits)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(ValueError, match="damaged.npz"):
        load_logits(path)


# --- other suffixes and missing files -----------------------------------------------------------


@pytest.mark.parametrize("name", ["logits.csv", "logits.txt", "logits"])
def test_unsupported_suffix_names_the_formats(tmp_path, name):
    path = tmp_path / name
    path.write_text("1,2\n3,4\n")
    with pytest.raises(ValueError) as info:
        load_logits(path)
    for suffix in LOGITS_FORMATS:
        assert suffix in str(info.value)


@pytest.mark.parametrize("suffix", LOGITS_FORMATS)
def test_missing_file_names_the_path(tmp_path, suffix):
    path = tmp_path / f"absent{suffix}"
    with pytest.raises(FileNotFoundError, match=f"absent\\{suffix}"):
        load_logits(path)


def test_directory_is_not_a_logits_file(tmp_path):
    path = tmp_path / "folder.npy"
    path.mkdir()
    with pytest.raises(IsADirectoryError, match="folder.npy"):
        load_logits(path)


# --- .pt / .pth ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_pt_without_torch_gives_install_hint(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"logits{suffix}"
    path.write_bytes(b"not read: torch is missing")
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(MissingDependencyError, match="pip install torch") as info:
        load_logits(path)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ImportError)
    assert "reading .pt needs PyTorch" in str(info.value)


def test_pt_round_trip_with_torch(tmp_path, logits):
    torch = pytest.importorskip("torch")
    tensor_path = tmp_path / "tensor.pt"
    dict_path = tmp_path / "dict.pth"
    torch.save(torch.from_numpy(logits), tensor_path)
    torch.save({"logits": torch.from_numpy(logits), "epoch": 3}, dict_path)
    np.testing.assert_array_equal(load_logits(tensor_path), logits)
    np.testing.assert_array_equal(load_logits(dict_path), logits)


def test_pt_with_wrong_content_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "wrong.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="wrong.pt"):
        load_logits(path)


@pytest.mark.parametrize(
    ("content", "why"),
    [("object", "pickled Python object (numpy"), ("garbage", "not a PyTorch tensor file")],
)
def test_bad_pt_never_advises_weights_only_false(tmp_path, content, why):
    torch = pytest.importorskip("torch")
    path = tmp_path / "bad.pt"
    if content == "object":
        torch.save({"logits": np.zeros((3, 2))}, path)  # a pickled numpy array, not a tensor
    else:
        path.write_bytes(b"\x80\x02garbage" * 8)
    with pytest.raises(ValueError) as info:
        load_logits(path)
    message = str(info.value)
    assert "bad.pt" in message and why in message
    assert "weights_only" not in message and "trusted source" not in message
    assert "\n" not in message and "\x1b" not in message


# --- names --------------------------------------------------------------------------------------


def test_load_names_ignores_trailing_blank_lines(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("cat\ndog\r\nbig bird\n\n  \n", encoding="utf-8")
    assert load_names(path) == ["cat", "dog", "big bird"]


def test_load_names_without_final_newline(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("ß\nœuf", encoding="utf-8")
    assert load_names(path) == ["ß", "œuf"]


def test_load_names_blank_line_between_names_is_an_error(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("cat\n\ndog\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        load_names(path)


def test_load_names_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        load_names(tmp_path / "nope.txt")


def test_load_names_binary_file_is_a_value_error(tmp_path):
    path = tmp_path / "names.bin"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="names.bin"):
        load_names(path)
