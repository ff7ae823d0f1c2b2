"""ImageNet-1k (ILSVRC 2012): 1000 classes, about 1.28 million training images.

Never downloaded: the user provides ``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG``
(the official validation split is our ``test``). Its tree is the WordNet 3.0 noun hierarchy over
the 1000 wnids, read from WordNet's ``data.noun`` (Debian ``wordnet-base``) and the wnid list
shipped beside this module (``imagenet1k_wnids.txt``, a verbatim copy of timm's
``imagenet_synsets.txt``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from l2h.datasets._base import (
    DatasetInfo,
    DatasetNotAvailableError,
    ImageDataset,
    data_folder,
    packaged_text,
)
from l2h.taxonomy import Taxonomy

__all__ = [
    "INFO",
    "WORDNET_ROOT",
    "load_split",
    "read_wordnet_nouns",
    "tree",
    "wnids",
    "wordnet_noun_file",
    "wordnet_tree",
]

WORDNET_ROOT = "n00001740"
"""wnid of WordNet 3.0's noun root ``entity.n.01``."""

_WNID = re.compile(r"^n\d{8}$")
_IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")


def _root(root: Path | None) -> Path:
    return data_folder(root, "imagenet")


def _help(root: Path, problem: str) -> str:
    return (
        f"ImageNet-1k not available at {root}: {problem}. ImageNet cannot be downloaded "
        "automatically: get ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar from "
        "image-net.org and unpack them in the ImageFolder layout root/train/<wnid>/*.JPEG and "
        "root/val/<wnid>/*.JPEG (sort the 50,000 val images into wnid folders, e.g. with the "
        "widely used valprep.sh), then pass that root (config 'root:' or --root)"
    )


def _classes() -> tuple[list[str], tuple[str, ...]]:
    """The 1000 wnids in class order and a readable name for each (timm's lemma, else wnid)."""
    ids = wnids()
    lemmas: dict[str, str] = {}
    spec = importlib.util.find_spec("timm")
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0]) / "data/_info/imagenet_synset_to_lemma.txt"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                wnid, _, lemma = line.partition("\t")
                lemmas[wnid] = lemma.split(",")[0].strip()
    return ids, tuple(lemmas.get(w) or w for w in ids)


def _scan_folder(split_dir: Path, index: dict[str, int]) -> tuple[list[str], list[int]]:
    """Image files and class ids of an ImageFolder split (sorted by class, then file name)."""
    files, labels = [], []
    for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        if class_dir.name not in index:
            raise ValueError(f"{class_dir} is not named after one of the classes")
        names = sorted(
            f.name for f in os.scandir(class_dir) if f.name.lower().endswith(_IMAGE_SUFFIXES)
        )
        files += [str(class_dir / n) for n in names]
        labels += [index[class_dir.name]] * len(names)
    return files, labels


def load_split(split: str, root: Path | None, download: bool) -> ImageDataset:
    """One split of ImageNet-1k (``train``, or ``test`` = the official ``val``), as file paths."""
    base = _root(root)
    check(root, download)
    ids, names = _classes()
    index = {w: i for i, w in enumerate(ids)}
    folder = base / ("train" if split == "train" else "val")
    files, labels = _scan_folder(folder, index)
    if not files:
        raise DatasetNotAvailableError(_help(base, f"{folder} holds no images"))
    return ImageDataset(
        "imagenet", split, tuple(files), np.array(labels, np.int64), names, root=base
    )


def check(root: Path | None, download: bool = False) -> None:
    """``train/`` and ``val/`` exist under the root and hold class folders (never downloaded)."""
    base = _root(root)
    for sub in ("train", "val"):
        folder = base / sub
        if not folder.is_dir():
            raise DatasetNotAvailableError(_help(base, f"{folder} is missing"))
        if not any(p.is_dir() for p in folder.iterdir()):
            raise DatasetNotAvailableError(_help(base, f"{folder} has no <wnid> class folders"))


# ----------------------------------------------------------------------------- WordNet

_WORDNET_DIRS = (
    "/usr/share/wordnet",
    "/usr/local/share/wordnet",
    "~/nltk_data/corpora/wordnet",
    "/usr/share/nltk_data/corpora/wordnet",
    "/usr/local/share/nltk_data/corpora/wordnet",
)


def wordnet_noun_file(path: str | os.PathLike | None = None) -> Path:
    """Locate WordNet 3.0's ``data.noun``.

    Parameters
    ----------
    path : path-like, optional
        The file or its folder. Otherwise the first existing of ``$WNSEARCHDIR`` (WordNet's own
        variable), ``/usr/share/wordnet`` (Debian ``wordnet-base``), ``/usr/local/share/wordnet``
        and NLTK's ``corpora/wordnet`` folders.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        Naming every place tried.
    """
    if path is not None:
        candidates = [Path(path)]
    else:
        env = os.environ.get("WNSEARCHDIR")
        candidates = ([Path(env)] if env else []) + [Path(d).expanduser() for d in _WORDNET_DIRS]
    tried = []
    for cand in candidates:
        file = cand / "data.noun" if cand.is_dir() else cand
        if file.is_file():
            return file
        tried.append(str(file))
    raise FileNotFoundError(
        "WordNet 3.0 data.noun not found (install Debian 'wordnet-base' or pass its path); "
        f"tried {tried}"
    )


def read_wordnet_nouns(path: str | os.PathLike | None = None) -> dict[str, tuple[str, list[str]]]:
    """Parse WordNet's ``data.noun`` into ``{wnid: (first lemma, hypernym wnids)}``.

    Hypernyms are the ``@`` (hypernym) and ``@i`` (instance hypernym) pointers to nouns, in
    file order. The wnid is ``"n"`` followed by the 8-digit synset offset.

    Parameters
    ----------
    path : path-like, optional
        As in :func:`wordnet_noun_file`.

    Returns
    -------
    dict
    """
    out: dict[str, tuple[str, list[str]]] = {}
    with open(wordnet_noun_file(path), encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  ") or not line.strip():
                continue  # licence header
            fields = line.split(" | ", 1)[0].split()
            n_words = int(fields[3], 16)
            lemma = fields[4]
            at = 4 + 2 * n_words
            n_pointers = int(fields[at])
            hypernyms = []
            for i in range(n_pointers):
                symbol, offset, pos = fields[at + 1 + 4 * i : at + 4 + 4 * i]
                if symbol in ("@", "@i") and pos == "n":
                    hypernyms.append("n" + offset)
            out["n" + fields[0]] = (lemma, hypernyms)
    if WORDNET_ROOT not in out:
        raise ValueError(f"{path}: no 'entity' synset {WORDNET_ROOT}; is this WordNet 3.0?")
    return out


def _shortest_path_parents(nouns: Mapping[str, tuple[str, list[str]]]) -> dict[str, str]:
    """Parent of every synset in the shortest-hypernym-path tree (BFS from ``entity``)."""
    hyponyms: dict[str, list[str]] = {}
    for wnid, (_, hypernyms) in nouns.items():
        for h in hypernyms:
            hyponyms.setdefault(h, []).append(wnid)
    depth = {WORDNET_ROOT: 0}
    frontier = [WORDNET_ROOT]
    while frontier:
        nxt = []
        for node in frontier:
            for child in hyponyms.get(node, ()):
                if child not in depth:
                    depth[child] = depth[node] + 1
                    nxt.append(child)
        frontier = nxt
    parents = {}
    for wnid, (_, hypernyms) in nouns.items():
        known = [h for h in hypernyms if h in depth]
        if known and wnid != WORDNET_ROOT:
            parents[wnid] = min(known, key=lambda h: depth[h])  # first listed wins ties
    return parents


def wnids(path: str | os.PathLike | None = None) -> list[str]:
    """The 1000 ImageNet-1k wnids in class index order.

    Parameters
    ----------
    path : path-like, optional
        A text file whose lines start with a wnid (timm's ``imagenet_synsets.txt``, or the
        dataset's ``LOC_synset_mapping.txt``). Defaults to ``l2h/datasets/imagenet1k_wnids.txt``,
        a verbatim copy of timm 1.0.29's ``timm/data/_info/imagenet_synsets.txt``.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        If a line does not start with a wnid or a wnid repeats.
    """
    text = packaged_text("imagenet1k_wnids.txt") if path is None else Path(path).read_text()
    ids = [line.split()[0] for line in text.splitlines() if line.strip()]
    bad = [w for w in ids if not _WNID.match(w)]
    if bad:
        raise ValueError(f"not wnids: {bad[:5]}")
    if len(set(ids)) != len(ids):
        raise ValueError("repeated wnids")
    return ids


def wordnet_tree(
    wordnet: str | os.PathLike | None = None,
    classes: str | os.PathLike | Iterable[str] | None = None,
    names: str = "wnid",
) -> Taxonomy:
    """The WordNet 3.0 noun hierarchy over the ImageNet-1k classes.

    WordNet is a DAG (a synset may have several hypernyms). It is made a tree by the
    **shortest hypernym path rule**: every synset's depth is its shortest distance from
    ``entity`` along hypernym (``@``) and instance-hypernym (``@i``) pointers, and its parent
    is the hypernym of smallest depth, ties going to the pointer listed first in
    ``data.noun``. This is a breadth-first-search tree, so each class's path is one of its
    shortest paths and every node's depth is its true shortest WordNet depth. Only the
    classes' ancestors are kept (single-child chains are kept, so depths stay WordNet depths);
    the root is ``entity`` (depth 0) and the levels are ``depth1``, ``depth2``, ... ("cut at
    WordNet depth d"; classes shallower than d are their own group).

    Parameters
    ----------
    wordnet : path-like, optional
        ``data.noun`` or its folder (see :func:`wordnet_noun_file`).
    classes : path-like or iterable of str, optional
        The classes in index order; defaults to :func:`wnids`. Any set of noun wnids
        works (for example ImageNet-21k subsets).
    names : {"wnid", "lemma"}, default "wnid"
        Node names: wnids, or each synset's first lemma.

    Returns
    -------
    Taxonomy

    Raises
    ------
    FileNotFoundError
        If ``data.noun`` is not found.
    ValueError
        If a wnid is not a WordNet noun or one class is an ancestor of another.
    """
    if names not in ("wnid", "lemma"):
        raise ValueError(f"names must be 'wnid' or 'lemma', got {names!r}")
    if classes is None or isinstance(classes, str | os.PathLike):
        classes = wnids(classes)
    classes = list(classes)
    nouns = read_wordnet_nouns(wordnet)
    missing = [w for w in classes if w not in nouns]
    if missing:
        raise ValueError(f"wnids not in WordNet 3.0 nouns: {missing[:5]}")
    parents = _shortest_path_parents(nouns)
    paths = []
    for wnid in classes:
        path = [wnid]
        while path[-1] in parents:
            path.append(parents[path[-1]])
        if path[-1] != WORDNET_ROOT:
            raise ValueError(f"{wnid} does not reach entity")
        paths.append(path[-2::-1])
    tax = Taxonomy.from_paths(paths, root=WORDNET_ROOT)
    if names == "lemma":
        lemma_of = {w: nouns[w][0] for w in nouns}
        by_node = {w: lemma_of[w] for w in tax.names}
        tax = Taxonomy(tax.parents, tax.n_classes, [by_node[w] for w in tax.names], tax.levels)
    return tax


def tree(root: Path | None = None) -> Taxonomy:
    """The registry's reader: :func:`wordnet_tree` over the 1000 ImageNet-1k wnids (``root``
    is not read; WordNet comes from Debian ``wordnet-base`` or ``$WNSEARCHDIR``)."""
    return wordnet_tree()


INFO = DatasetInfo(
    "imagenet",
    "ImageNet-1k",
    1000,
    "ImageNet-1k (ILSVRC 2012)",
    load_split,
    check,
    tree=tree,
    needs_root=True,
    imagenet_labels=True,
)
