"""The README's examples run as written (against a server on a free port)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockface.core.config import load_settings
from mockface.web.app import create_app
from mockface.web.server import start_background

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
    from mockface.core.yamlsource import load
    from mockface.scenarios import parse_scenario
    texts = [(ROOT / "README.md").read_text(encoding="utf-8"),
             (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")]
    blocks = [block for text in texts for block in re.findall(r"```yaml\n(.*?)```", text, re.S)
              if block.lstrip().startswith(("rules:", "# my-case"))]
    assert len(blocks) >= 8
    for block in blocks:
        assert parse_scenario(load(block)).rules


def test_the_reason_lines_shown_in_the_readme_are_what_the_server_logs(caplog):
    """The first three example lines of "Why did it answer that?", re-created for real."""
    import logging

    from mockface.core.clock import Clock
    from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
    from mockface.emulator import Emulator
    from mockface.products.legacy.signature import sign

    section = README[README.index("## Why did it answer that?"):]
    shown = re.search(r"```\n(.*?)```", section, re.S).group(1).splitlines()[:3]
    clock = Clock()
    clock.freeze(1_800_000_000)
    client = create_app(emulator=Emulator(load_settings(env={}), clock)).test_client()

    def authorization(**options):
        options.setdefault("now", 1_800_000_000)
        return sign(DEFAULT_APPID, DEFAULT_SECRET_ID, options.pop("key", DEFAULT_SECRET_KEY),
                    **options)

    caplog.set_level(logging.INFO, logger="mockface.access")
    client.post("/face/livegetfour", json={"appid": DEFAULT_APPID},
                headers={"Authorization": authorization(now=1_800_001_000)})
    client.post("/face/idcardcompare", headers={"Authorization": authorization()},
                json={"appid": DEFAULT_APPID, "idcard_number": "110105199003071230",
                      "idcard_name": "张三", "url": "http://x/y.jpg"})
    client.post("/face/livegetfour", json={"appid": DEFAULT_APPID},
                headers={"Authorization": authorization(key="not-the-key")})
    logged = [r.getMessage() for r in caplog.records if r.name == "mockface.access"]
    without_latency = [re.sub(r" [0-9.]+ms ", " ", line) for line in logged]
    assert without_latency == [re.sub(r" [0-9.]+ms ", " ", line) for line in shown]


def test_api3_sdk_example_runs(default_server, capsys):
    source = code_block("API 3.0: `faceid` and `iai`", "python")
    exec(compile(source.replace("127.0.0.1:8080", default_server.url.split("//")[1]),
                 "README", "exec"), {})
    code = capsys.readouterr().out.strip()
    assert len(code) == 4 and code.isdigit()


def test_encryption_example_runs(default_server, capsys):
    source = code_block("Element checks (要素核验) and the `Encryption` envelope", "python")
    exec(compile(source.replace("127.0.0.1:8080", default_server.url.split("//")[1]),
                 "README", "exec"), {})
    assert capsys.readouterr().out.strip() == "0"  # the registry's 张三, decrypted


def test_element_identities_example_loads(tmp_path):
    path = tmp_path / "identities.yaml"
    path.write_text(code_block("Element checks (要素核验) and the `Encryption` envelope",
                               "yaml"), encoding="utf-8")
    record = load_settings(path, env={}).identity_records["11010519491231002X"]
    assert [phone.status for phone in record.phones] == [0, 1]
    assert [card.number for card in record.bank_cards] == ["6225757550000005"]
    assert record.validity is not None and record.validity.end == "00000000"


def test_api3_curl_line_runs(default_server):
    import json
    import os
    import shutil
    import subprocess
    import sys

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    line = code_block("API 3.0: `faceid` and `iai`", "sh").strip()
    line = line.replace("mockface sign", f"mockface sign --url {default_server.url}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ['PATH']}", "MOCKFACE_APPID": "",
           "MOCKFACE_SECRET_ID": "", "MOCKFACE_SECRET_KEY": "", "NO_PROXY": "*"}
    done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env,
                          timeout=60)
    assert len(json.loads(done.stdout)["Response"]["LiveCode"]) == 4, done.stderr


def test_the_proxy_fixture_example_passes(pytester):
    pytester.makepyfile(test_proxy_example=code_block("Point an unmodified client at mockface",
                                                      "python"))
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
