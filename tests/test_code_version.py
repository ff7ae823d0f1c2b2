"""Which files a workflow script depends on (l2h._code) and their hash (code_version).

The workflow gives every scripted rule this hash as ``params.code``; tests/test_workflow.py
checks that editing l2h/algorithm.py plans the fit_l2h jobs again, and nothing else.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from l2h.provenance import code_version, provenance

ROOT = Path(__file__).resolve().parents[1]

PACKAGE = {
    "pkg/__init__.py": """
        from pkg.core import X

        __version__ = "1"

        def __getattr__(name):
            if name == "heavy_thing":
                from pkg.heavy import heavy_thing

                return heavy_thing
            raise AttributeError(name)
    """,
    "pkg/core.py": """
        X = 1

        def f():
            from . import nested
            return nested.Y
    """,
    "pkg/nested.py": "Y = 2\n",
    "pkg/heavy.py": "heavy_thing = 3\n",
    "pkg/unused.py": "Z = 4\n",
    "pkg/registry.py": """
        import importlib

        PLUGINS = {"a": "pkg.plugins.a"}

        def get(name):
            return importlib.import_module(PLUGINS[name])
    """,
    "pkg/plugins/__init__.py": "",
    "pkg/plugins/a.py": "A = 5\n",
    "pkg/tables/__init__.py": "",
    "pkg/tables/numbers.csv": "a,b\n1,2\n",
    "pkg/reader.py": """
        from importlib import resources

        def read():
            return resources.files("pkg.tables").joinpath("numbers.csv").read_text()
    """,
    "scripts/_glue.py": "import sys\n",
    "scripts/light.py": "import _glue\nimport pkg.core\nprint(pkg.__version__)\n",
    "scripts/lazy.py": "import pkg\nprint(pkg.heavy_thing)\n",
    "scripts/registry.py": "from pkg.registry import get\nget('a')\n",
    "scripts/data.py": "from pkg.reader import read\n",
    "scripts/aliased.py": "import pkg as p\np.heavy_thing\n",
}


@pytest.fixture
def project(tmp_path) -> Path:
    for name, text in PACKAGE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def files(project: Path, script: str) -> list[str]:
    return code_version(project / "scripts" / script, project)["files"]


def test_imports_anywhere_parents_and_script_local_modules(project):
    assert files(project, "light.py") == [
        "pkg/__init__.py",
        "pkg/core.py",
        "pkg/nested.py",  # imported inside a function, relatively
        "scripts/_glue.py",
        "scripts/light.py",
    ]


@pytest.mark.parametrize("script", ["lazy.py", "aliased.py"])
def test_a_lazy_attribute_pulls_in_what_its_getattr_imports(project, script):
    assert "pkg/heavy.py" in files(project, script)
    assert "pkg/heavy.py" not in files(project, "light.py")  # reads only __version__


def test_modules_and_files_named_by_strings(project):
    assert {"pkg/plugins/__init__.py", "pkg/plugins/a.py"} <= set(files(project, "registry.py"))
    assert "pkg/tables/numbers.csv" in files(project, "data.py")


def test_the_hash_follows_the_files_the_script_uses_and_only_those(project):
    before = code_version(project / "scripts" / "light.py", project)
    assert before["script"] == "scripts/light.py" and len(before["sha256"]) == 64
    (project / "pkg" / "unused.py").write_text("Z = 40\n")
    (project / "pkg" / "heavy.py").write_text("heavy_thing = 30\n")
    assert code_version(project / "scripts" / "light.py", project) == before
    with (project / "pkg" / "nested.py").open("a") as fh:
        fh.write("# a comment\n")
    after = code_version(project / "scripts" / "light.py", project)
    assert after["sha256"] != before["sha256"] and after["files"] == before["files"]


def test_the_workflow_scripts_depend_on_the_modules_they_run():
    def uses(script: str) -> set[str]:
        return set(code_version(ROOT / "scripts" / script, ROOT)["files"])

    algorithm = {"l2h/algorithm.py", "l2h/_kernels.py", "l2h/_steps.py"}
    assert algorithm <= uses("fit_l2h.py")
    for script in ("embed.py", "fit_model.py", "prepare_split.py", "fit_baseline.py"):
        assert not algorithm & uses(script), script  # editing L2H does not redo embeddings
    assert {"l2h/models/turtle.py", "l2h/models/temi.py"} <= uses("fit_model.py")
    assert {"l2h/metrics.py", "l2h/datasets/cifar100.json"} <= uses("evaluate.py")
    # registries name their code by "module:name" reference: followed all the same
    assert {"l2h/baselines/cheap.py", "l2h/baselines/deepect.py"} <= uses("fit_baseline.py")
    assert "l2h/_weights.py" in uses("embed.py")
    assert "l2h/paper_numbers.csv" in uses("make_tables.py")
    assert "l2h/baselines/_treevae_driver.py" in uses("treevae.py")
    assert "scripts/_script_utils.py" in uses("fit_l2h.py")


def test_provenance_records_the_code_versions_given():
    code = {"fit_l2h": code_version(ROOT / "scripts" / "fit_l2h.py", ROOT)}
    assert provenance({"study": "x"}, code=code)["code"] == code
    assert "code" not in provenance({"study": "x"})
