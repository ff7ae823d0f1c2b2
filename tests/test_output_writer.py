"""The one output writer, :func:`l2h.io.open_output`, and the helpers built on it."""

from __future__ import annotations

import errno
import os
import socket
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest

from l2h.io import atomic_save_npy, atomic_write_text, check_output, open_output


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_is_written_whole_with_no_temporary_left(tmp_path):
    out = tmp_path / "a" / "b" / "out.txt"
    with open_output(out) as fh:
        fh.write("one\n")
        assert not out.exists()  # only the temporary file exists while writing
    assert out.read_text() == "one\n"
    assert [p.name for p in out.parent.iterdir()] == ["out.txt"]


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_get_the_permissions_open_would_give(tmp_path, umask, expected):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "t.json", "{}")
        atomic_save_npy(tmp_path / "a.npy", np.arange(3))
        with open(tmp_path / "plain.txt", "w") as fh:  # the reference
            fh.write("x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "plain.txt") == expected
    assert mode(tmp_path / "t.json") == expected
    assert mode(tmp_path / "a.npy") == expected


def test_a_replaced_file_keeps_its_permission_bits(tmp_path, umask_022):
    out = tmp_path / "shared.csv"
    out.write_text("old")
    out.chmod(0o664)
    atomic_write_text(out, "new")
    assert out.read_text() == "new" and mode(out) == 0o664


def test_an_error_in_the_block_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    out = tmp_path / "keep.txt"
    out.write_text("old")
    with pytest.raises(RuntimeError), open_output(out) as fh:
        fh.write("half")
        raise RuntimeError("writer failed")
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_a_symlink_is_kept_and_its_target_written(tmp_path):
    target = tmp_path / "data" / "real.txt"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(Path("data") / "real.txt")  # relative link
    chain = tmp_path / "chain.txt"
    chain.symlink_to(link)
    atomic_write_text(chain, "new")
    assert chain.is_symlink() and link.is_symlink()
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.txt"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "made.txt")
    atomic_write_text(link, "x")
    assert link.is_symlink() and (tmp_path / "made.txt").read_text() == "x"


def test_a_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so that opening to write does not block
    try:
        atomic_write_text(fifo, "through the pipe\n")
        assert os.read(reader, 100) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_character_device_is_written_in_place_never_replaced(tmp_path):
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except (PermissionError, AttributeError):
        pytest.skip("creating a character device needs root (CAP_MKNOD)")
    atomic_save_npy(null, np.zeros((10, 10)))
    atomic_write_text(null, "discarded")
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_sockets_folders_and_inputs_are_refused(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="s", dir="/tmp"))  # AF_UNIX paths must be short
    sock_path = folder / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(os.fspath(sock_path))
        with pytest.raises(ValueError, match=r"s\.sock: it is a socket"):
            atomic_write_text(sock_path, "x")
        assert stat.S_ISSOCK(sock_path.lstat().st_mode)
    sock_path.unlink()
    folder.rmdir()
    with pytest.raises(IsADirectoryError) as info:
        atomic_write_text(tmp_path, "x")
    assert info.value.filename == os.fspath(tmp_path)
    source = tmp_path / "in.npy"
    np.save(source, np.arange(4))
    alias = tmp_path / "alias.npy"
    alias.symlink_to(source)
    with pytest.raises(ValueError, match="is also an input"):
        atomic_save_npy(alias, np.zeros(2), inputs=[source])
    with pytest.raises(ValueError, match="is also an input"):
        check_output(source, inputs=[tmp_path / "missing.npy", alias])
    np.testing.assert_array_equal(np.load(source), np.arange(4))


@pytest.mark.parametrize("length", [250, 255])
def test_long_names_work(tmp_path, length):
    out = tmp_path / ("n" * (length - 4) + ".txt")
    atomic_write_text(out, "long")
    assert out.read_text() == "long"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_errors_name_the_users_path_not_the_temporary(tmp_path, monkeypatch):
    out = tmp_path / "out.txt"

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), src)

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError) as info:
        atomic_write_text(out, "x")
    assert info.value.filename == os.fspath(out)
    assert info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def test_data_and_folder_are_fsynced_before_the_rename_returns(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.fspath(dst)))
        real_replace(src, dst)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs Linux /proc")
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    out = tmp_path / "out.txt"
    atomic_write_text(out, "durable")
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync", "replace", "fsync"]
    assert events[0][1].endswith(".tmp")  # the data, before the rename
    assert events[2][1] == os.fspath(tmp_path)  # the folder, after it


def test_mode_must_be_text_or_binary_write(tmp_path):
    with pytest.raises(ValueError, match="mode"), open_output(tmp_path / "x", "a"):
        pass
