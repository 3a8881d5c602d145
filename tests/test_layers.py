"""The package's layering (../shared/design.md, "Target shape"), checked on the source: core
imports only core; each protocol package (legacy, faceid) imports only core and itself, never
the other protocol or the web layer; Flask, Werkzeug and waitress are imported by the web
layer only."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mockface"
WEB_LIBRARIES = {"flask", "werkzeug", "waitress"}


def imports_of(path: Path) -> set[str]:
    """Absolute names of everything ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names.update(f"{module}.{alias.name}" if not node.module else module
                             for alias in node.names)
            else:
                names.add(node.module or "")
    return names


@pytest.mark.parametrize("package,allowed", [
    ("core", ("mockface.core",)),
    ("products/legacy", ("mockface.core", "mockface.products.legacy")),
    ("products/tc3", ("mockface.core", "mockface.products.tc3")),
])
def test_a_layer_imports_only_what_it_may(package, allowed):
    paths = sorted((PACKAGE / package).rglob("*.py"))
    assert paths
    for path in paths:
        ours = {name for name in imports_of(path) if name.startswith("mockface")}
        assert all(name.startswith(allowed) for name in ours), (path.name, ours)


def test_only_the_web_layer_imports_flask_werkzeug_or_waitress():
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "web":
            continue
        assert not {name.split(".")[0] for name in imports_of(path)} & WEB_LIBRARIES, path
