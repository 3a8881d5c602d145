"""Every ready-made file in scenarios/ is loaded and its effect asserted through real HTTP."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from mockface.scenarios import load_scenario

from .support import signed_now, valid_request

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"
VIDEO = ("idcardlivedetectfour", "livedetectfour")
ALL = ("idcardcompare", "livedetectpicture", "livegetfour") + VIDEO


def call(server, endpoint: str, authorization="default", **fields) -> tuple[int, dict | str]:
    headers = {}
    if authorization == "default":
        authorization = signed_now()
    if authorization is not None:
        headers["Authorization"] = authorization
    response = requests.post(f"{server.url}/face/{endpoint}", headers=headers, timeout=10,
                             **valid_request(endpoint, **fields))
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def data(server, endpoint: str, **fields) -> dict:
    status, body = call(server, endpoint, **fields)
    assert (status, body["code"], body["message"]) == (200, 0, "OK"), body
    return body["data"]


def test_happy_path(scripted):
    server, engine = scripted
    engine.activate("happy-path")
    assert data(server, "idcardcompare")["similarity"] == 92.5
    assert data(server, "livedetectpicture") == {"score": 95}
    assert data(server, "livegetfour") == {"validate_data": "1234"}
    for endpoint in VIDEO:
        answer = data(server, endpoint)
        assert (answer["live_status"], answer["compare_status"], answer["sim"]) == (0, 0, 90)


def test_different_person(scripted):
    server, engine = scripted
    engine.activate("different-person")
    assert data(server, "idcardcompare")["similarity"] == 12.34
    assert [data(server, endpoint)["sim"] for endpoint in VIDEO] == [23, 23]


@pytest.mark.parametrize("name,code,constant", [
    ("not-live", -5016, "VIDEO_NOT_LIVE"),
    ("wrong-digits", -5008, "VIDEO_AUDIO_RECOG_FAILED"),
    ("no-face-in-video", -5009, "VIDEO_FACE_DETECT_FAILED"),
    ("mouth-not-moving", -5010, "VIDEO_LIP_MOVE_FAILED"),
    ("silent-video", -5007, "VIDEO_NO_AUDIO"),
])
def test_liveness_failures_are_in_band(scripted, name, code, constant):
    server, engine = scripted
    engine.activate(name)
    for endpoint in VIDEO:
        answer = data(server, endpoint)
        assert (answer["live_status"], answer["live_msg"]) == (code, constant)
    if name == "not-live":
        assert data(server, "livedetectpicture") == {"score": 0}


def test_identity_mismatch(scripted):
    server, engine = scripted
    engine.activate("identity-mismatch")
    assert call(server, "idcardcompare") == (
        400, {"code": -5803, "message": "idcard name number mismatch"})
    assert data(server, "idcardlivedetectfour") == {
        "live_status": 0, "live_msg": "OK", "compare_status": -5803,
        "compare_msg": "IDCARD_NAME_NUMBER_MISMATCH"}


def test_invalid_id(scripted):
    server, engine = scripted
    engine.activate("invalid-id")
    for endpoint in ("idcardcompare", "idcardlivedetectfour"):
        assert call(server, endpoint) == (400, {"code": -5804,
                                                "message": "idcard number invalid"})


@pytest.mark.parametrize("name,status,code,message,signed", [
    ("expired-signature", 401, 9, "sign expired", False),
    ("rate-limited", 429, 15, "request too frequent", False),
    ("service-not-enabled", 403, 24, "service not applied", True),
    ("arrears", 400, 3, "account abnormal,errorno is:2", True),
])
def test_account_level_refusals(scripted, name, status, code, message, signed):
    server, engine = scripted
    engine.activate(name)
    for endpoint in ALL:
        assert call(server, endpoint, authorization="default" if signed else None) == (
            status, {"code": code, "message": message})


def test_flaky_network(scripted):
    server, engine = scripted
    engine.activate("flaky-network")
    status, body = call(server, "livegetfour")
    assert status == 503 and "503 Service Temporarily Unavailable" in body
    assert data(server, "livegetfour")["validate_data"].isdigit()
    assert data(server, "idcardcompare")["similarity"] >= 80


def test_slow_service(scripted):
    server, engine = scripted
    engine.activate("slow-service")
    started = time.monotonic()
    assert data(server, "livegetfour")["validate_data"].isdigit()
    assert time.monotonic() - started >= 0.8


ERROR_FILES = {
    "auth-errors": ALL,
    "idcardcompare-errors": ("idcardcompare",),
    "livedetectpicture-errors": ("livedetectpicture",),
    "livedetectfour-errors": ("livedetectfour",),
    "idcardlivedetectfour-errors": ("idcardlivedetectfour",),
}
IN_BAND_COMPARE = {-4006, -4007, -4009, -4010, -4015, -4016, -4017, -4018, -5803, -5809,
                   -5817}
IN_BAND_LIVE = {-5001, -5002, -5005, -5007, -5008, -5009, -5010, -5011, -5012, -5013, -5015,
                -5016}


@pytest.mark.parametrize("name", sorted(ERROR_FILES))
def test_error_files_answer_every_code_on_demand(scripted, name):
    server, engine = scripted
    engine.activate(name)
    rules = load_scenario(LIBRARY / f"{name}.yaml").rules
    for rule in rules:
        seq = rule.conditions[0].equals[0]
        response = rule.responses[0]
        code = response.code if response.code is not None else response.data["compare_status"]
        for endpoint in ERROR_FILES[name]:
            status, body = call(server, endpoint, authorization=None if rule.before_auth
                                else "default", seq=seq)
            if endpoint in VIDEO and (code in IN_BAND_LIVE or code in IN_BAND_COMPARE):
                assert (status, body["code"]) == (200, 0), (seq, body)
                where = "compare_status" if (code in IN_BAND_COMPARE or seq.endswith("c")) \
                    else "live_status"
                assert body["data"][where] == code, (seq, body)
            else:
                assert status >= 400 and body == {"code": code,
                                                   "message": body["message"]}, (seq, body)
                assert body["code"] == code
    assert len(rules) >= 7


def test_every_library_file_is_covered_by_a_test():
    covered = {"happy-path", "different-person", "not-live", "wrong-digits",
               "no-face-in-video", "mouth-not-moving", "silent-video", "identity-mismatch",
               "invalid-id", "expired-signature", "rate-limited", "service-not-enabled",
               "arrears", "flaky-network", "slow-service"} | set(ERROR_FILES)
    assert {path.stem for path in LIBRARY.glob("*.yaml")} == covered
