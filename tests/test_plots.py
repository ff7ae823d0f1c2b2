"""Tests of the figures in l2h.plots (synthetic test data; Agg canvas, no display)."""

from __future__ import annotations

import numpy as np
import pytest
from _synthetic_metrics import synthetic_metrics

import l2h
from l2h.hierarchy import Hierarchy
from l2h.plots import (
    TOP_VIEW_LEAVES,
    node_labels,
    plot_dendrogram,
    plot_dendrogram_radial,
    plot_dendrogram_top,
    plot_k_sensitivity,
    plot_level_scores,
    plot_runtime,
)

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
    legend = fig.legends[0]  # outside the axes
    assert [t.get_text() for t in legend.get_texts()] == ["NMI", "ACC", "DP", "true K = 100"]
    assert ax.get_ylim() == pytest.approx((0.0, 1.02))  # from 0: no exaggerated differences
    assert "CIFAR-100: L2H-TURTLE on CLIP ViT-L/14 + DINOv2 ViT-g/14" in ax.get_title()


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
    assert [t.get_text() for t in fig.axes[-1].get_xticklabels()] == ["superclass", "class"]
    for ax in fig.axes:
        assert len(ax.containers) == 1  # one errorbar series: L2H-TURTLE
        assert ax.get_ylim()[0] == 0.0
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["L2H-TURTLE"]
    assert fig.get_suptitle().startswith("CIFAR-100: ")
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
    assert labels == [
        "b: 65% of 20, 4 clusters",
        "c: 100% of 10, 2 clusters",
        "d: 100% of 10, 2 clusters",
    ]


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
    sizes = [int(label.rsplit(", ", 1)[1].split()[0]) for label in labels]
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


def _synthetic_study(k: int, n_classes: int = 20, seed: int = 0):
    """A tree over ``k`` clusters from synthetic logits whose clusters group into classes."""
    rng = np.random.default_rng(seed)
    n = 6 * k
    y_pred = np.arange(n) % k
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y_pred] += 6.0
    # Clusters of one class share logit mass, so that L2H groups them.
    cls_of = np.arange(k) * n_classes // k
    for c in range(n_classes):
        members = np.flatnonzero(cls_of == c)
        logits[np.ix_(np.flatnonzero(cls_of[y_pred] == c), members)] += 2.0
    y_true = cls_of[y_pred].copy()
    flip = rng.random(n) < 0.1
    y_true[flip] = rng.integers(0, n_classes, flip.sum())
    names = [f"class {c}" for c in range(n_classes)]
    return l2h.fit(logits), y_true, logits.argmax(axis=1), names


@pytest.mark.parametrize("k", [10, 100, 1000])
def test_dendrograms_stay_readable_at_k(tmp_path, k):
    tree, y_true, y_pred, names = _synthetic_study(k, n_classes=min(k, 20))
    paths = [tmp_path / f"top_k{k}.png", tmp_path / f"top_k{k}.pdf"]
    fig = plot_dendrogram_top(
        tree, paths, y_true=y_true, y_pred=y_pred, class_names=names, title=f"K = {k}"
    )
    assert _is_png(paths[0]) and paths[1].read_bytes()[:5] == b"%PDF-"
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == min(k, TOP_VIEW_LEAVES)  # never more rows than the top view holds
    assert all(label.startswith("class ") and "% of " in label for label in labels)
    if k <= TOP_VIEW_LEAVES:  # whole tree: every leaf is one cluster, named (cN)
        assert all("(c" in label for label in labels)
    else:  # collapsed subtrees partition the K clusters
        counts = [
            int(lab.rsplit(", ", 1)[1].split()[0]) if "clusters" in lab else 1 for lab in labels
        ]
        assert sum(counts) == k
        # The drawn merges fill the width: the axis spans the top merges only, not 0..K.
        low, high = sorted(fig.axes[0].get_xlim())
        assert low >= k - TOP_VIEW_LEAVES - 1 and high <= k + 1
    # Text fits the figure: no label runs off the canvas.
    renderer = _renderer(fig)
    box = fig.bbox
    for text in fig.axes[0].get_yticklabels():
        extent = text.get_window_extent(renderer)
        assert extent.x0 >= box.x0 - 4 and extent.x1 <= box.x1 + 4  # hinting: a few pixels
    radial = [tmp_path / f"radial_k{k}.png", tmp_path / f"radial_k{k}.pdf"]
    fig = plot_dendrogram_radial(tree, radial, y_true=y_true, y_pred=y_pred, class_names=names)
    assert _is_png(radial[0]) and radial[1].stat().st_size > 0
    leaf_texts = [t for t in fig.axes[0].texts]
    assert len(leaf_texts) == k  # every leaf is labelled
    if k <= 10:  # every coloured group is one labelled leaf: no legend
        assert not fig.legends
    else:  # the top 10 subtrees, named
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
        assert len(legend) == 10 and all(t.endswith(" clusters") for t in legend)


def test_node_labels_share_size_and_empty():
    tree = _eight_cluster_tree()
    z = np.asarray(tree.linkage())
    counts = np.zeros((15, 2), dtype=int)
    counts[0] = [3, 1]
    counts[8] = [3, 1]  # merge of leaves 0 and 1 (leaf 1 empty)
    labels = node_labels(z, counts, ["cat", "dog"])
    assert labels[0] == "cat (c0): 75% of 4"
    assert labels[1] == "empty (c1): no points"
    assert labels[8] == "cat: 75% of 4, 2 clusters"
    assert (
        node_labels(z, counts, ["cat", "dog"], leaf_classes=[1, 0] * 4)[0] == "dog (c0): 25% of 4"
    )


def test_level_scores_sets_l2h_apart_with_distinct_colours(tmp_path, metrics):
    from matplotlib.colors import to_hex

    extra = metrics[(metrics["dataset"] == "cifar100") & (metrics["method"] == "l2h")].copy()
    frames = [metrics]
    for i, name in enumerate(["centroid_ward", "centroid_cosine", "logit_affinity", "point_ward"]):
        part = extra.assign(method=name, aggregation="none", value=extra["value"] - 0.1 * i)
        frames.append(part)
    import pandas as pd

    both = pd.concat(frames, ignore_index=True)
    both = both[(both["dataset"] == "cifar100") & (both["n_clusters"] == 100)]
    paths = [tmp_path / "levels.png", tmp_path / "levels.pdf"]
    fig = plot_level_scores(both, "cifar100", paths)
    assert _is_png(paths[0]) and paths[1].read_bytes()[:5] == b"%PDF-"
    lines = [bars.lines[0] for bars in fig.axes[0].containers]  # the data line of each series
    colours = [to_hex(line.get_color()) for line in lines]
    assert len(set(colours)) == len(colours) == 5
    widths = [line.get_linewidth() for line in lines]
    l2h_line = lines[0]  # L2H comes first
    assert l2h_line.get_marker() not in (None, "None", "")
    assert l2h_line.get_linewidth() > max(widths[1:])
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[0] == "L2H-TURTLE" and all("_" not in t for t in texts)
    # The legend lies outside the panels.
    renderer = _renderer(fig)
    legend_box = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        assert not legend_box.overlaps(ax.get_window_extent(renderer))


def test_level_scores_readable_at_sixteen_levels(tmp_path):
    import pandas as pd

    from l2h.results import COLUMNS

    levels = [f"depth{d}" for d in range(1, 16)] + ["class"]
    rows = [
        ("imagenet", "b", "turtle", "l2h", "cluster_mean", 1000, 0, "test", level, m, 0.5)
        for level in levels
        for m in ("nmi", "acc", "dp")
    ]
    fig = plot_level_scores(
        pd.DataFrame(rows, columns=list(COLUMNS)), "imagenet", tmp_path / "l.png"
    )
    ticks = fig.axes[-1].get_xticklabels()
    assert [t.get_text() for t in ticks][:2] == ["depth 1", "depth 2"]
    renderer = _renderer(fig)
    assert ticks[0].get_rotation() == 45
    # Rotated labels stay apart when their ends lie further apart than a line of text is high.
    ends = [t.get_window_extent(renderer).x1 for t in ticks]
    line = ticks[0].get_fontsize() * fig.dpi / 72
    assert min(np.diff(ends)) > 1.2 * line


def test_runtime_figure_and_table(tmp_path):
    from l2h.runtime import runtime_rows, write_runtime

    jobs, paths = [], []
    for i, (rule, method, model) in enumerate(
        [
            ("fit_model", None, "turtle"),
            ("fit_l2h", "l2h_cluster_mean", "turtle"),
            ("fit_baseline", "centroid_ward", "turtle"),
            ("fit_baseline", "deepect", "none"),
        ]
    ):
        for seed in (0, 1):
            path = tmp_path / f"b{i}_{seed}.tsv"
            path.write_text(
                "s\th:m:s\tmax_rss\tmax_vms\n"
                f"{10.0**i + seed}\t0:00:01\t{100 * (i + 1) + seed}\t1\n"
            )
            bb = "pixels" if model == "none" else "efficientnet_lite0"
            jobs.append(
                dict(rule=rule, dataset="fashion_mnist", backbone=bb, model=model, k=10, seed=seed,
                     method=method)
            )  # fmt: skip
            paths.append(path)
    rows = write_runtime(jobs, paths, tmp_path / "runtime")
    md = (tmp_path / "runtime.md").read_text()
    row = "| Fashion-MNIST | flat model | TURTLE training | EfficientNet-Lite0 | 10 | 2 |"
    assert f"{row} 1.50 ± 0.71 | 100 ± 1 |" in md
    assert "L2H-TURTLE (cluster mean)" in md and "DeepECT" in md
    # a job under a second has no measured memory, whatever its benchmark file says
    short = tmp_path / "short.tsv"
    short.write_text("s\th:m:s\tmax_rss\tmax_vms\n0.4\t0:00:00\t3.2\t1\n")
    one = runtime_rows(jobs[:1], [short])
    assert one.at[0, "wall_s"] == 0.4 and np.isnan(one.at[0, "max_rss_mb"])
    assert r"\toprule" in (tmp_path / "runtime.tex").read_text()
    back = pd_read(tmp_path / "runtime.csv")
    assert list(back["wall_s_mean"]) == [1.5, 10.5, 100.5, 1000.5]
    fig = plot_runtime(rows, [tmp_path / "runtime.png", tmp_path / "runtime.pdf"])
    assert _is_png(tmp_path / "runtime.png")
    assert fig.axes[0].get_xscale() == "log"
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0] == "TURTLE training" and labels[1] == "L2H-TURTLE (cluster mean)"


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return FigureCanvasAgg(fig).get_renderer()


def pd_read(path):
    import pandas as pd

    return pd.read_csv(path)
