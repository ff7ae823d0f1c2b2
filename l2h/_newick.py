"""Newick labels, shared by :class:`l2h.hierarchy.Hierarchy` and :class:`l2h.taxonomy.Taxonomy`.

The Newick format (Felsenstein's specification, as read by Bio.Phylo and DendroPy) reads an
unquoted ``_`` as a blank and stops an unquoted label at any of ``()[]':;,`` or whitespace; other
readers also treat ``=``, ``"`` and ``&`` specially. A label made only of ``[A-Za-z0-9.-]`` is
written as it is; any other label, the empty one included, is single-quoted with inner single
quotes doubled, so that every reader gives back exactly the original name.

>>> newick_label("aquarium_fish"), newick_label("t-shirt"), newick_label("o'clock")
("'aquarium_fish'", 't-shirt', "'o''clock'")
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["newick_label"]

_PLAIN = re.compile(r"[A-Za-z0-9.-]+")


def newick_label(name: Any) -> str:
    """``str(name)`` as a Newick label: as it is when plain, single-quoted otherwise."""
    text = str(name)
    if _PLAIN.fullmatch(text):
        return text
    return "'" + text.replace("'", "''") + "'"
