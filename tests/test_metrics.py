"""Tests of l2h.metrics: brute-force references, hand-computed cases, bad input, speed."""

from __future__ import annotations

import doctest
import itertools
import math

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch
import sklearn.metrics
from hypothesis import given, settings
from hypothesis import strategies as st

import l2h.metrics as m
from l2h.hierarchy import Hierarchy
from l2h.taxonomy import Taxonomy

# ----------------------------------------------------------------------------- references


def random_linkage(rng: np.random.Generator, k: int) -> np.ndarray:
    """A random binary tree over k leaves (random merge order), scipy numbering."""
    active = list(range(k))
    rows = []
    sizes = [1] * k
    for i in range(k - 1):
        a, b = rng.choice(len(active), size=2, replace=False)
        na, nb = active[a], active[b]
        active = [x for j, x in enumerate(active) if j not in (a, b)] + [k + i]
        sizes.append(sizes[na] + sizes[nb])
        rows.append([na, nb, float(i + 1), sizes[-1]])
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def balanced_linkage(k: int) -> np.ndarray:
    """A balanced binary tree over leaves 0..k-1 (neighbours merged level by level)."""
    level = list(range(k))
    sizes = [1] * k
    rows = []
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            a, b = level[i], level[i + 1]
            sizes.append(sizes[a] + sizes[b])
            rows.append([a, b, float(len(rows) + 1), sizes[-1]])
            nxt.append(k + len(rows) - 1)
        level = nxt + level[len(level) - len(level) % 2 :]
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def leaf_sets(z: np.ndarray) -> list[set[int]]:
    k = z.shape[0] + 1
    sets = [{i} for i in range(k)]
    for a, b in z[:, :2].astype(int):
        sets.append(sets[a] | sets[b])
    return sets


def brute_dp(z: np.ndarray, y_true, y_pred=None) -> float:
    """Dendrogram purity by enumerating all same-class pairs and finding their LCA."""
    y_true = np.asarray(y_true)
    n = len(y_true)
    leaf = np.arange(n) if y_pred is None else np.asarray(y_pred)
    sets = leaf_sets(z)
    total, count = 0.0, 0
    for i, j in itertools.combinations(range(n), 2):
        if y_true[i] != y_true[j]:
            continue
        lca = next(v for v, s in enumerate(sets) if leaf[i] in s and leaf[j] in s)
        under = np.isin(leaf, list(sets[lca]))
        total += np.mean(y_true[under] == y_true[i])
        count += 1
    return total / count if count else m.EMPTY_DP


def brute_lp(y_true, y_pred, k: int) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    best = 0
    for leaf in range(k):
        members = y_true[y_pred == leaf]
        if len(members):
            best += np.bincount(members).max()
    return best / len(y_true)


def brute_acc(y_true, y_pred) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    d = max(y_true.max(), y_pred.max()) + 1
    return max(
        np.mean(np.asarray(perm)[y_pred] == y_true) for perm in itertools.permutations(range(d))
    )


@st.composite
def cluster_case(draw):
    k = draw(st.integers(1, 7))
    n = draw(st.integers(2, 25))
    seed = draw(st.integers(0, 2**32 - 1))
    y_true = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    y_pred = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return random_linkage(np.random.default_rng(seed), k), np.array(y_true), np.array(y_pred)


@st.composite
def point_case(draw):
    n = draw(st.integers(2, 14))
    seed = draw(st.integers(0, 2**32 - 1))
    y_true = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return random_linkage(np.random.default_rng(seed), n), np.array(y_true)


# ----------------------------------------------------------------------------- DP / LP


@settings(max_examples=150, deadline=None)
@given(cluster_case())
def test_dp_lp_match_pair_enumeration_cluster_leaves(case):
    z, y_true, y_pred = case
    expected = brute_dp(z, y_true, y_pred)
    got = m.dendrogram_purity(z, y_true, y_pred)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-12)
    assert m.leaf_purity(z, y_true, y_pred) == pytest.approx(brute_lp(y_true, y_pred, len(z) + 1))


@settings(max_examples=100, deadline=None)
@given(point_case())
def test_dp_matches_pair_enumeration_point_leaves(case):
    z, y_true = case
    expected = brute_dp(z, y_true)
    got = m.dendrogram_purity(z, y_true, leaves="points")
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-12)
    assert m.leaf_purity(z, y_true, leaves="points") == 1.0


def test_dp_hand_computed_cluster_leaves():
    # Tree ((0, 1), 2). Class 0: points in leaves 0 and 2 -> LCA root (4 points, 2 of class 0)
    # -> purity 1/2. Class 1: both in leaf 1 -> purity 1. DP = (1/2 + 1) / 2.
    z = np.array([[0, 1, 1.0, 2], [3, 2, 2.0, 3]])
    assert m.dendrogram_purity(z, [0, 0, 1, 1], [0, 2, 1, 1]) == pytest.approx(0.75)
    # Leaf 0 holds classes {0, 0, 1}: the class-0 pair has purity 2/3; class 1 has one point.
    assert m.dendrogram_purity(z, [0, 0, 1], [0, 0, 0]) == pytest.approx(2 / 3)
    assert m.leaf_purity(z, [0, 0, 0, 1, 1], [0, 0, 0, 1, 1]) == 1.0
    assert m.leaf_purity(z, [0, 0, 1, 1, 1], [0, 0, 0, 1, 1]) == pytest.approx(4 / 5)


def test_dp_hand_computed_point_leaves():
    # ((0, 2), (1, 3)) with labels a a b b: both same-class pairs meet at the root -> 1/2 each.
    z = np.array([[0, 2, 1.0, 2], [1, 3, 1.0, 2], [4, 5, 2.0, 4]])
    assert m.dendrogram_purity(z, ["a", "a", "b", "b"], leaves="points") == pytest.approx(0.5)
    z_good = np.array([[0, 1, 1.0, 2], [2, 3, 1.0, 2], [4, 5, 2.0, 4]])
    assert m.dendrogram_purity(z_good, ["a", "a", "b", "b"], leaves="points") == 1.0


def test_perfect_tree_has_dp_one():
    rng = np.random.default_rng(1)
    # 8 clusters, 2 per class: clusters 2c and 2c+1 hold class c only, merged first.
    k, n = 8, 400
    y_pred = rng.integers(0, k, n)
    y_true = y_pred // 2
    rows = [[0, 1, 1, 0], [2, 3, 1, 0], [4, 5, 1, 0], [6, 7, 1, 0], [8, 9, 2, 0]]
    rows += [[10, 11, 2, 0], [12, 13, 3, 0]]
    z = np.array(rows, dtype=np.float64)
    for i, s in enumerate(leaf_sets(z)[k:]):
        z[i, 3] = len(s)
    assert m.dendrogram_purity(z, y_true, y_pred) == 1.0
    assert m.leaf_purity(z, y_true, y_pred) == 1.0
    # Swapping one point's class breaks the purity.
    y_bad = y_true.copy()
    y_bad[0] = (y_bad[0] + 1) % 4
    assert m.dendrogram_purity(z, y_bad, y_pred) < 1.0


def test_dp_without_same_class_pairs_is_one_and_one_leaf_tree():
    z = np.array([[0, 1, 1.0, 2]])
    assert m.EMPTY_DP == 1.0
    assert m.dendrogram_purity(z, [0, 1, 2], [0, 1, 1]) == 1.0
    one = np.zeros((0, 4))
    assert m.dendrogram_purity(one, [0, 0, 1], [0, 0, 0]) == pytest.approx(
        brute_dp(one, [0, 0, 1], [0, 0, 0])
    )


def test_dp_of_a_single_point_is_defined():
    one = np.zeros((0, 4))
    assert m.dendrogram_purity(one, ["a"], [0]) == 1.0
    assert m.dendrogram_purity(one, [3], leaves="points") == 1.0
    scores = m.evaluate(np.array([[0, 1, 1.0, 2]]), [0], [1])
    assert scores["dp"] == 1.0 and all(np.isfinite(list(scores.values())))


def test_evaluate_mixed_label_types_is_a_value_error():
    z = np.array([[0, 1, 1.0, 2]])
    mixed = np.array([0, "a", 1, "b"], dtype=object)
    with pytest.raises(ValueError, match=r"y_true mixes label types .*int, str"):
        m.evaluate(z, mixed, [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"gt\['coarse'\] mixes label types .*NoneType"):
        m.evaluate(z, [0, 1, 0, 1], [0, 1, 0, 1], gt={"coarse": np.array([0, None, 1, 1])})


@pytest.mark.parametrize(
    ("gt", "match"),
    [
        ("fashion_mnist", r"gt must be a Taxonomy, got the string 'fashion_mnist'.*load_tree"),
        (42, r"gt must be a Taxonomy \(l2h.taxonomy\), got int without n_classes"),
    ],
)
def test_evaluate_gt_that_is_not_a_taxonomy_is_a_value_error(gt, match):
    z = np.array([[0, 1, 1.0, 2]])
    with pytest.raises(ValueError, match=match):
        m.evaluate(z, [0, 1, 0, 1], [0, 1, 0, 1], gt=gt)
    with pytest.raises(ValueError, match="taxonomy must be a Taxonomy"):
        m.mistake_severity(gt, [0, 1], [0, 1])
    with pytest.raises(ValueError, match="taxonomy must be a Taxonomy"):
        m.lca_spearman(np.array([[0, 1, 1.0, 2], [2, 3, 2.0, 3]]), gt)


def test_hierarchy_input_equals_its_linkage():
    rng = np.random.default_rng(2)
    z = random_linkage(rng, 9)
    tree = Hierarchy.from_linkage(z)
    y_true, y_pred = rng.integers(0, 4, 300), rng.integers(0, 9, 300)
    assert m.dendrogram_purity(tree, y_true, y_pred) == m.dendrogram_purity(z, y_true, y_pred)
    assert m.leaf_purity(tree, y_true, y_pred) == m.leaf_purity(z, y_true, y_pred)
    for n_groups in range(1, 10):
        assert np.array_equal(m.cut(tree, n_groups), tree.cut(n_groups))
    assert m.evaluate(tree, y_true, y_pred) == m.evaluate(z, y_true, y_pred)


def test_class_labels_are_only_compared():
    rng = np.random.default_rng(3)
    z = random_linkage(rng, 5)
    y_true, y_pred = rng.integers(0, 3, 60), rng.integers(0, 5, 60)
    names = np.array(["cat", "dog", "eel"])[y_true]
    assert m.dendrogram_purity(z, names, y_pred) == m.dendrogram_purity(z, y_true * 1000, y_pred)
    assert m.dendrogram_purity(z, names, y_pred) == m.dendrogram_purity(z, y_true, y_pred)


# ----------------------------------------------------------------------------- flat metrics


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(
            st.lists(st.integers(0, 5), min_size=1, max_size=30),
            st.lists(st.integers(0, k - 1), min_size=30, max_size=30),
        )
    )
)
def test_acc_matches_brute_force_over_permutations(case):
    y_true, y_pred = case
    y_pred = y_pred[: len(y_true)]
    assert m.acc(y_true, y_pred) == pytest.approx(brute_acc(y_true, y_pred))


def test_acc_rectangular_and_arbitrary_labels():
    # 3 clusters, 2 classes: at most 2 clusters can be matched.
    assert m.acc([0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(4 / 6)
    assert m.acc(["x", "x", "y"], [7, 7, 3]) == 1.0


def test_nmi_ari_agree_with_sklearn():
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.integers(0, 5, 200), rng.integers(0, 7, 200)
    for method in ("arithmetic", "geometric", "min", "max"):
        expected = sklearn.metrics.normalized_mutual_info_score(
            y_true, y_pred, average_method=method
        )
        assert m.nmi(y_true, y_pred, average_method=method) == pytest.approx(expected)
    assert m.nmi(y_true, y_pred) == pytest.approx(
        sklearn.metrics.normalized_mutual_info_score(y_true, y_pred)
    )
    assert m.ari(y_true, y_pred) == pytest.approx(
        sklearn.metrics.adjusted_rand_score(y_true, y_pred)
    )


def test_match_clusters():
    y_true = np.array([0, 0, 1, 1, 1, 0])
    y_pred = np.array([2, 2, 0, 0, 1, 1])
    mapping = m.match_clusters(y_true, y_pred, n_clusters=4)
    # Hungarian gives cluster 2 -> 0 and cluster 0 -> 1; cluster 1 (one point of each class)
    # takes its majority (smallest id on ties); the empty cluster 3 gets -1.
    assert mapping.tolist() == [1, 0, 0, -1]
    assert m.acc(y_true, mapping[y_pred]) >= m.acc(y_true, y_pred)


def test_cut_matches_scipy_fcluster_partition():
    rng = np.random.default_rng(5)
    z = sch.linkage(rng.normal(size=(30, 2)), "average")
    for n_groups in (1, 2, 5, 13, 30):
        ours = m.cut(z, n_groups)
        theirs = sch.fcluster(z, n_groups, "maxclust")
        assert ours.max() + 1 == n_groups
        assert sklearn.metrics.adjusted_rand_score(theirs, ours) == pytest.approx(1.0)
        assert ours[0] == 0


# ----------------------------------------------------------------------------- levels & GT


def small_taxonomy() -> Taxonomy:
    # 6 classes under 2 superclasses {0, 1, 2} and {3, 4, 5}; class 2 sits one level deeper.
    paths = [["A", "a0"], ["A", "a1"], ["A", "deep", "a2"], ["B", "b0"], ["B", "b1"], ["B", "b2"]]
    return Taxonomy.from_paths(paths, levels={"super": 1})


def test_level_scores_cut_to_level_size():
    rng = np.random.default_rng(6)
    y_pred = rng.integers(0, 6, 600)  # supervised: cluster k is class k
    good = np.array([[0, 1, 1, 2], [2, 6, 2, 3], [3, 4, 1, 2], [5, 8, 2, 3], [7, 9, 3, 6]], float)
    bad = np.array([[0, 3, 1, 2], [1, 4, 1, 2], [2, 5, 1, 2], [6, 7, 2, 4], [8, 9, 3, 6]], float)
    super_of = np.array([0, 0, 0, 1, 1, 1])
    scores = m.level_scores(good, super_of[y_pred], y_pred)
    assert scores == {"nmi": pytest.approx(1.0), "acc": 1.0, "dp": 1.0}
    worse = m.level_scores(bad, super_of[y_pred], y_pred)
    assert worse["acc"] < 1.0 and worse["nmi"] < 0.5 and worse["dp"] < 1.0
    assert worse["dp"] == pytest.approx(m.dendrogram_purity(bad, super_of[y_pred], y_pred))


def test_mistake_severity_against_brute_force():
    tax = small_taxonomy()
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 6, 200)
    y_hat = np.where(rng.random(200) < 0.5, y_true, rng.integers(0, 6, 200))
    depth = {0: 2, 1: 2, 2: 3, 3: 2, 4: 2, 5: 2}

    def dist(a, b):
        if a == b:
            return 0
        lca = 1 if (a < 3) == (b < 3) else 0
        return max(depth[a], depth[b]) - lca

    wrong = y_hat != y_true
    expected = np.mean([dist(a, b) for a, b in zip(y_hat[wrong], y_true[wrong], strict=True)])
    assert m.mistake_severity(tax, y_true, y_hat, matched=True) == pytest.approx(expected)
    # As clusters: a relabelled prediction gives the same severity after matching.
    perm = np.array([3, 5, 0, 1, 4, 2])
    assert m.mistake_severity(tax, y_true, perm[y_hat]) == pytest.approx(expected)
    assert math.isnan(m.mistake_severity(tax, y_true, y_true, matched=True))


def test_lca_spearman():
    tax = small_taxonomy()
    assert m.lca_spearman(tax.linkage(), tax) == pytest.approx(1.0)
    flipped = np.array(
        [[0, 3, 1, 2], [1, 4, 1, 2], [2, 5, 1, 2], [6, 7, 2, 4], [8, 9, 3, 6]], float
    )
    assert m.lca_spearman(flipped, tax) < 0
    # Mapping clusters to classes: reversing the cluster order with the matching mapping.
    order = np.arange(6)[::-1]
    z = tax.linkage().copy()
    ids = z[:, :2]
    ids[ids < 6] = order[ids[ids < 6].astype(int)]
    assert m.lca_spearman(z, tax, cluster_to_class=order) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="cluster_to_class"):
        m.lca_spearman(np.array([[0, 1, 1, 2], [2, 3, 2, 3]], float), tax)


def test_evaluate_keys_and_values():
    tax = small_taxonomy()
    rng = np.random.default_rng(8)
    y_true = rng.integers(0, 6, 500)
    y_pred = np.where(rng.random(500) < 0.8, y_true, rng.integers(0, 6, 500))
    tree = tax.to_hierarchy()
    out = m.evaluate(tree, y_true, y_pred, gt=tax)
    assert list(out) == [
        "nmi", "ari", "acc", "lp", "dp", "nmi@super", "acc@super", "dp@super",
        "mistake_severity", "lca_spearman",
    ]  # fmt: skip
    assert out["acc"] == pytest.approx(m.acc(y_true, y_pred))
    assert out["dp"] == m.dendrogram_purity(tree, y_true, y_pred)
    assert out["lp"] == m.leaf_purity(tree, y_true, y_pred)
    super_true = tax.cut("super")[y_true]
    assert out["dp@super"] == pytest.approx(m.dendrogram_purity(tree, super_true, y_pred))
    assert out["lca_spearman"] == pytest.approx(1.0)
    mapping = {"super": super_true}
    assert m.evaluate(tree, y_true, y_pred, gt=mapping) == {
        k: v for k, v in out.items() if k not in ("mistake_severity", "lca_spearman")
    }
    assert list(m.evaluate(tree, y_true, y_pred)) == ["nmi", "ari", "acc", "lp", "dp"]


def test_evaluate_point_leaves():
    rng = np.random.default_rng(9)
    centers = np.array([[0, 0], [30, 0], [30, 8]])
    y_true = rng.integers(0, 3, 90)
    z = sch.linkage(centers[y_true] + rng.normal(size=(90, 2)), "ward")
    out = m.evaluate(z, y_true, leaves="points", gt={"coarse": (y_true > 0).astype(int)})
    assert out["acc"] == 1.0 and out["lp"] == 1.0 and out["dp"] == 1.0
    assert out["nmi@coarse"] == pytest.approx(1.0)
    noisy = m.evaluate(z, (y_true + (rng.random(90) < 0.3)) % 3, leaves="points")
    assert noisy["acc"] < 1.0 and noisy["dp"] < 1.0


# ----------------------------------------------------------------------------- bad input


def test_bad_inputs_raise_clear_errors():
    z = np.array([[0, 1, 1.0, 2], [2, 3, 2.0, 3]])
    with pytest.raises(ValueError, match="same length"):
        m.dendrogram_purity(z, [0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="< 3"):
        m.dendrogram_purity(z, [0, 1], [0, 3])
    with pytest.raises(ValueError, match="non-negative"):
        m.leaf_purity(z, [0, 1], [0, -1])
    with pytest.raises(ValueError, match="integer"):
        m.dendrogram_purity(z, [0, 1], [0.5, 1.0])
    with pytest.raises(ValueError, match="required when"):
        m.dendrogram_purity(z, [0, 1])
    with pytest.raises(ValueError, match="must be None"):
        m.dendrogram_purity(z, [0, 1, 1], [0, 1, 2], leaves="points")
    with pytest.raises(ValueError, match="one label per leaf"):
        m.dendrogram_purity(z, [0, 1], leaves="points")
    with pytest.raises(ValueError, match="leaves must be one of"):
        m.dendrogram_purity(z, [0, 1], [0, 1], leaves="nodes")
    with pytest.raises(ValueError, match="shape"):
        m.dendrogram_purity(np.zeros((2, 3)), [0, 1], [0, 1])
    with pytest.raises(ValueError, match="not a valid linkage"):
        m.dendrogram_purity(np.array([[0, 3, 1.0, 2], [1, 2, 2.0, 3]]), [0], [0])
    with pytest.raises(ValueError, match="not a valid linkage"):
        m.dendrogram_purity(np.array([[0, 1, 1.0, 2], [0, 3, 2.0, 3]]), [0], [0])
    with pytest.raises(ValueError, match="1-D"):
        m.acc([[0, 1]], [[0, 1]])
    with pytest.raises(ValueError, match="same length"):
        m.nmi([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        m.ari([], [])
    with pytest.raises(ValueError, match="n_groups"):
        m.cut(z, 4)


# ----------------------------------------------------------------------------- speed & docs


def test_imagenet_scale_and_point_level_trees():
    """Sizes of the real study run (timings: benchmarks/bench_metrics.py)."""
    rng = np.random.default_rng(10)
    n, k = 1_281_167, 1000
    y_true, y_pred = rng.integers(0, 1000, n), rng.integers(0, k, n)
    z = balanced_linkage(k)
    dp = m.dendrogram_purity(z, y_true, y_pred)
    lp = m.leaf_purity(z, y_true, y_pred)
    assert 0 < dp < 0.01 and 0 < lp < 0.01  # random labels: near chance
    y_points = rng.integers(0, 100, 10_000)
    zp = balanced_linkage(10_000)
    assert sch.is_valid_linkage(zp)
    assert 0 < m.dendrogram_purity(zp, y_points, leaves="points") < 0.1


def test_docstring_examples():
    assert doctest.testmod(m).failed == 0


def test_cluster_names_by_majority_class_or_as_the_classes_themselves():
    names = ["cat", "dog", "eel"]
    assert m.cluster_names([0, 0, 1, 2], [1, 1, 0, 0], names, 3) == [
        "dog (c0)",  # a tie between dog and eel: the smaller class
        "cat (c1)",
        "empty (c2)",
    ]
    supervised = m.cluster_names([0, 0], [2, 2], names, 3, clusters_are_classes=True)
    assert supervised == ["cat (c0)", "dog (c1)", "eel (c2)"]
    with pytest.raises(ValueError, match="beyond the 3 class names"):
        m.cluster_names([5], [0], names, 1)
