"""Every admin route through real HTTP, the journal bound, and the admin token."""
from __future__ import annotations

import hashlib
import time
from importlib import metadata

import pytest
import requests

from mockface.cli.serve import admin_token_for
from mockface.client import AdminCallError, AdminClient
from mockface.emulator import Emulator
from mockface.products.legacy.signature import sign
from mockface.scenarios import ScenarioEngine, search_path
from mockface.web.app import create_app
from mockface.web.server import start_background

from .support import (
    BUCKETED,
    DOCUMENTED_CODES,
    MAIN,
    ServeProcess,
    make_settings,
    media,
    signed_now,
    valid_request,
)


@pytest.fixture
def server():
    emulator = Emulator(make_settings(), scenarios=ScenarioEngine(search_path()),
                        journal_size=5)
    background = start_background(create_app(emulator=emulator))
    yield background, AdminClient(background.url), emulator
    background.stop()


def post(url: str, endpoint: str, authorization="default", **fields):
    headers = {"Authorization": signed_now() if authorization == "default" else authorization}
    return requests.post(f"{url}/face/{endpoint}", headers=headers, timeout=10,
                         **valid_request(endpoint, **fields))


def test_health(server):
    background, admin, emulator = server
    health = admin.health()
    assert health["status"] == "ok" and health["version"] == metadata.version("mockface")
    assert health["uptime"] >= 0 and health["scenarios"] == []
    admin.activate("happy-path")
    assert admin.health()["scenarios"] == ["happy-path"]


def test_health_is_503_while_starting_and_while_a_reload_fails(server):
    background, admin, emulator = server
    emulator.ready.clear()
    response = requests.get(f"{background.url}/__mockface/health", timeout=10)
    assert (response.status_code, response.json()["status"]) == (503, "starting")
    emulator.ready.set()
    emulator.scenarios.reload_errors["x.yaml"] = "x.yaml:1: broken"
    response = requests.get(f"{background.url}/__mockface/health", timeout=10)
    assert response.status_code == 503
    assert response.json()["errors"] == {"x.yaml": "x.yaml:1: broken"}


def test_journal_entry_shape(server):
    background, admin, _ = server
    now = int(time.time())
    secret_id, secret_key = next(iter(MAIN.secrets.items()))
    authorization = sign(MAIN.appid, secret_id, secret_key, now=now, expires_in=600)
    post(background.url, "livedetectfour", authorization=authorization, seq="s1")
    [entry] = admin.requests()
    video, card = media("video.mp4"), media("card.jpg")
    assert entry["endpoint"] == "livedetectfour" and entry["appid"] == MAIN.appid
    assert entry["fields"] == {"appid": MAIN.appid, "validate_data": "1234",
                               "compare_flag": "true", "seq": "s1"}
    assert entry["media"] == {
        "video": {"size": len(video), "sha256": hashlib.sha256(video).hexdigest(),
                  "type": "mp4", "width": 480, "height": 640},  # make_fixtures.py's sizes
        "card": {"size": len(card), "sha256": hashlib.sha256(card).hexdigest(), "type": "jpeg",
                 "width": 240, "height": 320}}
    assert entry["signature"] == {"status": "passed", "once": False, "method": "HMAC-SHA1",
                                  "secret_id": secret_id, "issued": now,
                                  "expires": now + 600}
    assert (entry["rule"], entry["http_status"], entry["code"], entry["fault"]) == (
        "default", 200, 0, None)
    assert entry["message"] == "OK"
    assert entry["headers"]["Authorization"] == "*" * (len(authorization) - 4) + \
        authorization[-4:]
    assert entry["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert set(entry["headers"]) == {"Authorization", "Content-Type", "Content-Length"}
    assert entry["data"]["photo"]["type"] == "jpeg" and entry["data"]["photo"]["size"] > 100
    assert entry["latency_ms"] >= 0 and entry["time"] > 1_700_000_000 and entry["id"] == 1


def test_journal_records_failures_rules_and_faults(server):
    background, admin, _ = server
    post(background.url, "livegetfour", authorization=None)
    admin.activate({"name": "f", "rules": [{"match": {"seq": "drop"},
                                            "respond": {"fault": "connection_reset"}},
                                           {"match": {"seq": "x"}, "respond": {"code": 24}}]})
    with pytest.raises(requests.ConnectionError):
        post(background.url, "livegetfour", seq="drop")
    post(background.url, "livegetfour", seq="x")
    unsigned, dropped, scripted = admin.requests()
    assert (unsigned["code"], unsigned["http_status"], unsigned["signature"]["status"]) == (
        4, 401, "failed")
    assert (dropped["fault"], dropped["code"], dropped["http_status"]) == (
        "connection_reset", None, None)
    assert (scripted["rule"], scripted["code"], scripted["http_status"]) == ("f#2", 24, 403)


def test_journal_filters(server):
    background, admin, _ = server
    post(background.url, "livegetfour")
    post(background.url, "livedetectpicture")
    post(background.url, "livegetfour", authorization=None)
    assert [e["endpoint"] for e in admin.requests(endpoint="livegetfour")] == [
        "livegetfour", "livegetfour"]
    assert [e["code"] for e in admin.requests(code=4)] == [4]
    assert admin.requests(appid=BUCKETED.appid) == []  # a known appid that sent nothing
    with pytest.raises(AdminCallError, match="unknown appid 'nobody'") as caught:
        admin.requests(appid="nobody")  # a typo, not an empty journal
    assert caught.value.status == 404
    first_id = admin.requests()[0]["id"]
    assert len(admin.requests(after=first_id)) == 2
    admin.freeze(1_800_000_000)
    post(background.url, "livegetfour", authorization=None)
    admin.advance(10)
    post(background.url, "livegetfour", authorization=None)
    later = admin.requests(since=1_800_000_005)
    assert [e["time"] for e in later] == [1_800_000_010]
    assert len(admin.requests(since=1_800_000_000)) == 2
    with pytest.raises(AdminCallError, match="unknown endpoint"):
        admin.requests(endpoint="nope")
    with pytest.raises(AdminCallError, match="code must be an integer or an API 3.0 name"):
        admin.requests(code="-x")
    assert admin.clear_requests() == 5 and admin.requests() == []


def test_journal_is_bounded(server):
    background, admin, emulator = server
    for n in range(8):
        post(background.url, "livegetfour", seq=str(n))
    entries = admin.requests()
    assert [e["fields"]["seq"] for e in entries] == ["3", "4", "5", "6", "7"]
    assert len(emulator.journal) == 5 and admin.call("GET", "requests")["capacity"] == 5


def test_reset_everything_and_one_namespace(server):
    background, admin, emulator = server
    other = admin.create_app("777")
    other_auth = sign("777", other["secret_id"], other["secret_key"],
                      now=int(emulator.clock.now()))
    post(background.url, "livegetfour")
    requests.post(f"{background.url}/face/livegetfour", json={"appid": "777"},
                  headers={"Authorization": other_auth}, timeout=10)
    admin.activate("happy-path", appid="777")
    admin.freeze(1_800_000_000)
    admin.reset("777")
    assert [e["appid"] for e in admin.requests()] == [MAIN.appid]
    assert list(admin.lip_codes()) == [MAIN.appid]
    assert admin.scenarios()["active"] == [] and admin.clock()["frozen"] is True
    admin.reset()
    assert admin.requests() == [] and admin.lip_codes() == {}
    assert admin.clock()["frozen"] is False


def test_reset_forgets_used_once_signatures(server):
    background, admin, _ = server
    once = signed_now(once=True, fileid="f-1")
    assert post(background.url, "livegetfour", authorization=once).json()["code"] == 0
    assert post(background.url, "livegetfour", authorization=once).json()["code"] == 13
    admin.reset(MAIN.appid)
    assert post(background.url, "livegetfour", authorization=once).json()["code"] == 0


def test_scenarios_list_activate_show_deactivate(server, tmp_path):
    background, admin, _ = server
    listing = admin.scenarios()
    assert {"happy-path", "auth-errors"} <= {s["name"] for s in listing["library"]}
    activated = admin.activate("happy-path", appid=MAIN.appid)
    assert activated["name"] == "happy-path" and activated["appid"] == MAIN.appid
    admin.activate({"name": "inline", "rules": [{"times": 2, "respond": {"code": 15}}]})
    path = tmp_path / "local.yaml"
    path.write_text("rules:\n  - respond: [{validate_data: '0001'}, {validate_data: '0002'}]\n")
    admin.activate(str(path))
    assert post(background.url, "livegetfour").json()["data"] == {"validate_data": "1234"}
    active = {a["name"]: a for a in admin.scenarios()["active"]}
    assert set(active) == {"happy-path", "inline", "local"}
    assert active["inline"]["rules"][0]["remaining"] == 2
    assert active["happy-path"]["rules"][2]["answered"] == 1
    assert admin.deactivate("happy-path", appid=MAIN.appid) == 1
    assert post(background.url, "livegetfour").json()["code"] == 15
    active = {a["name"]: a for a in admin.scenarios()["active"]}
    assert active["inline"]["rules"][0]["remaining"] == 1
    assert admin.deactivate(everywhere=True) == 2


def test_scenario_activation_errors(server):
    _, admin, _ = server
    with pytest.raises(AdminCallError) as caught:
        admin.activate("no-such-scenario")
    assert caught.value.status == 404
    with pytest.raises(AdminCallError) as caught:
        admin.activate({"rules": [{"respond": {"scor": 1}}]})
    assert caught.value.status == 400
    assert caught.value.payload["problems"] == [
        "<inline>:1: unknown key 'scor' in a response; did you mean 'score'?"]
    with pytest.raises(AdminCallError, match="exactly one of"):
        admin.call("POST", "scenarios", {})
    with pytest.raises(AdminCallError, match="body must be a JSON object"):
        admin.call("POST", "scenarios", ["x"])


def test_clock_freeze_advance_unfreeze_drive_expiry(server):
    background, admin, _ = server
    frozen = admin.freeze(1_800_000_000)
    assert frozen == {"now": 1_800_000_000, "frozen": True, "frozen_at": 1_800_000_000,
                      "offset": 0}
    header = sign(MAIN.appid, "AKIDmain", "main-key", now=1_800_000_000, expires_in=30)
    assert post(background.url, "livegetfour", authorization=header).json()["code"] == 0
    assert admin.advance(31)["now"] == 1_800_000_031
    assert post(background.url, "livegetfour", authorization=header).json()["code"] == 9
    assert admin.unfreeze()["frozen"] is False
    with pytest.raises(AdminCallError, match="seconds is required"):
        admin.call("POST", "clock/advance", {})


def test_clock_restore_puts_back_a_state_read_before(server):
    _, admin, _ = server
    before = admin.clock()
    assert before["frozen"] is False and before["offset"] == 0
    admin.freeze(1_800_000_000)
    admin.advance(3600)
    after = admin.restore_clock(before)
    assert after["frozen"] is False and after["frozen_at"] is None and after["offset"] == 0
    assert abs(after["now"] - time.time()) < 5
    admin.advance(-7200)
    shifted = admin.clock()
    admin.freeze(1_900_000_000)
    assert admin.restore_clock(shifted)["offset"] == -7200


def test_lip_codes_catalogue_and_config(server):
    background, admin, _ = server
    code = post(background.url, "livegetfour").json()["data"]["validate_data"]
    assert admin.lip_codes(MAIN.appid) == {MAIN.appid: [code]}
    assert admin.lip_codes() == {MAIN.appid: [code]}
    codes = admin.codes("livedetectpicture")
    assert {c["code"] for c in codes} >= {-5806, -5807} and -5016 not in {c["code"]
                                                                           for c in codes}
    assert {c["code"] for c in admin.codes()} == DOCUMENTED_CODES
    with pytest.raises(AdminCallError, match="unknown endpoint 'ocr'"):
        admin.codes("ocr")
    config = admin.config()
    main = config["apps"][0]
    assert main["appid"] == MAIN.appid
    assert main["secrets"] == [{"secret_id": "AKIDmain", "secret_key": "****-key"}]
    assert "main-key" not in str(config)
    assert config["journal_size"] == 5 and config["loose"] is False


def test_created_app_is_a_working_namespace(server):
    background, admin, emulator = server
    created = admin.create_app()
    assert created["appid"].startswith("ns") and created["secret_key"]
    header = sign(created["appid"], created["secret_id"], created["secret_key"],
                  now=int(emulator.clock.now()))
    answer = requests.post(f"{background.url}/face/livegetfour",
                           json={"appid": created["appid"]},
                           headers={"Authorization": header}, timeout=10).json()
    assert answer["code"] == 0
    with pytest.raises(AdminCallError) as caught:
        admin.create_app(created["appid"])
    assert caught.value.status == 409


def test_loose_for_one_app(server):
    background, admin, _ = server
    wrong = sign(MAIN.appid, "AKIDmain", "wrong-key", now=1)
    assert post(background.url, "livegetfour", authorization=wrong).json()["code"] == 14
    admin.set_loose(MAIN.appid)
    assert post(background.url, "livegetfour", authorization=wrong).json()["code"] == 0
    admin.set_loose(MAIN.appid, False)
    assert post(background.url, "livegetfour", authorization=wrong).json()["code"] == 14
    with pytest.raises(AdminCallError, match="appid is required"):
        admin.call("POST", "loose", {"enabled": True})


def test_unknown_admin_route_is_json_404(server):
    background, _, _ = server
    response = requests.get(f"{background.url}/__mockface/nope", timeout=10)
    assert response.status_code == 404 and response.json()["code"] == 3


def test_admin_token_required_when_configured():
    emulator = Emulator(make_settings())
    background = start_background(create_app(emulator=emulator, admin_token="s3cret"))
    try:
        assert AdminClient(background.url).health()["status"] == "ok"  # health stays open
        with pytest.raises(AdminCallError) as caught:
            AdminClient(background.url).requests()
        assert caught.value.status == 401
        with pytest.raises(AdminCallError):
            AdminClient(background.url, token="wrong").reset()
        assert AdminClient(background.url, token="s3cret").requests() == []
    finally:
        background.stop()


@pytest.mark.parametrize("host,given,generated", [
    ("127.0.0.1", None, False), ("::1", None, False), ("localhost", None, False),
    ("0.0.0.0", None, True), ("192.0.2.10", None, True), ("0.0.0.0", "mine", False),
])
def test_admin_token_is_generated_for_non_loopback_binds(host, given, generated):
    token = admin_token_for(host, given)
    if generated:
        assert token and len(token) >= 24 and token != admin_token_for(host, given)
    else:
        assert token == given


def test_loopback_bind_has_no_token_unless_given():
    server = ServeProcess("--admin-token", "given", "--quiet")
    try:
        assert "(header X-Mockface-Admin-Token: given)" in server.banner
        assert AdminClient(server.url, token="given").requests() == []
    finally:
        server.stop()


def test_journal_entries_clip_long_text(server):
    background, admin, _ = server
    post(background.url, "livegetfour", seq="x" * 5000)
    [entry] = admin.requests()
    assert entry["fields"]["seq"] == "x" * 1000 + "...(4000 more characters)"
