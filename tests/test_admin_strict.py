"""The admin API takes only what each route declares: unknown keys and unknown appids are
refused with a message naming them, numbers must be JSON numbers, and messages say what is
wrong (a NaN, a number too large) instead of "the body must be a JSON object"."""
from __future__ import annotations

import json

import pytest

from mockface.emulator import Emulator
from mockface.web.app import create_app
from mockface.web.openapi import admin_document

from .support import MAIN, NOW, auth, make_settings

UNKNOWN = ("unknown appid 'nobody': not configured and not created over the admin API "
           "(GET config lists the apps)")


def send(client, method: str, route: str, body: dict | str | None = None):
    """One admin call: (status, JSON answer); a str body is sent as it is."""
    data = body if isinstance(body, str) else None if body is None else json.dumps(body)
    response = client.open(f"/__mockface/{route}", method=method, data=data,
                           content_type="application/json")
    return response.status_code, response.get_json()


def journal_size(client) -> int:
    return len(client.get("/__mockface/requests").get_json()["requests"])


# -- unknown keys -----------------------------------------------------------------------------

@pytest.mark.parametrize("method,route,body,message", [
    ("POST", "reset", {"appId": MAIN.appid},
     "unknown key 'appId' in the body; did you mean 'appid'?"),
    ("POST", "reset", {"everything": True},
     "unknown key 'everything' in the body (POST reset takes appid)"),
    ("POST", "scenarios", {"name": "happy-path", "apid": MAIN.appid},
     "unknown key 'apid' in the body; did you mean 'appid'?"),
    ("DELETE", "scenarios", {"Name": "happy-path"},
     "unknown key 'Name' in the body; did you mean 'name'?"),
    ("DELETE", "requests", {"app_id": MAIN.appid},
     "unknown key 'app_id' in the body; did you mean 'appid'?"),
    ("POST", "clock/freeze", {"time": NOW},
     "unknown key 'time' in the body (POST clock/freeze takes at)"),
    ("POST", "clock/advance", {"second": 5},
     "unknown key 'second' in the body; did you mean 'seconds'?"),
    ("POST", "clock/restore", {"frozen": None, "offset": 0},
     "unknown key 'frozen' in the body; did you mean 'frozen_at'?"),
    ("POST", "clock/unfreeze", {"at": NOW},
     "unknown key 'at' in the body: POST clock/unfreeze takes none"),
    ("POST", "apps", {"appid": "ns7", "secret": "x"},
     "unknown key 'secret' in the body (POST apps takes appid)"),
    ("DELETE", "apps", {"APPID": "ns7"},  # not alike but for its case
     "unknown key 'APPID' in the body; did you mean 'appid'?"),
    ("POST", "identities", {"idcard_number": "x", "idcard_name": "y", "id_name": "z"},
     "unknown key 'id_name' in the body; did you mean 'idcard_name'?"),
    ("POST", "loose", {"appid": MAIN.appid, "enable": False},
     "unknown key 'enable' in the body; did you mean 'enabled'?"),
])
def test_an_unknown_key_in_a_body_is_a_400_naming_it(client, method, route, body, message):
    assert send(client, method, route, body) == (400, {"error": message})


def test_a_misspelt_scope_resets_nothing(client, call):
    call.json("livegetfour", {"appid": MAIN.appid})
    assert send(client, "POST", "reset", {"appId": "x"})[0] == 400
    assert journal_size(client) == 1


def test_an_unknown_query_parameter_is_a_400_naming_it(client):
    response = client.post("/__mockface/reset?appId=x", json={})
    assert (response.status_code, response.get_json()) == (
        400, {"error": "unknown key 'appId' in the query string; did you mean 'appid'?"})
    assert send(client, "GET", "requests?endpont=livegetfour") == (
        400, {"error": "unknown key 'endpont' in the query string; did you mean 'endpoint'?"})
    assert send(client, "GET", "lip-codes?app=1") == (
        400, {"error": "unknown key 'app' in the query string; did you mean 'appid'?"})
    assert send(client, "GET", "codes?api=faceid&x=1") == (
        400, {"error": "unknown key 'x' in the query string (GET codes takes endpoint, api)"})


def test_a_hostile_key_is_shown_clipped(client):
    status, answer = send(client, "POST", "reset", {"x" * 500: 1})
    assert status == 400 and len(answer["error"]) < 200
    assert answer["error"].startswith("unknown key 'xxxx")


# -- unknown appids ---------------------------------------------------------------------------

@pytest.mark.parametrize("method,route,body", [
    ("POST", "reset", {"appid": "nobody"}),
    ("POST", "scenarios", {"name": "happy-path", "appid": "nobody"}),
    ("DELETE", "scenarios", {"appid": "nobody"}),
    ("DELETE", "requests", {"appid": "nobody"}),
    ("GET", "requests?appid=nobody", None),
    ("GET", "lip-codes?appid=nobody", None),
    ("POST", "identities", {"idcard_number": "11010519491231002X", "idcard_name": "张三",
                            "appid": "nobody"}),
    ("POST", "loose", {"appid": "nobody"}),
])
def test_an_appid_the_server_does_not_know_is_a_404_naming_it(client, method, route, body):
    assert send(client, method, route, body) == (404, {"error": UNKNOWN})


def test_a_near_miss_of_a_known_appid_is_suggested(client, emulator):
    assert send(client, "POST", "loose", {"appid": "100001"}) == (404, {"error": (
        "unknown appid '100001': not configured and not created over the admin API; did you "
        "mean '1000001'?")})
    assert emulator.loose_appids == set()


def test_configured_and_created_appids_are_known(client, emulator):
    assert send(client, "POST", "loose", {"appid": MAIN.appid}) == (
        200, {"appid": MAIN.appid, "loose": True})
    created = client.post("/__mockface/apps", json={"appid": "ns7"}).get_json()["appid"]
    assert send(client, "POST", "reset", {"appid": created}) == (200, {"reset": "ns7"})
    assert send(client, "GET", "requests?appid=ns7")[1]["requests"] == []
    assert emulator.loose_appids == {MAIN.appid}


def test_under_server_wide_loose_mode_every_appid_is_known():
    client = create_app(emulator=Emulator(make_settings(loose=True))).test_client()
    assert send(client, "POST", "reset", {"appid": "anyone"}) == (200, {"reset": "anyone"})
    assert send(client, "GET", "lip-codes?appid=anyone") == (200, {"lip_codes": {"anyone": []}})


def test_every_route_taking_an_appid_documents_the_404():
    paths = admin_document(create_app(make_settings()))["paths"]
    scoped = {(path, method) for path, methods in paths.items()
              if not path.startswith("/__mockface/ui")  # the dashboard's filters
              for method, operation in methods.items()
              if any(p["name"] == "appid" for p in operation.get("parameters", ()))
              or "appid" in json.dumps(operation.get("requestBody", {}))}
    assert {entry for entry in scoped if "404" not in paths[entry[0]][entry[1]]["responses"]} \
        == {("/__mockface/apps", "post")}  # creating one: its appid is new (409 if not)


# -- numbers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body,message", [
    ('{"seconds": "10"}', "seconds must be a number, not the string '10'"),
    ('{"seconds": true}', "seconds must be a number, not true"),
    ('{"seconds": [10]}', "seconds must be a number, not an array"),
    ('{"seconds": NaN}', "seconds must be a finite number (NaN is not JSON)"),
    ('{"seconds": Infinity}', "seconds must be a finite number (Infinity is not JSON)"),
    ('{"seconds": -Infinity}', "seconds must be a finite number (-Infinity is not JSON)"),
    ('{"seconds": 1e400}', "seconds must be a finite number"),
    ('{"seconds": %s}' % ("9" * 5000), "seconds is a number too large (5000 digits)"),
    ('{"seconds": 1e15}', "seconds is a number too large (at most 15 digits)"),
    ('{"seconds": -1000000000000000}', "seconds is a number too large (at most 15 digits)"),
    ('{"seconds": 1,}', "the body is not JSON (Expecting property name enclosed in double "
                        "quotes: line 1 column 15 (char 14))"),
    ('{"seconds": null}', "seconds is required"),
    ('[10]', "the body must be a JSON object"),
])
def test_what_is_not_a_number_of_seconds_is_a_400_saying_why(client, body, message):
    before = client.get("/__mockface/clock").get_json()
    assert send(client, "POST", "clock/advance", body) == (400, {"error": message})
    assert client.get("/__mockface/clock").get_json() == before


def test_a_number_deep_in_a_scenario_is_named_by_its_key(client):
    body = '{"document": {"name": "x", "rules": [{"respond": {"score": [1, NaN]}}]}}'
    assert send(client, "POST", "scenarios", body) == (
        400, {"error": "score must be a finite number (NaN is not JSON)"})
    nested = "[" * 100_000 + "]" * 100_000
    assert send(client, "POST", "reset", nested) == (
        400, {"error": "the body is not JSON (nested too deeply)"})


def test_query_numbers_are_parsed_and_checked(client):
    assert send(client, "GET", "requests?since=soon") == (
        400, {"error": "since must be a number of at most 15 digits"})
    assert send(client, "GET", "requests?after=1.5") == (
        400, {"error": "after must be an integer of at most 15 digits"})
    assert send(client, "GET", "requests?since=1e999") == (
        400, {"error": "since must be a finite number"})
    assert send(client, "GET", "requests?since=1.8e9&after=0")[0] == 200


def test_a_json_null_counts_as_not_given(client):
    """A running clock read from GET clock has ``frozen_at: null``; an ``offset: null``
    answered an unexpected error (213) before."""
    status, answer = send(client, "POST", "clock/restore", {"frozen_at": None, "offset": None})
    assert (status, answer["frozen"], answer["frozen_at"], answer["offset"]) == (
        200, False, None, 0)
    assert send(client, "POST", "loose", {"appid": MAIN.appid, "enabled": None}) == (
        200, {"appid": MAIN.appid, "loose": True})  # the default
    assert send(client, "POST", "reset", {"appid": None}) == (200, {"reset": "all"})


def test_a_number_given_for_a_string_appid_is_its_digits(client, call):
    call.json("livegetfour", {"appid": MAIN.appid}, authorization=auth())
    assert send(client, "DELETE", "requests", {"appid": int(MAIN.appid)}) == (
        200, {"removed": 1})


# -- methods ----------------------------------------------------------------------------------

def test_a_wrong_method_is_a_405_saying_which_are_allowed(client):
    response = client.get("/__mockface/reset")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    put = client.put("/__mockface/scenarios", json={})
    assert set(put.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST",
                                                       "DELETE"}
