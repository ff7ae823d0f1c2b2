"""The shared contracts (tests/_contracts.py) on every entry of the four registries.

The parameter lists are the registries themselves: a new dataset, backbone, model or baseline
gets these tests without being named in any test.
"""

from __future__ import annotations

import pytest
import yaml
from _contracts import check_backbone, check_baseline, check_dataset, check_model

from l2h.backbones import BACKBONES
from l2h.baselines import BASELINES
from l2h.config import registry_names, study_schema
from l2h.datasets import DATASETS
from l2h.models import MODELS
from l2h.tables import TABLES

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_contract(name, tmp_path, monkeypatch):
    monkeypatch.setenv("L2H_DATA", str(tmp_path / "default-root"))
    check_dataset(name, tmp_path)


@pytest.mark.parametrize("name", list(BACKBONES))
def test_backbone_contract(name):
    pytest.importorskip("torch")
    check_backbone(name)


@pytest.mark.parametrize("name", list(MODELS))
def test_model_contract(name, tmp_path):
    if MODELS[name].module != "l2h.models.kmeans":
        pytest.importorskip("torch")
    check_model(name, tmp_path)


@pytest.mark.parametrize("name", list(BASELINES))
def test_baseline_contract(name):
    if BASELINES[name].uses_gpu:  # the deep baselines need the deep extra
        pytest.importorskip("clustpy")
    check_baseline(name)


def _walk(node):
    """Every dict of a parsed schema."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_schema_writes_no_registry_name_and_gets_every_list_from_the_registries():
    raw = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
    registered = {*DATASETS, *BACKBONES, *MODELS, *BASELINES}
    for node in _walk(raw):
        for key in ("enum", "default", "const"):
            values = node.get(key)
            values = values if isinstance(values, list) else [values]
            assert not registered & {v for v in values if isinstance(v, str)}, node
        assert not node.get("patternProperties"), node
    used = {node["x-l2h-names"] for node in _walk(raw) if "x-l2h-names" in node}
    assert {"datasets", "backbones", "models", "baselines"} <= used <= set(registry_names())
    filled = study_schema(ROOT / "config" / "schema.yaml")
    assert not any("x-l2h-names" in node for node in _walk(filled))
    assert filled["properties"]["models"]["propertyNames"]["enum"] == list(MODELS)


def test_rules_and_scripts_hold_no_list_of_registry_names():
    """Wildcard constraints, GPU needs, table names, TreeVAE leaves: read from the library."""
    texts = {
        path: path.read_text()
        for path in [ROOT / "Snakefile", *(ROOT / "rules").glob("*.smk")]
        + sorted((ROOT / "scripts").glob("*.py"))
    }
    registered = [*MODELS, *BASELINES, *(b for b in BACKBONES if b != "pixels")]
    # "supervised" is also the model wildcard of the supervised setting (rules/common.smk)
    registered += [*DATASETS, *(t for t in TABLES if t != "supervised")]
    for path, text in texts.items():
        for name in registered:
            assert f'"{name}"' not in text and f"'{name}'" not in text, (path.name, name)
