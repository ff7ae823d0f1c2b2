"""The Snakemake workflow, run through its command line as users run it.

* The paper study (config.yaml) and the demo study dry-run without any data: the whole DAG is
  built (the SLURM profile: tests/test_cluster.py).
* A tiny study runs for real (offline, CPU, seconds): scikit-learn's digits as raw pixels ->
  k-means logits -> L2H and cheap baselines -> metrics, tables, figures, provenance; plus a
  bring-your-own entry (logits and embeddings files written by the test).
* The README's demo (Fashion-MNIST through EfficientNet-Lite0, TURTLE, TEMI, DeepECT) runs in
  tests/test_demo.py.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from l2h.hierarchy import Hierarchy
from l2h.provenance import code_version
from l2h.results import COLUMNS
from l2h.tables import TABLES

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "demo.yaml"
PAPER = ROOT / "config.yaml"
AGGREGATIONS = ["cluster_mean", "point_sum", "point_mean"]
SEEDS = [0, 1]
TINY = {
    "study": "tiny",
    "device": "cpu",
    "datasets": {
        "digits": {"backbones": ["pixels"], "k_sweep": {"models": ["kmeans"], "values": [8, 12]}}
    },
    "models": {"kmeans": {"n_init": 4}},
    "seeds": SEEDS,
    "aggregations": AGGREGATIONS,
    "baselines": {
        "centroid_ward": {},
        "logit_affinity": {},
        "bisecting_kmeans": {},
    },
}


def snakemake(*args, workdir: Path, configfile: Path = DEMO, timeout: int = 600):
    """Run ``python -m snakemake`` on this repository's Snakefile in ``workdir``."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", ROOT / "Snakefile"]
    cmd += ["--directory", workdir, "--configfile", configfile, "--cores", "2", *args]
    return subprocess.run(
        [str(c) for c in cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_config(path: Path, base: dict | Path = DEMO, **changes) -> Path:
    """A config (the demo's by default) with top-level keys replaced (None deletes the key)."""
    config = (
        yaml.safe_load(base.read_text()) if isinstance(base, Path) else json.loads(json.dumps(base))
    )
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    path.write_text(yaml.safe_dump(config))
    return path


def job_counts(stdout: str) -> dict[str, int]:
    """The job-stats table of a dry run."""
    return {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", stdout, flags=re.MULTILINE)}


# ----------------------------------------------------------------------------- dry runs


def test_the_paper_study_dry_runs_without_any_data(tmp_path):
    result = snakemake("--dry-run", workdir=tmp_path, configfile=PAPER)
    assert result.returncode == 0, result.stdout[-3000:]
    counts = job_counts(result.stdout)
    # 5 datasets x 3 models x 3 seeds, plus the Figure-5 sweep (6 K values x 3 seeds) on CIFAR-100
    assert counts["fit_model"] == 5 * 3 * 3 + 6 * 3
    # 5 datasets x 2 splits x 2 backbones, plus raw pixels for DeepECT on 3 datasets
    assert counts["embed"] == 5 * 2 * 2 + 3 * 2
    # every model run x 3 aggregations, the sweep with cluster_mean, the supervised classifier
    assert counts["fit_l2h"] == 45 * 3 + 18 + 3
    assert counts["classifier_logits"] == 2
    assert counts["download"] == 5  # one verified download per dataset, before anything reads it
    assert counts["collect_metrics"] == counts["tables"] == counts["provenance"] == 1
    assert counts["plot_k_sensitivity"] == 1
    # one level figure per dataset with a ground-truth tree: none for Food-101
    assert counts["plot_levels"] == 4 and "figures/levels/food101.png" not in result.stdout
    assert not (tmp_path / "results").exists()


def test_gpu_rules_declare_a_gpu_and_cpu_rules_do_not(tmp_path):
    result = snakemake("--dry-run", "--printshellcmds", workdir=tmp_path, configfile=PAPER)
    jobs = re.split(r"\n\s*rule ", result.stdout)  # jobs of a group job are indented
    gpu = {}
    for job in jobs[1:]:
        name = job.split(":", 1)[0]
        found = re.search(r"resources: .*?\bgpu=(\d+)", job)
        gpu.setdefault(name, set()).add(int(found.group(1)) if found else 0)
    assert gpu["embed"] == {0, 1}  # foundation models on a GPU, raw pixels not
    assert gpu["fit_model"] == {0, 1}  # TURTLE/TEMI on a GPU, k-means not
    assert gpu["classifier_logits"] == {1}
    assert gpu["fit_l2h"] == {0}


def test_without_a_config_the_paper_study_is_planned():
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", "--dry-run", "--forceall"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "results/paper/metrics.csv" in result.stdout


def test_a_missing_imagenet_root_fails_at_the_start_of_the_run_with_instructions(tmp_path):
    config = write_config(
        tmp_path / "imagenet.yaml",
        TINY,
        study="imagenet",
        datasets={"imagenet": {"backbones": ["pixels"], "root": str(tmp_path / "nowhere")}},
        baselines={},
    )
    dry = snakemake("--dry-run", workdir=tmp_path, configfile=config)
    assert dry.returncode == 0, dry.stdout[-3000:]
    run = snakemake(workdir=tmp_path, configfile=config)
    assert run.returncode != 0
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("data error: datasets.imagenet.root = ") and "val" in last
    assert "Traceback" not in run.stdout
    assert not (tmp_path / "results" / "imagenet" / "data").exists()


# ----------------------------------------------------------------------------- config schema


DEMO_MODELS = yaml.safe_load(DEMO.read_text())["models"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sedes": [0]}, "sedes = [0]: unknown key"),
        (
            {"datasets": {"digits": {"backbones": ["pixels"], "n_cluster": [10]}}},
            "datasets.digits.n_cluster = [10]: unknown key",
        ),
        ({"datasets": {"cifar11": {"backbones": ["pixels"]}}}, "datasets.cifar11: unknown name"),
        (
            {"datasets": {"digits": {"backbones": ["resnet"]}}},
            "datasets.digits.backbones.0 = 'resnet': must be one of",
        ),
        ({"aggregations": ["cluster_mean", "point_max"]}, "aggregations.1 = 'point_max'"),
        ({"seeds": [-1]}, "seeds.0 = -1"),
        ({"hierarchy_split": "val"}, "hierarchy_split = 'val'"),
        ({"baselines": {"single_linkage": {}}}, "baselines.single_linkage: unknown name"),
        ({"study": None}, "study: required key is missing"),
        # the config is checked whole: model settings against the model class's signature ...
        (
            {"models": {**DEMO_MODELS, "kmeans": {"n_inti": 3}}},
            "models.kmeans.n_inti = 3: unknown setting of k-means",
        ),
        (
            {"models": {**DEMO_MODELS, "kmeans": {"n_init": "three"}}},
            "models.kmeans.n_init = 'three': k-means (l2h.models.kmeans.KMeans) expects int",
        ),
        # ... a baseline's datasets against the study's ...
        (
            {"baselines": {"point_ward": {"datasets": ["fashion_mnist", "cifar11"]}}},
            "baselines.point_ward.datasets = 'cifar11': not a dataset of this study",
        ),
        # ... and a K sweep's models against the models the study fits
        (
            {"models": {"turtle": {}}},
            "datasets.fashion_mnist.k_sweep.models = 'kmeans': not a model of this study",
        ),
    ],
)
def test_bad_config_fails_before_any_job_in_one_line_naming_key_and_value(
    tmp_path, changes, message
):
    config = write_config(tmp_path / "bad.yaml", **changes)
    result = snakemake("--dry-run", workdir=tmp_path, configfile=config)
    assert result.returncode != 0
    # Snakemake's own notice of the workflow's default profile (profiles/default) may come first
    notice = "Using workflow specific profile"
    lines = [line for line in result.stdout.strip().splitlines() if not line.startswith(notice)]
    assert lines == [lines[0]] and lines[0].startswith(f"config error: {message}"), lines
    assert not (tmp_path / "results").exists()


def test_lint_is_clean():
    for config in (PAPER, DEMO):
        cmd = [sys.executable, "-m", "snakemake", "--lint", "--configfile", str(config)]
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean():
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent))
    if snakefmt is None:
        pytest.skip("snakefmt is not installed in this environment")
    cmd = [snakefmt, "--check", "Snakefile", "rules"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- a tiny real run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Run the tiny study (digits pixels, k-means, cheap baselines, one BYO entry) once."""
    workdir = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    files = {}
    for split, n in (("train", 300), ("test", 100)):
        labels = rng.integers(0, 5, n)
        centres = rng.normal(size=(5, 8)) * 4
        features = centres[labels] + rng.normal(size=(n, 8))
        logits = -((features[:, None, :] - centres[None]) ** 2).sum(-1) / 8
        for kind, array in (("labels", labels), ("features", features), ("logits", logits)):
            files[kind, split] = workdir / f"byo_{kind}_{split}.npy"
            np.save(files[kind, split], array)
    byo = {
        "given_logits": {
            "logits": {s: str(files["logits", s]) for s in ("train", "test")},
            "labels": {s: str(files["labels", s]) for s in ("train", "test")},
            "n_clusters": [5],
        },
        "given_features": {
            "embeddings": {s: str(files["features", s]) for s in ("train", "test")},
            "labels": {s: str(files["labels", s]) for s in ("train", "test")},
            "n_clusters": [5],
        },
    }
    config = write_config(workdir / "tiny.yaml", TINY, byo=byo)
    result = snakemake(workdir=workdir, configfile=config)
    assert result.returncode == 0, result.stdout[-6000:]
    return workdir, config


@pytest.fixture(scope="module")
def metrics(tiny_run):
    return pd.read_csv(tiny_run[0] / "results" / "tiny" / "metrics.csv")


def test_metrics_csv_is_tidy(metrics):
    assert list(metrics.columns) == list(COLUMNS)
    assert set(metrics["dataset"]) == {"digits", "given_logits", "given_features"}
    assert set(metrics["split"]) == {"test"}
    assert set(metrics["method"]) == {"l2h", "centroid_ward", "logit_affinity", "bisecting_kmeans"}
    assert set(metrics.loc[metrics["method"] == "l2h", "aggregation"]) == set(AGGREGATIONS)
    assert set(metrics.loc[metrics["method"] != "l2h", "aggregation"]) == {"none"}
    assert set(metrics.loc[metrics["method"] == "bisecting_kmeans", "model"]) == {"none"}
    assert set(metrics.loc[metrics["dataset"] == "given_logits", "model"]) == {"given"}
    assert set(metrics.loc[metrics["dataset"] == "digits", "n_clusters"]) == {8, 10, 12}
    assert {"nmi", "ari", "acc", "dp", "lp"} <= set(metrics["metric"])
    assert set(metrics["level"]) == {"class"}  # digits has no hierarchy
    keys = [c for c in COLUMNS if c != "value"]
    assert not metrics.duplicated(keys).any()


def test_metric_values_are_in_range_and_far_from_chance(metrics):
    assert np.isfinite(metrics["value"]).all()
    value = metrics.set_index("metric")["value"]
    for name in ("nmi", "acc", "dp", "lp"):
        assert value[name].between(0, 1).all(), name
    digits = metrics[(metrics["dataset"] == "digits") & (metrics["n_clusters"] == 10)]
    nmi = digits[(digits["metric"] == "nmi") & (digits["method"] == "l2h")]["value"]
    assert (nmi > 0.6).all()  # k-means on digits pixels: NMI about 0.7


def test_flat_scores_of_l2h_do_not_depend_on_the_aggregation(metrics):
    l2h_rows = metrics[(metrics["method"] == "l2h") & metrics["metric"].isin(["nmi", "ari", "acc"])]
    keys = ["dataset", "model", "n_clusters", "seed", "metric"]
    spread = l2h_rows.groupby(keys)["value"].agg(lambda v: v.max() - v.min())
    assert (spread == 0).all()


def test_trees_newick_tables_figures_and_provenance_exist(tiny_run):
    results = tiny_run[0] / "results" / "tiny"
    run = results / "trees" / "digits" / "pixels" / "kmeans" / "k10_seed0"
    for aggregation in AGGREGATIONS:
        tree = Hierarchy.load(run / f"l2h_{aggregation}.json")
        assert tree.n_clusters == 10 and tree.aggregation == aggregation
        newick = (run / f"l2h_{aggregation}.nwk").read_text()
        assert newick.endswith(";\n")
        assert sorted(re.findall(r"\(c(\d+)\)", newick), key=int) == [str(k) for k in range(10)]
    for table in ("table1", "table7", "levels", "supervised"):
        for ext in ("csv", "md", "tex"):
            assert (results / "tables" / f"{table}.{ext}").stat().st_size > 0
    pngs = sorted((results / "figures").rglob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert (results / "figures" / "k_sensitivity" / "digits_kmeans.png").is_file()
    provenance = json.loads((results / "provenance.json").read_text())
    assert "git" in json.dumps(provenance) and "numpy" in json.dumps(provenance)


def test_runtime_table_and_figure_cover_every_training_and_tree_job(tiny_run):
    results = tiny_run[0] / "results" / "tiny"
    benchmarks = [
        path
        for rule in ("fit_model", "fit_l2h", "fit_baseline")
        for path in (results / "benchmarks" / rule).rglob("*.tsv")
    ]
    table = pd.read_csv(results / "tables" / "runtime.csv")
    assert len(benchmarks) > 20 and table["n_runs"].sum() == len(benchmarks)
    assert (table["wall_s_mean"] > 0).all()
    assert (
        "| Digits | flat model | k-means training |"
        in (results / "tables" / "runtime.md").read_text()
    )
    assert (results / "figures" / "runtime.pdf").read_bytes()[:5] == b"%PDF-"


def test_every_job_left_a_log_and_a_benchmark(tiny_run):
    results = tiny_run[0] / "results" / "tiny"
    logs = sorted((results / "logs").rglob("*.log"))
    benchmarks = sorted((results / "benchmarks").rglob("*.tsv"))
    assert logs and len(logs) == len(benchmarks)
    for log in logs:
        assert log.read_text().rstrip().endswith("done"), log
    assert not list(results.rglob(".*.tmp*"))  # atomic writes left no temporary file


def test_results_get_the_permissions_open_would_give(tiny_run):
    umask = os.umask(0)
    os.umask(umask)
    results = tiny_run[0] / "results" / "tiny"
    wrong = {
        str(path.relative_to(results)): oct(stat.S_IMODE(path.stat().st_mode))
        for path in results.rglob("*")
        if path.is_file() and stat.S_IMODE(path.stat().st_mode) != 0o666 & ~umask
    }
    assert not wrong  # was 0600 for every file written through a temporary file


def test_provenance_and_logs_record_the_code_behind_every_result(tiny_run):
    results = tiny_run[0] / "results" / "tiny"
    code = json.loads((results / "provenance.json").read_text())["code"]
    assert {"fit_l2h", "fit_model", "evaluate", "tables", "provenance"} <= set(code)
    fit_l2h = code_version(ROOT / "scripts" / "fit_l2h.py", ROOT)
    assert code["fit_l2h"] == fit_l2h and "l2h/algorithm.py" in fit_l2h["files"]
    log = results / "logs" / "fit_l2h" / "digits" / "pixels" / "kmeans" / "k10_seed0"
    assert f"code sha256: {fit_l2h['sha256']}" in (log / "cluster_mean.log").read_text()


def test_editing_a_library_module_plans_the_jobs_that_use_it_again(tiny_run, tmp_path):
    workdir, config = tiny_run
    for name in ("Snakefile", "rules", "scripts", "l2h", "config", "envs"):
        if (ROOT / name).is_dir():  # copies keep their mtimes: scripts stay older than results
            shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__py*"))
        else:
            shutil.copy2(ROOT / name, tmp_path / name)

    def plan() -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "snakemake", "--snakefile", tmp_path / "Snakefile", "-n"]
        cmd += ["--directory", workdir, "--configfile", config, "--cores", "2"]
        return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600)

    unchanged = plan()
    assert "Nothing to be done" in unchanged.stdout, unchanged.stdout[-3000:]
    with (tmp_path / "l2h" / "algorithm.py").open("a") as fh:
        fh.write("# a comment is enough: the hash is of the source text\n")
    edited = plan()
    assert edited.returncode == 0, edited.stdout[-3000:] + edited.stderr[-3000:]
    counts = job_counts(edited.stdout)
    trees = list((workdir / "results" / "tiny" / "trees").rglob("l2h_*.json"))
    assert counts["fit_l2h"] == len(trees) > 0
    assert "Params have changed since last execution" in edited.stdout
    assert counts["provenance"] == 1  # it records the new hash
    assert not {"fit_model", "fit_baseline", "prepare_split", "byo_logits"} & set(counts)


def test_a_second_run_has_nothing_to_do(tiny_run):
    workdir, config = tiny_run
    result = snakemake("--dry-run", workdir=workdir, configfile=config)
    assert result.returncode == 0, result.stdout
    assert "Nothing to be done" in result.stdout


def test_report_holds_the_metrics_table_tables_and_figures(tiny_run):
    workdir, config = tiny_run
    result = snakemake("--report", "report.zip", workdir=workdir, configfile=config)
    assert result.returncode == 0, result.stdout[-3000:]
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        names = [Path(name).name for name in archive.namelist()]
    assert "metrics.csv" in names and "table1.html" in names and "runtime.html" in names
    assert any(name.endswith(".png") for name in names)


# ----------------------------------------------------------------------------- in a browser

CHROMIUM = next(
    (shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH: install Debian's chromium (make system-deps) for the browser test",
)


def chromium(url: str, *args: str, profile: Path) -> subprocess.CompletedProcess:
    """Headless Chromium on ``url``; ``--virtual-time-budget`` lets the page's scripts run."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    cmd += [f"--user-data-dir={profile}", "--hide-scrollbars", "--virtual-time-budget=20000"]
    return subprocess.run(
        [*cmd, *args, url], capture_output=True, text=True, timeout=180, check=True
    )


def screenshot(url: str, path: Path, profile: Path, size: str = "1400,1000") -> np.ndarray:
    """Chromium's screenshot of ``url``, as an RGB array."""
    from matplotlib.image import imread

    chromium(url, f"--screenshot={path}", f"--window-size={size}", profile=profile)
    return imread(path)[..., :3]


def is_blank(image: np.ndarray) -> bool:
    """Whether under 2% of the pixels differ from the page's most common colour."""
    pixels = (image.reshape(-1, 3) * 255).round().astype(np.int64)
    codes = pixels @ np.array([1 << 16, 1 << 8, 1])
    values, counts = np.unique(codes, return_counts=True)
    return counts.max() / codes.size > 0.98 or values.size < 10


@needs_chromium
def test_the_report_opens_in_a_browser_with_every_figure(tiny_run, tmp_path):
    workdir, config = tiny_run
    result = snakemake("--report", "report.html", workdir=workdir, configfile=config)
    assert result.returncode == 0, result.stdout[-3000:]
    page = workdir / "report.html"
    html = page.read_text()
    # Every figure of the study is listed in the report (PNGs; PDFs lie beside them).
    figures = sorted((workdir / "results" / "tiny" / "figures").rglob("*.png"))
    assert len(figures) >= 4 and all(f.with_suffix(".pdf").is_file() for f in figures)
    for figure in figures:
        assert f'"{figure.relative_to(workdir)}"' in html, figure
    # The page as Chromium renders it: not blank, with the workflow description and categories.
    shot = screenshot(page.as_uri(), tmp_path / "report.png", tmp_path / "profile")
    assert shot.shape[:2] == (1000, 1400) and not is_blank(shot)
    dom = chromium(page.as_uri(), "--dump-dom", profile=tmp_path / "profile").stdout
    for text in ("Protocol (as in the paper)", "Dendrograms", "K sensitivity", "Runtime"):
        assert text in dom, text
    # Captions (JSON in the page): the tables' from the library, the figures' in display names.
    for caption in (TABLES["table1"].caption, "Digits, L2H on k-means: NMI, ACC and DP"):
        assert json.dumps(caption)[1:-1] in html, caption
    # A figure renders: the report's own embedded copy of the K-sensitivity figure, shown in an
    # <img> by Chromium, decodes to the figure's size and is not blank.
    name = "digits_kmeans.png"
    embedded = re.search(rf'"(data:image/png;[^"]*filename={name};base64,[^"]+)"', html)
    assert embedded, f"{name} is not embedded in the report"
    figure = workdir / "results" / "tiny" / "figures" / "k_sensitivity" / name
    width, height = _png_size(figure)
    viewer = tmp_path / "figure.html"
    onload = "document.title = 'loaded ' + this.naturalWidth + 'x' + this.naturalHeight"
    viewer.write_text(
        f'<html><body style="margin:0"><img src="{embedded.group(1)}" onload="{onload}">'
        "</body></html>"
    )
    dom = chromium(viewer.as_uri(), "--dump-dom", profile=tmp_path / "profile").stdout
    assert f"<title>loaded {width}x{height}</title>" in dom
    shot = screenshot(viewer.as_uri(), tmp_path / "figure.png", tmp_path / "profile")
    assert not is_blank(shot)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_the_figures_target_redraws_figures_from_existing_results(tiny_run, tmp_path):
    workdir, config = tiny_run
    shutil.copytree(workdir / "results", tmp_path / "results")
    figure = tmp_path / "results" / "tiny" / "figures" / "k_sensitivity" / "digits_kmeans.png"
    figure.unlink()
    result = snakemake("figures", workdir=tmp_path, configfile=config)
    assert result.returncode == 0, result.stdout[-3000:]
    assert figure.is_file()
    assert "rule fit_model" not in result.stdout and "rule fit_l2h" not in result.stdout


def test_rerunning_a_model_run_gives_identical_outputs(tiny_run, tmp_path):
    workdir, config = tiny_run
    shutil.copytree(workdir / "results", tmp_path / "results")
    run = "digits/pixels/kmeans/k10_seed0"
    paths = [
        f"results/tiny/metrics/{run}.csv",
        f"results/tiny/logits/{run}/test.npy",
    ]
    before = {path: (tmp_path / path).read_bytes() for path in paths}
    result = snakemake(
        "--forcerun", "fit_model", "--", paths[0], workdir=tmp_path, configfile=config
    )
    assert result.returncode == 0, result.stdout[-5000:]
    assert "rule fit_model" in result.stdout
    for path, content in before.items():
        assert (tmp_path / path).read_bytes() == content, path


def test_byo_logits_with_the_wrong_number_of_clusters_fail_with_a_clear_error(tiny_run, tmp_path):
    workdir, _ = tiny_run
    logits = {s: str(workdir / f"byo_logits_{s}.npy") for s in ("train", "test")}
    labels = {s: str(workdir / f"byo_labels_{s}.npy") for s in ("train", "test")}
    byo = {"mine": {"logits": logits, "labels": labels, "n_clusters": [7]}}
    config = write_config(
        tmp_path / "byo.yaml", TINY, study="byo", datasets=None, baselines={}, byo=byo
    )
    result = snakemake(workdir=tmp_path, configfile=config)
    assert result.returncode != 0
    # the first of the two byo_logits jobs (train or test, in either order) stops the run
    logs = sorted((tmp_path / "results" / "byo" / "logs" / "byo_logits" / "mine").glob("k7_*.log"))
    assert logs
    assert any("5 columns, but the study's n_clusters is 7" in log.read_text() for log in logs)


# ----------------------------------------------------------------------------- optional TreeVAE


def test_treevae_is_off_by_default_and_planned_when_enabled(tmp_path):
    off = snakemake("--dry-run", workdir=tmp_path, configfile=PAPER)
    assert "treevae" not in job_counts(off.stdout)
    paper = yaml.safe_load(PAPER.read_text())
    config = write_config(tmp_path / "treevae.yaml", paper, treevae={"enabled": True})
    on = snakemake("--dry-run", workdir=tmp_path, configfile=config)
    assert on.returncode == 0, on.stdout[-3000:]
    assert job_counts(on.stdout)["treevae"] == 2 * 3  # CIFAR-10 and CIFAR-100, 3 seeds
    assert "trees/cifar100/pixels/none/k20_seed0/treevae.json" in on.stdout


def test_treevae_fails_fast_and_clearly_offline(tmp_path):
    config = write_config(
        tmp_path / "treevae.yaml",
        TINY,
        study="tv",
        datasets={"cifar10": {"backbones": ["pixels"]}},
        baselines={},
        treevae={"enabled": True, "datasets": ["cifar10"]},
    )
    target = "results/tv/trees/cifar10/pixels/none/k10_seed0/treevae.json"
    result = snakemake("--", target, workdir=tmp_path, configfile=config, timeout=300)
    assert result.returncode != 0
    log = (tmp_path / "results/tv/logs/treevae/cifar10/pixels/none/k10_seed0.log").read_text()
    assert "TreeVAEUnavailableError" in log and "treevae" in log.lower()
    assert not (tmp_path / target).exists()


# ----------------------------------------------------------------------------- supervised setting


def test_supervised_setting_on_a_tiny_imagenet_folder(tmp_path):
    """ImageNet layout with real photos (scikit-learn's samples) -> EfficientNet-Lite0's
    ImageNet logits -> L2H over the 1000 classes -> scores against WordNet."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    china, flower = load_sample_images().images
    root = tmp_path / "imagenet"
    wnids = {"daisy": "n11939491", "palace": "n03877845"}
    for split in ("train", "val"):
        for i in range(3):
            photo = flower if i % 2 else china
            wnid = wnids["daisy"] if i % 2 else wnids["palace"]
            path = root / split / wnid / f"{i}.JPEG"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(photo[:, ::-1] if i == 2 else photo).save(path)
    config = write_config(
        tmp_path / "supervised.yaml",
        TINY,
        study="sup",
        datasets={
            "imagenet": {
                "backbones": ["efficientnet_lite0"],
                "n_clusters": [2],
                "root": str(root),
                "image_size": 64,
            }
        },
        models={"kmeans": {"n_init": 1}},
        seeds=[0],
        aggregations=["cluster_mean"],
        baselines={},
        supervised={"dataset": "imagenet", "classifier": "efficientnet_lite0"},
    )
    result = snakemake(workdir=tmp_path, configfile=config)
    assert result.returncode == 0, result.stdout[-6000:]
    results = tmp_path / "results" / "sup"
    run = "imagenet/efficientnet_lite0/supervised/k1000_seed0"
    logits = np.load(results / "logits" / run / "test.npy")
    assert logits.shape == (3, 1000)
    labels = np.load(results / "data" / "imagenet" / "test" / "labels.npy")
    assert np.isfinite(logits).all()
    # the palace photo (and its mirror image) and the flower photo get different classes
    palace, flower = logits[labels != 985].argmax(axis=1), logits[labels == 985].argmax(axis=1)
    assert set(palace.tolist()).isdisjoint(flower.tolist())
    tree = Hierarchy.load(results / "trees" / run / "l2h_cluster_mean.json")
    assert tree.n_clusters == 1000
    metrics = pd.read_csv(results / "metrics.csv", keep_default_na=False)
    supervised = metrics[metrics["model"] == "supervised"]
    assert set(supervised["n_clusters"]) == {1000}
    assert "lca_spearman" in set(supervised["metric"])
    table = pd.read_csv(results / "tables" / "supervised.csv")
    assert len(table) >= 1


# ----------------------------------------------------------------------------- documentation


def test_docs_workflow_names_only_rules_and_files_that_exist():
    rules = set()
    for path in [ROOT / "Snakefile", *(ROOT / "rules").glob("*.smk")]:
        rules |= set(re.findall(r"^rule (\w+):", path.read_text(), flags=re.MULTILINE))
    text = (ROOT / "docs" / "workflow.md").read_text()
    files = text.split("## Files", 1)[1].split("\n## ", 1)[0]
    named = []
    for row in files.splitlines():
        cells = row.split(" | ")
        if row.startswith("| `") and len(cells) >= 3:
            named += re.findall(r"`(\w+)`", cells[1])
    assert named and set(named) <= rules, set(named) - rules
    for path in re.findall(r"`((?:envs|profiles|config|scripts|rules)/[\w./-]+)`", text):
        assert (ROOT / path).exists(), path
