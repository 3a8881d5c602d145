"""The README stays short, its commands are the ones CI runs, its examples run as written and
its links lead somewhere. (The examples that moved to the manual are checked, with every
other block of the manual, by tests/test_docs_examples.py.)"""
from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

import mockface
from tests.test_docs_examples import EXAMPLES, blocks_of, shell_problems

ROOT = Path(__file__).resolve().parent.parent
README_PATH = ROOT / "README.md"
README = README_PATH.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The README's text under ``## title``, up to the next ``## `` heading."""
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else len(README)]


def code_blocks(title: str, language: str) -> list[str]:
    """The ``language`` code blocks of one section, in order."""
    return re.findall(rf"```{language}\n(.*?)```", section(title), re.S)


def test_the_readme_is_at_most_200_lines():
    assert len(README.splitlines()) <= 200


def test_the_newcomers_questions_each_have_a_section():
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings[:7] == ["Install", "Quick start", "Testing with pytest", "In CI",
                            "Point an unmodified SDK at it", "What does a code mean?",
                            "The manual"]


def test_quick_start_commands_match_ci():
    ci = (ROOT / ".ci" / "run").read_text()
    serve_command, test_command = code_blocks("Quick start", "sh")
    assert test_command.strip() in ci.splitlines()
    assert serve_command.strip().endswith("mockface serve")
    assert test_command.strip().endswith("pytest")
    assert serve_command.strip().rsplit("&&", 1)[0] == test_command.strip().rsplit("&&", 1)[0]


def test_install_says_it_is_not_on_the_package_index_and_names_the_real_wheel():
    install = section("Install")
    assert "not on the package index yet" in install
    wheels = set(re.findall(r"mockface-([0-9][^-]*)-py3-none-any\.whl", README))
    assert wheels == {mockface.__version__}  # and its commands install no mockface from the
    # index: test_every_shell_command_exists_and_the_read_only_ones_run


def test_the_extras_named_exist():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg", encoding="utf-8")
    declared = set(setup["options.extras_require"])
    named = set(re.findall(r"`\[([a-z]+)\]`", section("Install")))
    assert named and named <= declared, named - declared


def test_every_shell_command_exists_and_the_read_only_ones_run():
    for block in blocks_of(README_PATH):
        if block.language == "sh":
            assert shell_problems(block.text) == [], block.name


def test_the_pytest_example_is_short_and_passes(pytester: pytest.Pytester):
    [example] = code_blocks("Testing with pytest", "python")
    assert len(example.splitlines()) <= 17
    pytester.makepyfile(test_readme_example=example)
    pytester.runpytest_subprocess().assert_outcomes(passed=2)


def test_the_ci_recipe_is_the_example_the_suite_runs():
    [recipe] = code_blocks("In CI", "sh")
    assert recipe == (EXAMPLES / "ci-recipe.sh").read_text(encoding="utf-8")
    assert len(recipe.splitlines()) <= 10
    assert '"ci-recipe.sh"' in (ROOT / "tests" / "test_examples.py").read_text(encoding="utf-8")


def test_the_unmodified_sdk_section_is_one_command_and_a_link():
    [command] = code_blocks("Point an unmodified SDK at it", "sh")
    assert command.strip().startswith('eval "$(mockface env)"')
    assert "(docs/clients.md)" in section("Point an unmodified SDK at it")


def test_the_codes_section_shows_mockface_codes_and_links_the_catalogue():
    [commands] = code_blocks("What does a code mean?", "sh")
    assert all(line.startswith("mockface codes") for line in commands.splitlines())
    assert "(docs/reference/codes.md)" in section("What does a code mean?")


def _slug(heading: str) -> str:
    """The anchor a code host gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_leads_somewhere():
    anchors = {_slug(heading) for heading in re.findall(r"^#+ (.+)$", README, re.M)}
    for target in re.findall(r"\]\(([^)\s]+)\)", README):
        if target.startswith(("http://", "https://")):
            continue
        if target.startswith("#"):
            assert target[1:] in anchors, target
        else:
            assert (ROOT / target.split("#")[0]).exists(), target


def test_the_map_lists_every_page_of_the_manual():
    linked = set(re.findall(r"\]\((docs/[^)#\s]+\.md)\)", section("The manual")))
    pages = {page.relative_to(ROOT).as_posix() for page in (ROOT / "docs").rglob("*.md")
             if not any(part.startswith(("_", ".")) for part in page.parts)}
    missing = pages - linked - {"docs/index.md", "docs/reference/changelog.md"}
    assert not missing, missing


def test_scenario_examples_are_valid():
    """The scenario library's README (shipped with the library) shows valid scenarios."""
    from mockface.core.yamlsource import load
    from mockface.scenarios import parse_scenario

    text = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    blocks = [block for block in re.findall(r"```yaml\n(.*?)```", text, re.S)
              if block.lstrip().startswith(("rules:", "# my-case"))]
    assert len(blocks) >= 8
    for block in blocks:
        assert parse_scenario(load(block)).rules


def test_mockface_help_and_version_say_what_the_readme_says():
    from click.testing import CliRunner

    from mockface.cli import main

    shown = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    for feature in ("legacy API", "Cloud API 3.0", "faceid", "iai", "token flows",
                    "element checks", "Encryption", "scenario"):
        assert feature in shown and feature in " ".join(README.split()), feature
    version = CliRunner().invoke(main, ["--version"])
    assert version.exit_code == 0
    assert version.output == f"mockface, version {mockface.__version__}\n"
