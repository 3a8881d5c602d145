"""Finishing verification tokens without a browser (issue 22 item 4), the parts outside the
admin API and the pytest handle: ``mockface serve --public-url`` and the products' serve
flags (``--auto-complete``), the URL of the user page (public URL, else the URL the server
listens on, else the request's Host), the faceid config keys (``auto_complete``, ``rules``,
``merchants``) checked by ``mockface check --config``, ``respond: {outcome: ...}`` checked by
``mockface check``, the scenario library's outcomes, and the merchants in
``GET /__mockface/config``."""
from __future__ import annotations

import importlib
import json
import textwrap

import pytest
import requests
from click.testing import CliRunner

from mockface.cli import main
from mockface.core.config import ConfigError, load_settings
from mockface.emulator import Emulator
from mockface.products import REGISTRY
from mockface.products.faceid.config import (BUILTIN_MERCHANT, Merchant, Rule, auto_complete_of,
                                             merchants_of, rules_of)
from mockface.products.faceid.flows import Flows, flows_of
from mockface.testing import Mockface, MockfaceServer
from mockface.web.app import create_app
from mockface.web.server import Server, start_background

from .support import ID_NAME, ID_NUMBER, MAIN, ServeProcess, make_settings

IDENTITY = {"IdCard": ID_NUMBER, "Name": ID_NAME}
#: The module of ``mockface serve`` (``mockface.cli.serve`` is the command itself).
serve_module = importlib.import_module("mockface.cli.serve")
CONFIG_APP = """\
apps:
  - appid: "1250000000"
    secrets: [{secret_id: AKIDflows, secret_key: flows-key}]
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_file(tmp_path, more: str = ""):
    """A config of one app (``CONFIG_APP``) and ``more`` (dedented: app keys indented by
    four spaces, top-level keys by none)."""
    return write(tmp_path, "flows.yaml", CONFIG_APP + textwrap.dedent(more))


def issue(emulator, flow: str = "detect") -> str:
    """A token issued by the engine, as DetectAuth issues one (RuleId "1")."""
    return flows_of(emulator).issue(flow, MAIN.appid, {"rule_id": "1",
                                                        "identity": IDENTITY}).token


# -- mockface serve: --public-url and the products' flags -----------------------------------

def test_serve_help_shows_the_public_url_and_the_products_flags():
    result = CliRunner().invoke(main, ["serve", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--public-url URL" in result.output
    assert "The URL clients reach this server under, for the pages it links to" in \
        result.output
    [option] = REGISTRY.serve_options
    assert (option.flag, option.key, option.metavar) == ("--auto-complete", "auto_complete",
                                                         "CODE")
    assert "--auto-complete CODE" in result.output
    assert " ".join(option.help.split()) in " ".join(result.output.split())


@pytest.mark.parametrize("args, message", [
    (["--auto-complete", "1002"],
     "Invalid value for '--auto-complete': 1002 is not a code of every flow's table (e.g. 0 "
     "pass, 2016 not the same person, 2006 name/ID mismatch, 1004 liveness failed)"),
    (["--auto-complete", "pass"],
     "Invalid value for '--auto-complete': must be an integer ErrCode, not 'pass'"),
    (["--auto-complete", "1.5"],
     "Invalid value for '--auto-complete': must be an integer ErrCode, not '1.5'"),
    (["--public-url", "ftp://mock.example"],
     "Invalid value for '--public-url': must be an http:// or https:// URL without query or "
     "fragment, got 'ftp://mock.example'"),
    (["--public-url", "https://mock.example/?x=1"],
     "Invalid value for '--public-url': must be an http:// or https:// URL without query or "
     "fragment, got 'https://mock.example/?x=1'"),
    (["--public-url", "mock.example"],
     "Invalid value for '--public-url': must be an http:// or https:// URL without query or "
     "fragment, got 'mock.example'"),
])
def test_bad_serve_flags_are_usage_errors(args, message):
    result = CliRunner().invoke(main, ["serve", "--port", "0", *args], terminal_width=500)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == f"Error: {message}"


@pytest.fixture
def served(monkeypatch):
    """Runs ``mockface serve ARGS`` in this process up to the point it would serve: the
    bound server (started and stopped again) and the command's output."""
    servers: list[Server] = []

    def run(server, log_writer, engine, ready):
        servers.append(server)
        ready()  # the banner
        server.start().stop()

    monkeypatch.setattr(serve_module, "_run", run)
    monkeypatch.setattr(serve_module, "configure_logs", lambda level, form: None)

    def serve(*args: str) -> tuple[Server, str]:
        result = CliRunner().invoke(main, ["serve", "--port", "0", *args])
        assert result.exit_code == 0, result.output
        return servers[-1], result.output
    return serve


def test_serve_sets_the_public_url_and_auto_complete(served):
    server, banner = served("--public-url", "https://mock.example:8443/base/",
                            "--auto-complete", "2016")
    emulator = server.emulator
    assert emulator.settings.public_url == "https://mock.example:8443/base"
    assert emulator.settings.sections["auto_complete"] == 2016
    assert auto_complete_of(emulator.settings) == 2016
    flows = flows_of(emulator)
    assert flows.auto_complete == 2016
    token = issue(emulator)
    assert flows.get(token).state == "finished"
    assert flows.get(token).outcome["err_code"] == 2016
    assert flows.page_url("detect", token) == \
        f"https://mock.example:8443/base/h5/detect/{token}"
    assert "  public URL: https://mock.example:8443/base (the pages it links to)\n" in banner


def test_serve_without_the_flags_takes_the_config_and_the_flags_win_over_it(served, tmp_path):
    config = config_file(tmp_path, """\
        public_url: http://from-config.example
        auto_complete: 0
        """)
    server, banner = served("--config", str(config))
    settings = server.emulator.settings
    assert (settings.public_url, settings.sections["auto_complete"]) == \
        ("http://from-config.example", 0)
    assert flows_of(server.emulator).auto_complete == 0
    assert "public URL: http://from-config.example" in banner
    server, _ = served("--config", str(config), "--public-url", "http://flag.example",
                       "--auto-complete", "2006")
    settings = server.emulator.settings
    assert (settings.public_url, settings.sections["auto_complete"]) == \
        ("http://flag.example", 2006)
    assert settings.default_app.appid == "1250000000"  # the rest of the config is kept


def test_serve_without_public_url_or_auto_complete(served):
    server, banner = served()
    settings = server.emulator.settings
    assert settings.public_url is None and "auto_complete" not in settings.sections
    assert flows_of(server.emulator).auto_complete is None
    assert "public URL" not in banner
    assert server.emulator.listen_url == server.url


def test_serve_reports_a_bad_config_key_with_its_line(tmp_path):
    config = config_file(tmp_path, "auto_complete: 1002\n")
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--config", str(config)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: invalid configuration: {config}:4: auto_complete: 1002 is not a code of "
        "every flow's table (e.g. 0 pass, 2016 not the same person, 2006 name/ID mismatch, "
        "1004 liveness failed)\n")


def test_a_served_process_shows_its_public_and_listen_urls_in_the_config():
    process = ServeProcess("--public-url", "http://mock.example:9000", "--auto-complete", "0")
    try:
        config = requests.get(f"{process.url}/__mockface/config", timeout=10).json()
        assert (config["public_url"], config["listen_url"]) == \
            ("http://mock.example:9000", process.url)
        assert "  public URL: http://mock.example:9000 (the pages it links to)" in \
            process.banner
    finally:
        process.stop()


# -- the URL the server listens on, and the user page's address -----------------------------

def test_the_server_tells_the_emulator_its_url(clock):
    emulator = Emulator(make_settings(), clock)
    assert emulator.listen_url is None  # no server yet
    server = start_background(create_app(emulator=emulator))
    try:
        assert emulator.listen_url == server.url
        assert server.url.startswith("http://127.0.0.1:")
        config = requests.get(f"{server.url}/__mockface/config", timeout=10).json()
        assert (config["public_url"], config["listen_url"]) == (None, server.url)
    finally:
        server.stop()


def test_a_tls_server_tells_its_https_url(clock):
    emulator = Emulator(make_settings(), clock)
    server = start_background(create_app(emulator=emulator), tls=True)
    try:
        assert emulator.listen_url == server.url
        assert server.url.startswith("https://127.0.0.1:")
    finally:
        server.stop()


def test_a_server_on_every_address_links_its_pages_under_its_loopback_address(clock):
    emulator = Emulator(make_settings(), clock)
    server = Server(create_app(emulator=emulator), "0.0.0.0", 0)
    try:
        assert server.url.startswith("http://0.0.0.0:")
        loopback = f"http://127.0.0.1:{server.port}"
        assert (server.listen_url, emulator.listen_url) == (loopback, loopback)
    finally:
        server.start().stop()


def flows_with(emulator, settings, listen_url):
    """A second engine on the emulator's token store, with ``settings`` and ``listen_url``
    (``Flows``, as the provider builds it)."""
    flows = flows_of(emulator)
    return Flows(flows.tokens, flows.identities, emulator.clock, settings,
                 listen_url=listen_url)


def test_the_page_url_prefers_the_public_url_then_the_listen_url_then_the_host(emulator):
    token = issue(emulator)
    public = make_settings(public_url="https://public.example/mock")
    listening = lambda: "http://127.0.0.1:8080"  # noqa: E731
    unknown = lambda: None  # noqa: E731
    page = f"/h5/detect/{token}"
    assert flows_with(emulator, public, listening).page_url("detect", token, "host.example") \
        == f"https://public.example/mock{page}"
    assert flows_with(emulator, make_settings(), listening).page_url(
        "detect", token, "host.example") == f"http://127.0.0.1:8080{page}"
    assert flows_with(emulator, make_settings(), unknown).page_url(
        "detect", token, "host.example:81") == f"http://host.example:81{page}"
    assert flows_with(emulator, make_settings(), unknown).page_url("detect", token) == page


def test_the_providers_page_url_names_the_server_it_is_served_on(clock):
    """The provider's engine asks the emulator (through ``ProviderContext.listen_url``)."""
    emulator = Emulator(make_settings(), clock)
    server = start_background(create_app(emulator=emulator))
    try:
        token = issue(emulator)
        assert flows_of(emulator).page_url("detect", token) == \
            f"{server.url}/h5/detect/{token}"
        record = requests.get(f"{server.url}/__mockface/verifications/{token}",
                              timeout=10).json()
        assert record["url"] == f"{server.url}/h5/detect/{token}"
    finally:
        server.stop()


def test_the_public_url_wins_over_the_servers(clock):
    emulator = Emulator(make_settings(public_url="https://tests.example"), clock)
    server = start_background(create_app(emulator=emulator))
    try:
        token = issue(emulator, "eid")
        assert flows_of(emulator).page_url("eid", token) == \
            f"https://tests.example/h5/eid/{token}"
    finally:
        server.stop()


# -- the config keys: auto_complete, rules, merchants ---------------------------------------

def load(path):
    return load_settings(path, services=REGISTRY.services, sections=REGISTRY.config_keys,
                         app_sections=REGISTRY.app_config_keys)


def test_the_faceid_config_keys_are_read_from_a_file(tmp_path):
    config = config_file(tmp_path, """\
            rules:
              "3": {liveness: LIP}
              "4": {ocr: true, liveness: ACTION}
              "5": {disabled: true}
              "1": {liveness: ACTION}
            merchants:
              "0NSJ2106111700002": {return_identity: true}
              "0NSJ2106111700003":
        auto_complete: 2016
        """)
    settings = load(config)
    assert settings.sections == {"auto_complete": 2016}
    app = settings.default_app
    assert set(app.sections) == {"rules", "merchants"}
    assert rules_of(settings, app.appid) == {
        "1": Rule("1", needs_identity=True, liveness="ACTION"),  # the configured one wins
        "2": Rule("2", needs_identity=False, ocr=True),
        "3": Rule("3", needs_identity=True, liveness="LIP"),
        "4": Rule("4", needs_identity=False, ocr=True, liveness="ACTION"),
        "5": Rule("5", disabled=True)}
    assert [rule.liveness_mode for rule in rules_of(settings, app.appid).values()] == \
        [2, 3, 1, 2, 3]
    assert merchants_of(settings, app.appid) == {
        BUILTIN_MERCHANT: Merchant(BUILTIN_MERCHANT),
        "0NSJ2106111700002": Merchant("0NSJ2106111700002", return_identity=True),
        "0NSJ2106111700003": Merchant("0NSJ2106111700003")}
    assert rules_of(settings, "999") == {"1": Rule("1"), "2": Rule("2", False, True)}
    assert list(merchants_of(settings, "999")) == [BUILTIN_MERCHANT]
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert (result.exit_code, result.output) == (0, f"{config}: ok (config, 1 app)\n")


@pytest.mark.parametrize("text, line, message", [
    ("auto_complete: 1002\n", 4,
     "auto_complete: 1002 is not a code of every flow's table (e.g. 0 pass, 2016 not the same "
     "person, 2006 name/ID mismatch, 1004 liveness failed)"),
    ('auto_complete: "0"\n', 4, "auto_complete: must be an integer ErrCode, not '0'"),
    ("auto_complete: true\n", 4, "auto_complete: must be an integer ErrCode, not True"),
    ("auto_completes: 0\n", 4,
     "auto_completes: unknown key (allowed: apps, auto_complete, check_idcard, clock_skew, "
     "identities, loose, nonce_replay_check, once_store_size, public_url, seed, "
     "strict_lip_codes, unknown_identity); did you mean 'auto_complete'?"),
    ("public_url: mock.example\n", 4,
     "public_url: must be an http:// or https:// URL without query or fragment, got "
     "'mock.example'"),
    ('    rules: ["3"]\n', 4, "apps[0].rules: must be a mapping of RuleIds to their settings"),
    ('    rules:\n      "3": {liveness: LIP, orc: true}\n', 5,
     "apps[0].rules.3.orc: unknown key (allowed: disabled, liveness, needs_identity, ocr); "
     "did you mean 'ocr'?"),
    ('    rules:\n      "3":\n        liveness: lip\n', 6,
     "apps[0].rules.3.liveness: must be one of LIP, ACTION, SILENT, got 'lip'"),
    ('    rules:\n      "3": {ocr: true, needs_identity: true}\n', 5,
     "apps[0].rules.3: a rule reads the identity from the ID card (ocr) or needs it passed "
     "in (needs_identity), not both"),
    ('    rules:\n      "3":\n        disabled: 1\n', 6,
     "apps[0].rules.3.disabled: must be true or false, got 1"),
    ('    merchants:\n      "0NSJ2106111700002": {return_identity: "yes"}\n', 5,
     "apps[0].merchants.0NSJ2106111700002.return_identity: must be true or false, got 'yes'"),
    ('    merchants:\n      "0NSJ2106111700002": {return_identty: true}\n', 5,
     "apps[0].merchants.0NSJ2106111700002.return_identty: unknown key (allowed: disabled, "
     "return_identity); did you mean 'return_identity'?"),
    ('    merchant:\n      "0NSJ2106111700002": {}\n', 4,
     "apps[0].merchant: unknown key (allowed: appid, buckets, merchants, nonce_replay_check, "
     "rate_limit, rules, secrets, services, suspended); did you mean 'merchants'?"),
    ('    merchants:\n      "": {}\n', 5,
     "apps[0].merchants: MerchantIds must be non-empty text of at most 64 characters"),
])
def test_bad_config_keys_are_reported_with_file_and_line(tmp_path, text, line, message):
    config = write(tmp_path, "flows.yaml", CONFIG_APP + text)  # ``text`` as it is
    with pytest.raises(ConfigError) as caught:
        load(config)
    assert str(caught.value) == f"{config}:{line}: {message}"
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert (result.exit_code, result.output) == (1, f"{config}:{line}: {message}\n")


def test_check_takes_scenarios_and_configs_together(tmp_path):
    good = config_file(tmp_path)
    bad = write(tmp_path, "bad.yaml", "seed: -1\n")
    scenario = write(tmp_path, "pass.yaml", """\
        rules:
          - endpoint: faceid:DetectAuth
            respond: {outcome: {err_code: 0}}
        """)
    result = CliRunner().invoke(main, ["check", str(scenario), "--config", str(good),
                                       "--config", str(bad)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{good}: ok (config, 1 app)",
        f"{bad}:1: seed: must be an integer >= 0, got -1",
        f"{scenario}: ok (pass, 1 rule)"]
    nothing = CliRunner().invoke(main, ["check"])
    assert nothing.exit_code == 2
    assert nothing.output.splitlines()[-1] == \
        "Error: give scenarios to check (NAME_OR_PATH...) or --config PATH"


# -- mockface check: respond: {outcome: ...} -------------------------------------------------

def check(tmp_path, rules: str) -> tuple[int, list[str], str]:
    path = write(tmp_path, "outcomes.yaml", "rules:\n" + textwrap.indent(
        textwrap.dedent(rules), "  "))
    result = CliRunner().invoke(main, ["check", str(path)])
    return result.exit_code, result.output.splitlines(), str(path)


def test_check_accepts_outcomes_on_the_issuing_actions(tmp_path):
    status, output, path = check(tmp_path, """\
        - endpoint: faceid:DetectAuth
          match: {RuleId: "2"}
          respond: {outcome: {attempts: [{err_code: 1004}, {err_code: 0}], sim: "91.20"}}
        - endpoint: faceid:GetEidToken
          respond: {outcome: {err_code: 2016}}
        - endpoint: faceid:GetFaceIdToken
          respond: {outcome: {err_code: 1007, sim: "12.00"}}
        - endpoint: [faceid:DetectAuth, faceid:GetEidToken, faceid:GetFaceIdToken]
          respond: {outcome: {err_code: 2006}}
        """)
    assert (status, output) == (0, [f"{path}: ok (outcomes, 4 rules)"])


def test_check_refuses_an_outcome_on_an_action_that_issues_no_token(tmp_path):
    status, output, path = check(tmp_path, """\
        - endpoint: faceid:GetLiveCode
          respond: {outcome: {err_code: 0}}
        - endpoint: [faceid:DetectAuth, faceid:GetDetectInfoEnhanced]
          respond:
            outcome: {err_code: 0}
        """)
    assert status == 1
    assert output == [
        f"{path}:3: outcome is taken only by faceid:DetectAuth/faceid:GetEidToken/"
        "faceid:GetFaceIdToken, not by faceid:GetLiveCode",
        f"{path}:6: outcome is taken only by faceid:DetectAuth/faceid:GetEidToken/"
        "faceid:GetFaceIdToken, not by faceid:GetDetectInfoEnhanced"]


def test_check_names_an_unknown_outcome_key_and_the_key_it_resembles(tmp_path):
    status, output, path = check(tmp_path, """\
        - endpoint: faceid:DetectAuth
          respond:
            outcome:
              errcode: 0
        - endpoint: faceid:DetectAuth
          respond:
            outcome:
              attempts:
                - {err_code: 1004, simm: "10.00"}
        """)
    assert (status, output) == (1, [
        f"{path}:5: unknown key 'errcode' in outcome; did you mean 'err_code'?",
        f"{path}:10: unknown key 'simm' in outcome.attempts[0]; did you mean 'sim'?"])


def test_check_names_an_errcode_the_flow_lacks_and_the_code_it_resembles(tmp_path):
    status, output, path = check(tmp_path, """\
        - endpoint: faceid:DetectAuth
          respond:
            outcome: {err_code: 20016}
        - endpoint: faceid:GetFaceIdToken
          respond:
            outcome:
              attempts:
                - err_code: 1004
                - err_code: 1002
        """)
    assert status == 1
    assert output == [
        f"{path}:4: outcome.err_code: 20016 is not an ErrCode of the detect flow "
        "(faceid:DetectAuth); did you mean 2016?",
        f"{path}:10: outcome.attempts[1].err_code: 1002 is not an ErrCode of the app flow "
        "(faceid:GetFaceIdToken); did you mean 2002?"]


def test_check_reports_outcome_values_of_the_wrong_kind_at_their_line(tmp_path):
    status, output, path = check(tmp_path, """\
        - endpoint: faceid:DetectAuth
          respond: {outcome: 0}
        - endpoint: faceid:GetEidToken
          respond:
            outcome:
              err_code: 0
              sim: "high"
        """)
    assert (status, output) == (1, [
        f"{path}:3: outcome must be a mapping, got int",
        f"{path}:8: outcome.sim: must be a similarity like \"88.30\", not 'high'"])


# -- scenarios on a real server: a rule's outcome and the library's -------------------------

models = pytest.importorskip("tencentcloud.faceid.v20180301.models")


@pytest.fixture(scope="module")
def server():
    with MockfaceServer.start() as started:
        yield started


@pytest.fixture
def mockface(server):
    with Mockface(server) as handle:
        yield handle


def sdk(handle: Mockface, action: str, **params) -> dict:
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    answer = getattr(handle.faceid_client(), action)(request)
    return json.loads(answer.to_json_string())


def issue_all(handle: Mockface) -> dict[str, str]:
    """A token of each flow, from its issuing action: flow -> token."""
    return {
        "detect": sdk(handle, "DetectAuth", RuleId="1", **IDENTITY)["BizToken"],
        "eid": sdk(handle, "GetEidToken", MerchantId=BUILTIN_MERCHANT)["EidToken"],
        "app": sdk(handle, "GetFaceIdToken", CompareLib="BUSINESS", **IDENTITY)["FaceIdToken"]}


def outcomes(handle: Mockface, tokens: dict[str, str]) -> dict[str, tuple[str, int | None]]:
    """flow -> (state, final ErrCode) of each token, as the admin API shows them."""
    records = {record["token"]: record for record in handle.verifications()}
    return {flow: (records[token]["state"], (records[token]["outcome"] or {}).get("err_code"))
            for flow, token in tokens.items()}


def test_a_rule_issues_the_token_finished_with_its_outcome(mockface):
    mockface.use({"rules": [{"endpoint": "faceid:DetectAuth", "match": {"Extra": "fail me"},
                             "respond": {"outcome": {"err_code": 2016, "sim": "31.00"}}}]})
    failed = sdk(mockface, "DetectAuth", RuleId="1", Extra="fail me", **IDENTITY)["BizToken"]
    plain = sdk(mockface, "DetectAuth", RuleId="1", Extra="other", **IDENTITY)["BizToken"]
    text = sdk(mockface, "GetDetectInfoEnhanced", BizToken=failed, RuleId="1")["Text"]
    assert (text["ErrCode"], text["Sim"], text["Extra"]) == (2016, "31.00", "fail me")
    assert sdk(mockface, "GetDetectInfoEnhanced", BizToken=plain, RuleId="1")["Text"][
        "ErrCode"] is None
    [journaled] = [entry for entry in mockface.requests("faceid:DetectAuth")
                   if entry["rule"] != "default"]
    assert journaled["rule"].endswith("#1")


@pytest.mark.parametrize("name, codes", [
    ("happy-path", {"detect": 0, "eid": 0, "app": 0}),
    ("not-live", {"detect": 1002, "eid": 1002, "app": 1007}),
    ("different-person", {"detect": 2016, "eid": 2016, "app": 2016}),
    ("identity-mismatch", {"detect": 2006, "eid": 2006, "app": 2006}),
])
def test_the_library_names_finish_every_flows_tokens(mockface, name, codes):
    mockface.use(name)
    tokens = issue_all(mockface)
    assert outcomes(mockface, tokens) == {flow: ("finished", code)
                                          for flow, code in codes.items()}
    text = sdk(mockface, "GetDetectInfoEnhanced", BizToken=tokens["detect"], RuleId="1")["Text"]
    assert text["ErrCode"] == codes["detect"]
    assert sdk(mockface, "GetFaceIdResult", FaceIdToken=tokens["app"])["Result"] == \
        str(codes["app"])


def test_serve_auto_complete_finishes_tokens_of_every_flow(tmp_path):
    process = ServeProcess("--auto-complete", "2016", "--public-url", "http://pages.example")
    try:
        config = requests.get(f"{process.url}/__mockface/config", timeout=10).json()
        assert config["public_url"] == "http://pages.example"
        with MockfaceServer.attach(process.url, worker="auto") as attached, \
                Mockface(attached) as handle:
            answer = sdk(handle, "DetectAuth", RuleId="1", **IDENTITY)
            assert answer["Url"] == f"http://pages.example/h5/detect/{answer['BizToken']}"
            tokens = {"detect": answer["BizToken"],
                      "eid": sdk(handle, "GetEidToken", MerchantId=BUILTIN_MERCHANT)[
                          "EidToken"]}
            assert outcomes(handle, tokens) == {"detect": ("finished", 2016),
                                                "eid": ("finished", 2016)}
    finally:
        process.stop()


# -- GET /__mockface/config: each app's merchants ------------------------------------------

def test_the_config_lists_each_apps_merchants(tmp_path, clock):
    config = write(tmp_path, "flows.yaml", CONFIG_APP + """\
    merchants:
      "0NSJ2106111700002": {return_identity: true}
      "0NSJ2106111700003": {disabled: true}
  - appid: "1250000001"
    secrets: [{secret_id: AKIDother, secret_key: other-key}]
""")
    emulator = Emulator(load(config), clock)
    client = create_app(emulator=emulator).test_client()
    apps = client.get("/__mockface/config").get_json()["apps"]
    assert [app["merchants"] for app in apps] == [
        [{"merchant_id": BUILTIN_MERCHANT, "return_identity": False, "disabled": False},
         {"merchant_id": "0NSJ2106111700002", "return_identity": True, "disabled": False},
         {"merchant_id": "0NSJ2106111700003", "return_identity": False, "disabled": True}],
        [{"merchant_id": BUILTIN_MERCHANT, "return_identity": False, "disabled": False}]]
    created = client.post("/__mockface/apps", json={}).get_json()
    listed = {app["appid"]: app for app in client.get("/__mockface/config").get_json()["apps"]}
    assert listed[created["appid"]]["merchants"] == [
        {"merchant_id": BUILTIN_MERCHANT, "return_identity": False, "disabled": False}]
