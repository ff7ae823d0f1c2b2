# Target functions: the study's runs and the files they produce, built from the validated config.
# Nothing else lives here (no rules, no side effects). Wildcards:
#   dataset   registered dataset or bring-your-own name
#   space     one embedding backbone (files under embeddings/)
#   backbone  the spaces a model trains on, joined by "+" ("pixels" for raw-pixel baselines,
#             "given" for bring-your-own embeddings or logits, the classifier in the supervised
#             setting)
#   model     flat model, "none" for model-free baselines, "given" for bring-your-own logits,
#             "supervised" for a pretrained classifier
#   method    "l2h_<aggregation>" or a baseline name

import re

from l2h.backbones import BACKBONES
from l2h.baselines import BASELINES
from l2h.baselines.treevae import TREEVAE_CONFIGS
from l2h.datasets import DATASETS
from l2h.models import MODELS
from l2h.names import display_name
from l2h.provenance import STAND_IN_NOTE
from l2h.runtime import CAPTION as RUNTIME_TABLE_CAPTION
from l2h.runtime import run_title
from l2h.tables import TABLE_FORMATS, TABLES

HIERARCHY_SPLIT = config["hierarchy_split"]
EVAL_SPLITS = config["eval_splits"]
BYO = config["byo"]
SUPERVISED = config.get("supervised")
# Which inputs each baseline reads ("features", "logits", "pixels"), from the library's registry.
BASELINE_INPUTS = {name: info.inputs for name, info in BASELINES.items()}
# Values of the model wildcard that are no registered model (see the header).
NO_MODEL = ["none", "given", "supervised"]
RUN = "{dataset}/{backbone}/{model}/k{k}_seed{seed}"
# Stand-in backbones (rehearsals): passed to the jobs that run networks; every table and
# figure then carries CAPTION_NOTE ("the numbers mean nothing").
STAND_IN = config["stand_in_backbones"]
CAPTION_NOTE = STAND_IN_NOTE if STAND_IN else None


def alternatives(names):
    """A wildcard constraint matching exactly ``names``."""
    return "|".join(re.escape(name) for name in names)


def dataset_names():
    """Registered datasets of the study, then its bring-your-own entries."""
    return [*config["datasets"], *BYO]


def spaces(dataset):
    """The embedding spaces of a dataset ([] for bring-your-own logits)."""
    if dataset in BYO:
        return ["given"] if "embeddings" in BYO[dataset] else []
    return list(config["datasets"][dataset]["backbones"])


def backbone(dataset):
    """The backbone wildcard of a dataset's model runs."""
    return "+".join(spaces(dataset)) or "given"


def main_ks(dataset):
    """The study's K values for a dataset (default: its number of classes)."""
    settings = BYO[dataset] if dataset in BYO else config["datasets"][dataset]
    if "n_clusters" in settings:
        return list(settings["n_clusters"])
    if dataset in BYO:
        raise ValueError(f"byo entry {dataset!r}: give n_clusters")
    return [DATASETS[dataset].n_classes]


def sweep_ks(dataset, model):
    """Extra K values of the K-sensitivity sweep for (dataset, model)."""
    sweep = config["datasets"].get(dataset, {}).get("k_sweep")
    if not sweep or model not in sweep["models"]:
        return []
    return [k for k in sweep["values"] if k not in main_ks(dataset)]


def models(dataset):
    """Flat models fitted on a dataset."""
    if dataset in BYO and "logits" in BYO[dataset]:
        return ["given"]
    return list(config["models"])


def model_runs(sweep=True):
    """One dict of wildcards per flat-model run (dataset, backbone, model, k, seed)."""
    runs = []
    for dataset in dataset_names():
        for model in models(dataset):
            seeds = [0] if model == "given" else config["seeds"]
            ks = main_ks(dataset) + (sweep_ks(dataset, model) if sweep else [])
            runs += [
                dict(
                    dataset=dataset,
                    backbone=backbone(dataset),
                    model=model,
                    k=k,
                    seed=seed,
                )
                for k in ks
                for seed in seeds
            ]
    if SUPERVISED:
        runs.append(
            dict(
                dataset=SUPERVISED["dataset"],
                backbone=SUPERVISED["classifier"],
                model="supervised",
                k=DATASETS[SUPERVISED["dataset"]].n_classes,
                seed=0,
            )
        )
    return runs


def l2h_trees():
    """Wildcards of every L2H tree: every aggregation at the main K, cluster_mean in sweeps."""
    trees = []
    for run in model_runs():
        main = run["model"] == "supervised" or run["k"] in main_ks(run["dataset"])
        for aggregation in config["aggregations"] if main else ["cluster_mean"]:
            trees.append(dict(run, method=f"l2h_{aggregation}"))
    return trees


def baseline_datasets(name):
    """Datasets a baseline runs on: those listed in its settings, else all that fit."""
    settings = config["baselines"][name] or {}
    names = settings.get("datasets") or dataset_names()
    inputs = BASELINE_INPUTS[name]
    if "pixels" in inputs:
        return [d for d in names if d in config["datasets"]]
    if "features" in inputs:
        return [d for d in names if spaces(d)]
    return names


def baseline_trees():
    """Wildcards of every baseline tree."""
    trees = []
    for name in config["baselines"]:
        inputs = BASELINE_INPUTS[name]
        for dataset in baseline_datasets(name):
            if "logits" in inputs:
                trees += [
                    dict(run, method=name)
                    for run in model_runs(sweep=False)
                    if run["dataset"] == dataset and run["model"] != "supervised"
                ]
                continue
            bb = "pixels" if "pixels" in inputs else backbone(dataset)
            trees += [
                dict(
                    dataset=dataset,
                    backbone=bb,
                    model="none",
                    k=k,
                    seed=seed,
                    method=name,
                )
                for k in main_ks(dataset)
                for seed in config["seeds"]
            ]
    return trees


def treevae_trees():
    """Wildcards of the optional TreeVAE trees (raw pixels, its configs' leaf counts)."""
    settings = config["treevae"]
    if not settings.get("enabled"):
        return []
    return [
        dict(
            dataset=dataset,
            backbone="pixels",
            model="none",
            k=TREEVAE_CONFIGS[dataset]["leaves"],
            seed=seed,
            method="treevae",
        )
        for dataset in settings.get("datasets", list(TREEVAE_CONFIGS))
        if dataset in config["datasets"]
        for seed in config["seeds"]
    ]


def all_trees():
    """Wildcards of every tree of the study (L2H, baselines, TreeVAE)."""
    return l2h_trees() + baseline_trees() + treevae_trees()


def run_key(tree):
    """The model run a tree belongs to."""
    return (
        tree["dataset"],
        tree["backbone"],
        tree["model"],
        int(tree["k"]),
        int(tree["seed"]),
    )


def metric_tables():
    """Per-run metric tables (all trees of a run) that make up results/<study>/metrics.csv."""
    runs = dict.fromkeys(run_key(tree) for tree in ALL_TREES)
    keys = ("dataset", "backbone", "model", "k", "seed")
    return [
        f"results/{STUDY}/metrics/{RUN}.csv".format(**dict(zip(keys, run)))
        for run in runs
    ]


#: Formats of every figure: PNG (shown in the report) and PDF (for papers).
FIGURE_FORMATS = ("png", "pdf")


def figure_files(stems):
    """Every format of each figure (path without suffix)."""
    return [f"{stem}.{ext}" for stem in stems for ext in FIGURE_FORMATS]


def dendrogram_figures():
    """Two views (top of the tree, whole tree in a circle) per main-K L2H tree."""
    stems = [
        f"results/{STUDY}/figures/dendrograms/{RUN}/{{method}}".format(**tree)
        for tree in l2h_trees()
        if tree["method"] == "l2h_cluster_mean"
        and (tree["model"] == "supervised" or tree["k"] in main_ks(tree["dataset"]))
    ]
    return figure_files(stems + [f"{stem}_radial" for stem in stems])


def k_sensitivity_figures():
    """One K-sensitivity figure per (dataset, model) with a K sweep."""
    return figure_files(
        f"results/{STUDY}/figures/k_sensitivity/{dataset}_{model}"
        for dataset in config["datasets"]
        for model in models(dataset)
        if sweep_ks(dataset, model)
    )


def level_figures():
    """One per-level score figure per dataset with a ground-truth hierarchy."""
    return figure_files(
        f"results/{STUDY}/figures/levels/{dataset}"
        for dataset in dataset_names()
        if dataset_taxonomy_name(dataset)
    )


def runtime_figures():
    """The runtime figure of the study."""
    return figure_files([f"results/{STUDY}/figures/runtime"])


def dataset_taxonomy_name(dataset):
    """The registered dataset whose ground-truth hierarchy applies to ``dataset``, or None.

    Whether a registered dataset has a tree is its registry entry's ``has_tree``.
    """
    if dataset in BYO:
        return BYO[dataset].get("taxonomy")
    return dataset if DATASETS[dataset].has_tree else None


def table_files(study=None, names=TABLES):
    """Every paper table (l2h.tables.TABLES) in every format (CSV, Markdown, LaTeX, HTML), of
    ``study`` (default: this study)."""
    study = STUDY if study is None else study
    return [
        f"results/{study}/tables/{table}.{ext}"
        for table in names
        for ext in TABLE_FORMATS
    ]


def runtime_table_files(study=None):
    """The runtime table (l2h.runtime) in every format."""
    return table_files(study, names=["runtime"])


def figures():
    """Every figure of the study (the target of rule ``figures``)."""
    return (
        dendrogram_figures()
        + k_sensitivity_figures()
        + level_figures()
        + runtime_figures()
    )


def all_outputs():
    """Default targets: metrics, tables, figures, every tree and the provenance record."""
    trees = [
        f"results/{STUDY}/trees/{RUN}/{{method}}.json".format(**tree)
        for tree in ALL_TREES
    ]
    return [
        f"results/{STUDY}/metrics.csv",
        f"results/{STUDY}/provenance.json",
        *table_files(),
        *runtime_table_files(),
        *figures(),
        *trees,
    ]


# ----------------------------------------------------------------------------- input functions


def dataset_settings(wildcards):
    """The config entry of ``wildcards.dataset`` (registered or bring-your-own)."""
    return BYO.get(wildcards.dataset) or config["datasets"][wildcards.dataset]


def download_marker(wildcards):
    """The download job of a registered dataset (none for bring-your-own entries)."""
    if wildcards.dataset in BYO:
        return []
    return [f"results/{{study}}/data/{wildcards.dataset}/download.done"]


def space_files(wildcards, split):
    """Embedding files of the spaces of ``wildcards.backbone`` for one split."""
    names = wildcards.backbone.split("+")
    return [f"results/{{study}}/embeddings/{{dataset}}/{s}/{split}.npy" for s in names]


def model_params(wildcards):
    """Hyperparameters of ``wildcards.model``: the study's ``models`` entry, then the dataset's
    own ``datasets.<name>.models`` entry over it (empty: the model's defaults)."""
    params = dict(config["models"][wildcards.model] or {})
    own = config["datasets"].get(wildcards.dataset, {}).get("models", {})
    params.update(own.get(wildcards.model) or {})
    return params


def baseline_inputs(wildcards):
    """The files a baseline tree needs, for the hierarchy split and every evaluation split."""
    inputs = BASELINE_INPUTS[wildcards.baseline]
    splits = sorted({HIERARCHY_SPLIT, *EVAL_SPLITS})
    files = {}
    for split in splits:
        if "features" in inputs or "pixels" in inputs:
            files[f"features_{split}"] = space_files(wildcards, split)
        if "logits" in inputs:
            files[f"logits_{split}"] = f"results/{{study}}/logits/{RUN}/{split}.npy"
    return files


def evaluation_taxonomy(wildcards):
    """How the evaluation job gets the ground-truth hierarchy: a dict of what to load, or None.

    In the supervised setting the leaves are the classifier's classes (the dataset's own, e.g.
    ImageNet's, compared with WordNet); otherwise the dataset's own hierarchy (if it has one).
    """
    supervised = wildcards.model == "supervised"
    name = (
        SUPERVISED["dataset"]
        if supervised
        else dataset_taxonomy_name(wildcards.dataset)
    )
    if name is None:
        return None
    root = config["datasets"].get(name, {}).get("root")
    return {"dataset": name, "root": root, "clusters_are_classes": supervised}


def run_methods(wildcards):
    """The methods (``l2h_<aggregation>`` or a baseline) of every tree of one run."""
    w = wildcards
    key = (w.dataset, w.backbone, w.model, int(w.k), int(w.seed))
    return [tree["method"] for tree in ALL_TREES if run_key(tree) == key]


def evaluation_inputs(wildcards):
    """Trees of one run, what predicts each evaluation point's leaf, and the labels."""
    methods = run_methods(wildcards)
    base = f"results/{{study}}/trees/{RUN}"
    files = {
        "trees": [f"{base}/{method}.json" for method in methods],
        "labels": [
            f"results/{{study}}/data/{{dataset}}/{s}/labels.npy" for s in EVAL_SPLITS
        ],
    }
    if any(method.startswith("l2h_") for method in methods):
        files["logits"] = [
            f"results/{{study}}/logits/{RUN}/{s}.npy" for s in EVAL_SPLITS
        ]
    files["leaves"] = [
        f"{base}/{method}_{s}_leaves.npy"
        for method in methods
        if not method.startswith("l2h_")
        for s in EVAL_SPLITS
    ]
    return files


ALL_TREES = all_trees()


# ----------------------------------------------------------------------------- runtime


def benchmark_file(job):
    """The benchmark file (the `benchmark` directive) of a training or tree job."""
    run = RUN.format(**job)
    stem = f"results/{{study}}/benchmarks/{job['rule']}/{run}"
    if job["rule"] == "fit_l2h":
        return f"{stem}/{job['method'].removeprefix('l2h_')}.tsv"
    if job["rule"] == "fit_baseline":
        return f"{stem}/{job['method']}.tsv"
    return f"{stem}.tsv"


def runtime_jobs():
    """Every job the runtime table covers (l2h.runtime.JOB_RULES): its rule, wildcards and
    benchmark file."""
    jobs = [
        dict(run, rule="fit_model") for run in model_runs() if run["model"] in MODELS
    ]
    jobs += [dict(tree, rule="fit_l2h") for tree in l2h_trees()]
    jobs += [dict(tree, rule="fit_baseline") for tree in baseline_trees()]
    jobs += [dict(tree, rule="treevae") for tree in treevae_trees()]
    return [dict(job, benchmark=benchmark_file(job)) for job in jobs]


RUNTIME_JOBS = runtime_jobs()


# ----------------------------------------------------------------------------- report
# Every report() output is captioned by report/caption.rst, which prints the job's
# params.caption (tables: report/tables/<name>.rst, its params.captions entry). Captions and
# categories use display names (l2h.names); file names keep the raw ids.

CAPTION_FILE = "../report/caption.rst"


def _noted(text):
    return text if CAPTION_NOTE is None else f"{CAPTION_NOTE}. {text}"


TABLE_CAPTIONS = {name: _noted(spec.caption) for name, spec in TABLES.items()}
RUNTIME_CAPTION = _noted(
    f"{RUNTIME_TABLE_CAPTION}, from the jobs' Snakemake benchmark files: every flat model's "
    "training, every L2H tree and every baseline tree, mean ± std over seeds; the figure "
    "shows each dataset's main K (wall time on a log scale). The table is written as CSV, "
    "Markdown, LaTeX and HTML (tables/runtime.*), the figure as PNG and PDF."
)


def figure(stem, category, subcategory=None):
    """One figure's outputs: the PNG, in the report with the job's caption, and the PDF."""
    png = report(
        f"{stem}.png", caption=CAPTION_FILE, category=category, subcategory=subcategory
    )
    return [png, f"{stem}.pdf"]


def table_outputs(study):
    """The tables' outputs: each table's HTML in the report (its own caption), the
    other formats beside it."""
    outputs = []
    for name in TABLES:
        for path in table_files(study, names=[name]):
            if path.endswith(".html"):
                caption = f"../report/tables/{name}.rst"
                path = report(path, caption=caption, category="Tables")
            outputs.append(path)
    return outputs


def runtime_outputs(study):
    """The runtime job's outputs: the table (HTML in the report) and the figure."""
    table = []
    for path in runtime_table_files(study):
        if path.endswith(".html"):
            path = report(path, caption=CAPTION_FILE, category="Runtime")
        table.append(path)
    return table + figure(f"results/{study}/figures/runtime", category="Runtime")


def dataset_subcategory(wildcards):
    """A report subcategory per dataset, by its display name."""
    return display_name("dataset", wildcards.dataset)


def tree_title(wildcards):
    """A tree's title in display names: dataset, method, flat model, backbone, K, seed."""
    w = wildcards
    return run_title(w.dataset, w.backbone, w.model, w.method, w.k, w.seed)


def dendrogram_caption(wildcards):
    return _noted(
        f"{tree_title(wildcards)}. The tree is built from the {HIERARCHY_SPLIT} split's "
        f"logits; its leaves are labelled with the {HIERARCHY_SPLIT} split's points: majority "
        "class, that class's share of the points, number of points (and of clusters, for a "
        "collapsed subtree). Top view: the last merges of the tree, the subtrees below them "
        "collapsed (the whole tree when it is small). Radial view: the whole tree, its top "
        "subtrees coloured as in the top view. Each figure is also written as PDF."
    )


def k_sensitivity_caption(wildcards):
    model = display_name("model", wildcards.model)
    return _noted(
        f"{display_name('dataset', wildcards.dataset)}, L2H on {model}: NMI, ACC and DP on the "
        "test split against the number of clusters K, mean ± std over seeds (the paper's "
        "Figure 5); the dashed line marks the true number of classes. Scores on an axis from "
        "0 to 1. Also written as PDF."
    )


def levels_caption(wildcards):
    return _noted(
        f"{display_name('dataset', wildcards.dataset)}: NMI, ACC and DP on the test split at "
        "each level of the ground-truth hierarchy, coarse to fine (each tree cut into as many "
        "groups as the level has labels), mean ± std over seeds. L2H: strong lines with "
        "markers; baselines: thin muted lines. Also written as PDF."
    )


# ----------------------------------------------------------------------------- job resources
# What a job asks a cluster for, decided here for every rule. Locally only `threads` limit
# anything (and `gpu`, given `--resources gpu=1`).

import math
import os
import shutil

#: Rules whose every job computes on a GPU when there is one (ImageNet classifiers, TreeVAE).
#: Per-name facts come from the library's registries (see ``uses_gpu``).
GPU_RULES = {"classifier_logits", "treevae"}


def uses_gpu(rulename, wildcards):
    """Whether a job computes on a GPU when the study has one (the registries say, per name)."""
    if rulename == "embed":
        return BACKBONES[wildcards.space].uses_gpu
    if rulename == "fit_model":
        return MODELS[wildcards.model].uses_gpu
    if rulename == "fit_baseline":
        return BASELINES[wildcards.baseline].uses_gpu
    return rulename in GPU_RULES


def gpus(wildcards, rulename):
    """Resource ``gpu`` of a job: 1 if it computes on a GPU and the study's device is not cpu.

    This one number decides the rest: the SLURM partition (the profile's partition file sends
    jobs with a GPU to ``gpu``, the others to ``cpu``), the torch device (``torch_device``), the
    conda env (``torch_env``) and whether the job joins a group (``job_group``).
    """
    return int(config["device"] != "cpu" and uses_gpu(rulename, wildcards))


def torch_device(wildcards, resources):
    """Param ``device``: the study's device for a job with a GPU, else ``cpu``."""
    return config["device"] if resources.gpu else "cpu"


def torch_env(name):
    """Conda env of a torch rule: ``envs/<name>-cuda.yaml`` (a CUDA build of PyTorch) for jobs
    with a GPU, else ``envs/<name>.yaml``."""

    def env(wildcards, params):
        return f"../envs/{name}{'' if params.device == 'cpu' else '-cuda'}.yaml"

    return env


#: Cluster job groups (Snakemake's ``group:``): the jobs of one group that depend on each other go
#: to the cluster as one job, which runs them one after the other (the slurm profile gives every
#: job one "lane" and a group job one lane). Jobs with a GPU are never grouped: they hold their
#: GPU alone. Embeddings through a model are not grouped either: they are long, and run in
#: parallel.
DATA_GROUP = "data_{dataset}"
"""A dataset's download, labels, class names and raw pixels (or its bring-your-own copies)."""
RUN_GROUP = "run_{dataset}_{backbone}_{model}_k{k}_seed{seed}"
"""A model run's model (without a GPU), L2H trees, baselines, evaluation and dendrograms."""


def job_group(rulename, name):
    """The ``group:`` of ``rulename``: ``name`` filled with a job's wildcards, or no group for a
    job with a GPU."""

    def group(wildcards):
        if gpus(wildcards, rulename):
            return None
        return name.format(**dict(wildcards.items()))

    return group


def embed_group(wildcards):
    """The ``group:`` of an embedding job: raw pixels (no model, a reshape of the images)
    join their dataset's data group; embeddings through a model run alone."""
    if BACKBONES[wildcards.space].needs_torch:
        return None
    return DATA_GROUP.format(dataset=wildcards.dataset)


#: Memory requests in MB, per rule (base, MB per MB of the job's input files). Bases cover the
#: interpreter, libraries and model weights (demo peaks, from results/<study>/benchmarks/*.tsv:
#: torch jobs 0.5-1.8 GB, numpy jobs 0.1-0.3 GB); the factor covers the copies a job keeps of
#: its inputs. embed and classifier_logits read only the row indices (8 bytes an image): 2000 MB
#: per MB is 16 kB an image (up to 6 kB of features, up to 12 kB of raw pixels or images).
#: byo rules count the user's file they copy.
MEMORY = {
    "download": (2000, 0),
    "prepare_split": (2000, 0),
    "class_names": (2000, 0),
    "embed": (6000, 2000),
    "classifier_logits": (6000, 2000),
    "byo_embeddings": (1000, 2),
    "byo_logits": (1000, 2),
    "fit_model": (2000, 2),
    "fit_l2h": (1000, 1),
    "fit_baseline": (2000, 3),
    "treevae": (32000, 0),
    "evaluate": (1000, 2),
    "collect_metrics": (1000, 5),
    "provenance": (1000, 0),
    "tables": (1000, 5),
    "plot_dendrogram": (1000, 1),
    "plot_k_sensitivity": (1000, 5),
    "plot_levels": (1000, 5),
    "runtime": (1000, 0),
}


def input_mb(rulename, wildcards, input):
    """MB of a job's input files that exist (inside a group job, the files its other jobs
    write do not exist yet when it is submitted: they are counted as 0)."""
    if rulename in ("byo_embeddings", "byo_logits"):
        kind = rulename.removeprefix("byo_")
        paths = [BYO[wildcards.dataset][kind][wildcards.split]]
    else:
        paths = list(input)
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p)) / 1e6


def mem_mb(wildcards, input, attempt, rulename):
    """Resource ``mem_mb``: (base + factor x input MB) of ``MEMORY``, doubled on every retry
    (``attempt`` 2, 3, ...: the profile retries a job killed for lack of memory)."""
    base, factor = MEMORY[rulename]
    first = math.ceil(base + factor * input_mb(rulename, wildcards, input))
    return first * 2 ** (attempt - 1)


def check_conda_available():
    """Stop with instructions when the run asks for conda envs (``--sdm conda``, as the slurm
    profile sets) on a machine without conda; Snakemake itself would only say that
    ``conda info`` failed, even for a dry run."""
    from snakemake.exceptions import WorkflowError
    from snakemake.settings.types import DeploymentMethod

    settings = getattr(workflow, "deployment_settings", None)
    if settings is None or DeploymentMethod.CONDA not in settings.deployment_method:
        return
    if settings.conda_base_path or shutil.which("conda") or shutil.which("mamba"):
        return
    raise WorkflowError(
        "this run uses conda envs (--sdm conda, or --profile slurm), but there is no conda "
        "here; to run every job in this Python environment instead, add --sdm env-modules "
        "(no rule uses environment modules)"
    )
