"""Keyring and configuration: built-in defaults, environment, YAML file, and its errors."""
from __future__ import annotations

import textwrap

import pytest

from mockface.core.config import (
    DEFAULT_APPID,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    ConfigError,
    load_settings,
)
from mockface.legacy.errors import ENDPOINTS


def write(tmp_path, text: str):
    path = tmp_path / "mockface.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_built_in_defaults_need_no_configuration():
    settings = load_settings(env={})
    app = settings.default_app
    assert app.appid == DEFAULT_APPID
    assert dict(app.secrets) == {DEFAULT_SECRET_ID: DEFAULT_SECRET_KEY}
    assert app.services == frozenset(ENDPOINTS) | {"faceid", "iai"}
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
    assert second.suspended and second.services == frozenset(ENDPOINTS) | {"faceid", "iai"}
    assert dict(settings.identities) == {"11010519491231002X": "张三"}
    assert (settings.clock_skew, settings.seed, settings.check_idcard,
            settings.strict_lip_codes) == (60, 42, False, True)
    assert settings.keyring.owner_of("AKIDtwo").appid == "1250000001"
    assert settings.source == str(path)


def test_config_without_apps_keeps_the_built_in_app(tmp_path):
    settings = load_settings(write(tmp_path, "seed: 3\n"), env={})
    assert settings.default_app.appid == DEFAULT_APPID and settings.seed == 3


@pytest.mark.parametrize("text,message", [
    ("apps: {}\n", "apps: must be a list, got a mapping (0 keys)"),
    ("apps: []\n", "apps: must declare at least one app"),
    ("colck_skew: 5\n", "colck_skew: unknown key (allowed: apps, check_idcard, clock_skew, "
                        "identities, loose, nonce_replay_check, once_store_size, seed, "
                        "strict_lip_codes)"),
    ("clock_skew: -1\n", "clock_skew: must be an integer >= 0, got -1"),
    ("loose: yes please\n", "loose: must be true or false, got 'yes please'"),
    ("apps:\n  - secrets: [{secret_id: a, secret_key: b}]\n", "apps[0].appid: is required"),
    ("apps:\n  - appid: 1\n", "apps[0].secrets: is required"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a}]\n",
     "apps[0].secrets[0].secret_key: is required"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a, secret_key: ''}]\n",
     "apps[0].secrets[0].secret_key: must be a non-empty string, got ''"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a, secret_key: b}]\n    services: [ocr]\n",
     "apps[0].services[0]: unknown service 'ocr'"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a, secret_key: b}]\n    rate_limit: 0\n",
     "apps[0].rate_limit: must be an integer >= 1, got 0"),
    ("apps:\n  - appid: 1\n    secrets: [{secret_id: a, secret_key: b}]\n    sekrets: []\n",
     "apps[0].sekrets: unknown key"),
    ("apps:\n  - {appid: 1, secrets: [{secret_id: a, secret_key: b}]}\n"
     "  - {appid: 2, secrets: [{secret_id: a, secret_key: c}]}\n",
     "apps[1].secrets: secret_id 'a' is already used by app '1'"),
    ("apps:\n  - {appid: 1, secrets: [{secret_id: a, secret_key: b}]}\n"
     "  - {appid: 1, secrets: [{secret_id: c, secret_key: d}]}\n",
     "apps[1].appid: duplicate appid '1'"),
    ("identities:\n  - {idcard_number: '123', idcard_name: 张三}\n",
     "identities[0].idcard_number: must be 17 digits and a digit or X, got '123'"),
    ("- just\n- a list\n", "the top level must be a mapping"),
    ("apps: [unclosed\n", "2: not valid YAML: expected ',' or ']', but got '<stream end>'"),
    ("seed: 1\nseed: 2\n", "2: not valid YAML: duplicate key 'seed' (first on line 1)"),
    ("apps:\n  - {appid: '1', secrets: [{secret_id: a, secret_key: b, password: hunter2}]}\n",
     "apps[0].secrets[0].password: unknown key"),
    ("clock_skew: {password: hunter2}\n",
     "clock_skew: must be an integer >= 0, got a mapping (1 key)"),
])
def test_bad_config_names_file_key_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value).startswith((f"{path}: ", f"{path}:2: "))
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read"):
        load_settings(tmp_path / "nope.yaml", env={})
