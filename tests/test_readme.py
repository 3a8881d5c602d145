"""The README's examples run as written (against a server on a free port)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockface.app import create_app
from mockface.config import load_settings
from mockface.server import start_background

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_block(section: str, language: str) -> str:
    """The first ``language`` code block after the heading ``section``."""
    start = README.index(f"## {section}\n")
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(README, start)
    assert match is not None, f"no {language} block in {section}"
    return match.group(1)


@pytest.fixture
def default_server():
    server = start_background(create_app(load_settings(env={})))
    yield server
    server.stop()


def test_python_example_runs_from_any_directory(default_server, monkeypatch, capsys,
                                               tmp_path):
    source = code_block("Calling it from Python", "python")
    monkeypatch.chdir(tmp_path)
    exec(compile(source.replace("http://127.0.0.1:8080", default_server.url), "README", "exec"),
         {})
    live_status, sim = capsys.readouterr().out.split()
    assert live_status == "0" and 80 <= int(sim) < 100


def test_configuration_example_loads(tmp_path):
    path = tmp_path / "mockface.yaml"
    path.write_text(code_block("Configuration", "yaml"), encoding="utf-8")
    settings = load_settings(path, env={})
    assert [app.appid for app in settings.apps] == ["1250000001", "1250000002"]
    assert settings.apps[1].suspended and settings.apps[0].rate_limit == 20


def test_quick_start_commands_match_ci():
    ci = (ROOT / ".ci" / "run").read_text()
    section = README[README.index("## Quick start\n"):README.index("## Calling it from Python")]
    serve_command, test_command = re.findall(r"```sh\n(.*?)\n```", section, re.S)
    assert test_command.strip() in ci.splitlines()
    assert serve_command.endswith("mockface serve") and test_command.endswith("pytest")


def test_scenario_examples_are_valid():
    from mockface.scenarios import parse_scenario
    from mockface.yamlsource import load
    texts = [(ROOT / "README.md").read_text(encoding="utf-8"),
             (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")]
    blocks = [block for text in texts for block in re.findall(r"```yaml\n(.*?)```", text, re.S)
              if block.lstrip().startswith(("rules:", "# my-case"))]
    assert len(blocks) >= 8
    for block in blocks:
        assert parse_scenario(load(block)).rules
