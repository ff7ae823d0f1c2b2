"""What jobs ask a cluster for, and the profiles users run them with.

* ``snakemake --profile slurm`` finds the repository's profile by its name and plans the same
  jobs as a plain run; without conda it stops with the flag to add, and with that flag
  (``--sdm env-modules``) a dry run works;
* a job requests a GPU only if the study's ``device`` is not ``cpu`` and the library's
  registries say the job computes on a GPU; the SLURM plugin, given the profile's partition
  file, sends exactly those jobs to the ``gpu`` partition;
* memory requests follow the documented formula of each rule and double on a retry;
* after an interruption, the same command finishes the run (the default workflow profile sets
  ``rerun-incomplete``); after a kill, ``snakemake --unlock`` first.

The real cluster run is ``make test-slurm`` (tests/slurm/test_slurm.sh).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "config.yaml"
DEMO = ROOT / "config" / "demo.yaml"


def snakemake(*args, cwd: Path = ROOT, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m snakemake ARGS`` in ``cwd`` (the repository root: profiles are found there)."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_config(path: Path, base: Path = PAPER, **changes) -> Path:
    config = yaml.safe_load(base.read_text())
    config.update(changes)
    path.write_text(yaml.safe_dump(config))
    return path


def planned_jobs(stdout: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(rule, wildcards, resources) of every job printed by a dry run."""
    jobs = []
    # jobs of a group job are printed indented under it
    for block in re.split(r"\n\s*(?=rule \w+:)", stdout)[1:]:
        rule = block.split(":", 1)[0].removeprefix("rule ")
        fields = {}
        for key in ("wildcards", "resources"):
            found = re.search(rf"^\s+{key}: (.*)$", block, flags=re.MULTILINE)
            pairs = found.group(1).split(", ") if found else []
            fields[key] = dict(p.split("=", 1) for p in pairs if "=" in p)
        jobs.append((rule, fields["wildcards"], fields["resources"]))
    return jobs


@cache
def paper_plan(device: str, tmp: Path) -> list:
    """The jobs of the paper study (TreeVAE on) with ``device``, planned without any data."""
    config = write_config(tmp / f"paper_{device}.yaml", device=device, treevae={"enabled": True})
    result = snakemake("--dry-run", "--directory", tmp, "--configfile", config, "--cores", 1)
    assert result.returncode == 0, result.stdout[-3000:]
    return planned_jobs(result.stdout)


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("plan")


# ----------------------------------------------------------------------------- GPU requests


def test_with_device_cpu_no_job_requests_a_gpu(plan_dir):
    jobs = paper_plan("cpu", plan_dir)
    assert len(jobs) > 500
    assert {res.get("gpu", "0") for _, _, res in jobs} == {"0"}


def test_a_gpu_is_requested_where_the_registries_say_a_job_computes_on_one(plan_dir):
    from l2h.backbones import BACKBONES
    from l2h.baselines import BASELINES
    from l2h.models import MODELS

    expected = {
        "embed": lambda w: BACKBONES[w["space"]].uses_gpu,
        "fit_model": lambda w: MODELS[w["model"]].uses_gpu,
        "fit_baseline": lambda w: BASELINES[w["baseline"]].uses_gpu,
        "classifier_logits": lambda w: True,
        "treevae": lambda w: True,
    }
    seen = {name: set() for name in expected}
    for rule, wildcards, resources in paper_plan("auto", plan_dir):
        wants = expected.get(rule, lambda w: False)(wildcards)
        assert resources.get("gpu", "0") == str(int(wants)), (rule, wildcards)
        if rule in seen:
            seen[rule].add(wants)
    # both kinds occur where the registries differ (pixels, k-means, the cheap baselines)
    assert seen == {
        "embed": {True, False},
        "fit_model": {True, False},
        "fit_baseline": {True, False},
        "classifier_logits": {True},
        "treevae": {True},
    }


class _Logger:
    def info(self, *args):
        pass

    debug = warning = info


@pytest.mark.parametrize("device", ["auto", "cpu"])
def test_the_plugin_sends_gpu_jobs_and_only_them_to_the_gpu_partition(device, plan_dir):
    partitions = pytest.importorskip("snakemake_executor_plugin_slurm.partitions")
    candidates = partitions.read_partition_file(ROOT / "slurm" / "partitions.yaml")
    chosen = {}
    for rule, wildcards, resources in paper_plan(device, plan_dir):
        values = {k: int(v) if v.isdigit() else v for k, v in resources.items()}
        job = SimpleNamespace(resources=values, threads=1, name=rule)
        partition = partitions.get_best_partition(candidates, job, _Logger())
        assert partition == ("gpu" if values.get("gpu") else "cpu"), (rule, wildcards)
        chosen.setdefault(partition, set()).add(rule)
    if device == "cpu":
        assert set(chosen) == {"cpu"}
    else:
        assert chosen["gpu"] == {
            "embed",
            "fit_model",
            "fit_baseline",
            "classifier_logits",
            "treevae",
        }
        assert {"treevae", "fit_l2h", "evaluate"} & chosen["cpu"] == {"fit_l2h", "evaluate"}


# ----------------------------------------------------------------------------- memory


@cache
def workflow_globals() -> dict:
    """The namespace of the demo workflow (its Snakefile and rules/*.smk), through the API."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[DEMO]),
            snakefile=ROOT / "Snakefile",
            workdir=ROOT,
        )
        return dict(workflow._workflow.globals)  # private; snakemake is pinned >=9,<10


def test_memory_is_base_plus_a_factor_of_the_inputs_doubled_on_every_retry(tmp_path):
    namespace = workflow_globals()
    mem_mb, memory = namespace["mem_mb"], namespace["MEMORY"]
    logits = tmp_path / "logits.npy"
    logits.write_bytes(b"\0" * 50_000_000)  # 50 MB
    missing = tmp_path / "not_written_yet.json"
    wildcards = SimpleNamespace()
    base, factor = memory["fit_l2h"]
    assert factor > 0
    first = mem_mb(wildcards, [str(logits), str(missing)], 1, "fit_l2h")
    assert first == int(base + factor * 50)
    assert mem_mb(wildcards, [str(logits)], 2, "fit_l2h") == 2 * first
    assert mem_mb(wildcards, [str(logits)], 3, "fit_l2h") == 4 * first
    # a fractional first request is rounded up before doubling: retries ask for exactly 2x
    odd = tmp_path / "odd.npy"
    odd.write_bytes(b"\0" * 8_250)  # 0.00825 MB x 2000 MB/MB = 16.5 MB
    first = mem_mb(wildcards, [str(odd)], 1, "embed")
    assert first == memory["embed"][0] + 17
    assert mem_mb(wildcards, [str(odd)], 2, "embed") == 2 * first
    # every rule has a formula, and the demo's measured peaks (< 2 GB a job) fit in each base
    rules = {r.name for r in namespace["workflow"].rules} - {"all", "figures"}
    assert set(memory) == rules
    assert all(b >= 1000 for b, _ in memory.values())


def test_no_rule_asks_for_more_than_a_third_of_a_small_node_in_the_demo(tmp_path):
    result = snakemake("--dry-run", "--directory", tmp_path, "--configfile", DEMO, "--cores", 1)
    assert result.returncode == 0, result.stdout[-3000:]
    requests = [int(r["mem_mb"]) for _, _, r in planned_jobs(result.stdout) if "mem_mb" in r]
    assert len(requests) == 90 and max(requests) <= 6500  # every job asked for 16 GB before


# ----------------------------------------------------------------------------- profiles


def profile(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def test_the_profile_named_slurm_plans_the_same_jobs_as_a_plain_run(tmp_path):
    where = ("--directory", tmp_path, "--configfile", PAPER)
    plain = snakemake("--dry-run", "--cores", 1, *where)
    slurm = snakemake("--dry-run", "--profile", "slurm", "--sdm", "env-modules", *where)
    assert slurm.returncode == 0, slurm.stdout[-3000:]
    assert "Using profiles slurm and workflow specific profile profiles/default" in slurm.stdout
    counts = re.compile(r"^(\w+)\s+(\d+)$", flags=re.MULTILINE)
    assert counts.findall(slurm.stdout) == counts.findall(plain.stdout)
    assert counts.findall(slurm.stdout)


def test_the_slurm_profile_polls_with_squeue_and_picks_partitions_from_a_file():
    settings = profile("slurm/profile.yaml")
    assert settings["executor"] == "slurm"
    assert settings["software-deployment-method"] == "conda"
    assert settings["slurm-status-command"] == "squeue"
    assert (ROOT / "slurm" / settings["slurm-partition-config"]).is_file()
    assert "set-resources" not in settings  # the rules decide, not per-rule overrides


@pytest.mark.skipif(
    bool(shutil.which("conda") or shutil.which("mamba")), reason="conda is installed here"
)
def test_without_conda_the_profile_stops_with_the_flag_to_add(tmp_path):
    result = snakemake(
        "--dry-run", "--profile", "slurm", "--directory", tmp_path, "--configfile", PAPER
    )
    assert result.returncode != 0
    assert "add --sdm env-modules" in result.stdout
    assert "Error running conda info" not in result.stdout


def test_the_default_profile_reruns_interrupted_jobs_and_leaves_the_slurm_keys_alone():
    default = profile("profiles/default/config.yaml")
    assert default == {"rerun-incomplete": True}
    assert not set(default) & set(profile("slurm/profile.yaml"))


TINY = {
    "study": "tiny",
    "device": "cpu",
    "datasets": {"digits": {"backbones": ["pixels"]}},
    "models": {"kmeans": {"n_init": 2}},
    "seeds": [0, 1],
    "aggregations": ["cluster_mean"],
    "baselines": {"centroid_ward": {}},
}


def freeze_when_a_model_file_is_incomplete(run: subprocess.Popen, workdir: Path) -> None:
    """Stop (SIGSTOP) a run's process group at a moment when a model file exists and is still
    marked incomplete (its job has not written its logits yet): the state a killed job leaves."""
    models = workdir / "results" / "tiny" / "models"
    markers = workdir / ".snakemake" / "incomplete"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert run.poll() is None, "the run ended before a model was written"
        os.killpg(run.pid, signal.SIGSTOP)
        written = [p.relative_to(workdir).as_posix() for p in models.rglob("*.model")]
        marked = {p.name for p in markers.iterdir()} if markers.is_dir() else set()
        encoded = {base64.b64encode(p.encode()).decode() for p in written}
        if encoded & marked:
            return
        os.killpg(run.pid, signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError("no model file was ever seen incomplete")


def test_after_a_kill_unlock_and_the_same_command_finishes_the_run(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    cmd = ["--snakefile", ROOT / "Snakefile", "--configfile", config, "--cores", 1]
    run = subprocess.Popen(
        [sys.executable, "-m", "snakemake", *map(str, cmd)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        freeze_when_a_model_file_is_incomplete(run, tmp_path)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # kill -9: no cleanup, the lock stays
        run.wait(timeout=60)
    locked = snakemake(*cmd, cwd=tmp_path)
    assert locked.returncode != 0 and "LockException" in locked.stdout
    assert snakemake("--unlock", *cmd, cwd=tmp_path).returncode == 0
    # what the default profile's rerun-incomplete spares users: the file is complete (written
    # atomically), but Snakemake cannot know, and without the profile it stops
    bare = snakemake("--dry-run", "--workflow-profile", "none", *cmd, cwd=tmp_path)
    assert bare.returncode != 0 and "IncompleteFilesException" in bare.stdout
    rerun = snakemake(*cmd, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert (tmp_path / "results" / "tiny" / "metrics.csv").is_file()


# ----------------------------------------------------------------------------- a job's GPU


@pytest.fixture
def script_utils():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import _script_utils

        yield _script_utils
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def job(device: str, gpu: int) -> SimpleNamespace:
    """The parts of a script's ``snakemake`` object that ``torch_device`` reads."""
    return SimpleNamespace(
        rule="embed", params=SimpleNamespace(device=device), resources={"gpu": gpu}
    )


@pytest.mark.parametrize(("cuda_build", "says"), [(None, "CPU-only build"), ("12.6", "CUDA 12.6")])
def test_a_job_given_a_gpu_that_torch_cannot_see_stops_with_one_line(
    script_utils, monkeypatch, cuda_build, says
):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", cuda_build)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with pytest.raises(SystemExit) as stop:
        script_utils.torch_device(job("auto", 1))
    message = str(stop.value)
    assert "\n" not in message and message.startswith("l2h: rule embed: the job was given GPU 0")
    assert says in message
    # visible: the job computes on it
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert script_utils.torch_device(job("auto", 1)) == "auto"


def test_without_a_gpu_given_the_job_keeps_its_device(script_utils, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert script_utils.torch_device(job("auto", 1)) == "auto"  # a laptop: auto falls back
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert script_utils.torch_device(job("cpu", 0)) == "cpu"  # requested none: never checked
