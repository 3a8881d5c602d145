"""The manual builds with no warning (``sphinx-build -W``, as ``.ci/run`` builds it) and its
generated reference pages match the code: every command of ``mockface --help``, every path of
the admin OpenAPI document, every code of both catalogues (and every action's own Result
table), the scenario dialects and ``mockface coverage``.  Skipped without the docs toolchain
(``pip install -e '.[docs]'``); with MOCKFACE_REQUIRE_DOCS=1 (set by ``.ci/run``, which
installs it) they fail instead."""
from __future__ import annotations

import html.parser
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mockface.cli import main
from mockface.core.config import Settings, builtin_app
from mockface.products import REGISTRY
from mockface.web.app import create_app
from mockface.web.openapi import admin_document

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TOOLCHAIN = ("sphinx", "myst_parser", "furo", "sphinx_click")
MISSING = [name for name in TOOLCHAIN if importlib.util.find_spec(name) is None]

if MISSING and os.environ.get("MOCKFACE_REQUIRE_DOCS") == "1":
    raise RuntimeError(f"MOCKFACE_REQUIRE_DOCS=1 but the docs toolchain is not installed "
                       f"({', '.join(MISSING)}): pip install -e '.[docs]'")
pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason=f"the docs toolchain is not installed "
                                             f"({', '.join(MISSING)}): pip install -e '.[docs]'"),
    pytest.mark.skipif(not (DOCS / "conf.py").is_file(), reason="no docs/ here (an sdist)"),
]


class Page(html.parser.HTMLParser):
    """The text of a built page (scripts and styles left out) and its element ids."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.ids: set[str] = set()
        self._skipping = 0
        self.feed(source)
        self.text = " ".join("".join(self.parts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        self.ids.update(value for name, value in attrs if name == "id" and value)
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skipping -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The manual built from the checkout with warnings as errors, as CI builds it."""
    out = tmp_path_factory.mktemp("manual")
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q",
                          "-b", "html", "-d", str(out / ".doctrees"), str(DOCS), str(out)],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    return out, run


def page(built: tuple[Path, subprocess.CompletedProcess[str]], name: str) -> Page:
    """A built page (written even when another page's warning fails the build, which
    ``test_the_manual_builds_with_no_warning`` reports)."""
    out, run = built
    path = out / f"{name}.html"
    assert path.is_file(), run.stderr
    return Page(path.read_text(encoding="utf-8"))


def test_the_manual_builds_with_no_warning(built):
    out, run = built
    assert run.returncode == 0, run.stderr
    assert "WARNING" not in run.stderr and "ERROR" not in run.stderr, run.stderr
    assert (out / "index.html").is_file()


def test_every_page_is_in_the_table_of_contents(built):
    """Every Markdown page of docs/ is reachable from the landing page's toctree (Sphinx
    warns about one that is not, and the build above fails on warnings), and the landing
    page's map links each of them."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    pages = sorted(path.relative_to(DOCS).with_suffix("").as_posix()
                   for path in DOCS.rglob("*.md") if "_ext" not in path.parts
                   and path.name != "index.md")
    for name in pages:
        assert f"\n{name}\n" in index, f"{name} is not in docs/index.md's toctree"
        assert f"]({name}.md)" in index, f"docs/index.md's map does not link {name}.md"


def _commands(group: click.Group, path: str) -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{path} {name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{path} {name}")
    return found


def test_the_cli_reference_has_every_command_and_option(built):
    reference = page(built, "reference/cli")
    listed = CliRunner().invoke(main, ["--help"]).output
    commands = _commands(main, "mockface")
    assert commands
    for name, command in commands:
        assert name.split()[-1] in listed, f"{name} is not in mockface --help"
        assert name.replace(" ", "-") in reference.ids, f"no section for {name}"
        for param in command.params:
            for option in getattr(param, "opts", ()):
                if option.startswith("-"):
                    assert option in reference.text, f"{name} {option} is not in the reference"


def test_the_admin_reference_has_every_route(built):
    reference = page(built, "reference/admin-api")
    document = admin_document(create_app(Settings(apps=(builtin_app({}),))))
    assert document["paths"]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert f"{method.upper()} {path}" in reference.text, f"{method} {path}"
            assert operation["summary"].split()[0] in reference.text


def test_the_code_catalogues_have_every_code_and_result(built):
    reference = page(built, "reference/codes")
    for product in REGISTRY:
        entries = product.surface.catalogue()
        assert entries
        for entry in entries:
            if entry.get("kind") != "result":
                assert f" {entry['code']} " in reference.text, \
                    f"{product.name} {entry['code']}"
        for target in product.surface.targets():
            results = [entry for entry in product.surface.catalogue(target)
                       if entry.get("kind") == "result"]
            if results:
                section = reference.text.split(f" {target} ", 1)
                assert len(section) == 2, f"no Result table of {target}"
                for entry in results:
                    assert f" {entry['result']} {entry['description']} " in section[1], \
                        f"{target} {entry['result']}"


def test_the_scenario_schema_has_every_dialect(built):
    reference = page(built, "reference/scenario-schema")
    for product in REGISTRY:
        dialect = product.dialect
        assert dialect.subject in reference.text
        for name in (*dialect.targets, *dialect.wildcards, *dialect.match_fields,
                     *dialect.response_keys):
            assert f" {name}" in reference.text, f"{product.name}: {name}"


def test_the_coverage_reference_lists_what_mockface_coverage_prints(built):
    from mockface.cli.coverage import collect

    reference = page(built, "reference/coverage")
    rows, _, missing = collect((), details=True)
    for row in rows:
        assert f"{row['product']} {row['version']}" in reference.text
        assert f" {row['action']} {row['status']} " in reference.text, row
    for message in missing:
        assert f"Not compared: {message}" in reference.text


def test_an_unknown_generator_fails_the_build():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from mockface_reference import expand
        from sphinx.errors import ExtensionError
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    text, count = expand("# Page\n\n```{mockface-reference} codes\n```\n")
    assert count == 1 and "## The legacy codes" in text
    with pytest.raises(ExtensionError, match="no generator 'nothing'"):
        expand("```{mockface-reference} nothing\n```\n")
