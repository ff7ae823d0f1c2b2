"""CITATION.cff and LICENSE agree with the package metadata."""

from __future__ import annotations

from pathlib import Path

import yaml

import l2h

ROOT = Path(__file__).resolve().parents[1]


def test_citation_cff_cites_software_and_paper():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    for key in ("cff-version", "message", "title", "authors"):
        assert cff[key], key
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == l2h.__version__
    assert cff["license"] == "MIT"
    (paper,) = cff["references"]
    assert paper["title"] == "From Logits to Hierarchies: Hierarchical Clustering made Simple"
    assert paper["authors"][0]["family-names"] == "Palumbo"
    assert paper["year"] == 2025
    assert {"type": "other", "value": "arXiv:2410.07858", "description": "arXiv preprint"} in (
        paper["identifiers"]
    )
    assert "ICML 2025" in paper["conference"]["name"]


def test_license_is_mit_as_in_pyproject():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "l2h-bench contributors" in text
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # no tomllib on 3.10
    assert 'license = { text = "MIT" }' in pyproject.splitlines()


def test_paper_numbers_are_package_data():
    lines = (ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines()
    section = lines[lines.index("[tool.setuptools.package-data]") :]
    assert '"l2h" = ["paper_numbers.csv"]' in section[: section.index("")]
    assert (ROOT / "l2h" / "paper_numbers.csv").is_file()
