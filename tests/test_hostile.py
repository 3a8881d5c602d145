"""Regression tests for the holes a break-it pass found (issue "hostile input"): each one is
re-run as a hostile client would, and must get a documented answer."""
from __future__ import annotations

import base64
import json

import pytest

from mockface.signature import encode, sign

from .support import ID_NAME, ID_NUMBER, MAIN, NOW, auth


# -- once-signatures cannot be replayed by re-encoding ----------------------------------------

def respell(header: str) -> list[str]:
    """Other base64 spellings of the same bytes: extra padding, non-zero trailing bits."""
    raw = base64.b64decode(header)
    spellings = [header + "=", header + "=="]
    if header.endswith("="):
        stem = header.rstrip("=")
        last = stem[-1]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        for other in alphabet:
            candidate = stem[:-1] + other + header[len(stem):]
            if candidate != header and base64.b64decode(candidate) == raw:
                spellings.append(candidate)
    return spellings


def test_each_respelling_of_a_used_once_signature_is_refused(call):
    header = sign(MAIN.appid, "AKIDmain", "main-key", now=NOW, once=True, fileid="x12", rand=7)
    assert header.endswith("=")  # so that trailing-bit respellings exist
    others = respell(header)
    assert len(others) >= 3
    assert call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] == 0
    assert call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] == 13
    for other in others:
        code = call.json("livegetfour", {"appid": MAIN.appid}, authorization=other)[1]["code"]
        assert code == 5, other


def test_non_canonical_base64_is_a_format_error_even_before_first_use(call, emulator):
    header = sign(MAIN.appid, "AKIDmain", "main-key", now=NOW, once=True, fileid="y", rand=7)
    trailing_bits = respell(header)[2]
    assert base64.b64decode(trailing_bits) == base64.b64decode(header)
    status, body = call.json("livegetfour", {"appid": MAIN.appid}, authorization=trailing_bits)
    assert (status, body) == (400, {"code": 5, "message": "sign format error"})
    assert emulator.journal.query()[-1].detail == "Authorization is not canonical base64"
    assert call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] == 0


def test_the_once_store_keeps_digests_not_headers(call, emulator):
    header = sign(MAIN.appid, "AKIDmain", "main-key", now=NOW, once=True, fileid="f" * 2000)
    assert call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] == 0
    [(appid, key)] = list(emulator.once_signatures._used)
    assert (appid, len(key)) == (MAIN.appid, 20)


def test_an_oversized_authorization_is_a_format_error(call):
    plaintext = f"a={MAIN.appid}&b=&k=AKIDmain&e=0&t={NOW}&r=1&f={'f' * 5000}".encode()
    header = encode(plaintext, "main-key")
    status, body = call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)
    assert (status, body["code"]) == (400, 5)


@pytest.mark.parametrize("field", ["e", "t", "r"])
def test_thousands_of_digits_in_a_signature_number_are_a_format_error(call, field, emulator):
    values = {"e": str(NOW + 60), "t": str(NOW), "r": "1"}
    values[field] = "9" * 5000
    plaintext = (f"a={MAIN.appid}&b=&k=AKIDmain&e={values['e']}&t={values['t']}"
                 f"&r={values['r']}&f=").encode()
    header = encode(plaintext, "main-key")
    # under the header length cap only when the digits are few: use a shorter run too
    short = encode(plaintext.replace(b"9" * 5000, b"9" * 30), "main-key")
    for value in (header, short):
        status, body = call.json("livegetfour", {"appid": MAIN.appid}, authorization=value)
        assert (status, body) == (400, {"code": 5, "message": "sign format error"})


# -- text that cannot be answered must be a documented code, and journaled as sent ------------

def test_a_lone_surrogate_in_a_json_field_is_code_21(call, emulator):
    raw = '{"appid": "1000001", "session_id": "\\ud800", "idcard_number": "%s", ' \
          '"idcard_name": "%s", "url": "http://x/y.jpg"}' % (ID_NUMBER, ID_NAME)
    response = call.client.post("/face/idcardcompare", data=raw,
                                content_type="application/json",
                                headers={"Authorization": auth()})
    assert (response.status_code, response.get_json()) == (
        400, {"code": 21, "message": "invalid parameter"})
    entry = emulator.journal.query()[-1]
    assert (entry.code, entry.http_status) == (21, 400)
    assert entry.detail == "field 'session_id' is not valid Unicode (lone surrogate)"


def test_repeated_json_names_keep_the_first_value_like_multipart(call, emulator):
    raw = ('{"appid": "1000001", "seq": "first", "seq": "second"}').encode()
    response = call.client.post("/face/livegetfour", data=raw, content_type="application/json",
                                headers={"Authorization": auth()})
    assert response.get_json()["code"] == 0
    assert emulator.journal.query()[-1].fields["seq"] == "first"
    status, _ = call.multipart("livegetfour", {"appid": MAIN.appid, "seq": "first"})
    assert status == 200


# -- the admin API answers 400 JSON, never 213 --------------------------------------------------

@pytest.mark.parametrize("query", ["code=--5", "code=%C2%B2", "code=" + "9" * 5000,
                                   "after=1e3", "since=nan", "since=inf", "since=" + "9" * 400])
def test_bad_admin_numbers_are_400(client, query):
    response = client.get(f"/__mockface/requests?{query}")
    assert response.status_code == 400
    assert set(response.get_json()) == {"error"}


@pytest.mark.parametrize("route,body", [
    ("clock/freeze", '{"at": 1e400}'),
    ("clock/freeze", '{"at": NaN}'),
    ("clock/advance", '{"seconds": NaN}'),
    ("clock/advance", '{"seconds": Infinity}'),
    ("clock/freeze", '{"at": 253402300800}'),
    ("clock/freeze", '{"at": -1}'),
    ("clock/advance", '{"seconds": 300000000000}'),
    ("reset", "[" * 100_000 + "]" * 100_000),
    ("reset", '{"appid": "a", "appid": '),
])
def test_bad_admin_bodies_are_400_and_leave_valid_json(client, route, body):
    before = client.get("/__mockface/clock").get_json()
    response = client.post(f"/__mockface/{route}", data=body, content_type="application/json")
    assert response.status_code == 400
    assert set(json.loads(response.get_data(as_text=True))) == {"error"}
    after = client.get("/__mockface/clock")
    json.loads(after.get_data(as_text=True))  # never NaN/Infinity
    assert (after.get_json()["frozen"], after.get_json()["offset"]) == \
        (before["frozen"], before["offset"])


def test_the_clock_accepts_the_last_second_of_year_9999(client):
    response = client.post("/__mockface/clock/freeze", json={"at": 253_402_300_799})
    assert response.status_code == 200 and response.get_json()["now"] == 253_402_300_799
    assert client.post("/__mockface/clock/advance", json={"seconds": 1}).status_code == 400
