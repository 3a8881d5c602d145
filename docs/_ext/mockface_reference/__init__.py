"""A Sphinx extension writing mockface's reference pages from the code at build time, so they
cannot drift: a page holds a block

    ```{mockface-reference} admin-api
    ```

which is replaced, before the page is parsed, by the Markdown the named generator renders
from the running code (``GENERATORS``).  The pages that hold one are read again on every
build, since what they show changes with the code, not with the page."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

from . import admin, cli, codes, coverage, schema

#: Generator name -> what renders it (the lines of Markdown it stands for).
GENERATORS: dict[str, Callable[[], list[str]]] = {
    "admin-api": admin.render,
    "codes": codes.render,
    "scenario-schema": schema.render,
    "coverage": coverage.render,
}
_BLOCK = re.compile(r"^```\{mockface-reference\}[ \t]+(\S+)[ \t]*\n```[ \t]*$", re.MULTILINE)
#: The environment's set of the documents holding a block.
_SEEN = "mockface_reference_docs"


def expand(source: str) -> tuple[str, int]:
    """``source`` with each block replaced by its generator's Markdown, and how many there
    were; ExtensionError for an unknown name."""
    def generated(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in GENERATORS:
            raise ExtensionError(f"mockface-reference: no generator {name!r} (known: "
                                 f"{', '.join(GENERATORS)})")
        return "\n".join(GENERATORS[name]())
    return _BLOCK.subn(generated, source)


def _source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    source[0], count = expand(source[0])
    seen: set[str] = getattr(app.env, _SEEN, set())
    if count:
        seen.add(docname)
    else:
        seen.discard(docname)
    setattr(app.env, _SEEN, seen)


def _outdated(app: Sphinx, env: Any, added: set[str], changed: set[str],
              removed: set[str]) -> list[str]:
    return sorted(getattr(env, _SEEN, set()) - removed)


def _merge(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    """Parallel reads: keep the documents a worker found holding a block."""
    setattr(env, _SEEN, getattr(env, _SEEN, set()) | getattr(other, _SEEN, set()))


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx_click")
    for event in cli.EVENTS:
        app.connect(event, cli.escape_help)
    app.connect("source-read", _source_read)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-merge-info", _merge)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}
