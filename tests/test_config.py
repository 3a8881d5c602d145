"""Keyring and configuration: built-in defaults, environment, YAML file, and its errors."""
from __future__ import annotations

import textwrap

import pytest
import yaml
from click.testing import CliRunner

from mockface.cli import main
from mockface.core.config import (
    DEFAULT_APPID,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    ALL_SERVICES,
    ConfigError,
    load_settings,
)
from mockface.core import yamlsource
from mockface.core.yamlsource import ForeignDocument
from mockface.products import REGISTRY
from mockface.products.legacy.errors import ENDPOINTS


def write(tmp_path, text: str):
    path = tmp_path / "mockface.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_built_in_defaults_need_no_configuration():
    settings = load_settings(env={})
    app = settings.default_app
    assert app.appid == DEFAULT_APPID
    assert dict(app.secrets) == {DEFAULT_SECRET_ID: DEFAULT_SECRET_KEY}
    assert app.services == ALL_SERVICES
    assert all(app.may_use(name) for name in (*ENDPOINTS, "faceid", "iai", "anything"))
    assert not app.suspended and app.rate_limit is None
    assert (settings.loose, settings.seed, settings.clock_skew) == (False, 0, 900)


def test_environment_changes_the_built_in_app():
    env = {"MOCKFACE_APPID": "777", "MOCKFACE_SECRET_ID": "AKIDenv", "MOCKFACE_SECRET_KEY": "k"}
    app = load_settings(env=env).default_app
    assert (app.appid, dict(app.secrets)) == ("777", {"AKIDenv": "k"})


def test_config_file_declares_several_apps(tmp_path):
    path = write(tmp_path, """
        apps:
          - appid: 1250000001
            secrets:
              - {secret_id: AKIDone, secret_key: key-one}
              - {secret_id: AKIDtwo, secret_key: key-two}
            buckets: [photos, videos]
            services: [livegetfour, livedetectfour]
            rate_limit: 5
          - appid: "1250000002"
            secrets: [{secret_id: AKIDthree, secret_key: key-three}]
            suspended: true
        identities:
          - {idcard_number: "11010519491231002X", idcard_name: 张三}
        clock_skew: 60
        seed: 42
        check_idcard: false
        strict_lip_codes: true
        """)
    settings = load_settings(path, env={"MOCKFACE_APPID": "ignored-when-apps-given"})
    first, second = settings.apps
    assert first.appid == "1250000001"
    assert dict(first.secrets) == {"AKIDone": "key-one", "AKIDtwo": "key-two"}
    assert first.buckets == {"photos", "videos"}
    assert first.services == {"livegetfour", "livedetectfour"}
    assert first.rate_limit == 5 and not first.suspended
    assert not first.may_use("idcardcompare") and first.may_use("livegetfour")
    assert second.suspended and second.services == ALL_SERVICES
    assert dict(settings.identities) == {"11010519491231002X": "张三"}
    assert (settings.clock_skew, settings.seed, settings.check_idcard,
            settings.strict_lip_codes) == (60, 42, False, True)
    assert settings.keyring.owner_of("AKIDtwo").appid == "1250000001"
    assert settings.source == str(path)


def test_config_without_apps_keeps_the_built_in_app(tmp_path):
    settings = load_settings(write(tmp_path, "seed: 3\n"), env={})
    assert settings.default_app.appid == DEFAULT_APPID and settings.seed == 3


TOP_KEYS = ("apps, check_idcard, clock_skew, identities, loose, nonce_replay_check, "
            "once_store_size, public_url, seed, strict_lip_codes")
#: What the CLI knows besides: the products' own keys.
CLI_TOP_KEYS = TOP_KEYS.replace("apps, ", "apps, auto_complete, ") + ", unknown_identity"
NOT_A_CONFIG = "not a mockface config"


@pytest.mark.parametrize("text,message", [
    ("apps: {}\n", "1: apps: must be a list, got a mapping (0 keys)"),
    ("apps: []\n", "1: apps: must declare at least one app"),
    ("seed: 1\ncolck_skew: 5\n",
     f"2: colck_skew: unknown key (allowed: {TOP_KEYS}); did you mean 'clock_skew'?"),
    ("clock_skew: -1\n", "1: clock_skew: must be an integer >= 0, got -1"),
    ("loose: yes please\n", "1: loose: must be true or false, got 'yes please'"),
    ("apps:\n  - secrets: [{secret_id: a, secret_key: b}]\n", "2: apps[0].appid: is required"),
    ("apps:\n  - {appid: 1, secrets: [{secret_id: a, secret_key: b}]}\n  - just-a-name\n",
     "3: apps[1]: must be a mapping with appid and secrets"),
    ("apps:\n  - appid: 1\n", "2: apps[0].secrets: is required"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a}]\n",
     "3: apps[0].secrets[0].secret_key: is required"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a, secret_key: ''}]\n",
     "3: apps[0].secrets[0].secret_key: must be a non-empty string, got ''"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a, secret_key: b}]\n    services: [ocr]\n",
     "4: apps[0].services[0]: unknown service 'ocr' (expected one of: idcardcompare, "
     "livedetectpicture, livegetfour, idcardlivedetectfour, livedetectfour, faceid, iai)"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a, secret_key: b}]\n    rate_limit: 0\n",
     "4: apps[0].rate_limit: must be an integer >= 1, got 0"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a, secret_key: b}]\n    sekrets: []\n",
     "4: apps[0].sekrets: unknown key (allowed: appid, buckets, nonce_replay_check, "
     "rate_limit, secrets, services, suspended); did you mean 'secrets'?"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a, secret_key: b}]\n    buckets: [x, '']\n",
     "4: apps[0].buckets[1]: must be a non-empty string, got ''"),
    ("apps:\n  - {appid: 1, secrets: [{secret_id: a, secret_key: b}]}\n"
     "  - {appid: 2, secrets: [{secret_id: a, secret_key: c}]}\n",
     "3: apps[1].secrets: secret_id 'a' is already used by app '1'"),
    ("apps:\n  - {appid: 1, secrets: [{secret_id: a, secret_key: b}]}\n"
     "  - {appid: 1, secrets: [{secret_id: c, secret_key: d}]}\n",
     "3: apps[1].appid: duplicate appid '1'"),
    ("identities:\n  - {idcard_number: '123', idcard_name: 张三}\n",
     "2: identities[0].idcard_number: must be 17 digits and a digit or X, got '123'"),
    ("apps: [unclosed\n", "2: not valid YAML: expected ',' or ']', but got '<stream end>'"),
    ("seed: 1\nseed: 2\n", "2: not valid YAML: duplicate key 'seed' (first on line 1)"),
    ("seed: 1\nnote: \"\\q\"\n", "2: not valid YAML: found unknown escape character 'q'"),
    ("apps:\n  - {appid: '1', secrets: [{secret_id: a, secret_key: b, password: hunter2}]}\n",
     "2: apps[0].secrets[0].password: unknown key (allowed: secret_id, secret_key)"),
    ("clock_skew: {password: hunter2}\n",
     "1: clock_skew: must be an integer >= 0, got a mapping (1 key)"),
])
def test_bad_config_names_file_line_key_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={}, services=REGISTRY.services)
    assert str(caught.value) == f"{path}:{message}"
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("text,problem", [
    ("- just\n- a list\n",
     f"the top level must be a mapping with at least one known key; known keys are {TOP_KEYS}"),
    ("colck_skew: 5\n", f"no known key; known keys are {TOP_KEYS}"),
    ("password: hunter2\nroot: daemonx\n", f"no known key; known keys are {TOP_KEYS}"),
    ("root:*:20228:0:99999:7:::\nhunter2:!:20228::::::\n",  # /etc/shadow
     f"no known key; known keys are {TOP_KEYS}"),
    ("hunter2: 1\nhunter2: 2\n", "not valid YAML (line 2) and no known key before the error; "
                                 f"known keys are {TOP_KEYS}"),
    ("password: \"hunter2\\q\"\nseed: 1\n", "not valid YAML (line 1) and no known key before "
                                            f"the error; known keys are {TOP_KEYS}"),
    ("password: [hunter2\n", "not valid YAML (line 2) and no known key before the error; "
                             f"known keys are {TOP_KEYS}"),
    ("password: !hunter2 x\n", "not valid YAML (line 1) and no known key before the error; "
                               f"known keys are {TOP_KEYS}"),
    ("password: *hunter2\n", "not valid YAML (line 1) and no known key before the error; "
                             f"known keys are {TOP_KEYS}"),
], ids=["list", "near-miss-only", "foreign-mapping", "shadow", "duplicate", "escape",
        "unclosed", "tag", "alias"])
def test_a_file_that_is_not_a_mockface_config_is_never_quoted(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == f"{path}: {NOT_A_CONFIG}: {problem}"
    said = str(caught.value).removeprefix(str(path))
    for text_of_the_file in ("hunter2", "root", "password", "daemonx", "20228", "colck", "just"):
        assert text_of_the_file not in said


def test_serve_and_sign_refuse_a_foreign_file_without_quoting_it(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.write_text("root:*:20228:0:99999:7:::\ndaemonx:*:20228:0:99999:7:::\n")
    for command in (["serve", "--port", "0"], ["sign"]):
        result = CliRunner().invoke(main, [*command, "--config", str(shadow)])
        assert result.exit_code == 2
        assert result.output == (f"Error: invalid configuration: {shadow}: {NOT_A_CONFIG}: no "
                                 f"known key; known keys are {CLI_TOP_KEYS}\n")


@pytest.mark.parametrize("data,problem", [
    (b"\xff\xfeseed: 1\n", "not UTF-8 text"),
    (b"x" * (16 * 1024 * 1024 + 1), f"{NOT_A_CONFIG}: larger than 16 MB"),
], ids=["binary", "huge"])
def test_unreadable_kinds_of_file_are_named_not_quoted(tmp_path, data, problem):
    path = tmp_path / "blob"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == f"{path}: {problem}"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "{}\n"])
def test_an_empty_config_keeps_the_defaults(tmp_path, text):
    settings = load_settings(write(tmp_path, text), env={})
    assert settings.default_app.appid == DEFAULT_APPID and settings.seed == 0


def test_a_mockface_config_with_a_foreign_key_names_it(tmp_path):
    path = write(tmp_path, "seed: 1\npassword: hunter2\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == f"{path}:2: password: unknown key (allowed: {TOP_KEYS})"


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read"):
        load_settings(tmp_path / "nope.yaml", env={})


# -- the same rule for any file read as YAML (core/yamlsource.py) -------------------------------

@pytest.mark.parametrize("text,line", [
    ("password: hunter2\npassword: x\n", 2),
    ("password: \"hunter2\\q\"\n", 1),
    ("password: [hunter2\n", 2),
    ("password: !hunter2 x\n", 1),
    ("password: *hunter2\n", 1),
    ("- hunter2\n- [\n", 3),
    ("db:\n  rules: [hunter2\n", 3),  # a known key below the top level does not count
    ("password: rules\nhunter2: [\n", 3),  # nor a known key's name as a value
], ids=["duplicate", "escape", "unclosed", "tag", "alias", "list", "nested-known-key",
        "known-value"])
def test_a_foreign_document_error_holds_its_line_and_no_text(text, line):
    with pytest.raises(ForeignDocument) as caught:
        yamlsource.load(text, known_keys=("rules",))
    assert caught.value.line == line == yamlsource.line_of_error(caught.value)
    assert caught.value.problem == str(caught.value) == (
        "no known top-level key before the error, so none of the text is shown")


@pytest.mark.parametrize("text,problem", [
    ("rules: []\nhunter2: 1\nhunter2: 2\n", "duplicate key 'hunter2' (first on line 2)"),
    ("rules: [hunter2\n", "expected ',' or ']', but got '<stream end>'"),
    ("hunter2: 1\nrules: [\n", "expected the node content, but found '<stream end>'"),
], ids=["duplicate", "unclosed", "known-key-second"])
def test_a_document_with_a_known_key_keeps_the_detail(text, problem):
    with pytest.raises(yaml.YAMLError) as caught:
        yamlsource.load(text, known_keys=("rules",))
    assert not isinstance(caught.value, ForeignDocument)
    assert caught.value.problem == problem


def test_without_known_keys_every_error_keeps_the_detail():
    with pytest.raises(yaml.YAMLError) as caught:
        yamlsource.load("hunter2: 1\nhunter2: 2\n")
    assert caught.value.problem == "duplicate key 'hunter2' (first on line 1)"


def test_check_does_not_quote_a_foreign_file_with_a_syntax_error(tmp_path):
    foreign = tmp_path / "credentials.yaml"
    foreign.write_text("password: hunter2\npassword: x\n")
    result = CliRunner().invoke(main, ["check", str(foreign)])
    assert (result.exit_code, result.output) == (
        1, f"{foreign}:2: not valid YAML/JSON: no known top-level key before the error, so "
           "none of the text is shown\n")


def test_check_refuses_a_scenario_file_over_the_cap_unread(tmp_path, monkeypatch):
    from mockface.core.scenarios import schema

    monkeypatch.setattr(schema, "MAX_SCENARIO_BYTES", 1024)
    big = tmp_path / "big.yaml"
    big.write_text("rules: []\n" + "#" * 2000 + "\n")
    result = CliRunner().invoke(main, ["check", str(big)])
    assert (result.exit_code, result.output) == (1, f"{big}:1: larger than 0 MB: not read\n")
