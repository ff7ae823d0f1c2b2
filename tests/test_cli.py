"""Tests for the ``l2h`` command line (in-process through ``main`` and as a real process)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import l2h
from l2h import cli

K = 5


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``l2h argv...`` in-process; return (exit status, stdout, stderr)."""
    status = cli.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, err: str) -> str:
    """Check the error contract: status 2, one ``l2h: error:`` line, no traceback."""
    assert status == 2
    assert err.startswith("l2h: error: ")
    assert err.endswith("\n")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    return err[len("l2h: error: ") : -1]


@pytest.fixture
def logits() -> np.ndarray:
    return np.random.default_rng(42).normal(scale=2.0, size=(60, K))


@pytest.fixture
def logits_file(tmp_path, logits) -> Path:
    path = tmp_path / "logits.npy"
    np.save(path, logits)
    return path


@pytest.fixture
def tree_file(tmp_path, logits_file, capsys) -> Path:
    path = tmp_path / "tree.json"
    status, _, _ = run(capsys, "fit", logits_file, "-o", path)
    assert status == 0
    return path


def console_script() -> str:
    """Path of the installed ``l2h`` console script."""
    beside_python = Path(sys.executable).parent / "l2h"
    found = str(beside_python) if beside_python.exists() else shutil.which("l2h")
    if found is None:
        pytest.skip("the l2h console script is not installed (pip install -e .)")
    return found


# --- happy path ---------------------------------------------------------------------------------


def test_fit_writes_the_same_tree_as_the_api(tmp_path, logits, logits_file, capsys):
    out = tmp_path / "sub" / "tree.json"
    status, stdout, stderr = run(capsys, "fit", logits_file, "-o", out)
    assert (status, stdout, stderr) == (0, "", "")
    tree = l2h.Hierarchy.load(out)
    assert tree.n_clusters == K
    assert tree.steps == l2h.fit(logits).steps
    assert sorted(p.name for p in out.parent.iterdir()) == ["tree.json"]  # no temporary left


@pytest.mark.parametrize("aggregation", l2h.AGGREGATIONS)
def test_fit_passes_the_aggregation(tmp_path, logits, logits_file, capsys, aggregation):
    out = tmp_path / "tree.json"
    status, _, _ = run(capsys, "fit", logits_file, "-o", out, "--aggregation", aggregation)
    assert status == 0
    assert l2h.Hierarchy.load(out).steps == l2h.fit(logits, aggregation=aggregation).steps


def test_fit_reads_npz(tmp_path, logits, capsys):
    path = tmp_path / "bundle.npz"
    np.savez(path, logits=logits, labels=np.arange(len(logits)))
    out = tmp_path / "tree.json"
    assert run(capsys, "fit", path, "-o", out)[0] == 0
    assert l2h.Hierarchy.load(out).steps == l2h.fit(logits).steps


@pytest.mark.parametrize("n_groups", [1, 2, 3, K])
def test_cut_prints_one_group_per_cluster(tree_file, capsys, n_groups):
    status, stdout, stderr = run(capsys, "cut", tree_file, "--groups", n_groups)
    assert (status, stderr) == (0, "")
    lines = stdout.splitlines()
    assert stdout.endswith("\n")
    assert len(lines) == K
    groups = [int(line) for line in lines]
    assert groups == l2h.Hierarchy.load(tree_file).cut(n_groups).tolist()
    assert len(set(groups)) == n_groups


def test_newick_prints_the_tree(tree_file, capsys):
    status, stdout, stderr = run(capsys, "newick", tree_file)
    assert (status, stderr) == (0, "")
    assert stdout == l2h.Hierarchy.load(tree_file).to_newick() + "\n"
    for cluster in range(K):
        assert str(cluster) in stdout


def test_newick_with_names(tmp_path, tree_file, capsys):
    names = [f"class_{i}" for i in range(K)]
    names_file = tmp_path / "names.txt"
    names_file.write_text("\n".join(names) + "\n\n", encoding="utf-8")
    status, stdout, stderr = run(capsys, "newick", tree_file, "--names", names_file)
    assert (status, stderr) == (0, "")
    assert stdout == l2h.Hierarchy.load(tree_file).to_newick(names) + "\n"
    for name in names:
        assert name in stdout


def test_version(capsys):
    status, stdout, _ = run(capsys, "--version")
    assert status == 0
    assert l2h.__version__ in stdout


# --- progress and timing on large inputs --------------------------------------------------------


@pytest.fixture
def recorded_fit(monkeypatch):
    """Wrap ``l2h.fit`` to record the keyword arguments the CLI passes."""
    calls: list[dict] = []
    real_fit = l2h.fit

    def fit(logits, **kwargs):
        calls.append(kwargs)
        return real_fit(logits, **kwargs)

    monkeypatch.setattr(l2h, "fit", fit)
    return calls


def test_small_input_runs_without_progress(tmp_path, logits_file, capsys, recorded_fit):
    status, _, stderr = run(capsys, "fit", logits_file, "-o", tmp_path / "t.json")
    assert status == 0
    assert recorded_fit == [{"aggregation": "cluster_mean", "progress": False}]
    assert "fitted" not in stderr


def test_large_input_reports_progress_and_timing(
    tmp_path, logits_file, capsys, monkeypatch, recorded_fit
):
    monkeypatch.setattr(cli, "LARGE_INPUT", 10)
    status, _, stderr = run(capsys, "fit", logits_file, "-o", tmp_path / "t.json")
    assert status == 0
    assert recorded_fit[0]["progress"] is True
    assert f"l2h: fitted K={K} clusters from N=60 rows in " in stderr.splitlines()[-1]


def test_quiet_silences_large_input(tmp_path, logits_file, capsys, monkeypatch, recorded_fit):
    monkeypatch.setattr(cli, "LARGE_INPUT", 10)
    status, _, stderr = run(capsys, "fit", logits_file, "-o", tmp_path / "t.json", "--quiet")
    assert (status, stderr) == (0, "")
    assert recorded_fit[0]["progress"] is False


# --- errors -------------------------------------------------------------------------------------


def test_names_with_wrong_count(tmp_path, tree_file, capsys):
    names_file = tmp_path / "names.txt"
    names_file.write_text("a\nb\nc\n", encoding="utf-8")
    status, stdout, stderr = run(capsys, "newick", tree_file, "--names", names_file)
    message = assert_one_line_error(status, stderr)
    assert stdout == ""
    assert "3 names" in message
    assert f"expected {K}" in message


def test_missing_names_file(tmp_path, tree_file, capsys):
    status, _, stderr = run(capsys, "newick", tree_file, "--names", tmp_path / "none.txt")
    assert "none.txt" in assert_one_line_error(status, stderr)


def test_bad_aggregation_name(tmp_path, logits_file, capsys):
    out = tmp_path / "tree.json"
    status, _, stderr = run(capsys, "fit", logits_file, "-o", out, "--aggregation", "nope")
    message = assert_one_line_error(status, stderr)
    assert "nope" in message
    assert "cluster_mean" in message
    assert not out.exists()


def test_nan_logits_pass_the_fit_message_through(tmp_path, logits, capsys):
    logits[3, 2] = np.nan
    path = tmp_path / "nan.npy"
    np.save(path, logits)
    with pytest.raises(ValueError) as info:
        l2h.fit(logits)
    expected = " ".join(str(info.value).split())
    out = tmp_path / "tree.json"
    status, stdout, stderr = run(capsys, "fit", path, "-o", out)
    assert assert_one_line_error(status, stderr) == expected
    assert stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.npy"]  # no temporary left


def test_missing_logits_file(tmp_path, capsys):
    out = tmp_path / "tree.json"
    status, _, stderr = run(capsys, "fit", tmp_path / "absent.npy", "-o", out)
    assert "absent.npy" in assert_one_line_error(status, stderr)
    assert not out.exists()


def test_unsupported_logits_format(tmp_path, capsys):
    path = tmp_path / "logits.csv"
    path.write_text("1,2\n")
    status, _, stderr = run(capsys, "fit", path, "-o", tmp_path / "tree.json")
    assert ".npy" in assert_one_line_error(status, stderr)


def test_corrupt_logits_file(tmp_path, capsys):
    path = tmp_path / "broken.npy"
    path.write_bytes(b"\x93NUMPY garbage\n")
    out = tmp_path / "tree.json"
    status, _, stderr = run(capsys, "fit", path, "-o", out)
    assert "broken.npy" in assert_one_line_error(status, stderr)
    assert not out.exists()


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"format": "l2h-tree"}', "[1, 2, 3]", ""],
    ids=["syntax", "incomplete", "not-an-object", "empty"],
)
@pytest.mark.parametrize("command", [["cut", "--groups", "2"], ["newick"]])
def test_corrupt_tree_json(tmp_path, capsys, content, command):
    path = tmp_path / "tree.json"
    path.write_text(content, encoding="utf-8")
    status, stdout, stderr = run(capsys, command[0], path, *command[1:])
    assert "tree.json" in assert_one_line_error(status, stderr)
    assert stdout == ""


def test_missing_tree_file(tmp_path, capsys):
    status, _, stderr = run(capsys, "cut", tmp_path / "gone.json", "--groups", "2")
    assert "gone.json" in assert_one_line_error(status, stderr)


@pytest.mark.parametrize("n_groups", ["0", "-1", str(K + 1)])
def test_groups_out_of_range(tree_file, capsys, n_groups):
    status, stdout, stderr = run(capsys, "cut", tree_file, "--groups", n_groups)
    message = assert_one_line_error(status, stderr)
    assert n_groups in message
    assert str(K) in message
    assert stdout == ""


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["cut", "tree.json"], ["cut", "tree.json", "--groups", "two"], ["fit"]],
    ids=["no-command", "unknown-command", "no-groups", "groups-not-int", "fit-no-args"],
)
def test_usage_errors_are_one_line(capsys, argv):
    status, stdout, stderr = run(capsys, *argv)
    assert_one_line_error(status, stderr)
    assert stdout == ""


def test_keyboard_interrupt_exits_130(tmp_path, logits_file, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(l2h, "fit", interrupted)
    out = tmp_path / "tree.json"
    status, _, stderr = run(capsys, "fit", logits_file, "-o", out)
    assert status == 130
    assert "Traceback" not in stderr
    assert not out.exists()


# --- real processes -----------------------------------------------------------------------------


def test_console_script_error_is_one_line(tmp_path):
    out = tmp_path / "tree.json"
    result = subprocess.run(
        [console_script(), "fit", str(tmp_path / "absent.npy"), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    message = assert_one_line_error(result.returncode, result.stderr)
    assert "absent.npy" in message
    assert result.stdout == ""
    assert not out.exists()


def test_console_script_end_to_end(tmp_path, logits, logits_file):
    out = tmp_path / "tree.json"
    script = console_script()
    fit = subprocess.run(
        [script, "fit", str(logits_file), "-o", str(out)], capture_output=True, text=True
    )
    assert fit.returncode == 0, fit.stderr
    cut = subprocess.run([script, "cut", str(out), "--groups", "2"], capture_output=True, text=True)
    assert cut.returncode == 0, cut.stderr
    assert [int(x) for x in cut.stdout.split()] == l2h.fit(logits).cut(2).tolist()
    bad = subprocess.run(
        [script, "cut", str(out), "--groups", "99"], capture_output=True, text=True
    )
    assert_one_line_error(bad.returncode, bad.stderr)


def test_python_dash_m(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "l2h", "cut", str(tmp_path / "x.json"), "--groups", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "x.json" in assert_one_line_error(result.returncode, result.stderr)


# --- outputs and odd inputs ---------------------------------------------------------------------


def test_output_equal_to_the_input_is_refused_and_the_input_kept(tmp_path, logits_file, capsys):
    before = logits_file.read_bytes()
    link = tmp_path / "link.npy"
    link.symlink_to(logits_file)
    for out in (logits_file, link, tmp_path / "." / "logits.npy"):
        status, stdout, stderr = run(capsys, "fit", logits_file, "-o", out)
        assert "is also an input" in assert_one_line_error(status, stderr)
        assert stdout == ""
        assert logits_file.read_bytes() == before
    assert link.is_symlink()


def test_output_symlink_is_kept_and_its_target_written(tmp_path, logits, logits_file, capsys):
    target = tmp_path / "trees" / "real.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "tree.json"
    link.symlink_to(target)
    status, _, stderr = run(capsys, "fit", logits_file, "-o", link)
    assert (status, stderr) == (0, "")
    assert link.is_symlink() and link.resolve() == target
    assert l2h.Hierarchy.load(target).steps == l2h.fit(logits).steps


def test_output_is_0644_under_umask_022(tmp_path, logits_file, capsys):
    old = os.umask(0o022)
    try:
        status, _, _ = run(capsys, "fit", logits_file, "-o", tmp_path / "tree.json")
    finally:
        os.umask(old)
    assert status == 0
    assert stat.S_IMODE((tmp_path / "tree.json").stat().st_mode) == 0o644


def test_output_fifo_is_written_in_place(tmp_path, logits, logits_file, capsys):
    fifo = tmp_path / "tree.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        status, _, stderr = run(capsys, "fit", logits_file, "-o", fifo)
    finally:
        if reader.is_alive() and stat.S_ISFIFO(fifo.stat().st_mode):  # unblock the reader
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=60)
    assert (status, stderr) == (0, "")
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO, not replaced by a file
    assert l2h.Hierarchy.from_json(received[0].decode()).steps == l2h.fit(logits).steps


def test_output_dev_stdout_goes_to_stdout(tmp_path, logits, logits_file):
    # Through a link of our own: a writer that replaced its output would replace only this
    # link, never the machine's /dev/stdout.
    out = tmp_path / "stdout"
    out.symlink_to("/dev/stdout")
    result = subprocess.run(
        [sys.executable, "-m", "l2h", "fit", str(logits_file), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert l2h.Hierarchy.from_json(result.stdout).steps == l2h.fit(logits).steps
    assert out.is_symlink()


def test_a_250_character_output_name_works(tmp_path, logits_file, capsys):
    out = tmp_path / ("t" * 245 + ".json")
    status, _, stderr = run(capsys, "fit", logits_file, "-o", out)
    assert (status, stderr) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([logits_file.name, out.name])


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_write_errors_name_the_output_not_a_temporary_file(logits_file, capsys):
    status, _, stderr = run(capsys, "fit", logits_file, "-o", "/proc/tree.json")
    message = assert_one_line_error(status, stderr)
    assert message.endswith(": /proc/tree.json")
    assert ".tmp" not in message


def test_deeply_nested_tree_json_is_one_line(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    for command in (["cut", path, "--groups", "2"], ["newick", path]):
        status, stdout, stderr = run(capsys, *command)
        assert "nested too deeply" in assert_one_line_error(status, stderr)
        assert stdout == ""


def test_unknown_aggregation_in_a_tree_file_is_one_line(tree_file, capsys):
    tree_file.write_text(tree_file.read_text().replace('"cluster_mean"', '"cluster_median"'))
    status, stdout, stderr = run(capsys, "cut", tree_file, "--groups", "2")
    assert "unknown aggregation 'cluster_median'" in assert_one_line_error(status, stderr)
    assert stdout == ""


@pytest.mark.parametrize("command", [["newick"], ["cut", "--groups", "2"]])
def test_closed_stdout_exits_quietly(tree_file, command):
    argv = [sys.executable, "-m", "l2h", command[0], str(tree_file), *command[1:]]
    closed = ["sh", "-c", '"$@" >&-', "sh", *argv]  # as `l2h newick t.json >&-`
    result = subprocess.run(closed, stderr=subprocess.PIPE, text=True, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("option", "value"),
    [("--subset", "0"), ("--batch-size", "0"), ("--num-workers", "-1"), ("--seed", "-3")],
)
def test_embed_messages_name_the_option(tmp_path, capsys, option, value):
    argv = ["embed", "--dataset", "digits", "--backbone", "pixels", "-o", tmp_path / "x.npy"]
    status, _, stderr = run(capsys, *argv, option, value)
    assert assert_one_line_error(status, stderr).startswith(f"argument {option}: ")
    assert not (tmp_path / "x.npy").exists()


def test_library_parameter_names_become_option_names(tmp_path, capsys):
    argv = ["embed", "--dataset", "digits", "--backbone", "pixels", "-o", tmp_path / "x.npy"]
    status, _, stderr = run(capsys, *argv, "--image-size", "32", "--quiet")
    message = assert_one_line_error(status, stderr)
    assert "--image-size must" in message and "image_size" not in message
