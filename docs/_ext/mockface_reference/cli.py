"""The command-line reference is sphinx-click's (``reference/cli.md``: ``.. click::`` on
``mockface.cli:main``, ``:nested: full``); sphinx-click reads click's help texts as
reStructuredText, but they are plain text written for a terminal (``/face/*``), so the lone
characters reStructuredText would take for the start of inline markup are escaped here."""
from __future__ import annotations

import re
from typing import Any

#: A ``*`` that is not part of ``**`` (sphinx-click writes ``**Required**`` itself).
_STAR = re.compile(r"(?<!\*)\*(?!\*)")
#: An inline literal sphinx-click writes (``:default: ``'x'``):  left as it is.
_LITERAL = re.compile(r"``.+?``")
#: The sphinx-click events whose lines carry the commands' own help texts.
EVENTS = ("sphinx-click-process-description", "sphinx-click-process-options",
          "sphinx-click-process-arguments", "sphinx-click-process-epilog")


def escape_help(app: Any, ctx: Any, lines: list[str]) -> None:
    """Escape, in place, each lone ``*`` of help text lines outside inline literals."""
    for index, line in enumerate(lines):
        parts, position = [], 0
        for found in _LITERAL.finditer(line):
            parts += [_STAR.sub(r"\\*", line[position:found.start()]), found.group(0)]
            position = found.end()
        parts.append(_STAR.sub(r"\\*", line[position:]))
        lines[index] = "".join(parts)
