"""The command line as a user meets it: start-up errors, the ready file, wait, sign warnings,
the scenario library, samples and generated identities."""
from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

from mockface import samples
from mockface.cli import main
from mockface.cli.common import write_atomically
from mockface.core.config import DEFAULT_SECRET_KEY, load_settings
from mockface.core.media import inspect_image, inspect_video
from mockface.identities import generate, is_valid
from mockface.scenarios import BUILTIN_LIBRARY

from .support import run_mockface

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_FILES = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))


# -- start-up errors ---------------------------------------------------------------------------

def test_busy_port_exits_2_with_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_mockface("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == f"Error: port {port} is in use; try --port 0\n"


@pytest.mark.parametrize("host,message", [
    ("no-such-host.invalid", "cannot bind --host 'no-such-host.invalid': not an address or a "
                             "known host name"),
    ("192.0.2.1", "cannot bind --host '192.0.2.1': not an address of this machine"),
], ids=["unknown-name", "foreign-address"])
def test_bad_host_exits_2_with_one_line(host, message):
    result = run_mockface("serve", "--host", host, "--port", "0", "--admin-token", "t")
    assert (result.returncode, result.stderr) == (2, f"Error: {message}\n")


def test_unreadable_config_exits_2(tmp_path):
    result = run_mockface("serve", "--config", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"Error: invalid configuration: {tmp_path / 'missing.yaml'}:"
                                    " cannot read")
    assert "Traceback" not in result.stderr


# -- the ready file and wait -------------------------------------------------------------------

def test_ready_file_holds_the_real_port_and_goes_away(tmp_path):
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen([sys.executable, "-m", "mockface", "serve", "--port", "0",
                             "--quiet", "--ready-file", str(ready)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={k: v for k, v in os.environ.items()
                                 if not k.startswith("MOCKFACE_")})
    try:
        waited = run_mockface("wait", "--ready-file", str(ready), "--pid", str(proc.pid),
                              "--timeout", "30")
        assert waited.returncode == 0, waited.stderr
        document = json.loads(ready.read_text())
        assert set(document) == {"url", "port", "appid", "secret_id", "secret_key",
                                 "admin_token", "ca_cert"}
        assert document["ca_cert"] is None  # plain HTTP
        assert isinstance(document["port"], int) and document["port"] > 0
        assert document["url"] == f"http://127.0.0.1:{document['port']}" == \
            waited.stdout.strip()
        assert (document["appid"], document["secret_key"], document["admin_token"]) == \
            ("123456", DEFAULT_SECRET_KEY, None)
        health = requests.get(f"{document['url']}/__mockface/health", timeout=5)
        assert health.status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert proc.returncode == 0 and not ready.exists()


def test_ready_file_is_private_to_its_owner(tmp_path):
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen([sys.executable, "-m", "mockface", "serve", "--port", "0",
                             "--quiet", "--admin-token", "tok-1234", "--ready-file", str(ready)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert run_mockface("wait", "--ready-file", str(ready), "--pid", str(proc.pid),
                            "--timeout", "30").returncode == 0
        assert stat.S_IMODE(ready.stat().st_mode) == 0o600
        assert json.loads(ready.read_text())["admin_token"] == "tok-1234"
        assert [p.name for p in tmp_path.iterdir()] == ["ready.json"]  # no partial file left
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def test_write_atomically_replaces_whatever_was_there_in_one_step(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    planted = tmp_path / "planted.json"
    planted.symlink_to(victim)
    readable = tmp_path / "readable.json"
    readable.write_text("old")
    readable.chmod(0o644)
    modes_when_renamed = []
    real_replace = os.replace

    def watching_replace(source, target):
        modes_when_renamed.append(stat.S_IMODE(os.stat(source).st_mode))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", watching_replace)
    for path in (planted, readable):
        write_atomically(path, b'{"admin_token": "t"}')
        assert not path.is_symlink() and path.read_bytes() == b'{"admin_token": "t"}'
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert modes_when_renamed == [0o600, 0o600]  # private before it is visible at the path
    assert victim.read_text() == "untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["planted.json", "readable.json",
                                                          "victim.txt"]


def test_write_atomically_leaves_nothing_behind_when_it_fails(tmp_path):
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomically(tmp_path / "a-directory", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["a-directory"]


def test_ready_file_hides_a_real_secret_key(tmp_path):
    ready = tmp_path / "ready.json"
    env = {**os.environ, "MOCKFACE_SECRET_KEY": "a-real-key-1234"}
    proc = subprocess.Popen([sys.executable, "-m", "mockface", "serve", "--port", "0",
                             "--quiet", "--ready-file", str(ready)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert run_mockface("wait", "--ready-file", str(ready), "--pid", str(proc.pid),
                            "--timeout", "30").returncode == 0
        assert json.loads(ready.read_text())["secret_key"] is None
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert "a-real-key-1234" not in out and "secret key: ***********1234" in out


def test_wait_fails_at_once_when_the_server_died(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    started = time.monotonic()
    result = run_mockface("wait", "--ready-file", str(tmp_path / "never.json"), "--pid",
                          str(dead.pid), "--timeout", "60")
    assert result.returncode == 1
    assert result.stderr == (f"Error: the server (pid {dead.pid}) exited before writing "
                             f"{tmp_path / 'never.json'}\n")
    assert time.monotonic() - started < 30  # not the 60 s time-out


@pytest.mark.parametrize("url", ["htp:/x", "ftp://127.0.0.1:8080", "http://", "localhost:99999",
                                 "http://127.0.0.1:8080/some/path"])
def test_wait_refuses_a_malformed_url(url):
    result = CliRunner().invoke(main, ["wait", url, "--timeout", "60"])
    assert result.exit_code == 2
    assert "Invalid value for URL" in result.output


def test_wait_accepts_host_and_port(live_server):
    hostport = live_server.url.removeprefix("http://")
    result = CliRunner().invoke(main, ["wait", hostport, "--timeout", "10"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == live_server.url  # click < 8.2 mixes in stderr


def test_wait_needs_exactly_one_target(tmp_path):
    assert CliRunner().invoke(main, ["wait"]).exit_code == 2
    both = CliRunner().invoke(main, ["wait", "127.0.0.1:1", "--ready-file", str(tmp_path / "r")])
    assert both.exit_code == 2 and "give either URL or --ready-file" in both.output


def test_wait_ignores_proxy_variables(live_server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    result = CliRunner().invoke(main, ["wait", live_server.url, "--timeout", "5"])
    assert result.exit_code == 0, result.output


# -- sign warnings -----------------------------------------------------------------------------

def sign_result(*args: str):
    return run_mockface("sign", *args)


def test_sign_warns_about_signatures_a_server_refuses():
    now = int(time.time())
    too_long = sign_result("--expires-in", str(91 * 24 * 3600))
    assert too_long.returncode == 0 and too_long.stdout.strip()
    assert too_long.stderr == ("warning: a server on the real clock refuses this signature "
                               "with code 5: lifetime 7862400 s is over 90 days (7776000 s)\n")
    future = sign_result("--now", str(now + 5000))
    assert "refuses this signature with code 5: t is " in future.stderr
    assert "s in the future (skew 900 s)" in future.stderr
    expired = sign_result("--now", str(now - 7200), "--expires-in", "60")
    assert "refuses this signature with code 9: e expired " in expired.stderr


def test_sign_is_silent_for_a_good_signature():
    result = sign_result("--expires-in", "600")
    assert result.returncode == 0 and result.stderr == ""


# -- the scenario library, samples, identities ------------------------------------------------

def test_library_is_the_top_level_folder_in_a_checkout():
    assert sorted(p.stem for p in BUILTIN_LIBRARY.glob("*.yaml")) == LIBRARY_FILES
    assert "wrong-digits" in LIBRARY_FILES and len(LIBRARY_FILES) == 26


def test_scenarios_lists_names_and_descriptions_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["scenarios", "--json"])
    entries = json.loads(result.output)
    assert [e["name"] for e in entries] == LIBRARY_FILES
    wrong = next(e for e in entries if e["name"] == "wrong-digits")
    assert wrong["origin"] == "built-in"
    assert wrong["description"].startswith("The person read the wrong digits")


def test_scenarios_shows_local_directories_first(tmp_path):
    local = tmp_path / "qa"
    local.mkdir()
    (local / "mine.yaml").write_text("description: my own\nrules:\n  - endpoint: livegetfour\n"
                                     "    respond: {code: 15}\n")
    (local / "wrong-digits.yaml").write_text("description: shadowed\nrules: []\n")
    lines = CliRunner().invoke(main, ["scenarios", "--scenarios", str(local)]).output
    assert re.search(rf"^mine +my own  \[{re.escape(str(local))}\]$", lines, re.M)
    assert re.search(rf"^wrong-digits +shadowed  \[{re.escape(str(local))}\]$", lines, re.M)
    assert re.search(r"^happy-path +Every endpoint succeeds", lines, re.M)


def test_check_takes_names_directories_and_files(tmp_path):
    result = CliRunner().invoke(main, ["check", "wrong-digits", str(ROOT / "scenarios")])
    assert result.exit_code == 0
    assert result.stdout.count(": ok (") == 1 + len(LIBRARY_FILES)
    unknown = CliRunner().invoke(main, ["check", "no-such-scenario"])
    assert unknown.exit_code == 1 and "unknown scenario 'no-such-scenario'" in unknown.output
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = CliRunner().invoke(main, ["check", str(empty)])
    assert nothing.exit_code == 1 and "no .yaml, .yml or .json files" in nothing.output


SAMPLE_NAMES = ["card.jpg", "face.jpg", "video.mp4"]


def test_samples_never_overwrite_other_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no --out: the current directory
    (tmp_path / "face.jpg").write_bytes(b"my own photo")
    result = CliRunner().invoke(main, ["samples"])
    assert (result.exit_code, result.output) == (
        2, "Error: not overwriting face.jpg (not the samples); give --force to replace, or "
           "--out DIR\n")
    assert (tmp_path / "face.jpg").read_bytes() == b"my own photo"
    assert [p.name for p in tmp_path.iterdir()] == ["face.jpg"]  # nothing copied


def test_samples_name_every_file_in_the_way(tmp_path):
    (tmp_path / "face.jpg").write_bytes(b"mine")
    (tmp_path / "video.mp4").symlink_to(tmp_path / "face.jpg")
    result = CliRunner().invoke(main, ["samples", "--out", str(tmp_path)])
    assert (result.exit_code, result.output) == (
        2, f"Error: not overwriting {tmp_path / 'face.jpg'}, {tmp_path / 'video.mp4'} (not the "
           "samples); give --force to replace, or --out DIR\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.jpg", "video.mp4"]


def test_samples_force_replaces_files_and_links_themselves(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (tmp_path / "face.jpg").write_bytes(b"mine")
    (tmp_path / "video.mp4").symlink_to(victim)
    result = CliRunner().invoke(main, ["samples", "--out", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    assert result.output.split() == [str(tmp_path / "face.jpg"), str(tmp_path / "card.jpg"),
                                     str(tmp_path / "video.mp4")]
    assert (tmp_path / "face.jpg").read_bytes() == samples.IMAGE.read_bytes()
    assert not (tmp_path / "video.mp4").is_symlink()
    assert (tmp_path / "video.mp4").read_bytes() == samples.VIDEO.read_bytes()
    assert victim.read_text() == "untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SAMPLE_NAMES + ["victim.txt"])


def test_samples_twice_leaves_the_copies_as_they_are(tmp_path):
    first = CliRunner().invoke(main, ["samples", "--out", str(tmp_path)])
    inode = (tmp_path / "face.jpg").stat().st_ino
    again = CliRunner().invoke(main, ["samples", "--out", str(tmp_path)])
    assert (first.exit_code, again.exit_code) == (0, 0)
    assert again.output == first.output
    assert (tmp_path / "face.jpg").stat().st_ino == inode  # not rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == SAMPLE_NAMES


def test_samples_into_a_file_is_one_line(tmp_path):
    (tmp_path / "taken").write_text("x")
    result = CliRunner().invoke(main, ["samples", "--out", str(tmp_path / "taken" / "sub")])
    assert result.exit_code == 2
    assert result.output == (f"Error: cannot copy the samples into {tmp_path / 'taken' / 'sub'}"
                             ": Not a directory\n")


def test_samples_are_media_the_endpoints_accept(tmp_path):
    assert inspect_image(samples.IMAGE.read_bytes()).kind == "jpeg"
    assert inspect_image(samples.IMAGE.read_bytes()).decodes
    assert inspect_image(samples.CARD.read_bytes()).decodes
    video = inspect_video(samples.VIDEO.read_bytes())
    assert video.kind == "mp4" and not video.too_small
    result = CliRunner().invoke(main, ["samples", "--out", str(tmp_path / "media")])
    copied = [Path(line) for line in result.output.split()]
    assert sorted(p.name for p in copied) == ["card.jpg", "face.jpg", "video.mp4"]
    assert (tmp_path / "media" / "video.mp4").read_bytes() == samples.VIDEO.read_bytes()


PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
             50, 51, 52, 53, 54, 61, 62, 63, 64, 65}


def test_generated_identities_are_valid_and_realistic():
    people = generate(200, seed=7)
    assert all(is_valid(person) for person in people)
    assert all(int(p["idcard_number"][:2]) in PROVINCES for p in people)
    assert len({p["idcard_number"] for p in people}) == 200
    assert generate(3, seed=7) == people[:3]  # repeatable with a seed
    assert generate(1, idcard_name="张三")[0]["idcard_name"] == "张三"
    with pytest.raises(ValueError, match="unknown identity field"):
        generate(1, name="x")


def test_identities_command_output_pastes_into_a_config(tmp_path):
    result = CliRunner().invoke(main, ["identities", "-n", "4", "--seed", "3"])
    assert result.exit_code == 0
    config = tmp_path / "mockface.yaml"
    config.write_text(result.output, encoding="utf-8")
    settings = load_settings(config, env={})
    assert len(settings.identities) == 4
    as_json = json.loads(CliRunner().invoke(main, ["identities", "-n", "4", "--seed", "3",
                                                   "--format", "json"]).output)
    assert {p["idcard_number"]: p["idcard_name"] for p in as_json} == dict(settings.identities)
    assert yaml.safe_load(result.output)["identities"] == as_json


def test_identities_without_faker_say_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "faker", None)
    result = CliRunner().invoke(main, ["identities"])
    assert result.exit_code == 2
    assert "generating identities needs Faker: pip install 'mockface[faker]'" in result.output
