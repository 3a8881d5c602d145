"""The package's layering (../shared/design.md, "Target shape"), checked on the source: core
imports only core; the faceid protocol imports only core, never the legacy modules or the web
layer; Flask and waitress stay out of both."""
from __future__ import annotations

import ast
from pathlib import Path

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


def test_core_imports_only_core():
    for path in (PACKAGE / "core").glob("*.py"):
        ours = {name for name in imports_of(path) if name.startswith("mockface")}
        assert all(name.startswith("mockface.core") for name in ours), (path.name, ours)
        assert not {name.split(".")[0] for name in imports_of(path)} & WEB_LIBRARIES


def test_faceid_imports_only_core():
    for path in (PACKAGE / "faceid").glob("*.py"):
        ours = {name for name in imports_of(path) if name.startswith("mockface")}
        assert all(name.startswith(("mockface.core", "mockface.faceid")) for name in ours), \
            (path.name, ours)
        assert not {name.split(".")[0] for name in imports_of(path)} & WEB_LIBRARIES
