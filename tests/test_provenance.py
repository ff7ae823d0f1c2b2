"""Tests of l2h.provenance."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import l2h
from l2h.provenance import config_hash, git_info, package_versions, provenance, write_provenance

CONFIG = {"study": "demo", "seeds": [0, 1], "models": {"kmeans": {"n_init": 10}}}


def test_config_hash_is_stable_and_order_independent():
    reordered = {"models": {"kmeans": {"n_init": 10}}, "seeds": [0, 1], "study": "demo"}
    assert config_hash(CONFIG) == config_hash(reordered)
    assert len(config_hash(CONFIG)) == 64
    assert config_hash(CONFIG) != config_hash({**CONFIG, "seeds": [1, 0]})


def test_config_hash_known_value():
    # sha256 of the canonical JSON text '{"a":1}'
    assert config_hash({"a": 1}) == (
        "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
    )


def test_config_hash_rejects_non_json():
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        config_hash({"a": {1, 2}})


def test_provenance_fields():
    record = provenance(CONFIG)
    assert record["config"] == CONFIG
    assert record["config_sha256"] == config_hash(CONFIG)
    assert record["packages"]["l2h"] == l2h.__version__
    assert record["packages"]["numpy"] == __import__("numpy").__version__
    assert "pandas" in record["packages"] and "torch" in record["packages"]
    assert record["python"] == ".".join(map(str, sys.version_info[:3]))
    assert record["timestamp"].endswith("+00:00")
    json.dumps(record)  # serialisable


def test_provenance_does_not_import_torch():
    code = "import sys, l2h.provenance as p; p.provenance({}); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_package_versions_missing_is_none():
    assert package_versions(("numpy", "surely-not-installed-l2h-x")) == {
        "numpy": __import__("numpy").__version__,
        "surely-not-installed-l2h-x": None,
    }


def test_provenance_rejects_non_dict():
    with pytest.raises(ValueError, match="must be a dict"):
        provenance(["not", "a", "dict"])


def _git(repo, *args):
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
        check=True,
        capture_output=True,
    )


def test_git_info_commit_and_dirty_flag(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-qm", "first")
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert git_info(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "a.txt").write_text("two\n")
    assert git_info(tmp_path) == {"commit": head, "dirty": True}


def test_git_info_outside_git_is_unknown(tmp_path):
    assert git_info(tmp_path / "nowhere") == {"commit": "unknown", "dirty": None}
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_info(plain) == {"commit": "unknown", "dirty": None}


def test_write_provenance_atomic_json(tmp_path):
    path = tmp_path / "out" / "provenance.json"
    record = write_provenance(path, CONFIG, repo_dir=tmp_path)
    assert json.loads(path.read_text()) == record
    assert record["git"]["commit"] == "unknown"
    assert [p.name for p in path.parent.iterdir()] == ["provenance.json"]


def test_a_stand_in_study_says_so_in_its_provenance():
    from l2h.provenance import STAND_IN_NOTE

    record = provenance({"study": "rehearsal", "stand_in_backbones": True})
    assert record["stand_in_backbones"] is True and record["note"] == STAND_IN_NOTE
    assert "note" not in provenance({"study": "demo", "stand_in_backbones": False})
