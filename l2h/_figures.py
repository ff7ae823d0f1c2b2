"""What every figure of :mod:`l2h.plots` shares: saving (PNG, PDF, ...), captions, colours.

Colours come from seaborn's palettes, so that no two lines of a figure share a colour: L2H
methods get strong, saturated colours and solid lines with markers; baselines get muted
colours of other hues and thin lines, so that L2H stands apart.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from l2h.io import open_output

#: Colour of a caption note (e.g. the rehearsal's "the numbers mean nothing").
NOTE_COLOR = "#b00000"
#: Colour of what belongs to no group (branches above the cut of a tree).
NEUTRAL = "0.25"


def save(fig: Any, path: Any, dpi: int = 150, note: str | None = None) -> None:
    """Save ``fig`` to one path or several, atomically, ``note`` as a red caption under it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path-like or sequence of path-like
        Output files; each one's format follows its suffix (``.png``, ``.pdf``, ``.svg``).
    dpi : int, default 150
        Resolution of raster formats.
    note : str, optional
        A caption line under the figure.
    """
    if note:
        fig.supxlabel(note, color=NOTE_COLOR, fontsize=9, fontweight="bold")
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    for one in paths:
        suffix = os.path.splitext(os.fspath(one))[1].lstrip(".") or "png"
        with open_output(one, "wb") as fh:
            fig.savefig(fh, format=suffix, dpi=dpi)


def group_colors(n: int) -> list[tuple[float, float, float]]:
    """``n`` distinct colours for the groups of a tree (seaborn's ``husl`` palette, dark
    enough to read on white)."""
    import seaborn as sns

    return list(sns.husl_palette(max(n, 1), s=0.9, l=0.55))[:n]


@dataclass(frozen=True)
class LineStyle:
    """How one method's line is drawn."""

    color: tuple[float, float, float]
    linewidth: float
    marker: str | None
    alpha: float
    zorder: int

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``Axes.plot`` / ``Axes.errorbar``."""
        return {
            "color": self.color,
            "linewidth": self.linewidth,
            "marker": self.marker,
            "markersize": 6 if self.marker else None,
            "alpha": self.alpha,
            "zorder": self.zorder,
        }


_L2H_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "p")


def method_styles(labels: Sequence[str], strong: Sequence[bool]) -> dict[str, LineStyle]:
    """One style per label: strong (L2H) lines from seaborn's ``dark`` palette, thick, with
    markers; the others muted (``husl`` hues, light and desaturated), thin, without markers.

    No colour is used twice: the two palettes differ in lightness and saturation, and each
    gives distinct colours (``dark`` has 10, ``husl`` any number of evenly spaced hues).
    """
    import seaborn as sns

    strong_labels = [lab for lab, s in zip(labels, strong, strict=True) if s]
    weak_labels = [lab for lab, s in zip(labels, strong, strict=True) if not s]
    dark = sns.color_palette("dark", max(len(strong_labels), 1))
    if len(strong_labels) > 10:
        dark = sns.husl_palette(len(strong_labels), s=1.0, l=0.35)
    muted = sns.husl_palette(max(len(weak_labels), 1), s=0.55, l=0.72, h=0.05)
    styles = {
        lab: LineStyle(tuple(dark[i]), 2.2, _L2H_MARKERS[i % len(_L2H_MARKERS)], 1.0, 3)
        for i, lab in enumerate(strong_labels)
    }
    styles |= {
        lab: LineStyle(tuple(muted[i]), 1.1, None, 0.95, 2) for i, lab in enumerate(weak_labels)
    }
    return styles
