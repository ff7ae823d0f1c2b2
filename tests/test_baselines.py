"""Hierarchical baselines: valid trees, good DP on a known two-level mixture, bad inputs."""

from __future__ import annotations

import doctest
import importlib.util
import json
import os
import subprocess
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch

import l2h.baselines as B
from l2h.baselines import BASELINES, BaselineData, run_baseline, treevae
from l2h.baselines.cheap import collapse_linkage
from l2h.baselines.deepect import hierarchy_from_cluster_tree
from l2h.baselines.treevae import (
    TREEVAE_COMMIT,
    TreeVAEUnavailableError,
    checkout_treevae,
    hierarchy_from_parents,
    load_treevae_result,
    run_treevae,
)
from l2h.hierarchy import Hierarchy
from l2h.metrics import ari, dendrogram_purity

CHEAP = ["centroid_ward", "centroid_cosine", "logit_affinity", "point_ward", "bisecting_kmeans"]
N_SUPER, PER_SUPER = 4, 3
K = N_SUPER * PER_SUPER


def mixture(n: int, seed: int, dim: int = 16):
    """Two-level Gaussian mixture: 4 super-groups of 3 classes; flat logits from the truth."""
    rng = np.random.default_rng(0)  # the same centres for every split
    super_centres = rng.normal(size=(N_SUPER, dim)) * 4.0
    centres = np.repeat(super_centres, PER_SUPER, axis=0) + rng.normal(size=(K, dim)) * 1.2
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, size=n)
    x = centres[y] + rng.normal(size=(n, dim)) * 0.4
    second = x @ np.random.default_rng(1).normal(size=(dim, 8))  # a second space
    logits = -((x[:, None, :] - centres[None]) ** 2).sum(axis=2) / 8.0
    data = BaselineData(features=[x.astype(np.float32), second], logits=logits)
    return data, y, y // PER_SUPER


@pytest.fixture(scope="module")
def splits():
    return mixture(600, seed=1), mixture(300, seed=2)


@pytest.mark.parametrize("name", CHEAP)
def test_cheap_baseline_recovers_the_two_level_hierarchy(name, splits):
    (fit, _, _), (test, y, coarse) = splits
    tree, leaves = run_baseline(name, fit=fit, evaluate=test, n_clusters=K, seed=0)
    assert isinstance(tree, Hierarchy) and tree.n_clusters == K
    assert leaves.shape == (300,) and leaves.dtype == np.int64
    assert leaves.min() >= 0 and leaves.max() < K
    assert sch.is_valid_linkage(tree.linkage())
    assert dendrogram_purity(tree, y, leaves) > 0.95
    assert dendrogram_purity(tree, coarse, leaves) > 0.95
    assert ari(y, leaves) > 0.95


def test_dp_threshold_separates_a_random_tree(splits):
    """The 0.95 bar above is meaningful: a random tree over the true classes stays far below."""
    (_, _, _), (test, y, coarse) = splits
    dps = []
    for seed in range(5):
        z = sch.linkage(np.random.default_rng(seed).normal(size=(K, 2)), "average")
        dps.append(dendrogram_purity(Hierarchy.from_linkage(z), coarse, y))
    assert max(dps) < 0.85


@pytest.mark.parametrize("name", ["point_ward", "bisecting_kmeans", "centroid_ward"])
def test_same_seed_same_result(name, splits):
    (fit, _, _), (test, _, _) = splits
    a = run_baseline(name, fit=fit, evaluate=test, n_clusters=K, seed=3)
    b = run_baseline(name, fit=fit, evaluate=test, n_clusters=K, seed=3)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


def test_evaluate_defaults_to_fit(splits):
    (fit, y, _), _ = splits
    tree, leaves = run_baseline("logit_affinity", fit=fit, n_clusters=K)
    assert leaves.shape == y.shape
    np.testing.assert_array_equal(leaves, fit.logits.argmax(axis=1))


def test_point_ward_subsample_and_collapse(splits):
    (fit, _, coarse_fit), (test, y, coarse) = splits
    tree, leaves = run_baseline(
        "point_ward", fit=fit, evaluate=test, n_clusters=N_SUPER, max_points=120, seed=5
    )
    assert tree.n_clusters == N_SUPER and leaves.shape == (300,)
    assert ari(coarse, leaves) > 0.95
    with pytest.raises(ValueError, match="exceeds the 5 subsampled"):
        run_baseline("point_ward", fit=fit, n_clusters=6, max_points=5)


def test_collapse_linkage_matches_fcluster():
    x = np.random.default_rng(0).normal(size=(40, 3))
    z = sch.linkage(x, "ward")
    for k in (1, 2, 5, 40):
        top, leaf = collapse_linkage(z, k)
        assert top.shape == (k - 1, 4) and leaf.shape == (40,)
        assert sorted(np.unique(leaf)) == list(range(k))
        if k > 1:
            assert sch.is_valid_linkage(top) and top[-1, 3] == k
            assert ari(sch.fcluster(z, k, "maxclust"), leaf) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n_leaves"):
        collapse_linkage(z, 41)


def test_bisecting_kmeans_heights_grow_to_the_root(splits):
    (fit, y, _), _ = splits
    tree, leaves = run_baseline("bisecting_kmeans", fit=fit, n_clusters=K)
    assert sch.is_monotonic(tree.linkage())
    assert ari(y, leaves) > 0.95


def test_one_cluster_trees(splits):
    (fit, _, _), _ = splits
    tree, leaves = run_baseline("point_ward", fit=fit, n_clusters=1)
    assert tree.n_clusters == 1 and set(leaves.tolist()) == {0}
    one = BaselineData(features=fit.features, logits=fit.logits[:, :1])
    for name in ("centroid_ward", "centroid_cosine", "logit_affinity"):
        tree, leaves = run_baseline(name, fit=one, n_clusters=1)
        assert tree.n_clusters == 1 and set(leaves.tolist()) == {0}


def test_empty_cluster_gets_soft_centroid_with_warning(splits):
    (fit, _, _), _ = splits
    logits = np.concatenate([fit.logits, fit.logits[:, :1] - 50.0], axis=1)
    data = BaselineData(features=fit.features, logits=logits)
    with pytest.warns(UserWarning, match=r"clusters \[12\] have no points"):
        tree, leaves = run_baseline("centroid_ward", fit=data, n_clusters=K + 1)
    assert tree.n_clusters == K + 1 and leaves.max() < K
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run_baseline("logit_affinity", fit=data, n_clusters=K + 1)[0].n_clusters == K + 1


def test_bad_inputs(splits):
    (fit, _, _), (test, _, _) = splits
    with pytest.raises(ValueError, match="unknown baseline 'nope'; known: centroid_ward"):
        run_baseline("nope", fit=fit, n_clusters=K)
    with pytest.raises(ValueError, match="fit.logits is required"):
        run_baseline("centroid_ward", fit=BaselineData(features=fit.features), n_clusters=K)
    with pytest.raises(ValueError, match="evaluate.features is required"):
        run_baseline("point_ward", fit=fit, evaluate=BaselineData(logits=test.logits), n_clusters=K)
    with pytest.raises(ValueError, match="disagree on the number of points"):
        run_baseline(
            "centroid_ward",
            fit=BaselineData(features=fit.features, logits=fit.logits[:-1]),
            n_clusters=K,
        )
    with pytest.raises(ValueError, match="evaluate.logits has 11 columns|fit.logits has 12"):
        run_baseline(
            "logit_affinity",
            fit=fit,
            evaluate=BaselineData(logits=test.logits[:, 1:]),
            n_clusters=K,
        )
    nan = fit.features[0].copy()
    nan[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"fit.features\[0\] contains NaN"):
        run_baseline("bisecting_kmeans", fit=BaselineData(features=[nan]), n_clusters=K)
    with pytest.raises(ValueError, match="logits have 12 columns"):
        run_baseline("centroid_cosine", fit=fit, n_clusters=10)
    with pytest.raises(ValueError, match="must be a 2-D array"):
        run_baseline("logit_affinity", fit=BaselineData(logits=fit.logits[0]), n_clusters=K)
    with pytest.raises(ValueError, match="n_clusters must be at least 1"):
        run_baseline("logit_affinity", fit=fit, n_clusters=0)
    with pytest.raises(TypeError, match="unknown parameter"):
        run_baseline("point_ward", fit=fit, n_clusters=K, max_pts=5)
    with pytest.raises(ValueError, match=r"pixels must lie in \[0, 1\]"):
        run_baseline("deepect", fit=BaselineData(pixels=np.full((4, 3), 255.0)), n_clusters=2)


def test_registry_and_docstring_example():
    import inspect

    assert set(CHEAP) <= set(BASELINES)
    signature = inspect.signature(BASELINES["point_ward"].function).parameters
    assert BASELINES["point_ward"].hyperparameters() == {
        "max_points": signature["max_points"].default
    }
    assert doctest.testmod(B).failed == 0


# ----------------------------------------------------------------------------- DeepECT


def test_hierarchy_from_cluster_tree_with_pruned_labels():
    def node(labels=None, left=None, right=None):
        return SimpleNamespace(labels=labels, left_node_=left, right_node_=right)

    # ((5, (0, 2)) with ClustPy labels 5, 0, 2 (1, 3, 4 pruned away)
    root = node(left=node([5]), right=node(left=node([0]), right=node([2])))
    tree, mapping = hierarchy_from_cluster_tree(root)
    assert mapping == {0: 0, 2: 1, 5: 2}
    assert tree.steps == [((0,), (1,)), ((2,), (0, 1))]
    assert tree.heights.tolist() == [1.0, 2.0]


def test_deepect_tiny_run_on_digits():
    torch = pytest.importorskip("torch")
    pytest.importorskip("clustpy")
    from sklearn.datasets import load_digits

    torch.set_num_threads(1)
    x, y = load_digits(return_X_y=True)
    fit, test = BaselineData(pixels=x[:300] / 16.0), BaselineData(pixels=x[300:400] / 16.0)
    params = dict(pretrain_epochs=2, clustering_epochs=4, grow_interval=1, batch_size=64)
    runs = [
        run_baseline("deepect", fit=fit, evaluate=test, n_clusters=4, device="cpu", **params)
        for _ in range(2)
    ]
    tree, leaves = runs[0]
    assert 2 <= tree.n_clusters <= 4
    assert leaves.shape == (100,) and 0 <= leaves.min() and leaves.max() < tree.n_clusters
    assert 0.0 < dendrogram_purity(tree, y[300:400], leaves) <= 1.0
    assert runs[1][0] == tree
    np.testing.assert_array_equal(runs[1][1], leaves)


# ----------------------------------------------------------------------------- TreeVAE


def test_treevae_commit_is_pinned_in_full():
    assert len(TREEVAE_COMMIT) == 40 and int(TREEVAE_COMMIT, 16) >= 0


def test_treevae_checkout_fails_fast_offline(tmp_path, monkeypatch):
    start = time.monotonic()
    with pytest.raises(TreeVAEUnavailableError, match="cannot fetch .* at 9e6a30c4") as err:
        checkout_treevae(tmp_path, url=str(tmp_path / "no-such-repo"))
    assert "\n" not in str(err.value) and "check out that commit yourself" in str(err.value)
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    with pytest.raises(TreeVAEUnavailableError, match="git is not installed"):
        checkout_treevae(tmp_path)
    assert time.monotonic() - start < 30
    assert [p.name for p in tmp_path.iterdir()] == []  # no half-made checkout left


def _git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t")
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_treevae_checkout_from_a_local_repository(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.py").write_text("print('treevae')\n")
    _git(src, "init", "-q")
    _git(src, "add", "main.py")
    _git(src, "commit", "-q", "-m", "x")
    commit = _git(src, "rev-parse", "HEAD")
    dest = checkout_treevae(tmp_path / "cache", url=str(src), commit=commit)
    assert (dest / "main.py").read_text() == "print('treevae')\n"
    assert checkout_treevae(tmp_path / "cache", url="unused", commit=commit) == dest  # cached
    with pytest.raises(ValueError, match="full 40-hex"):
        checkout_treevae(tmp_path, commit="9e6a30c4")


def test_hierarchy_from_parents_skips_pruned_nodes():
    # 0 -> (1, 2); 1 -> 3 (pruned, one child); 3 -> (4, 5); leaves 2, 4, 5 (BFS leaf order)
    parents = [None, 0, 0, 1, 3, 3]
    leaves = [None, None, 0, None, 1, 2]
    tree = hierarchy_from_parents(parents, leaves)
    assert tree.n_clusters == 3
    assert tree.steps == [((1,), (2,)), ((1, 2), (0,))]
    with pytest.raises(ValueError, match="one root"):
        hierarchy_from_parents([None, None], [0, 1])
    with pytest.raises(ValueError, match="leaf indices"):
        hierarchy_from_parents([None, 0, 0], [None, 0, 0])


def test_load_treevae_result(tmp_path):
    nodes = [
        {"id": 0, "parent": None, "leaf": None},
        {"id": 1, "parent": 0, "leaf": 0},
        {"id": 2, "parent": 0, "leaf": 1},
    ]
    (tmp_path / "tree.json").write_text(json.dumps({"nodes": nodes}))
    np.save(tmp_path / "leaf_labels_test.npy", np.array([0, 1, 1]))
    tree, leaves = load_treevae_result(tmp_path)
    assert tree.n_clusters == 2 and leaves.tolist() == [0, 1, 1]
    np.save(tmp_path / "leaf_labels_test.npy", np.array([0, 2]))
    with pytest.raises(ValueError, match="outside 0..1"):
        load_treevae_result(tmp_path)


def test_run_treevae_checks_before_fetching(tmp_path):
    with pytest.raises(ValueError, match="unknown TreeVAE data set"):
        run_treevae("mnist", tmp_path, cache_dir=tmp_path, data_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown TreeVAE override"):
        run_treevae(
            "cifar10", tmp_path, cache_dir=tmp_path, data_dir=tmp_path, overrides={"epochs": 1}
        )
    with pytest.raises(TreeVAEUnavailableError, match="cifar-100-python is missing"):
        run_treevae("cifar100", tmp_path, cache_dir=tmp_path, data_dir=tmp_path)


# ----------------------------------------------------------------------------- benchmark


def test_bench_baselines_quick(capsys):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_baselines.py"
    spec = importlib.util.spec_from_file_location("bench_baselines", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick"])
    out = capsys.readouterr().out
    for name in [*CHEAP, "l2h.fit"]:
        assert name in out, out
    assert "DP(coarse)" in out


FAKE_REPO = {  # the repository's entry points that the driver calls, reduced to a toy tree
    "main.py": "",
    "utils/utils.py": (
        "def prepare_config(args, project_dir):\n"
        "    return {'globals': {'seed': args.seed}, 'training': vars(args)}\n"
        "def reset_random_seeds(seed):\n"
        "    pass\n"
    ),
    "utils/data_utils.py": (
        "import numpy as np\n"
        "class Split:\n"
        "    def __init__(self, n):\n"
        "        self.dataset = type('D', (), {'targets': list(range(10, 20))})()\n"
        "        self.indices = np.arange(n)\n"
        "def get_data(configs):\n"
        "    return Split(6), Split(6), Split(4)\n"
        "def get_gen(data, configs, validation=False, shuffle=True):\n"
        "    return data\n"
    ),
    "utils/training_utils.py": (
        "import torch\n"
        "def predict(loader, model, device, flag):\n"
        "    n = len(loader.indices)\n"
        "    return torch.nn.functional.one_hot(torch.arange(n) % 3, 3).float()\n"
    ),
    "train/train_tree.py": (
        "class Node:\n"
        "    def __init__(self, router=None, decoder=None, left=None, right=None):\n"
        "        self.router, self.decoder, self.left, self.right = router, decoder, left, right\n"
        "def run_tree(trainset, trainset_eval, testset, device, configs):\n"
        "    split = Node(router=1, left=Node(decoder=1), right=Node(decoder=1))\n"
        "    pruned = Node(left=split)\n"
        "    return type('M', (), {'tree': Node(router=1, left=pruned, right=Node(decoder=1))})\n"
    ),
    "site/wandb/__init__.py": "def init(**kwargs):\n    pass\n",
    "site/torchmetrics/__init__.py": "",
}


def test_run_treevae_end_to_end_with_a_toy_repository(tmp_path, monkeypatch):
    """The driver runs the repository's functions and its outputs load as a Hierarchy."""
    import sys

    repo = tmp_path / "repo"
    for rel, text in FAKE_REPO.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "toy")
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={repo / "site"} exec {sys.executable} "$@"\n')
    python.chmod(0o755)
    (tmp_path / "data" / "cifar-10-batches-py").mkdir(parents=True)
    kwargs = dict(
        cache_dir=tmp_path / "cache",
        data_dir=tmp_path / "data",
        python=str(python),
        url=str(repo),
        commit=_git(repo, "rev-parse", "HEAD"),
        overrides={"num_epochs": 1},
    )
    with monkeypatch.context() as patch:
        patch.setattr(treevae, "_REQUIREMENTS", (*treevae._REQUIREMENTS, "no_such_module_l2h"))
        with pytest.raises(TreeVAEUnavailableError, match="lacks no_such_module_l2h; install"):
            run_treevae("cifar10", tmp_path / "out", **kwargs)
    out = run_treevae("cifar10", tmp_path / "out", **kwargs)
    tree, leaves = load_treevae_result(out)
    # breadth-first leaves: the root's right leaf is 0, the pruned branch holds leaves 1 and 2
    assert tree.n_clusters == 3 and tree.groups(2) == [(0,), (1, 2)]
    assert leaves.tolist() == [0, 1, 2, 0]
    assert np.load(out / "y_test.npy").tolist() == [10, 11, 12, 13]
    assert load_treevae_result(out, "train")[1].shape == (6,)
