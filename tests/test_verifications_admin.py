"""The admin routes of the verification tokens (issue 22 item 4): list, read, open and
complete, with the exact status and JSON of each answer, hostile input, and the admin
guard (Host, Origin, Content-Type, token) in front of them.  In-process, frozen clock."""
from __future__ import annotations

import json

import pytest
import requests

from mockface.core.clock import Clock
from mockface.core.yamlsource import show
from mockface.emulator import Emulator
from mockface.products.faceid.flows import flows_of
from mockface.web.app import create_app
from mockface.web.server import start_background

from .support import (BUCKETED, ID_NAME, ID_NUMBER, MAIN, NOW, REGISTERED_NAME,
                      REGISTERED_NUMBER, make_settings, run_concurrently)

IDENTITY = {"IdCard": ID_NUMBER, "Name": ID_NAME}
MASKED = {"Name": "张*", "IdCard": ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]}
READ_WINDOW = 3 * 24 * 3600
BASE = "/__mockface/verifications"


@pytest.fixture
def flows(emulator):
    return flows_of(emulator)


def issue(flows, flow: str = "detect", appid: str = MAIN.appid, **data):
    """A token issued by the engine, as DetectAuth/GetEidToken/GetFaceIdToken issue them."""
    values = {"rule_id": "1", "identity": IDENTITY, "extra": "order 42",
              "redirect_url": "https://shop.example/callback"} if flow == "detect" else \
        {"merchant_id": "0NSJ2106111700001", "identity": None} if flow == "eid" else \
        {"identity": IDENTITY}
    return flows.issue(flow, appid, {**values, **data}).token


def complete(client, token: str, body, **headers):
    response = client.post(f"{BASE}/{token}/complete", data=json.dumps(body),
                           content_type="application/json", headers=headers)
    return response.status_code, response.get_json()


def get(client, path: str = "", **query):
    response = client.get(f"{BASE}{path}", query_string=query)
    return response.status_code, response.get_json()


# -- reading --------------------------------------------------------------------------------

def test_a_token_is_read_with_every_field(client, flows):
    token = issue(flows)
    status, record = get(client, f"/{token}")
    assert status == 200
    assert record == {
        "token": token, "flow": "detect", "state": "issued", "appid": MAIN.appid,
        "issued_at": NOW, "expires_at": NOW + 7200, "readable_until": NOW + READ_WINDOW,
        "opened_at": None, "finished_at": None, "seconds_left": 7200,
        "url": flows.page_url("detect", token), "identity_masked": MASKED,
        "rule_id": "1", "merchant_id": None, "extra": "order 42",
        "redirect_url": "https://shop.example/callback", "outcome": None}
    assert record["url"].endswith(f"/h5/detect/{token}")
    assert ID_NUMBER not in json.dumps(record) and ID_NAME not in json.dumps(record)


def test_the_list_is_filtered_by_flow_state_and_app_last_issued_first(client, flows, clock):
    first = issue(flows)
    clock.advance(1)
    eid = issue(flows, "eid")
    clock.advance(1)
    other = issue(flows, appid=BUCKETED.appid)
    clock.advance(1)
    app = issue(flows, "app")
    complete(client, first, {"err_code": 0})

    def tokens(**query):
        status, body = get(client, **query)
        assert status == 200 and set(body) == {"verifications"}
        return [record["token"] for record in body["verifications"]]

    assert tokens() == [app, other, eid, first]
    assert tokens(flow="detect") == [other, first]
    assert tokens(flow="eid") == [eid] and tokens(flow="app") == [app]
    assert tokens(state="finished") == [first]
    assert tokens(state="issued") == [app, other, eid]
    assert tokens(appid=BUCKETED.appid) == [other]
    assert tokens(appid=MAIN.appid, flow="detect", state="issued") == []
    clock.advance(600)  # the eid and app windows are over, detect's lasts 7200 s
    assert tokens(state="expired") == [app, eid]
    status, body = get(client, state="expired")
    assert [record["seconds_left"] for record in body["verifications"]] == [0, 0]


@pytest.mark.parametrize("query, status, error", [
    ({"flow": "sms"}, 400, "flow must be one of detect, eid, app, not 'sms'"),
    ({"state": "done"}, 400, "state must be one of issued, opened, finished, expired, "
                             "not 'done'"),
    ({"appid": "999"}, 404, "unknown appid '999': not configured and not created over the "
                            "admin API (GET config lists the apps)"),
    ({"flows": "detect"}, 400, "unknown key 'flows' in the query string; did you mean "
                               "'flow'?"),
])
def test_bad_filters_are_refused(client, query, status, error):
    assert get(client, **query) == (status, {"error": error})


def test_a_token_past_its_read_window_is_unknown(client, flows, clock):
    token = issue(flows)
    complete(client, token, {"err_code": 0})
    clock.advance(READ_WINDOW - 1)
    assert get(client, f"/{token}")[0] == 200
    clock.advance(1)
    assert get(client, f"/{token}") == (404, {"error": unknown(token)})
    assert get(client)[1] == {"verifications": []}


def unknown(token: str) -> str:
    return f"unknown verification token {show(token)} (never issued, or past its 3-day " \
           "read window)"


@pytest.mark.parametrize("token", ["CE661F1A-0F1E-45BD-BE13-34C05CEA7681", "x" * 5000,
                                   "<script>alert(1)</script>", "%00", "..", "名字"])
def test_unknown_tokens_are_404_on_every_route(client, token):
    path = requests.utils.quote(token, safe="")
    for method, suffix, body in (("GET", "", None), ("POST", "/open", {}),
                                 ("POST", "/complete", {"err_code": 0})):
        response = client.open(f"{BASE}/{path}{suffix}", method=method,
                               data=None if body is None else json.dumps(body),
                               content_type="application/json")
        if token == ".." or "/" in token:  # another path: no such admin route
            assert response.status_code == 404
            continue
        assert (response.status_code, response.get_json()) == (
            404, {"error": unknown(token)}), (method, suffix)


# -- opening --------------------------------------------------------------------------------

def test_open_moves_an_issued_token_to_opened_once(client, flows, clock):
    token = issue(flows)
    response = client.post(f"{BASE}/{token}/open", json={})
    assert response.status_code == 200
    assert (response.get_json()["state"], response.get_json()["opened_at"]) == ("opened", NOW)
    clock.advance(5)
    again = client.post(f"{BASE}/{token}/open", json={}).get_json()
    assert (again["state"], again["opened_at"], again["seconds_left"]) == \
        ("opened", NOW, 7195)
    assert get(client, f"/{token}")[1] == again


def test_open_leaves_finished_and_expired_tokens_as_they_are(client, flows, clock):
    finished, late = issue(flows), issue(flows, "eid")
    complete(client, finished, {"err_code": 0})
    clock.advance(600)
    for token, state in ((finished, "finished"), (late, "expired")):
        response = client.post(f"{BASE}/{token}/open", json={})
        assert response.status_code == 200
        assert (response.get_json()["state"], response.get_json()["opened_at"]) == \
            (state, None)


def test_open_takes_no_arguments(client, flows):
    token = issue(flows)
    response = client.post(f"{BASE}/{token}/open", json={"err_code": 0})
    assert (response.status_code, response.get_json()) == (400, {
        "error": "unknown key 'err_code' in the body: POST verifications/"
                 f"{token}/open takes none"})


# -- completing -----------------------------------------------------------------------------

def test_a_pass_finishes_the_token_and_a_second_completion_is_409(client, flows, clock):
    token = issue(flows)
    status, record = complete(client, token, {"err_code": 0})
    assert status == 200
    assert (record["state"], record["finished_at"], record["seconds_left"]) == \
        ("finished", NOW, 0)
    outcome = record["outcome"]
    assert (outcome["err_code"], outcome["err_msg"]) == (0, "成功")
    assert 80 <= float(outcome["sim"]) < 100 and len(outcome["sim"].split(".")[1]) == 2
    assert outcome["identity"] == IDENTITY and outcome["identity_from"] == "passed"
    [attempt] = outcome["attempts"]
    assert (attempt["err_code"], attempt["live_status"], attempt["compare_status"]) == (0, 0, 0)
    clock.advance(10)
    assert complete(client, token, {"err_code": 2016}) == (409, {
        "error": f"verification {token} is finished already", "verification": record})
    assert get(client, f"/{token}") == (200, record)


def test_attempts_sim_and_intention_code_are_recorded(client, flows):
    token = issue(flows)
    status, record = complete(client, token, {
        "attempts": [{"err_code": 1004}, {"err_code": 2016, "sim": "41.50"}],
        "intention_code": 3})
    assert status == 200
    outcome = record["outcome"]
    assert [a["err_code"] for a in outcome["attempts"]] == [1004, 2016]
    assert (outcome["err_code"], outcome["sim"], outcome["intention_code"]) == \
        (2016, "41.50", 3)
    assert outcome["attempts"][0]["sim"] == "0.00"
    assert (outcome["attempts"][1]["live_status"], outcome["attempts"][1]["compare_status"]) \
        == (0, 2016)


def test_the_final_sim_can_be_chosen(client, flows):
    token = issue(flows)
    assert complete(client, token, {"err_code": 0, "sim": "88.3"})[1]["outcome"]["sim"] == \
        "88.30"
    whole = issue(flows)  # a whole number is taken as its digits, as for appids
    assert complete(client, whole, {"err_code": 0, "sim": 88})[1]["outcome"]["sim"] == "88.00"


def test_a_pass_for_a_name_the_registry_does_not_hold_finishes_with_2006(client, flows):
    token = issue(flows, identity={"IdCard": REGISTERED_NUMBER, "Name": ID_NAME})
    outcome = complete(client, token, {"err_code": 0})[1]["outcome"]
    assert (outcome["err_code"], outcome["err_msg"]) == (2006, "姓名和身份证号不匹配")
    right = issue(flows, identity={"IdCard": REGISTERED_NUMBER, "Name": REGISTERED_NAME})
    assert complete(client, right, {"err_code": 0})[1]["outcome"]["err_code"] == 0


def test_an_ocr_token_takes_the_identity_the_card_shows(client, flows):
    token = issue(flows, rule_id="2", identity=None, ocr=True)
    status, record = complete(client, token, {"err_code": 0, "identity": IDENTITY})
    assert status == 200
    assert (record["outcome"]["identity"], record["outcome"]["identity_from"]) == \
        (IDENTITY, "ocr")
    assert record["identity_masked"] == MASKED
    generated = issue(flows, rule_id="2", identity=None, ocr=True)
    outcome = complete(client, generated, {"err_code": 0})[1]["outcome"]
    assert outcome["identity_from"] == "ocr" and len(outcome["identity"]["IdCard"]) == 18


def test_a_completion_after_the_user_window_is_409(client, flows, clock):
    token = issue(flows, "app")
    clock.advance(600)
    status, body = complete(client, token, {"err_code": 0})
    assert status == 409
    assert body["error"] == f"verification {token} has expired (its user window is over)"
    assert (body["verification"]["state"], body["verification"]["outcome"]) == \
        ("expired", None)


@pytest.mark.parametrize("body, error", [
    ({}, "invalid completion: err_code: give err_code or attempts (one of them)"),
    ({"err_code": 0, "attempts": [{"err_code": 0}]},
     "invalid completion: err_code: give err_code or attempts (one of them)"),
    ({"err_code": "0"}, "err_code must be an integer, not the string '0'"),
    ({"err_code": True}, "err_code must be an integer, not true"),
    ({"err_code": 1.5}, "err_code must be an integer, not 1.5"),
    ({"err_code": [0]}, "err_code must be an integer, not an array"),
    ({"err_code": 9999}, "invalid completion: err_code: 9999 is not a code of the detect "
                         "flow's table"),
    ({"err_code": 10**20}, "err_code is a number too large (at most 15 digits)"),
    ({"errcode": 0}, "unknown key 'errcode' in the body; did you mean 'err_code'?"),
    ({"attempts": "0"}, "attempts must be a JSON array, not the string '0'"),
    ({"attempts": []}, "invalid completion: attempts: must be a list of 1 to 10 "
                       "{err_code: ...} mappings"),
    ({"attempts": [{"err_code": 0}] * 11}, "invalid completion: attempts: must be a list of "
                                           "1 to 10 {err_code: ...} mappings"),
    ({"attempts": [0]}, "invalid completion: attempts[0]: must be a mapping with err_code"),
    ({"attempts": [{"err_code": 0, "live": 1}]},
     "invalid completion: attempts[0].live: unknown key (allowed: err_code, sim)"),
    ({"attempts": [{"err_code": 0}, {"err_code": 77}]},
     "invalid completion: attempts[1].err_code: 77 is not a code of the detect flow's table"),
    ({"err_code": 0, "sim": "high"},
     'invalid completion: sim: must be a similarity like "88.30", not \'high\''),
    ({"err_code": 0, "sim": "100.5"},
     "invalid completion: sim: must be from 0 to 100, not '100.5'"),
    ({"err_code": 0, "sim": 88.5}, "sim must be a string, not 88.5"),
    ({"err_code": 0, "identity": IDENTITY},
     "invalid completion: identity: only a token whose identity is read from the ID card "
     "(an OCR rule) takes one"),
    ({"err_code": 0, "identity": "张三"}, "identity must be a JSON object, not the string "
                                         "'张三'"),
    ({"err_code": 0, "intention_code": "1"},
     "intention_code must be an integer, not the string '1'"),
])
def test_invalid_completions_are_400_and_change_nothing(client, flows, body, error):
    token = issue(flows)
    assert complete(client, token, body) == (400, {"error": error})
    assert get(client, f"/{token}")[1]["state"] == "issued"


def test_an_ocr_identity_must_be_valid(client, flows):
    token = issue(flows, rule_id="2", identity=None, ocr=True)
    assert complete(client, token, {"err_code": 0, "identity": {"IdCard": "123",
                                                                "Name": ID_NAME}}) == \
        (400, {"error": "invalid completion: identity.IdCard: '123' is not a valid ID number"})
    assert complete(client, token, {"err_code": 0, "identity": {"IdCard": ID_NUMBER}}) == \
        (400, {"error": "invalid completion: identity: must be a mapping of IdCard and Name"})


def test_each_flow_takes_only_the_codes_of_its_table(client, flows):
    app, detect = issue(flows, "app"), issue(flows)
    assert complete(client, app, {"err_code": 1002}) == (400, {
        "error": "invalid completion: err_code: 1002 is not a code of the app flow's table"})
    assert complete(client, detect, {"err_code": 1002})[1]["outcome"]["err_code"] == 1002
    assert complete(client, app, {"err_code": 18})[1]["outcome"]["err_msg"] == "超出限频次数"


@pytest.mark.parametrize("raw, status, error", [
    (b"[1]", 400, "the body must be a JSON object"),
    (b'{"err_code": NaN}', 400, "err_code must be a finite number (NaN is not JSON)"),
    (b"[" * 100_000, 400, None),
    (b'{"err_code": 0, "sim": "' + b"9" * (3 * 1024 * 1024) + b'"}', 413,
     "the body is over 2097152 bytes"),
])
def test_hostile_bodies_are_refused(client, flows, raw, status, error):
    token = issue(flows)
    response = client.post(f"{BASE}/{token}/complete", data=raw,
                           content_type="application/json")
    assert response.status_code == status
    if error is not None:
        assert response.get_json() == {"error": error}
    assert set(response.get_json()) == {"error"}
    assert get(client, f"/{token}")[1]["state"] == "issued"


# -- the guard ------------------------------------------------------------------------------

@pytest.mark.parametrize("headers, content_type, status, start", [
    ({"Origin": "https://attacker.example"}, "application/json", 403,
     "cross-site request refused"),
    ({"Host": "mockface.example"}, "application/json", 403, "the admin API"),
    ({}, "application/x-www-form-urlencoded", 415,
     "changes need Content-Type: application/json"),
    ({}, "text/plain", 415, "changes need Content-Type: application/json"),
])
def test_the_admin_guard_protects_completions(client, flows, headers, content_type, status,
                                              start):
    token = issue(flows)
    response = client.post(f"{BASE}/{token}/complete", data='{"err_code": 0}',
                           content_type=content_type, headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"].startswith(start)
    assert get(client, f"/{token}")[1]["state"] == "issued"


def test_a_foreign_host_cannot_read_the_tokens(client, flows):
    issue(flows)
    response = client.get(BASE, headers={"Host": "rebound.example"})
    assert response.status_code == 403


def test_the_admin_token_is_required_when_configured(clock):
    emulator = Emulator(make_settings(), clock)
    client = create_app(emulator=emulator, admin_token="s3cret").test_client()
    token = issue(flows_of(emulator))
    assert client.get(BASE).status_code == 401
    assert client.post(f"{BASE}/{token}/complete", json={"err_code": 0}).status_code == 401
    assert flows_of(emulator).get(token).state == "issued"
    answer = client.post(f"{BASE}/{token}/complete", json={"err_code": 0},
                         headers={"X-Mockface-Admin-Token": "s3cret"})
    assert answer.status_code == 200 and answer.get_json()["state"] == "finished"


# -- concurrency and auto-complete -----------------------------------------------------------

def test_exactly_one_of_concurrent_completions_wins():
    emulator = Emulator(make_settings(), Clock())
    server = start_background(create_app(emulator=emulator))
    try:
        token = issue(flows_of(emulator))
        codes = [0, 2016, 1004, 2006] * 5
        answers = run_concurrently(lambda: requests.post(
            f"{server.url}{BASE}/{token}/complete",
            json={"err_code": codes.pop()}, timeout=10), count=20)
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200] + [409] * 19
        [winner] = [answer.json() for answer in answers if answer.status_code == 200]
        final = requests.get(f"{server.url}{BASE}/{token}", timeout=10).json()
        assert final == winner and final["state"] == "finished"
        assert {answer.json()["verification"]["outcome"]["err_code"]
                for answer in answers if answer.status_code == 409} == \
            {winner["outcome"]["err_code"]}
    finally:
        server.stop()


def test_auto_complete_issues_tokens_finished(client, flows):
    flows.auto_complete = 2016  # what serve --auto-complete 2016 sets at start
    token = issue(flows)
    status, record = get(client, f"/{token}")
    assert (status, record["state"], record["outcome"]["err_code"]) == (200, "finished", 2016)
    assert complete(client, token, {"err_code": 0})[0] == 409
    flows.auto_complete = None
    assert get(client, f"/{issue(flows)}")[1]["state"] == "issued"


# -- the routes in the admin API's OpenAPI document ----------------------------------------

def test_the_routes_are_documented(client):
    paths = client.get("/__mockface/openapi/admin.json").get_json()["paths"]
    assert set(paths[BASE]) == {"get"} and set(paths[f"{BASE}/{{token}}"]) == {"get"}
    assert set(paths[f"{BASE}/{{token}}/open"]) == {"post"}
    operation = paths[f"{BASE}/{{token}}/complete"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {name: value["type"] for name, value in schema["properties"].items()} == {
        "err_code": "integer", "attempts": "array", "sim": "string", "identity": "object",
        "intention_code": "integer"}
    assert {"200", "404", "409"} <= set(operation["responses"])
    assert [p["name"] for p in paths[BASE]["get"]["parameters"]] == ["flow", "state", "appid"]
