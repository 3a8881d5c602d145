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
    assert 0.8 <= time.monotonic() - started < 5.0


ERROR_FILES = {
    "auth-errors": ALL,
    "idcardcompare-errors": ("idcardcompare",),
    "livedetectpicture-errors": ("livedetectpicture",),
    "livedetectfour-errors": ("livedetectfour",),
    "idcardlivedetectfour-errors": ("idcardlivedetectfour",),
}
LIVE_CODES = (-5001, -5002, -5005, -5007, -5008, -5009, -5010, -5011, -5012, -5013, -5015,
              -5016)
AUTH_STATUS = {3: 400, 4: 401, 5: 400, 6: 401, 9: 401, 10: 401, 11: 401, 12: 401, 13: 401,
               14: 401, 15: 429, 16: 401, 21: 400, 23: 400, 24: 403, 107: 503, 108: 503,
               213: 500}


def table(where: str, codes: tuple[int, ...]) -> dict[str, tuple[str, int]]:
    return {f"err{code}": (where, code) for code in codes}


#: What each error file answers for each seq, written out here (not read from the files):
#: "top" (top-level code, no data), or the in-band field that carries the code.
EXPECTED = {
    "auth-errors": table("top", tuple(AUTH_STATUS)),
    "idcardcompare-errors": table("top", (-1308, -1400, -1403, -4011, -4012, -5801, -5802,
                                          -5803, -5804, -5805, -5806, -5809, -5817)),
    "livedetectpicture-errors": table("top", (-1101, -1102, -1300, -1308, -1400, -1403,
                                              -5805)),
    "idcardlivedetectfour-errors": {
        **table("live_status", LIVE_CODES),
        **table("compare_status", (-4006, -4007, -4015, -4016, -4017, -5803, -5809, -5817)),
        **table("top", (-5801, -5804, -5805))},
    "livedetectfour-errors": {
        **table("live_status", LIVE_CODES),
        **table("compare_status", (-4006, -4007, -4009, -4010, -4015, -4016, -4017, -4018)),
        **table("top", (-5805,)), "err-5005c": ("compare_status", -5005)},
}


@pytest.mark.parametrize("name", sorted(ERROR_FILES))
def test_error_files_answer_every_code_on_demand(scripted, name):
    server, engine = scripted
    engine.activate(name)
    rules = load_scenario(LIBRARY / f"{name}.yaml").rules
    assert {rule.conditions[0].equals[0] for rule in rules} == set(EXPECTED[name])
    before_auth = all(rule.before_auth for rule in rules)
    for seq, (where, code) in EXPECTED[name].items():
        for endpoint in ERROR_FILES[name]:
            status, body = call(server, endpoint, seq=seq,
                                authorization=None if before_auth else "default")
            if where == "top":
                wanted = AUTH_STATUS.get(code, 400)
                assert (status, sorted(body), body["code"]) == \
                    (wanted, ["code", "message"], code), (seq, body)
            else:
                assert (status, body["code"], body["data"][where]) == (200, 0, code), \
                    (seq, body)


def test_every_library_file_is_covered_by_a_test():
    covered = {"happy-path", "different-person", "not-live", "wrong-digits",
               "no-face-in-video", "mouth-not-moving", "silent-video", "identity-mismatch",
               "invalid-id", "expired-signature", "rate-limited", "service-not-enabled",
               "arrears", "flaky-network", "slow-service"} | set(ERROR_FILES) | \
        {"faceid-image-errors", "faceid-liveness-errors"} | \
        {"phone-mismatch", "phone-out-of-service", "bank-card-lost", "minor"}  # test_elements_phone, _bank_id
    assert {path.stem for path in LIBRARY.glob("*.yaml")} == covered
