"""The package's layering (../shared/design.md), checked on the source:

- ``core`` imports only core and names no product (no product's name, host, service or
  endpoint appears in it as a string);
- a product imports only core, itself and the platform it is built on (``tc3`` for the API
  3.0 services), never another product, the web layer or the CLI;
- everything else (the web layer, the CLI, the admin API, the dashboard, the OpenAPI
  document, the plugin and the testing handle) reaches products only through the registry
  (``mockface.products``), never a product's modules;
- Flask, Werkzeug and waitress are imported by the web layer only.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mockface.products import REGISTRY

PACKAGE = Path(__file__).resolve().parent.parent / "mockface"
PRODUCTS = PACKAGE / "products"
WEB_LIBRARIES = {"flask", "werkzeug", "waitress"}
#: Products built on a platform package besides core (the API 3.0 services on ``tc3``).
PLATFORMS = {"faceid": "tc3", "iai": "tc3"}
#: The public re-export of the products' signing functions (``mockface.signing``).
FACADES = {PACKAGE / "signing.py"}


def imports_of(path: Path, package: str | None = None) -> set[str]:
    """Absolute names of everything ``path`` (a module of ``package``: by default the one
    its place in the tree says) imports, relative imports resolved."""
    if package is None:
        package = ".".join(path.relative_to(PACKAGE.parent).parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[:len(parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names.update(f"{module}.{alias.name}" if not node.module else module
                             for alias in node.names)
            else:
                names.add(node.module or "")
    return names


def ours(path: Path, package: str | None = None) -> set[str]:
    return {name for name in imports_of(path, package) if name.startswith("mockface")}


def product_folders() -> list[Path]:
    return sorted(folder for folder in PRODUCTS.iterdir()
                  if folder.is_dir() and (folder / "__init__.py").exists())


def test_core_imports_only_core():
    paths = sorted((PACKAGE / "core").rglob("*.py"))
    assert paths
    for path in paths:
        assert all(name.startswith("mockface.core") for name in ours(path)), (path, ours(path))


def product_words() -> set[str]:
    """Every name by which core could know a product: names, hosts, services, endpoints."""
    words: set[str] = set()
    for product in REGISTRY:
        words.update((product.name, *product.hosts, *product.services, *product.endpoints()))
    return words


def test_core_names_no_product():
    words = product_words()
    assert {"legacy", "faceid", "iai", "idcardcompare", "faceid:GetLiveCode"} <= words
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in words, (path.name, node.lineno, node.value)


@pytest.mark.parametrize("folder", product_folders(), ids=lambda folder: folder.name)
def test_a_product_imports_only_core_itself_and_its_platform(folder):
    allowed = ["mockface.core", f"mockface.products.{folder.name}"]
    if folder.name in PLATFORMS:
        allowed.append(f"mockface.products.{PLATFORMS[folder.name]}")
    for path in sorted(folder.rglob("*.py")):
        assert all(name.startswith(tuple(allowed)) for name in ours(path)), (path, ours(path))


def integration_modules() -> list[Path]:
    """Every module outside core and the products (the registry module itself excluded)."""
    return sorted(path for path in PACKAGE.rglob("*.py")
                  if PRODUCTS not in path.parents and path.parent != PRODUCTS
                  and PACKAGE / "core" not in path.parents and path not in FACADES)


def test_integration_modules_reach_products_only_through_the_registry():
    modules = integration_modules()
    assert PACKAGE / "web" / "app.py" in modules and PACKAGE / "cli" / "sign.py" in modules
    for path in modules:
        reached = {name for name in ours(path) if name.startswith("mockface.products")}
        assert reached <= {"mockface.products", "mockface.products.REGISTRY"}, (path, reached)


@pytest.mark.parametrize("source", ["from ..products.legacy import wire\n",
                                    "from ..products.tc3.envelope import error\n",
                                    "import mockface.products.legacy.wire\n"])
def test_the_import_walk_sees_a_module_that_goes_round_the_registry(tmp_path, source):
    stray = tmp_path / "stray.py"
    stray.write_text(source, encoding="utf-8")
    assert any(name.startswith("mockface.products.") and name != "mockface.products.REGISTRY"
               for name in ours(stray, "mockface.web"))


def test_only_the_web_layer_imports_flask_werkzeug_or_waitress():
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "web":
            continue
        assert not {name.split(".")[0] for name in imports_of(path)} & WEB_LIBRARIES, path
