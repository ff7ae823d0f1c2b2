"""Print a table of display strings as Markdown, LaTeX or HTML (bold cells, parts, notes).

The paper tables (:mod:`l2h.tables`) and the runtime table (:mod:`l2h.runtime`) build a
:class:`Document` of display strings; this module only prints it. Our own small writers, so
that neither ``jinja2`` nor ``tabulate`` is needed.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field

__all__ = ["Document", "Part", "to_html", "to_latex", "to_markdown"]


@dataclass(frozen=True)
class Part:
    """One printed table: column headers, rows of cell strings and which cells are bold.

    ``numeric`` names the columns aligned right; ``title`` heads a part of a split table
    (``None`` for a table in one part).
    """

    columns: list[str]
    rows: list[list[str]]
    bold: list[list[bool]] = field(default_factory=list)
    numeric: frozenset[str] = frozenset()
    title: str | None = None

    def is_bold(self, i: int, j: int) -> bool:
        return bool(self.bold) and self.bold[i][j]


@dataclass(frozen=True)
class Document:
    """A captioned table in one or more parts, with notes printed under it."""

    caption: str | None
    parts: list[Part]
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- Markdown


def to_markdown(doc: Document) -> str:
    """GitHub-flavoured Markdown: the caption in bold, one pipe table per part, then notes."""
    lines = [] if doc.caption is None else [f"**{doc.caption}**", ""]
    for part in doc.parts:
        if part.title:
            lines += [f"*{part.title}*", ""]
        lines.append("| " + " | ".join(part.columns) + " |")
        lines.append(
            "|" + "|".join("--:" if c in part.numeric else "---" for c in part.columns) + "|"
        )
        for i, row in enumerate(part.rows):
            cells = [_md_cell(c, part.is_bold(i, j)) for j, c in enumerate(row)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    for note in doc.notes:
        lines += [note, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_cell(text: str, bold: bool) -> str:
    text = text.replace("|", "\\|")
    return f"**{text}**" if bold and text else text


# ------------------------------------------------------------------------------------- LaTeX

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "–": "--",
    "†": r"$^\dagger$",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters; ``±`` becomes ``$\\pm$``, ``†`` a superscript."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(doc: Document, label: str | None = None) -> str:
    """One booktabs ``table`` per part (``\\small``; needs ``\\usepackage{booktabs}``).

    The caption and notes go into each part's ``\\caption``; a split table's parts get the
    labels ``<label>-a``, ``<label>-b``, ...
    """
    out = []
    for n, part in enumerate(doc.parts):
        title = f" ({part.title})" if part.title else ""
        text = " ".join(t for t in ((doc.caption or "") + title, *doc.notes) if t)
        lines = [r"\begin{table}[t]", r"\centering", r"\small"]
        if text:
            lines.append(r"\caption{" + latex_escape(text) + "}")
        if label:
            suffix = f"-{chr(ord('a') + n)}" if len(doc.parts) > 1 else ""
            lines.append(r"\label{" + label + suffix + "}")
        spec = "".join("r" if c in part.numeric else "l" for c in part.columns)
        lines += [r"\begin{tabular}{" + spec + "}", r"\toprule"]
        lines.append(" & ".join(latex_escape(c) for c in part.columns) + r" \\")
        lines.append(r"\midrule")
        for i, row in enumerate(part.rows):
            cells = [_tex_cell(c, part.is_bold(i, j)) for j, c in enumerate(row)]
            lines.append(" & ".join(cells) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _tex_cell(text: str, bold: bool) -> str:
    text = latex_escape(text)
    return r"\textbf{" + text + "}" if bold and text else text


# -------------------------------------------------------------------------------------- HTML

_STYLE = """
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 1.5em; color: #111; }
caption, .caption { font-weight: 600; text-align: left; margin: 0 0 .6em; }
h3 { font-size: 14px; font-style: italic; font-weight: 500; margin: 1.2em 0 .4em; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; white-space: nowrap; }
thead th { border-bottom: 2px solid #333; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { color: #444; max-width: 60em; }
"""


def to_html(doc: Document) -> str:
    """A standalone HTML page (the report shows it in a frame): caption, parts, notes."""
    esc = _html.escape
    body = [] if doc.caption is None else [f'<p class="caption">{esc(doc.caption)}</p>']
    for part in doc.parts:
        if part.title:
            body.append(f"<h3>{esc(part.title)}</h3>")
        head = "".join(f"<th{_num(c, part)}>{esc(c)}</th>" for c in part.columns)
        body += ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
        for i, row in enumerate(part.rows):
            cells = []
            for j, c in enumerate(row):
                text = f"<strong>{esc(c)}</strong>" if part.is_bold(i, j) and c else esc(c)
                cells.append(f"<td{_num(part.columns[j], part)}>{text}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        body += ["</tbody>", "</table>"]
    body += [f'<p class="note">{esc(note)}</p>' for note in doc.notes]
    title = esc(doc.caption or "table")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _num(column: str, part: Part) -> str:
    return ' class="num"' if column in part.numeric else ""
