"""Tests of l2h.taxonomy: the Taxonomy type, the packaged tables and the dataset readers."""

from __future__ import annotations

import doctest
import json
import pickle
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import squareform

import l2h.taxonomy as T
from l2h.datasets import cifar, fashion_mnist, inat21
from l2h.datasets import imagenet as imagenet_module
from l2h.hierarchy import Hierarchy
from l2h.metrics import cut as cut_tree
from l2h.taxonomy import Taxonomy

FIXTURES = Path(__file__).parent / "fixtures"
WORDNET = Path("/usr/share/wordnet/data.noun")


# ----------------------------------------------------------------------------- Taxonomy


@st.composite
def random_paths(draw):
    """Paths of random depth 1..4 over a small alphabet; classes end in a unique name."""
    n = draw(st.integers(1, 12))
    paths = []
    for c in range(n):
        prefix = draw(st.lists(st.sampled_from("abc"), min_size=0, max_size=3))
        paths.append([*prefix, f"class{c}"])
    return paths


def brute_lca_depth(paths, a, b):
    common = 0
    for x, y in zip(paths[a], paths[b], strict=False):
        if x != y:
            break
        common += 1
    return min(common, len(paths[a]), len(paths[b])) if a != b else len(paths[a])


@settings(max_examples=60, deadline=None)
@given(random_paths())
def test_lca_depth_linkage_and_cut_match_the_paths(paths):
    tax = Taxonomy.from_paths(paths)
    c = len(paths)
    assert tax.n_classes == c
    assert tax.depths[:c].tolist() == [len(p) for p in paths]
    expected = np.array([[brute_lca_depth(paths, a, b) for b in range(c)] for a in range(c)])
    assert np.array_equal(tax.lca_depth_matrix(), expected)
    a, b = np.meshgrid(np.arange(c), np.arange(c), indexing="ij")
    assert np.array_equal(tax.lca_depth(a, b), expected)
    distance = np.maximum(tax.depths[a], tax.depths[b]) - expected
    assert np.array_equal(tax.mistake_distance(a, b), distance)
    z = tax.linkage()
    assert z.shape == (c - 1, 4)
    if c > 1:
        assert sch.is_valid_linkage(z) and sch.is_monotonic(z)
        coph = squareform(sch.cophenet(z))
        off = ~np.eye(c, dtype=bool)
        assert np.array_equal(coph[off], (tax.max_depth - expected)[off])
    for depth in range(tax.max_depth + 1):
        keys = [tuple(p[: min(depth, len(p))]) if depth < len(p) else tuple(p) for p in paths]
        groups = tax.cut(depth)
        assert len(np.unique(groups)) == len(set(keys))
        for i in range(c):
            for j in range(c):
                assert (groups[i] == groups[j]) == (keys[i] == keys[j])


def test_named_levels_cut_truncate_and_newick():
    paths = [["A", "x", "1"], ["A", "x", "2"], ["A", "y", "3"], ["B", "z", "4"], ["B", "z", "5"]]
    tax = Taxonomy.from_paths(paths, levels=["top", "mid", "leaf"])
    assert tax.levels == {"top": 1, "mid": 2, "leaf": 3}
    assert tax.cut("top").tolist() == [0, 0, 0, 1, 1]
    assert tax.cut("mid").tolist() == [0, 0, 1, 2, 2]
    assert tax.group_names("mid") == ["x", "y", "z"]
    assert tax.coarse_levels() == ["top", "mid"]
    mid = tax.truncate("mid")
    assert mid.n_classes == 3 and mid.class_names == ["x", "y", "z"]
    assert mid.levels == {"top": 1, "mid": 2}
    assert mid.cut("top").tolist() == [0, 0, 1]
    assert tax.to_newick() == "(((1,2),3),(4,5));"
    # The chain B > z is written as its lowest node z.
    assert tax.to_newick(internal_names=True) == "(((1,2)x,3)A,(4,5)z)root;"
    assert tax.to_newick(names=["a b", "c", "d", "e", "f"]) == "((('a b',c),d),(e,f));"
    with pytest.raises(ValueError, match="unknown level"):
        tax.cut("genus")


def test_to_hierarchy_matches_levels():
    tax = cifar.cifar100_tree()
    tree = tax.to_hierarchy()
    assert isinstance(tree, Hierarchy) and tree.n_clusters == 100
    assert np.array_equal(tree.cut(20), tax.cut("superclass"))
    assert np.array_equal(cut_tree(tax, 20), tax.cut("superclass"))


def test_invalid_structures_raise():
    with pytest.raises(ValueError, match="exactly one root"):
        Taxonomy([-1, -1], 2)
    with pytest.raises(ValueError, match="leaves"):
        Taxonomy([1, -1, 0], 2)  # node 2's parent is class 0
    with pytest.raises(ValueError, match="cycle"):
        Taxonomy([2, 4, 3, 2, -1], 2)  # 2 -> 3 -> 2
    with pytest.raises(ValueError, match="without children"):
        Taxonomy([2, 2, -1, 2], 2)
    with pytest.raises(ValueError, match="another class's path"):
        Taxonomy.from_paths([["a"], ["a", "b"]])
    with pytest.raises(ValueError, match="same path"):
        Taxonomy.from_paths([["a", "b"], ["a", "b"]])
    with pytest.raises(ValueError, match="class ids"):
        cifar.cifar10_tree().lca_depth(0, 10)


# ----------------------------------------------------------------------------- packaged tables


def test_cifar100_packaged_table():
    tax = cifar.cifar100_tree()
    assert tax.n_classes == 100 and tax.levels == {"superclass": 1, "class": 2}
    groups = tax.cut("superclass")
    assert np.bincount(groups).tolist() == [5] * 20
    names = tax.group_names("superclass")
    # Label ids are the alphabetical order of the names, for fine and coarse labels alike.
    assert tax.class_names == sorted(tax.class_names)
    table = json.loads((Path(cifar.__file__).parent / "cifar100.json").read_text())
    assert table["coarse_label_names"] == sorted(table["coarse_label_names"])
    coarse_id = {n: i for i, n in enumerate(table["coarse_label_names"])}
    assert [coarse_id[names[g]] for g in groups] == table["fine_to_coarse"]
    by_name = dict(zip(tax.class_names, (names[g] for g in groups), strict=True))
    # Spot checks against the superclass list on the CIFAR website.
    assert by_name["dolphin"] == "aquatic_mammals"
    assert by_name["maple_tree"] == "trees"
    assert by_name["tractor"] == "vehicles_2"
    assert by_name["orchid"] == "flowers"


def test_cifar100_reads_the_dataset_pickles(tmp_path):
    from_files = cifar.cifar100_tree(FIXTURES / "cifar100_small")
    packaged = cifar.cifar100_tree()
    assert from_files.names == packaged.names
    assert np.array_equal(from_files.cut("superclass"), packaged.cut("superclass"))
    assert np.array_equal(
        cifar.cifar100_tree(FIXTURES / "cifar100_small" / "train").parents, packaged.parents
    )
    # Python-2 style pickles load with bytes keys; without meta the names are the ids.
    with open(FIXTURES / "cifar100_small" / "train", "rb") as f:
        data = pickle.load(f)
    (tmp_path / "train").write_bytes(
        pickle.dumps({k.encode(): v for k, v in data.items()}, protocol=2)
    )
    ids_only = cifar.cifar100_tree(tmp_path)
    assert ids_only.class_names == [str(i) for i in range(100)]
    assert np.array_equal(ids_only.cut("superclass"), packaged.cut("superclass"))
    data["coarse_labels"][0] = (data["coarse_labels"][0] + 1) % 20
    bad = tmp_path / "bad"
    bad.write_bytes(pickle.dumps(data))
    with pytest.raises(ValueError, match="more than one coarse label"):
        cifar.cifar100_tree(bad)


def test_cifar10_and_fashion_mnist_groupings():
    c10 = cifar.cifar10_tree()
    assert c10.class_names[:3] == ["airplane", "automobile", "bird"]
    vehicles = {c10.class_names[i] for i in np.flatnonzero(c10.cut("superclass") == 0)}
    assert vehicles == {"airplane", "automobile", "ship", "truck"}
    fm = fashion_mnist.tree()
    assert fm.levels == {"coarse": 1, "medium": 2, "class": 3}
    assert [fm.n_groups(level) for level in fm.levels] == [2, 6, 10]
    shoes = fm.cut("medium")[[5, 7, 9]]  # sandal, sneaker, ankle boot
    assert len(set(shoes.tolist())) == 1
    assert fm.cut("coarse")[8] == fm.cut("coarse")[5] != fm.cut("coarse")[0]  # bag with shoes


# ----------------------------------------------------------------------------- iNaturalist21


def test_inaturalist21_reader():
    tax = inat21.tree_from_json(FIXTURES / "inat21_small.json")
    data = json.loads((FIXTURES / "inat21_small.json").read_text())
    cats = sorted(data["categories"], key=lambda c: c["id"])
    assert tax.levels == dict(zip(inat21.RANKS, range(1, 8), strict=True))
    assert tax.class_names == [c["name"] for c in cats]
    for rank in inat21.RANKS[:-1]:
        values = [c[rank] for c in cats]
        groups = tax.cut(rank)
        for i in range(len(cats)):
            for j in range(len(cats)):
                same_path = all(
                    cats[i][r] == cats[j][r] for r in inat21.RANKS[: inat21.RANKS.index(rank) + 1]
                )
                assert (groups[i] == groups[j]) == same_path
        depth = inat21.RANKS.index(rank) + 1
        keys = dict.fromkeys(tuple(c[r] for r in inat21.RANKS[:depth]) for c in cats)
        assert tax.group_names(rank) == [key[-1] for key in keys]
        assert set(tax.group_names(rank)) == set(values)
    # The genus Morus is both a bird (gannet) and a plant (mulberry): two different nodes.
    morus = [i for i, c in enumerate(cats) if c["genus"] == "Morus"]
    assert tax.cut("genus")[morus[0]] != tax.cut("genus")[morus[1]]
    family = inat21.tree_from_json(FIXTURES / "inat21_small.json", leaf_level="family")
    assert family.n_classes == len({c["family"] for c in cats})
    assert "species" not in family.levels and "genus" not in family.levels
    assert np.array_equal(family.cut("order")[tax.cut("family")], tax.cut("order"))


def test_inaturalist21_bad_files(tmp_path):
    cats = json.loads((FIXTURES / "inat21_small.json").read_text())["categories"]
    gap = tmp_path / "gap.json"
    gap.write_text(json.dumps([{**c, "id": c["id"] * 2} for c in cats]))
    with pytest.raises(ValueError, match="0..C-1"):
        inat21.tree_from_json(gap)
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"categories": [{**c, "phylum": ""} for c in cats]}))
    with pytest.raises(ValueError, match="phylum"):
        inat21.tree_from_json(missing)
    with pytest.raises(ValueError, match="leaf_level"):
        inat21.tree_from_json(missing, leaf_level="tribe")


# ----------------------------------------------------------------------------- WordNet


def _line(offset: str, word: str, hypernyms: list[str]) -> str:
    pointers = " ".join(f"@ {h} n 0000" for h in hypernyms)
    return f"{offset} 03 n 01 {word} 0 {len(hypernyms):03d} {pointers} | gloss\n"


def test_wordnet_dag_becomes_shortest_path_tree(tmp_path):
    # entity > a > b > d and entity > c > d: d's shortest path goes through c (depth 2).
    # e has hypernyms b (depth 2) and c (depth 1): c wins. f has a and c (both depth 1):
    # the first listed (a) wins the tie.
    lines = [
        "  1 This software and database is being provided ... (licence header)\n",
        _line("00001740", "entity", []),
        _line("00000001", "a", ["00001740"]),
        _line("00000002", "b", ["00000001"]),
        _line("00000003", "c", ["00001740"]),
        _line("00000004", "d", ["00000002", "00000003"]),
        _line("00000005", "e", ["00000002", "00000003"]),
        _line("00000006", "f", ["00000001", "00000003"]),
    ]
    (tmp_path / "data.noun").write_text("".join(lines))
    nouns = imagenet_module.read_wordnet_nouns(tmp_path)
    assert nouns["n00000004"] == ("d", ["n00000002", "n00000003"])
    wnids = ["n00000004", "n00000006", "n00000002", "n00000005"]
    tax = imagenet_module.wordnet_tree(tmp_path, classes=wnids, names="lemma")
    assert tax.to_newick(internal_names=True) == "((d,e)c,(f,b)a)entity;"
    assert tax.depths[:4].tolist() == [2, 2, 2, 2]
    assert imagenet_module.wordnet_tree(tmp_path, classes=wnids).class_names == wnids
    with pytest.raises(ValueError, match="not in WordNet"):
        imagenet_module.wordnet_tree(tmp_path, classes=["n99999999"])
    with pytest.raises(FileNotFoundError, match="wordnet-base"):
        imagenet_module.wordnet_noun_file(tmp_path / "nowhere")


@pytest.fixture(scope="module")
def imagenet() -> Taxonomy:
    assert WORDNET.is_file(), (
        f"WordNet 3.0 is required at {WORDNET}: install the Debian package wordnet-base "
        "(apt-get install --no-install-recommends wordnet-base)"
    )
    return imagenet_module.wordnet_tree(WORDNET)


def test_imagenet1k_wnids_list(tmp_path):
    wnids = imagenet_module.wnids()
    assert len(wnids) == len(set(wnids)) == 1000
    assert wnids == sorted(wnids)  # ImageNet-1k class indices are the sorted wnids
    mapping = tmp_path / "LOC_synset_mapping.txt"
    mapping.write_text("".join(f"{w} some, lemma\n" for w in wnids))
    assert imagenet_module.wnids(mapping) == wnids
    mapping.write_text("tench\n")
    with pytest.raises(ValueError, match="not wnids"):
        imagenet_module.wnids(mapping)


def test_imagenet1k_wordnet_tree(imagenet):
    tax = imagenet
    wnids = imagenet_module.wnids()
    assert tax.n_classes == 1000 and tax.class_names == wnids
    nouns = imagenet_module.read_wordnet_nouns(WORDNET)

    @cache
    def shortest(wnid: str) -> int:
        hyper = nouns[wnid][1]
        return 0 if wnid == imagenet_module.WORDNET_ROOT else 1 + min(shortest(h) for h in hyper)

    index = {w: i for i, w in enumerate(tax.names)}
    for node, wnid in enumerate(tax.names):
        assert tax.depths[node] == shortest(wnid)
        parent = tax.parents[node]
        if parent >= 0:
            assert tax.names[parent] in nouns[wnid][1]
    assert tax.names[int(np.flatnonzero(tax.parents == -1)[0])] == imagenet_module.WORDNET_ROOT
    # tench: ... > fish > bony_fish > teleost_fish > soft-finned_fish > cypriniform_fish > cyprinid
    lemma = {w: nouns[w][0] for w in tax.names}
    chain, node = [], index[wnids[0]]
    while node >= 0:
        chain.append(lemma[tax.names[node]])
        node = tax.parents[node]
    assert chain[:7] == [
        "tench", "cyprinid", "cypriniform_fish", "soft-finned_fish", "teleost_fish",
        "bony_fish", "fish",
    ]  # fmt: skip
    assert chain[-1] == "entity"
    assert lemma[wnids[285]] == "Egyptian_cat"
    assert tax.coarse_levels()[:3] == ["depth1", "depth2", "depth3"]
    assert 1 < tax.n_groups("depth6") < 1000


def test_docstring_examples():
    assert doctest.testmod(T).failed == 0
