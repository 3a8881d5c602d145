"""Markdown text for the generated reference pages: inline text with its code spans kept and
everything else escaped, and pipe tables."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

#: A code span as CommonMark reads one: a run of backticks, anything, the same run.
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
#: What could start Markdown syntax inside a line of prose (a table cell's ``|`` included).
_SPECIAL = re.compile(r"([\\*_<>\[\]|$~])")


def text(value: object) -> str:
    """``value`` as one line of Markdown prose: its code spans (``x`` or ````x````) kept as
    code, every other character that could start Markdown syntax escaped, newlines as
    spaces."""
    source = " ".join(str(value).split())
    parts: list[str] = []
    position = 0
    for found in _CODE_SPAN.finditer(source):
        parts.append(_SPECIAL.sub(r"\\\1", source[position:found.start()]))
        parts.append(code(found.group(2).strip()))
        position = found.end()
    parts.append(_SPECIAL.sub(r"\\\1", source[position:]))
    return "".join(parts)


def code(value: object) -> str:
    """``value`` as an inline code span (a pipe escaped, for table cells)."""
    source = " ".join(str(value).split()).replace("|", "\\|")
    fence = "``" if "`" in source else "`"
    pad = " " if source.startswith("`") or source.endswith("`") else ""
    return f"{fence}{pad}{source}{pad}{fence}"


def codes(values: Iterable[object], separator: str = ", ") -> str:
    """Each of ``values`` as a code span, joined."""
    return separator.join(code(value) for value in values)


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A pipe table of Markdown cells (each already escaped), as lines, with a blank line
    after it; empty cells are shown as an em dash."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(cell if cell.strip() else "—" for cell in row) + " |")
    return [*lines, ""]


def anchor_slug(name: str) -> str:
    """The id MyST gives a heading of text ``name`` (``myst_heading_anchors``): lower case,
    punctuation but ``-`` and ``_`` dropped, spaces as ``-``."""
    slug = re.sub(r"[^\w\- ]", "", name.strip().lower())
    return slug.replace(" ", "-")
