"""Tests for :mod:`l2h.hierarchy`."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch
from hypothesis import given, settings
from hypothesis import strategies as st

from l2h.hierarchy import JSON_AGGREGATIONS, Hierarchy

CHAIN3 = [((0,), (1,)), ((0, 1), (2,))]
BALANCED4 = [((2,), (3,)), ((0,), (1,)), ((0, 1), (2, 3))]


# ---------------------------------------------------------------------------- helpers


def random_steps(rng: np.random.Generator, k: int) -> list[tuple[tuple[int, ...], ...]]:
    """A uniformly random merge sequence over ``k`` clusters."""
    alive: list[tuple[int, ...]] = [(i,) for i in range(k)]
    steps = []
    for _ in range(k - 1):
        i, j = rng.choice(len(alive), size=2, replace=False)
        a, b = alive[i], alive[j]
        steps.append((a, b))
        alive = [g for n, g in enumerate(alive) if n not in (i, j)] + [a + b]
    return steps


@st.composite
def hierarchies(draw: Any, max_k: int = 12, default_heights: bool = False) -> Hierarchy:
    """Hypothesis strategy for valid hierarchies, optionally with random heights."""
    k = draw(st.integers(1, max_k))
    alive: list[tuple[int, ...]] = [(i,) for i in range(k)]
    steps = []
    for _ in range(k - 1):
        i = draw(st.integers(0, len(alive) - 1))
        j = draw(st.integers(0, len(alive) - 2))
        j += j >= i
        steps.append((alive[i], alive[j]))
        alive = [g for n, g in enumerate(alive) if n not in (i, j)] + [alive[i] + alive[j]]
    heights = None
    if not default_heights and draw(st.booleans()):
        finite = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
        heights = draw(st.lists(finite, min_size=k - 1, max_size=k - 1))
    aggregation = draw(st.sampled_from([None, "sum", "product"]))
    return Hierarchy(k, steps, aggregation=aggregation, heights=heights)


def expected_structure(tree: Hierarchy, names: list[str]) -> Any:
    """Nested tuples of leaf names following the steps (children in (A, B) order)."""
    k = tree.n_clusters
    nodes: list[Any] = list(names)
    for row in tree.linkage().astype(int):
        nodes.append((nodes[row[0]], nodes[row[1]]))
    return nodes[2 * k - 2]


def parse_newick(text: str) -> dict[str, Any]:
    """Tiny Newick parser: nodes are dicts with ``name``, ``length`` and ``children``."""
    pos = 0

    def label() -> str:
        nonlocal pos
        if text[pos] == "'":
            out = []
            pos += 1
            while True:
                if text[pos] == "'" and text[pos + 1 : pos + 2] == "'":
                    out.append("'")
                    pos += 2
                elif text[pos] == "'":
                    pos += 1
                    return "".join(out)
                else:
                    out.append(text[pos])
                    pos += 1
        start = pos
        while text[pos] not in "(),:;":
            pos += 1
        return text[start:pos]

    def node() -> dict[str, Any]:
        nonlocal pos
        children = []
        if text[pos] == "(":
            pos += 1
            children.append(node())
            while text[pos] == ",":
                pos += 1
                children.append(node())
            assert text[pos] == ")"
            pos += 1
        name = label()
        length = None
        if text[pos] == ":":
            start = pos = pos + 1
            while text[pos] not in "(),;":
                pos += 1
            length = float(text[start:pos])
        return {"name": name, "length": length, "children": children}

    root = node()
    assert text[pos:] == ";", f"trailing text {text[pos:]!r}"
    return root


def parsed_structure(node: dict[str, Any]) -> Any:
    """Nested tuples of leaf names of a parsed Newick tree."""
    if not node["children"]:
        return node["name"]
    return tuple(parsed_structure(c) for c in node["children"])


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label vectors define the same partition (up to relabelling)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


# ---------------------------------------------------------------------------- construction


def test_basic_attributes() -> None:
    tree = Hierarchy(4, BALANCED4, aggregation="sum")
    assert tree.n_clusters == 4
    assert tree.steps == BALANCED4
    assert tree.aggregation == "sum"
    assert tree.heights.dtype == np.float64
    np.testing.assert_array_equal(tree.heights, [1.0, 2.0, 3.0])
    assert len(tree) == 3
    assert repr(tree) == "Hierarchy(n_clusters=4, aggregation='sum')"


def test_steps_are_python_int_tuples_from_numpy_input() -> None:
    steps = [(np.array([0]), [np.int64(1)]), (np.array([0, 1]), (np.int32(2),))]
    tree = Hierarchy(np.int64(3), steps)
    assert tree.steps == CHAIN3
    assert all(type(i) is int for a, b in tree.steps for i in a + b)
    assert all(isinstance(g, tuple) for step in tree.steps for g in step)
    assert type(tree.n_clusters) is int


def test_heights_are_read_only_and_steps_a_copy() -> None:
    heights = [0.5, 0.5]
    tree = Hierarchy(3, CHAIN3, heights=heights)
    heights[0] = 9.0
    np.testing.assert_array_equal(tree.heights, [0.5, 0.5])
    with pytest.raises(ValueError, match="read-only"):
        tree.heights[0] = 3.0
    tree.steps.append(((5,), (6,)))
    assert len(tree.steps) == 2


def test_non_monotone_heights_are_allowed() -> None:
    tree = Hierarchy(3, CHAIN3, heights=[2.0, 1.0])
    np.testing.assert_array_equal(tree.linkage()[:, 2], [2.0, 1.0])
    assert sch.is_valid_linkage(tree.linkage())


def test_equality() -> None:
    tree = Hierarchy(3, CHAIN3, aggregation="sum")
    assert tree == Hierarchy(3, [([0], [1]), ([0, 1], [2])], aggregation="sum")
    assert tree != Hierarchy(3, CHAIN3, aggregation="product")
    assert tree != Hierarchy(3, CHAIN3, aggregation="sum", heights=[1.0, 2.5])
    assert tree != Hierarchy(3, [((1,), (0,)), ((1, 0), (2,))], aggregation="sum")
    assert tree != Hierarchy(2, [((0,), (1,))], aggregation="sum")
    assert tree != "not a tree"


@pytest.mark.parametrize(
    ("n_clusters", "steps", "heights", "match"),
    [
        (0, [], None, r"n_clusters must be at least 1, got 0"),
        (-2, [], None, r"n_clusters must be at least 1"),
        (3, [((0,), (1,))], None, r"expected exactly n_clusters - 1 = 2 steps, got 1"),
        (1, [((0,), (0,))], None, r"expected exactly n_clusters - 1 = 0 steps, got 1"),
        (3, [((0,), (1,)), ((0, 1), (3,))], None, r"step 1: group B .*out of range 0\.\.2"),
        (3, [((-1,), (1,)), ((0, 1), (2,))], None, r"step 0: group A .*out of range.*\[-1\]"),
        (3, [((0,), (0,)), ((0, 1), (2,))], None, r"step 0: A and B are the same group \(0,\)"),
        (3, [((0,), (1,)), ((1, 0), (2,))], None, r"step 1: group A=\(1, 0\) is not a current"),
        (3, [((0,), (1,)), ((2,), (0,))], None, r"step 1: group B=\(0,\) is not a current"),
        (3, [((0,), (1,)), ((0, 1, 2), (2,))], None, r"step 1: group A=.* not a current"),
        (3, [((), (1,)), ((0, 1), (2,))], None, r"step 0: group A=\(\) is not a current"),
        (3, [((0,), (1,)), ((0,), (2,))], None, r"step 1: group A=\(0,\) is not a current"),
        (3, [((0,), (1,), (2,)), ((0, 1), (2,))], None, r"step 0 must be a pair"),
        (3, [((0,), (1,)), "ab"], None, r"step 1 must be a pair"),
        (3, [((0.5,), (1,)), ((0, 1), (2,))], None, r"step 0: group A contains a non-integer"),
        (3, [((True,), (1,)), ((0, 1), (2,))], None, r"step 0: group A contains a non-integer"),
        (3, [(0, (1,)), ((0, 1), (2,))], None, r"step 0: group A must be a sequence"),
        (3, CHAIN3, [1.0], r"heights must have shape \(2,\)"),
        (3, CHAIN3, [1.0, float("nan")], r"heights must be finite.*\[1\]"),
        (3, CHAIN3, [float("inf"), 1.0], r"heights must be finite.*\[0\]"),
        (3, CHAIN3, [-1.0, 1.0], r"heights must be non-negative.*\[0\]"),
        (3, CHAIN3, ["a", "b"], r"heights must be a sequence of numbers"),
    ],
)
def test_validation_errors(n_clusters: int, steps: Any, heights: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Hierarchy(n_clusters, steps, heights=heights)


def test_type_errors() -> None:
    with pytest.raises(TypeError, match=r"n_clusters must be an integer, got 2\.0"):
        Hierarchy(2.0, [((0,), (1,))])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"n_groups must be an integer, got 1\.0"):
        Hierarchy(2, [((0,), (1,))]).cut(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="aggregation must be a str or None"):
        Hierarchy(2, [((0,), (1,))], aggregation=3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- linkage


def test_linkage_known_example() -> None:
    tree = Hierarchy(4, BALANCED4, heights=[0.5, 1.0, 4.0])
    expected = [[2, 3, 0.5, 2], [0, 1, 1.0, 2], [5, 4, 4.0, 4]]
    np.testing.assert_array_equal(tree.linkage(), expected)
    assert tree.linkage().dtype == np.float64


@settings(max_examples=150, deadline=None)
@given(hierarchies())
def test_linkage_is_valid_and_usable_by_scipy(tree: Hierarchy) -> None:
    z = tree.linkage()
    k = tree.n_clusters
    assert z.shape == (k - 1, 4)
    assert z.dtype == np.float64
    if k == 1:
        return
    assert sch.is_valid_linkage(z)
    np.testing.assert_array_equal(z[:, 2], tree.heights)
    np.testing.assert_array_equal(z[:, 3], [len(a) + len(b) for a, b in tree.steps])
    root = sch.to_tree(z)
    assert root.get_count() == k
    assert sorted(root.pre_order()) == list(range(k))
    leaves = sch.dendrogram(z, no_plot=True)["leaves"]
    assert sorted(leaves) == list(range(k))
    # to_tree preserves (A, B) order: pre-order leaves are the root group's ids in order.
    assert tuple(root.pre_order()) == tree.groups(1)[0]


@settings(max_examples=100, deadline=None)
@given(hierarchies())
def test_linkage_round_trip(tree: Hierarchy) -> None:
    back = Hierarchy.from_linkage(tree.linkage(), aggregation=tree.aggregation)
    assert back == tree
    assert Hierarchy.from_linkage(tree.linkage()).aggregation is None


@pytest.mark.parametrize("method", ["single", "complete", "average", "ward", "centroid"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_from_scipy_linkage(method: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = sch.linkage(rng.normal(size=(int(rng.integers(2, 30)), 3)), method=method)
    tree = Hierarchy.from_linkage(z, aggregation=method)
    assert tree.aggregation == method
    assert tree.n_clusters == z.shape[0] + 1
    np.testing.assert_array_equal(tree.linkage()[:, [0, 1, 3]], z[:, [0, 1, 3]])
    np.testing.assert_array_equal(tree.heights, z[:, 2])
    # each step's groups are the leaves of the scipy nodes, left subtree first
    nodes = sch.to_tree(z, rd=True)[1]
    for (a, b), row in zip(tree.steps, z.astype(int), strict=True):
        assert a == tuple(nodes[row[0]].pre_order())
        assert b == tuple(nodes[row[1]].pre_order())


def test_from_linkage_single_cluster_and_pair() -> None:
    assert Hierarchy.from_linkage(np.zeros((0, 4))) == Hierarchy(1, [])
    tree = Hierarchy.from_linkage([[1, 0, 0.25, 2]], aggregation="sum")
    assert tree == Hierarchy(2, [((1,), (0,))], aggregation="sum", heights=[0.25])


@pytest.mark.parametrize(
    ("z", "match"),
    [
        (np.zeros((3, 3)), r"not a valid linkage matrix"),
        (np.zeros(4), r"not a valid linkage matrix"),
        ([[0, 1, 1, 2], [0, 2, 2, 3]], r"not a valid linkage matrix"),  # node 0 reused
        ([[0, 4, 1, 2], [3, 2, 2, 3]], r"not a valid linkage matrix"),  # node 4 not formed yet
        ([[0, 1, -1, 2], [3, 2, 2, 3]], r"not a valid linkage matrix"),  # negative height
        ([[0, 1.5, 1, 2], [3, 2, 2, 3]], r"node ids must be integers"),
        ([[0, 2, 1, 2]], r"node ids must be integers referring to earlier nodes"),
        ([[-1, 1, 1, 2]], r"node ids must be integers referring to earlier nodes"),
        ([[0, 0, 1, 2]], r"step 0: A and B are the same group"),
        ([[0, 1, -1, 2]], r"heights must be non-negative"),
        ([[0, 1, np.nan, 2]], r"heights must be finite"),
        ([[0, 1, 1, 2], [3, 2, 2, 2]], r"counts \(column 3\) do not match"),
    ],
)
def test_from_linkage_errors(z: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Hierarchy.from_linkage(z)


# ---------------------------------------------------------------------------- groups and cut


def test_groups_and_cut_known_example() -> None:
    tree = Hierarchy(4, BALANCED4)
    assert tree.groups(4) == [(0,), (1,), (2,), (3,)]
    assert tree.groups(3) == [(0,), (1,), (2, 3)]
    assert tree.groups(2) == [(2, 3), (0, 1)]
    assert tree.groups(1) == [(0, 1, 2, 3)]
    assert tree.cut(3).tolist() == [0, 1, 2, 2]
    assert tree.cut(2).tolist() == [0, 0, 1, 1]
    assert tree.cut(1).tolist() == [0, 0, 0, 0]
    assert tree.cut(np.int64(4)).tolist() == [0, 1, 2, 3]
    assert tree.cut(2).dtype == np.int64


def test_cut_numbers_groups_by_first_appearance() -> None:
    tree = Hierarchy(4, [((1,), (3,)), ((0,), (2,)), ((1, 3), (0, 2))])
    assert tree.groups(2) == [(1, 3), (0, 2)]
    assert tree.cut(2).tolist() == [0, 1, 0, 1]
    assert tree.cut(3).tolist() == [0, 1, 2, 1]


@settings(max_examples=100, deadline=None)
@given(hierarchies(), st.data())
def test_groups_partition_and_match_cut(tree: Hierarchy, data: st.DataObject) -> None:
    k = tree.n_clusters
    n = data.draw(st.integers(1, k))
    groups = tree.groups(n)
    assert len(groups) == n
    assert sorted(i for g in groups for i in g) == list(range(k))
    labels = tree.cut(n)
    assert labels.shape == (k,)
    assert labels[0] == 0
    first_seen = list(dict.fromkeys(labels.tolist()))
    assert first_seen == list(range(n))
    by_groups = np.empty(k, dtype=np.int64)
    for g, group in enumerate(groups):
        by_groups[list(group)] = g
    assert same_partition(labels, by_groups)
    if n > 1:  # the next merge joins two of the groups
        a, b = tree.steps[k - n]
        assert a in groups and b in groups


@settings(max_examples=100, deadline=None)
@given(hierarchies(default_heights=True), st.data())
def test_cut_matches_scipy_fcluster(tree: Hierarchy, data: st.DataObject) -> None:
    k = tree.n_clusters
    if k == 1:
        assert tree.cut(1).tolist() == [0]
        return
    n = data.draw(st.integers(1, k))
    expected = sch.fcluster(tree.linkage(), n, criterion="maxclust")
    assert same_partition(tree.cut(n), expected)
    assert len(set(expected.tolist())) == n


@pytest.mark.parametrize("n_groups", [0, 4, -1])
def test_cut_and_groups_range_errors(n_groups: int) -> None:
    tree = Hierarchy(3, CHAIN3)
    with pytest.raises(ValueError, match=rf"n_groups must be in 1\.\.3, got {n_groups}"):
        tree.cut(n_groups)
    with pytest.raises(ValueError, match=r"n_groups must be in 1\.\.3"):
        tree.groups(n_groups)


# ---------------------------------------------------------------------------- newick


def test_newick_known_examples() -> None:
    assert Hierarchy(3, CHAIN3).to_newick() == "((0,1),2);"
    assert Hierarchy(4, BALANCED4).to_newick() == "((0,1),(2,3));"
    assert Hierarchy(3, [((2,), (0,)), ((1,), (2, 0))]).to_newick() == "(1,(2,0));"
    assert Hierarchy(1, []).to_newick() == "0;"
    assert Hierarchy(1, []).to_newick(["only"], branch_lengths=True) == "only;"
    assert Hierarchy(2, [((1,), (0,))]).to_newick(["a", "b"]) == "(b,a);"


def test_newick_branch_lengths_known_example() -> None:
    tree = Hierarchy(3, CHAIN3, heights=[0.5, 2.0])
    assert tree.to_newick(["a", "b", "c"], branch_lengths=True) == "((a:0.5,b:0.5):1.5,c:2.0);"
    assert Hierarchy(3, CHAIN3).to_newick(branch_lengths=True) == "((0:1.0,1:1.0):1.0,2:2.0);"


def test_newick_quoting() -> None:
    names = ["a b", "it's", "x(y)", "under_score", "", "c,d", "tab\there", "s;c", "k:v", "[x]"]
    names += ["plain-name.2", "e=mc2", 'say "hi"']
    tree = Hierarchy(len(names), random_steps(np.random.default_rng(3), len(names)))
    text = tree.to_newick(names)
    for quoted in ["'a b'", "'it''s'", "'x(y)'", "''", "'c,d'", "'tab\there'", "'s;c'", "'k:v'"]:
        assert quoted in text
    assert "'[x]'" in text and "'under_score'" in text and "'e=mc2'" in text
    assert "'say \"hi\"'" in text
    assert "plain-name.2" in text and "'plain-name.2'" not in text
    assert parsed_structure(parse_newick(text)) == expected_structure(tree, names)


def test_newick_names_are_stringified_and_counted() -> None:
    assert Hierarchy(3, CHAIN3).to_newick([10, 2.5, None]) == "((10,2.5),None);"
    with pytest.raises(ValueError, match=r"names must have one entry per cluster \(3\), got 2"):
        Hierarchy(3, CHAIN3).to_newick(["a", "b"])


@settings(max_examples=100, deadline=None)
@given(hierarchies(), st.booleans())
def test_newick_round_trips_through_parser(tree: Hierarchy, lengths: bool) -> None:
    k = tree.n_clusters
    names = [f"leaf {i}" for i in range(k)]
    parsed = parse_newick(tree.to_newick(names, branch_lengths=lengths))
    assert parsed_structure(parsed) == expected_structure(tree, names)
    assert parsed["length"] is None
    if not lengths:
        return
    node_heights = np.concatenate([np.zeros(k), tree.heights])
    z = tree.linkage().astype(int)

    def check(node: dict[str, Any], node_id: int) -> None:
        if node_id < k:
            assert node["name"] == names[node_id]
            return
        for child, child_id in zip(node["children"], z[node_id - k, :2], strict=True):
            assert child["length"] == node_heights[node_id] - node_heights[child_id]
            check(child, int(child_id))

    check(parsed, 2 * k - 2)


def test_newick_deep_chain_does_not_recurse() -> None:
    k = 5000
    steps = [(tuple(range(i + 1)), (i + 1,)) for i in range(k - 1)]
    text = Hierarchy(k, steps).to_newick()
    assert text.startswith("(" * (k - 1) + "0,1)")
    assert text.endswith(f",{k - 1});")


# ---------------------------------------------------------------------------- json and files


def test_json_format() -> None:
    data = json.loads(Hierarchy(3, CHAIN3, aggregation="point_sum").to_json())
    assert data == {
        "format": "l2h-tree",
        "version": 1,
        "n_clusters": 3,
        "aggregation": "point_sum",
        "steps": [[[0], [1]], [[0, 1], [2]]],
    }
    for known in ("cluster_mean", "centroid_ward", "deepect", "treevae"):
        assert json.loads(Hierarchy(1, [], aggregation=known).to_json())["aggregation"] == known
    data = json.loads(Hierarchy(3, CHAIN3, heights=[0.5, 0.75]).to_json())
    assert data["heights"] == [0.5, 0.75]
    assert data["aggregation"] is None


@settings(max_examples=100, deadline=None)
@given(hierarchies())
def test_json_round_trip(tree: Hierarchy) -> None:
    text = tree.to_json()
    assert Hierarchy.from_json(text) == tree
    default = np.array_equal(tree.heights, np.arange(1, tree.n_clusters, dtype=float))
    assert ("heights" in json.loads(text)) != default


def test_json_heights_keep_full_precision() -> None:
    tree = Hierarchy(3, CHAIN3, heights=[0.1 + 0.2, 1 / 3])
    np.testing.assert_array_equal(Hierarchy.from_json(tree.to_json()).heights, tree.heights)


def _doc(**changes: Any) -> str:
    data: dict[str, Any] = json.loads(Hierarchy(3, CHAIN3).to_json())
    for key, value in changes.items():
        if value is ...:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", r"invalid l2h-tree JSON"),
        ("", r"invalid l2h-tree JSON"),
        ("[1, 2]", r"expected an object, got list"),
        (_doc(format="other"), r"not an l2h-tree: format is 'other'"),
        (_doc(format=...), r"not an l2h-tree: format is None"),
        (_doc(version=2), r"unsupported l2h-tree version 2"),
        (_doc(version="1"), r"unsupported l2h-tree version '1'"),
        (_doc(steps=...), r"missing key\(s\) \['steps'\]"),
        (_doc(n_clusters=...), r"missing key\(s\) \['n_clusters'\]"),
        (_doc(aggregation=...), r"missing key\(s\) \['aggregation'\]"),
        (_doc(extra=1), r"unknown key\(s\) \['extra'\]"),
        (_doc(n_clusters="3"), r"n_clusters must be an integer"),
        (_doc(n_clusters=3.0), r"n_clusters must be an integer"),
        (_doc(n_clusters=0, steps=[]), r"n_clusters must be at least 1"),
        (_doc(steps={"a": 1}), r"steps must be a list"),
        (_doc(steps=[[[0], [1]]]), r"expected exactly n_clusters - 1 = 2 steps"),
        (_doc(steps=[[[0], [1]], [[1, 0], [2]]]), r"step 1: group A=\(1, 0\) is not a current"),
        (_doc(steps=[[[0], [1]], [[0, 1], [2.0]]]), r"step 1: group B contains a non-integer"),
        (_doc(steps=[[[0], [1]], [[0, 1], ["2"]]]), r"step 1: group B contains a non-integer"),
        (_doc(steps=[[[0], [1]], [[0, 1]]]), r"step 1 must be a pair"),
        (_doc(steps=[[[0], [1]], [[0, 1], 2]]), r"step 1: group B must be a sequence"),
        (_doc(heights=[1.0]), r"heights must have shape"),
        (_doc(heights=["x", 1]), r"heights must be a sequence of numbers"),
        (_doc(aggregation=5), r"invalid l2h-tree: aggregation must be a string or null"),
        (_doc(aggregation="bogus"), r"invalid l2h-tree: unknown aggregation 'bogus': expected"),
        (_doc(aggregation="custom:"), r"unknown aggregation 'custom:'"),
        ("[" * 100_000 + "]" * 100_000, r"invalid l2h-tree JSON: nested too deeply"),
        (_doc(steps=[[[0], [1]], [[0, 1], [[[[[[[[2]]]]]]]]]]), r"non-integer cluster id"),
    ],
)
def test_from_json_errors(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Hierarchy.from_json(text)


def test_from_json_rejects_non_finite_heights() -> None:
    text = _doc(heights=[1.0, 2.0]).replace("2.0]", "NaN]")
    with pytest.raises(ValueError, match="heights must be finite"):
        Hierarchy.from_json(text)


def test_deep_nesting_is_an_error_even_with_a_raised_recursion_limit() -> None:
    # json.loads recursing 200k levels overflows the C stack once the limit allows it
    code = (
        "import sys; sys.setrecursionlimit(10**6); from l2h.hierarchy import Hierarchy\n"
        "try:\n    Hierarchy.from_json('[' * 200_000 + ']' * 200_000)\n"
        "except ValueError as err:\n    print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "invalid l2h-tree JSON: nested too deeply\n")


def test_the_format_lists_every_l2h_aggregation_and_only_known_methods() -> None:
    from l2h.algorithm import AGGREGATIONS
    from l2h.baselines import BASELINES

    assert set(AGGREGATIONS) <= set(JSON_AGGREGATIONS)
    assert set(JSON_AGGREGATIONS) <= {*AGGREGATIONS, *BASELINES, "treevae"}  # none stale
    # a baseline registered after format version 1 is written "custom:<name>" and round-trips,
    # so adding one needs no edit here (docs/extending.md)
    tree = Hierarchy(3, CHAIN3, aggregation="a_new_baseline")
    assert json.loads(tree.to_json())["aggregation"] == "custom:a_new_baseline"
    assert Hierarchy.from_json(tree.to_json()).aggregation == "a_new_baseline"


def test_custom_aggregation_names_are_marked_and_round_trip() -> None:
    tree = Hierarchy(3, CHAIN3, aggregation="my_score")
    assert json.loads(tree.to_json())["aggregation"] == "custom:my_score"
    assert Hierarchy.from_json(tree.to_json()).aggregation == "my_score"


def test_save_and_load(tmp_path: Any) -> None:
    tree = Hierarchy(4, BALANCED4, aggregation="sum", heights=[0.5, 1.0, 4.0])
    path = tmp_path / "sub" / "tree.json"
    tree.save(path)
    assert Hierarchy.load(path) == tree
    assert Hierarchy.load(str(path)) == tree
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "l2h-tree"
    assert sorted(p.name for p in path.parent.iterdir()) == ["tree.json"]
    Hierarchy(2, [((0,), (1,))]).save(path)  # overwrite in place
    assert Hierarchy.load(path).n_clusters == 2


def test_load_missing_file(tmp_path: Any) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(FileNotFoundError) as info:
        Hierarchy.load(path)
    assert info.value.filename == str(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"not json", r"invalid l2h-tree JSON"),
        (b'{"format": "newick"}', r"not an l2h-tree"),
        (b"\xff\xfe\x00garbage", r"can't decode|codec"),
    ],
)
def test_load_invalid_content_names_path(tmp_path: Any, content: bytes, match: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        Hierarchy.load(path)
    assert str(info.value).startswith(f"{path}: ")


# ---------------------------------------------------------------------------- edge cases


def test_single_cluster() -> None:
    tree = Hierarchy(1, [], aggregation="sum")
    assert len(tree) == 0
    assert bool(tree) is True
    assert tree.steps == []
    assert tree.heights.shape == (0,)
    assert tree.linkage().shape == (0, 4)
    assert tree.linkage().dtype == np.float64
    assert tree.groups(1) == [(0,)]
    assert tree.cut(1).tolist() == [0]
    assert tree.to_newick() == "0;"
    assert Hierarchy.from_json(tree.to_json()) == tree
    assert "heights" not in json.loads(tree.to_json())
    assert Hierarchy.from_linkage(tree.linkage(), aggregation="sum") == tree
    with pytest.raises(ValueError, match=r"n_groups must be in 1\.\.1, got 2"):
        tree.cut(2)


def test_two_clusters() -> None:
    tree = Hierarchy(2, [((1,), (0,))], heights=[0.0])
    np.testing.assert_array_equal(tree.linkage(), [[1, 0, 0.0, 2]])
    assert sch.is_valid_linkage(tree.linkage())
    assert tree.groups(1) == [(1, 0)]
    assert tree.groups(2) == [(0,), (1,)]
    assert tree.cut(1).tolist() == [0, 0]
    assert tree.cut(2).tolist() == [0, 1]
    assert tree.to_newick(branch_lengths=True) == "(1:0.0,0:0.0);"
    assert Hierarchy.from_json(tree.to_json()) == tree
    assert Hierarchy.from_linkage(tree.linkage()) == tree


def test_seeded_large_random_tree() -> None:
    rng = np.random.default_rng(7)
    k = 300
    tree = Hierarchy(k, random_steps(rng, k), heights=np.sort(rng.uniform(0, 10, k - 1)))
    z = tree.linkage()
    assert sch.is_valid_linkage(z) and sch.is_monotonic(z)
    assert Hierarchy.from_linkage(z) == tree
    for n in (1, 2, 17, 150, k):
        assert same_partition(tree.cut(n), sch.fcluster(z, n, criterion="maxclust"))
