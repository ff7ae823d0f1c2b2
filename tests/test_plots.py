"""Tests of the figures in l2h.plots (synthetic test data; Agg canvas, no display)."""

from __future__ import annotations

import numpy as np
import pytest
from _synthetic_metrics import synthetic_metrics

import l2h
from l2h.hierarchy import Hierarchy
from l2h.plots import plot_dendrogram, plot_dendrogram_top, plot_k_sensitivity, plot_level_scores

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def metrics():
    return synthetic_metrics()


def _is_png(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG


def test_k_sensitivity_one_point_per_k_and_true_k_line(tmp_path, metrics):
    path = tmp_path / "k.png"
    fig = plot_k_sensitivity(metrics, "cifar100", "turtle", path)
    assert _is_png(path)
    ax = fig.axes[0]
    *score_lines, true_k = ax.lines
    assert len(score_lines) == 3  # nmi, acc, dp
    for line in score_lines:
        np.testing.assert_array_equal(line.get_xdata(), [98, 100, 102])
    # nmi: 0.5 + K/1000 + 0.01 (mean over seeds 0..2 of 0.01 * seed)
    np.testing.assert_allclose(score_lines[0].get_ydata(), [0.608, 0.61, 0.612])
    np.testing.assert_array_equal(true_k.get_xdata(), [100, 100])
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["NMI", "ACC", "DP"]


def test_k_sensitivity_errors(tmp_path, metrics):
    with pytest.raises(ValueError, match="no L2H rows"):
        plot_k_sensitivity(metrics, "cifar100", "temi", tmp_path / "k.png")
    renamed = metrics.replace({"dataset": {"cifar100": "mystery"}})
    with pytest.raises(ValueError, match="true_k"):
        plot_k_sensitivity(renamed, "mystery", "turtle", tmp_path / "k.png")
    fig = plot_k_sensitivity(renamed, "mystery", "turtle", tmp_path / "k.svg", true_k=99)
    assert list(fig.axes[0].lines[-1].get_xdata()) == [99, 99]
    assert (tmp_path / "k.svg").read_text().lstrip().startswith("<?xml")
    assert not (tmp_path / "k.png").exists()


def test_level_scores_one_panel_per_score(tmp_path, metrics):
    path = tmp_path / "levels.png"
    fig = plot_level_scores(metrics, "cifar100", path)
    assert _is_png(path)
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["superclass", "class"]
        assert len(ax.containers) == 1  # one errorbar series: L2H-TURTLE
    line = fig.axes[2].lines[0]  # dp: superclass 0.63, class 0.64
    np.testing.assert_allclose(line.get_ydata(), [0.63, 0.64])
    with pytest.raises(ValueError, match="no level-wise scores"):
        plot_level_scores(metrics, "cifar10", tmp_path / "none.png")


def _eight_cluster_tree() -> Hierarchy:
    steps = [((0,), (1,)), ((2,), (3,)), ((4,), (5,)), ((6,), (7,))]
    steps += [((0, 1), (2, 3)), ((4, 5), (6, 7)), ((0, 1, 2, 3), (4, 5, 6, 7))]
    return Hierarchy(8, steps)


def test_dendrogram_top_labels_subtrees_with_majority_class(tmp_path):
    y_pred = np.repeat(np.arange(8), 5)
    y_true = y_pred // 2  # clusters 2c and 2c+1 hold class c
    y_true[:3] = 1  # cluster 0: 3 points of class 1, 2 of class 0
    path = tmp_path / "top.png"
    fig = plot_dendrogram_top(
        _eight_cluster_tree(),
        path,
        y_true=y_true,
        y_pred=y_pred,
        class_names=["a", "b", "c", "d"],
        n_merges=2,
    )
    assert _is_png(path)
    labels = sorted(t.get_text() for t in fig.axes[0].get_yticklabels())
    # Subtree {0,1,2,3}: class a 7, class b 13 of 20 points; {4,5}: c; {6,7}: d.
    assert labels == ["b (65%, 4 clusters)", "c (100%, 2 clusters)", "d (100%, 2 clusters)"]


def test_dendrogram_top_of_a_large_tree_stays_small(tmp_path):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(600, 100)) * 3
    tree = l2h.fit(logits)
    y_pred = logits.argmax(axis=1)
    y_true = y_pred % 10
    fig = plot_dendrogram_top(
        tree,
        tmp_path / "top.png",
        y_true=y_true,
        y_pred=y_pred,
        class_names=[f"class{i}" for i in range(10)],
        n_merges=30,
    )
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 31
    assert all(label.startswith("class") for label in labels)
    sizes = [int(label.split(", ")[1].split()[0]) for label in labels]
    assert sum(sizes) == 100  # the 31 subtrees partition the 100 clusters


def test_dendrogram_top_rejects_bad_labels(tmp_path):
    tree = _eight_cluster_tree()
    y = np.zeros(10, dtype=int)
    with pytest.raises(ValueError, match="y_pred"):
        plot_dendrogram_top(tree, tmp_path / "x.png", y_true=y, y_pred=y + 8, class_names=["a"])
    with pytest.raises(ValueError, match="y_true"):
        plot_dendrogram_top(tree, tmp_path / "x.png", y_true=y + 1, y_pred=y, class_names=["a"])
    with pytest.raises(ValueError, match="n_merges"):
        plot_dendrogram_top(
            tree, tmp_path / "x.png", y_true=y, y_pred=y, class_names=["a"], n_merges=0
        )
    assert not list(tmp_path.iterdir())


def test_plot_dendrogram_still_writes_atomically(tmp_path):
    path = tmp_path / "d.png"
    plot_dendrogram(_eight_cluster_tree(), list("abcdefgh"), path)
    assert _is_png(path)
    assert [p.name for p in tmp_path.iterdir()] == ["d.png"]


def test_every_figure_can_carry_a_caption_note(tmp_path, metrics):
    note = "REHEARSAL: the numbers mean nothing"
    fig = plot_level_scores(metrics, "cifar100", tmp_path / "l.png", note=note)
    assert fig.get_supxlabel() == note
    fig = plot_k_sensitivity(metrics, "cifar100", "turtle", tmp_path / "k.png", note=note)
    assert fig.get_supxlabel() == note
    assert plot_level_scores(metrics, "cifar100", tmp_path / "l2.png").get_supxlabel() == ""
    tree = _eight_cluster_tree()
    labels = np.repeat(np.arange(8), 3)
    fig = plot_dendrogram_top(
        tree, tmp_path / "t.png", y_true=labels, y_pred=labels, class_names=list("abcdefgh"),
        n_merges=3, note=note,
    )  # fmt: skip
    assert fig.get_supxlabel() == note
    plot_dendrogram(tree, list("abcdefgh"), tmp_path / "d.png", note=note)
    assert _is_png(tmp_path / "d.png")
