"""Newick output read back by two independent readers, Bio.Phylo and DendroPy.

Every leaf name (and internal name of a taxonomy) must come back exactly: CIFAR-100 has names
such as ``aquarium_fish``, which a reader turns into "aquarium fish" unless it is quoted.
"""

from __future__ import annotations

import io

import dendropy  # the dev extra installs both readers
import numpy as np
import pytest
from Bio import Phylo

from l2h._newick import newick_label
from l2h.datasets.cifar import cifar100_tree
from l2h.hierarchy import Hierarchy

TRICKY = [
    "aquarium_fish",
    "a__b",
    "e=mc2",
    'say "hi"',
    "it's",
    "x''y",
    "a b",
    "  leading blanks",
    "tab\there",
    "x(y)",
    "c,d",
    "s;c",
    "k:v",
    "[x]",
    "sq[u]are",
    "a&b",
    "#hash",
    "back\\slash",
    "ünïcode",
    "plain-name.2",
    "0",
    "1.5",
    "-",
    "",
]


def random_tree(k: int, seed: int = 0) -> Hierarchy:
    rng = np.random.default_rng(seed)
    alive, steps = [(i,) for i in range(k)], []
    while len(alive) > 1:
        i, j = rng.choice(len(alive), 2, replace=False)
        steps.append((alive[i], alive[j]))
        alive = [g for n, g in enumerate(alive) if n not in (i, j)] + [alive[i] + alive[j]]
    return Hierarchy(k, steps)


def bio_leaves(text: str) -> list[str]:
    tree = Phylo.read(io.StringIO(text), "newick")
    return [clade.name or "" for clade in tree.get_terminals()]


def bio_internal(text: str) -> list[str]:
    tree = Phylo.read(io.StringIO(text), "newick")
    return [clade.name for clade in tree.get_nonterminals() if clade.name]


def dendropy_tree(text: str):
    # DendroPy's defaults follow the format: an unquoted "_" is read as a blank
    return dendropy.Tree.get(data=text, schema="newick", suppress_internal_node_taxa=True)


def dendropy_leaves(text: str) -> list[str]:
    return [leaf.taxon.label if leaf.taxon else "" for leaf in dendropy_tree(text).leaf_node_iter()]


def dendropy_internal(text: str) -> list[str]:
    return [node.label for node in dendropy_tree(text).preorder_internal_node_iter() if node.label]


@pytest.mark.parametrize("read", [bio_leaves, dendropy_leaves], ids=["Bio.Phylo", "dendropy"])
def test_tricky_leaf_names_come_back_exactly(read):
    tree = random_tree(len(TRICKY))
    for lengths in (False, True):
        assert sorted(read(tree.to_newick(TRICKY, branch_lengths=lengths))) == sorted(TRICKY)


@pytest.mark.parametrize("read", [bio_leaves, dendropy_leaves], ids=["Bio.Phylo", "dendropy"])
def test_cifar100_class_names_come_back_exactly(read):
    names = list(cifar100_tree().class_names)
    assert "aquarium_fish" in names
    assert sorted(read(random_tree(len(names)).to_newick(names))) == sorted(names)


@pytest.mark.parametrize(
    ("leaves", "internal"),
    [(bio_leaves, bio_internal), (dendropy_leaves, dendropy_internal)],
    ids=["Bio.Phylo", "dendropy"],
)
def test_taxonomy_newick_keeps_class_and_superclass_names(leaves, internal):
    tax = cifar100_tree()
    text = tax.to_newick(internal_names=True)
    assert sorted(leaves(text)) == sorted(tax.class_names)
    inner = internal(text)
    assert "large_carnivores" in inner and "fruit_and_vegetables" in inner
    assert set(inner) <= set(tax.names)


def test_only_plain_labels_are_left_unquoted():
    assert [newick_label(n) for n in ("c17", "t-shirt", "1.5", "A.b-C")] == [
        "c17",
        "t-shirt",
        "1.5",
        "A.b-C",
    ]
    assert newick_label("aquarium_fish") == "'aquarium_fish'"
    assert newick_label("e=mc2") == "'e=mc2'"
    assert newick_label('"q"') == "'\"q\"'"
    assert newick_label("o'clock") == "'o''clock'"
    assert newick_label("") == "''"
    assert newick_label(7) == "7"
