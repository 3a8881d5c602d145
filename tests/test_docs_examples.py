"""Every code block of every manual page (docs/**/*.md) runs or is checked, so the manual
cannot drift from the code.

By the block's language:

- ``python``: a test file (it defines ``test_*`` functions) passes under pytest with the
  plugin; any other block runs against a background server, its ``127.0.0.1:8080`` replaced
  by the server's address (a block that does not name that address reaches the server
  through proxy mode, with the environment ``mockface env`` prints). A block that is an
  ``examples/`` file verbatim is run by tests/test_examples.py instead.
- ``yaml``: loaded by shape: a scenario (``rules:``, or rules alone), a config (any other
  mockface key), or a CI, Compose or Kubernetes file whose commands are checked as shell.
- ``sh``/``console``: every ``mockface`` command names a real subcommand and only options
  it has; the read-only ones (``codes``, ``scenarios``, ``keys``, ``coverage``, ``sign``,
  ``check`` of library names) run and exit 0; no ``pip install`` of mockface from the
  package index (it is not published yet).
- ``json`` parses; ``js`` passes ``node --check`` (when Node is installed).
- ``{literalinclude}``: the included file exists, and an ``examples/`` file is one
  tests/test_examples.py runs.
- Other languages (PHP, Java, Go) run nowhere here: their section must say "by hand".
- ``text`` and blocks without a language are output, not code.

A block opts out with ``<!-- not run: reason -->`` on the line before it.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from mockface.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
TEST_EXAMPLES = ROOT / "tests" / "test_examples.py"
SERVER_ADDRESS = "127.0.0.1:8080"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->\s*$")
_HEADING = re.compile(r"^#{1,6} ")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown page."""

    page: Path
    line: int          # 1-based line number of the opening fence
    language: str      # the info string's first word ("" when none), directives included
    argument: str      # the rest of the info string (a directive's argument)
    text: str          # the content, its fence's indentation removed
    not_run: str | None  # the reason given by a preceding <!-- not run: ... -->
    section: str       # the page's text from the last heading before the block to it

    @property
    def name(self) -> str:
        """``page.md:LINE:language``, as the test ids show it."""
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}:{self.language or '-'}"


def blocks_of(path: Path, text: str | None = None, first_line: int = 1) -> list[Block]:
    """The fenced blocks of a Markdown file in order, with the blocks nested inside MyST
    directives (other than the code directives) found too."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    found: list[Block] = []
    section_start = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        if _HEADING.match(line):
            section_start = index
        opening = _FENCE.match(line)
        if opening is None:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        end = index + 1
        while end < len(lines):
            closing = _FENCE.match(lines[end])
            if closing and closing["fence"].startswith(fence) and not closing["info"].strip() \
                    and len(closing["indent"]) <= len(indent) + 3:
                break
            end += 1
        body = [raw[len(indent):] if raw.startswith(indent) else raw.lstrip()
                for raw in lines[index + 1:end]]
        info = opening["info"].strip()
        language, _, argument = info.partition(" ")
        if language in ("{code-block}", "{code}", "{sourcecode}"):
            language, argument = argument.strip() or "text", ""
            while body and body[0].startswith(":"):
                body = body[1:]
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = _NOT_RUN.match(previous)
        block = Block(path, first_line + index, language.lower(), argument.strip(),
                      "\n".join(body) + "\n", marker["reason"] if marker else None,
                      "\n".join(lines[section_start:index]))
        if language.startswith("{") and language not in ("{literalinclude}", "{code-cell}"):
            found.extend(blocks_of(path, "\n".join(lines[index + 1:end]),
                                   first_line + index + 1))
        else:
            found.append(block)
        index = end + 1
    return found


def manual_pages() -> list[Path]:
    """Every Markdown page of the manual (not a build's output)."""
    return sorted(page for page in DOCS.rglob("*.md")
                  if not any(part.startswith(("_build", ".")) for part in page.parts))


def all_blocks() -> list[Block]:
    return [block for page in manual_pages() for block in blocks_of(page)]


# --- shell -------------------------------------------------------------------------------

#: Subcommands that only read and print: a block's use of them is run.
READ_ONLY = {"codes", "scenarios", "keys", "coverage", "sign", "check"}
_SEPARATORS = {"&&", "||", "|", ";", "&", "(", ")", "|&", ";;", "\n"}
_PREFIXES = {"exec", "nohup", "sudo", "time", "command", "env", "then", "do", "else", "!"}


def _options_of(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        names.update(param.opts)
        names.update(param.secondary_opts)
    return names


def _invocations(text: str) -> list[list[str]]:
    """Every simple command of a shell text as its words, with the commands inside
    ``$(...)`` and ``sh -c '...'`` found too; comments dropped, ``<placeholders>`` kept as
    one word."""
    text = re.sub(r"<[^<>\s][^<>\n]*>", "PLACEHOLDER", text.replace("\\\n", " "))
    found: list[list[str]] = []
    pending = ""
    for line in text.splitlines():
        pending += line + "\n"
        try:
            tokens = list(_lexer(pending))
        except ValueError:  # a quotation that goes on on the next line
            continue
        pending = ""
        found.extend(_commands(tokens))
    if pending.strip():
        found.extend(_commands(list(_lexer(pending))))
    return found


def _lexer(text: str) -> shlex.shlex:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()")
    lexer.commenters = "#"
    lexer.wordchars += "$`{}[]:,@%+^!<>"
    return lexer


def _commands(tokens: list[str]) -> list[list[str]]:
    """The simple commands of one line's tokens (and those nested in their words)."""
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in _SEPARATORS or set(token) <= set(";&|()"):
            commands.append([])
            continue
        commands[-1].append(token)
    found: list[list[str]] = []
    for words in commands:
        while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0])
                         or words[0] in _PREFIXES):
            words = words[1:]
        if words:
            found.append(words)
        for position, word in enumerate(words):
            for inner in _subshells(word):
                found.extend(_invocations(inner))
            if word == "-c" and position == 1 and Path(words[0]).name in ("sh", "bash") \
                    and len(words) > 2:
                found.extend(_invocations(words[2]))
    return found


def _subshells(word: str) -> list[str]:
    """The texts inside ``$( ... )`` in one word (balanced parentheses)."""
    texts = []
    start = word.find("$(")
    while start != -1:
        depth, position = 1, start + 2
        while position < len(word) and depth:
            depth += {"(": 1, ")": -1}.get(word[position], 0)
            position += 1
        texts.append(word[start + 2:position - 1])
        start = word.find("$(", position)
    return texts


def _mockface_argv(words: list[str]) -> list[str] | None:
    """The arguments after ``mockface`` when this command runs mockface, else None."""
    if Path(words[0]).name == "mockface":
        return words[1:]
    if re.fullmatch(r"python[0-9.]*", Path(words[0]).name) and words[1:3] == ["-m", "mockface"]:
        return words[3:]
    return None


def shell_problems(text: str, run: bool = True) -> list[str]:
    """What is wrong with the mockface commands of a shell text (empty when nothing is);
    ``run``: also run the read-only ones."""
    problems = []
    for words in _invocations(text):
        if Path(words[0]).name in ("pip", "pip3") or words[:3] in (["python", "-m", "pip"],
                                                                   ["python3", "-m", "pip"]):
            for word in words:
                if re.fullmatch(r"mockface(\[[a-z,]+\])?", word):
                    problems.append(f"{' '.join(words)}: mockface is not on the package index "
                                    "yet; install it from a checkout or a built wheel")
        argv = _mockface_argv(words)
        if argv is None:
            continue
        shown = " ".join(["mockface", *argv])
        if not argv or argv[0].startswith("-"):
            unknown = [word for word in argv if word.startswith("-")
                       and word not in ("--help", "-h", "--version")]
            problems += [f"{shown}: mockface has no option {word}" for word in unknown]
            continue
        command = cli_main.commands.get(argv[0])
        if command is None:
            problems.append(f"{shown}: no such command (mockface --help lists "
                            f"{', '.join(sorted(cli_main.commands))})")
            continue
        known = _options_of(command)
        for word in argv[1:]:
            if word == "--":
                break
            if word.startswith("-") and not re.fullmatch(r"-[0-9.]+", word):
                option = word.split("=", 1)[0]
                if option not in known:
                    problems.append(f"{shown}: mockface {argv[0]} has no option {option}")
        if run and argv[0] in READ_ONLY and _runnable(argv):
            result = CliRunner().invoke(cli_main, argv, catch_exceptions=True)
            if result.exit_code != 0:
                problems.append(f"{shown}: exited {result.exit_code}: "
                                f"{(result.output or repr(result.exception))[-400:]}")
    return problems


def _runnable(argv: list[str]) -> bool:
    """Whether a read-only command can run as written: no shell variables, placeholders or
    files it would need."""
    if any(("$" in word or "<" in word or "…" in word or "..." in word) for word in argv):
        return False
    if "--config" in argv or any(word.startswith("--config=") for word in argv):
        return False
    if argv[0] == "check":
        return all(word.startswith("-") or ("/" not in word and "." not in word)
                   for word in argv[1:])
    return True


def console_commands(text: str) -> str:
    """The commands of a console transcript: its ``$ `` lines (with continuations)."""
    commands, continuing = [], False
    for line in text.splitlines():
        if line.startswith("$ ") or continuing:
            commands.append(line[2:] if line.startswith("$ ") else line)
            continuing = line.endswith("\\")
    return "\n".join(commands) + "\n"


def load_config(path: Path):
    """A config file read as ``mockface serve --config`` reads it (every product's keys),
    without the ``MOCKFACE_*`` variables."""
    from mockface.core.config import load_settings
    from mockface.products import REGISTRY

    return load_settings(path, env={}, services=REGISTRY.services,
                         sections=REGISTRY.config_keys, app_sections=REGISTRY.app_config_keys)


# --- yaml ----------------------------------------------------------------------------------

_CI_KEYS = {"jobs", "stages", "services", "apiVersion", "on", "steps", "image", "script",
            "workflow", "include", "variables", "before_script", "default"}
_COMMAND_KEYS = {"run", "script", "before_script", "after_script", "command", "entrypoint"}


def yaml_problems(block: Block, tmp_path: Path) -> list[str]:
    """Load a YAML block by its shape and say what is wrong with it."""
    from mockface.core.config import ConfigError
    from mockface.core.scenarios.model import ScenarioError
    from mockface.scenarios import load_scenario

    documents = list(yaml.safe_load_all(block.text))
    first = documents[0] if documents else None
    if isinstance(first, list) and all(isinstance(rule, dict) and "endpoint" in rule
                                       for rule in first):
        first = {"rules": first}  # a list of rules, shown without its `rules:`
    elif isinstance(first, dict) and "endpoint" in first and "rules" not in first:
        first = {"rules": [first]}  # one rule
    if isinstance(first, dict) and "rules" in first and "apps" not in first:
        path = tmp_path / "scenario.yaml"
        path.write_text(block.text if "rules" in (documents[0] or {}) else
                        yaml.safe_dump(first, allow_unicode=True), encoding="utf-8")
        try:
            load_scenario(path)
        except ScenarioError as error:
            return [str(problem) for problem in error.problems]
        return []
    if isinstance(first, dict) and (_CI_KEYS & set(map(str, first))):
        problems: list[str] = []
        for document in documents:
            _walk_commands(document, problems)
        return problems
    path = tmp_path / "mockface.yaml"
    path.write_text(block.text, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as error:
        return [f"neither a scenario, a CI/Compose/Kubernetes file nor a config: {error}"]
    return []


def _walk_commands(node: object, problems: list[str], key: str = "") -> None:
    """Check the shell commands of a CI, Compose or Kubernetes document."""
    if isinstance(node, dict):
        for name, value in node.items():
            _walk_commands(value, problems, str(name))
        return
    if isinstance(node, list):
        if key in _COMMAND_KEYS | {"args"} and node and all(isinstance(v, str) for v in node):
            if key == "args" and node[0] in cli_main.commands:
                problems += shell_problems(shlex.join(["mockface", *node]), run=False)
            elif key != "args" and (Path(node[0]).name == "mockface"):
                problems += shell_problems(shlex.join(node), run=False)
            elif key in ("script", "before_script", "after_script", "run"):
                for line in node:
                    problems += shell_problems(line, run=False)
            return
        for item in node:
            _walk_commands(item, problems, key)
        return
    if isinstance(node, str) and key in _COMMAND_KEYS:
        problems += shell_problems(node, run=False)


# --- the tests -----------------------------------------------------------------------------

BLOCKS = all_blocks()
_OUTPUT = {"", "text", "output", "none", "{toctree}"}


def _ids(blocks: list[Block]) -> list[str]:
    return [block.name for block in blocks]


def _of(*languages: str) -> list[Block]:
    return [block for block in BLOCKS if block.language in languages and block.not_run is None]


def test_the_manual_has_pages_and_blocks():
    assert (DOCS / "index.md").exists() or manual_pages(), "no manual pages in docs/"
    assert len(BLOCKS) >= 20


def test_every_block_has_a_checker_or_says_why_not():
    handled = {"python", "py", "yaml", "yml", "sh", "bash", "shell", "console", "json", "js",
               "javascript", "{literalinclude}"} | _OUTPUT
    unchecked = [block.name for block in BLOCKS
                 if block.language not in handled and block.not_run is None
                 and "by hand" not in block.section.lower()
                 and not block.language.startswith("{")]
    assert not unchecked, ("no checker for these blocks; say in their section that they are "
                           "checked by hand, or precede them with <!-- not run: reason -->")


def test_the_wheels_named_are_this_version():
    import mockface

    named = {version for page in manual_pages() for version in re.findall(
        r"mockface-([0-9][^-]*)-py3-none-any\.whl", page.read_text(encoding="utf-8"))}
    assert named <= {mockface.__version__}, named


def test_opt_outs_are_few_and_give_a_reason():
    opted_out = [block for block in BLOCKS if block.not_run is not None]
    assert len(opted_out) <= max(3, len(BLOCKS) // 10), [b.name for b in opted_out]


SHELL = _of("sh", "bash", "shell", "console")


@pytest.mark.parametrize("block", SHELL, ids=_ids(SHELL))
def test_shell_block(block: Block):
    text = console_commands(block.text) if block.language == "console" else block.text
    assert shell_problems(text) == []


YAML = _of("yaml", "yml")


@pytest.mark.parametrize("block", YAML, ids=_ids(YAML))
def test_yaml_block(block: Block, tmp_path):
    assert yaml_problems(block, tmp_path) == []


JSON = _of("json")


@pytest.mark.parametrize("block", JSON, ids=_ids(JSON))
def test_json_block(block: Block):
    json.loads(block.text)


JS = _of("js", "javascript")


@pytest.mark.parametrize("block", JS, ids=_ids(JS))
def test_js_block_parses(block: Block, tmp_path):
    node = shutil.which("node")
    if node is None:
        if os.environ.get("MOCKFACE_REQUIRE_NODE") == "1":
            pytest.fail("node is not installed")
        pytest.skip("node is not installed")
    script = tmp_path / "block.js"
    script.write_text(block.text, encoding="utf-8")
    done = subprocess.run([node, "--check", str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


INCLUDES = _of("{literalinclude}")


@pytest.mark.parametrize("block", INCLUDES, ids=_ids(INCLUDES))
def test_included_file_exists_and_runs(block: Block):
    path = (block.page.parent / block.argument).resolve()
    assert path.is_file(), f"{block.argument} does not exist"
    if path.is_relative_to(EXAMPLES):
        assert f'"{path.name}"' in TEST_EXAMPLES.read_text(encoding="utf-8"), \
            f"tests/test_examples.py does not run {path.name}"


def _example_verbatim(text: str) -> Path | None:
    for example in EXAMPLES.iterdir():
        if example.is_file() and example.read_text(encoding="utf-8") == text:
            return example
    return None


PYTHON = _of("python", "py")
_A_TEST = re.compile(r"^(\s*def test_|class Test|class \w+\((unittest\.)?TestCase\))", re.M)
PYTHON_TESTS = [block for block in PYTHON if _A_TEST.search(block.text)
                and _example_verbatim(block.text) is None]
PYTHON_SCRIPTS = [block for block in PYTHON if not _A_TEST.search(block.text)
                  and _example_verbatim(block.text) is None]
PYTHON_EXAMPLES = [block for block in PYTHON if _example_verbatim(block.text) is not None]


@pytest.mark.parametrize("block", PYTHON_EXAMPLES, ids=_ids(PYTHON_EXAMPLES))
def test_python_block_that_is_an_example_file_is_run_by_test_examples(block: Block):
    example = _example_verbatim(block.text)
    assert example is not None
    assert f'"{example.name}"' in TEST_EXAMPLES.read_text(encoding="utf-8")


@pytest.mark.parametrize("block", PYTHON_TESTS, ids=_ids(PYTHON_TESTS))
def test_python_test_file_passes(block: Block, pytester: pytest.Pytester):
    pytester.makepyfile(**{f"test_block_{block.line}": block.text})
    result = pytester.runpytest_subprocess()
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and not outcomes.get("failed") \
        and not outcomes.get("errors") and not outcomes.get("error"), result.stdout.str()


@pytest.fixture(scope="module")
def docs_server():
    from mockface.core.config import load_settings
    from mockface.web.app import create_app
    from mockface.web.server import start_background

    server = start_background(create_app(load_settings(env={})))
    yield server
    server.stop()


def run_python_block(text: str, server, monkeypatch, tmp_path) -> None:
    """Run a script block against ``server``: its address replaces 127.0.0.1:8080, or, when
    the block does not name that address, the proxy environment points it at the server."""
    from mockface.client import AdminClient

    admin = AdminClient(server.url)
    admin.reset()
    monkeypatch.chdir(tmp_path)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    if SERVER_ADDRESS not in text:
        for name, value in admin.proxy_env(tmp_path / "bundle.pem").items():
            monkeypatch.setenv(name, value)
    source = text.replace(SERVER_ADDRESS, server.url.split("//", 1)[1])
    exec(compile(source, "<docs block>", "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize("block", PYTHON_SCRIPTS, ids=_ids(PYTHON_SCRIPTS))
def test_python_block_runs(block: Block, docs_server, monkeypatch, tmp_path, capsys):
    run_python_block(block.text, docs_server, monkeypatch, tmp_path)
    assert capsys.readouterr().out.strip(), "the block printed nothing to show"


# --- what particular blocks show --------------------------------------------------------------

def block_containing(marker: str, *languages: str) -> Block:
    """The first block of the manual (of one of ``languages``) whose text holds ``marker``."""
    for block in BLOCKS:
        if block.language in languages and marker in block.text:
            return block
    raise AssertionError(f"no {'/'.join(languages)} block of the manual shows {marker!r}")


def test_the_first_python_request_prints_a_live_status_and_a_similarity(
        docs_server, monkeypatch, tmp_path, capsys):
    block = block_containing("/face/idcardlivedetectfour", "python")
    run_python_block(block.text, docs_server, monkeypatch, tmp_path)
    live_status, sim = capsys.readouterr().out.split()
    assert live_status == "0" and 80 <= int(sim) < 100


def test_the_api3_sdk_example_prints_a_live_code(docs_server, monkeypatch, tmp_path, capsys):
    block = block_containing('endpoint="127.0.0.1:8080"', "python")
    run_python_block(block.text, docs_server, monkeypatch, tmp_path)
    code = capsys.readouterr().out.strip()
    assert len(code) == 4 and code.isdigit()


def test_the_encryption_example_decrypts_to_a_consistent_result(
        docs_server, monkeypatch, tmp_path, capsys):
    block = block_containing("CiphertextBlob", "python")
    run_python_block(block.text, docs_server, monkeypatch, tmp_path)
    assert capsys.readouterr().out.strip() == "0"  # the registry's 张三, decrypted


def test_the_configuration_example_loads(tmp_path):
    path = tmp_path / "mockface.yaml"
    path.write_text(block_containing("AKIDarrears", "yaml").text, encoding="utf-8")
    settings = load_config(path)
    assert [app.appid for app in settings.apps] == ["1250000001", "1250000002"]
    assert settings.apps[1].suspended and settings.apps[0].rate_limit == 20


def test_the_element_identities_example_loads(tmp_path):
    path = tmp_path / "identities.yaml"
    path.write_text(block_containing("bank_cards:", "yaml").text, encoding="utf-8")
    record = load_config(path).identity_records["11010519491231002X"]
    assert [phone.status for phone in record.phones] == [0, 1]
    assert [card.number for card in record.bank_cards] == ["6225757550000005"]
    assert record.validity is not None and record.validity.end == "00000000"


def test_the_api3_curl_line_runs(docs_server):
    import sys

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    line = block_containing("--curl", "sh").text.strip()
    line = line.replace("mockface sign", f"mockface sign --url {docs_server.url}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ['PATH']}", "MOCKFACE_APPID": "",
           "MOCKFACE_SECRET_ID": "", "MOCKFACE_SECRET_KEY": "", "NO_PROXY": "*"}
    done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env,
                          timeout=60)
    assert len(json.loads(done.stdout)["Response"]["LiveCode"]) == 4, done.stderr


def test_the_reason_lines_shown_are_what_the_server_logs(caplog):
    """The first three example lines of the troubleshooting page, re-created for real."""
    import logging

    from mockface.core.clock import Clock
    from mockface.core.config import (DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                                      load_settings)
    from mockface.emulator import Emulator
    from mockface.products.legacy.signature import sign
    from mockface.web.app import create_app

    shown = block_containing("POST /face/livegetfour appid=123456 code=5 ",
                             "", "text").text.splitlines()[:3]
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


def test_the_proxy_fixture_example_passes(pytester: pytest.Pytester):
    pytester.makepyfile(test_proxy_example=block_containing("mockface_proxy", "python").text)
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


# --- the checkers themselves ------------------------------------------------------------------

def test_the_shell_checker_finds_what_is_wrong():
    assert shell_problems("mockface serve --port 0 --quiet &", run=False) == []
    assert shell_problems('eval "$(mockface env --nope)"', run=False) == [
        'mockface env --nope: mockface env has no option --nope']
    assert shell_problems("X=$(mockface frobnicate) || exit 1", run=False)[0].startswith(
        "mockface frobnicate: no such command")
    assert shell_problems("pip install 'mockface[redis]'", run=False)[0].endswith(
        "install it from a checkout or a built wheel")
    assert shell_problems("sh -c \"pip install x && .venv/bin/mockface serve --nope\"",
                          run=False) == ["mockface serve --nope: mockface serve has no option "
                                         "--nope"]
    assert shell_problems("mockface codes --endpoint nosuchendpoint")[0].startswith(
        "mockface codes --endpoint nosuchendpoint: exited")
    assert shell_problems("cd mockface  # pip install -e . is fine", run=False) == []
    assert console_commands("$ mockface scenarios \\\n    --json\n[{...}]\n") == \
        "mockface scenarios \\\n    --json\n"


def test_the_block_parser_reads_fences_markers_and_nesting(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# T\n\n- item\n\n  ```sh\n  mockface scenarios\n  ```\n\n"
                    "<!-- not run: needs a GPU -->\n```python\nimport gpu\n```\n\n"
                    "````{note}\n```yaml\nrules: []\n```\n````\n", encoding="utf-8")
    blocks = blocks_of(page)
    assert [(b.language, b.line, b.not_run) for b in blocks] == [
        ("sh", 5, None), ("python", 10, "needs a GPU"), ("yaml", 15, None)]
    assert blocks[0].text == "mockface scenarios\n"
