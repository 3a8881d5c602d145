"""The README's example test file and CI recipe run for real, so they cannot go stale."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "test_with_mockface.py"
RECIPE = ROOT / "examples" / "ci-recipe.sh"
MIGRATION = ROOT / "examples" / "test_migration.py"
DETECTAUTH = ROOT / "examples" / "test_detectauth_flow.py"
README = (ROOT / "README.md").read_text(encoding="utf-8")
FLOWS_DOC = ROOT / "docs" / "flows.md"


def test_the_readme_shows_the_recipe_and_the_manual_includes_the_examples():
    assert RECIPE.read_text(encoding="utf-8") in README
    for page, example in (("pytest.md", EXAMPLE), ("migrating.md", MIGRATION),
                          ("ci.md", RECIPE)):
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        assert f"{{literalinclude}} ../examples/{example.name}" in text, page


def test_example_file_passes_in_process(pytester: pytest.Pytester):
    pytester.makepyfile(test_example=EXAMPLE.read_text(encoding="utf-8"))
    pytester.runpytest_subprocess().assert_outcomes(passed=5)


def test_migration_example_passes_on_both_apis(pytester: pytest.Pytester):
    pytester.makepyfile(test_migration=MIGRATION.read_text(encoding="utf-8"))
    pytester.runpytest_subprocess().assert_outcomes(passed=6)


def test_the_flows_page_includes_the_browser_example_by_path():
    assert "{literalinclude} ../examples/test_detectauth_flow.py" in \
        FLOWS_DOC.read_text(encoding="utf-8")
    assert DETECTAUTH.is_file()


def test_detectauth_example_passes_in_a_real_browser(pytester: pytest.Pytester):
    """The integrator's end-to-end example: Tencent's SDK through mockface as its proxy,
    Chromium on the user page, "pass" then "not the same person"."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _no_browser("playwright is not installed (pip install playwright)")
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        _no_browser("chromium is not installed (apt-get install chromium)")
    pytester.makepyfile(test_detectauth_flow=DETECTAUTH.read_text(encoding="utf-8"))
    pytester.runpytest_subprocess().assert_outcomes(passed=2)


def _no_browser(reason: str) -> None:
    """Skip, or fail under MOCKFACE_REQUIRE_BROWSER=1 (CI), as the dashboard tests do."""
    if os.environ.get("MOCKFACE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def test_ci_recipe_runs_for_real(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MOCKFACE_URL", None)
    result = subprocess.run(["bash", str(RECIPE)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"5 passed", result.stdout)
    url = re.search(r"mockface at (http://127\.0\.0\.1:(\d+)) is healthy", result.stderr)
    assert url is not None, result.stderr
    port = int(url.group(2))
    deadline = time.monotonic() + 15
    while True:  # the recipe stops its server: poll until nothing listens on the port
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                break
        assert time.monotonic() < deadline, "the recipe left its server running"
        time.sleep(0.05)


def test_ci_recipe_fails_when_the_tests_fail(tmp_path):
    failing = tmp_path / "test_fail.py"
    failing.write_text("def test_fails(mockface):\n    assert mockface.requests() == ['x']\n")
    script = tmp_path / "recipe.sh"
    script.write_text(RECIPE.read_text().replace("examples/test_with_mockface.py", str(failing)))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(script)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 1 and "1 failed" in result.stdout
