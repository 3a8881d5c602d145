"""Sphinx configuration of the mockface manual: Markdown pages (MyST) with the furo theme;
the reference pages are generated from the code at build time (``_ext/mockface_reference``,
sphinx-click for the command line).  Build it with ``sphinx-build -W -b html docs <out>``
(``pip install -e '.[docs]'``)."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

from mockface import __version__  # noqa: E402

project = "mockface"
author = "the mockface authors"
copyright = "the mockface authors"  # noqa: A001
version = release = __version__

extensions = ["myst_parser", "sphinx_click", "mockface_reference"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "README.md", ".DS_Store"]
# Headings up to ### get ids, so pages link to sections as a code host does (page.md#id).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
# Quotes stay as written: the pages quote commands, messages and codes character for character.
smartquotes = False

html_theme = "furo"
html_title = f"mockface {release}"
