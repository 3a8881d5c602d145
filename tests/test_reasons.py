"""The reason behind each refusal, exactly as the journal's ``detail`` (and the log line) give
it; the exact text of JSON values turned into fields; boundaries of the time checks."""
from __future__ import annotations

import io
import json

import pytest

from mockface.core.identity import with_check_digit
from mockface.products.legacy import wire

from .support import BUCKETED, ID_NAME, ID_NUMBER, MAIN, NOW, auth, caller_with, media

IDENTITY = {"appid": MAIN.appid, "idcard_number": ID_NUMBER, "idcard_name": ID_NAME}
BAD_CHECKSUM = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")


def detail_of(emulator) -> str | None:
    return emulator.journal.query()[-1].detail


@pytest.mark.parametrize("send,code,detail", [
    (lambda c: c.client.post("/face/livegetfour", data=b"{", content_type="application/json",
                             headers={"Authorization": auth()}),
     3, "body is not valid JSON"),
    (lambda c: c.client.post("/face/livegetfour", data=b"[]", content_type="application/json",
                             headers={"Authorization": auth()}),
     3, "JSON body is not an object"),
    (lambda c: c.json("livegetfour", {"appid": MAIN.appid, "seq": {"a": 1}}),
     21, "field 'seq' must be a string"),
    (lambda c: c.json("livedetectpicture", {"appid": MAIN.appid, "image": 5}),
     21, "JSON field 'image' must be a base64 string"),
    (lambda c: c.json("livedetectpicture", {"appid": MAIN.appid, "image": "aGVsbG8=!!"}),
     21, "JSON field 'image' is not base64"),
    (lambda c: c.json("livegetfour", {"appid": "999"}),
     6, "body appid '999' is not the signed appid"),
    (lambda c: c.json("livegetfour", {"seq": "1"}), 21, "body has no appid"),
    (lambda c: c.json("idcardcompare", {"appid": MAIN.appid, "url": "http://x/y.jpg",
                                        "idcard_name": ID_NAME}),
     -5801, "idcard_number missing"),
    (lambda c: c.json("idcardcompare", {"appid": MAIN.appid, "url": "http://x/y.jpg"}),
     -5801, "idcard_number and idcard_name missing"),
    (lambda c: c.json("idcardcompare", {**IDENTITY, "idcard_number": "12345",
                                        "url": "http://x/y.jpg"}),
     -5806, "idcard_number '12345' is not 17 digits and a digit or X"),
    (lambda c: c.json("idcardcompare", {**IDENTITY, "idcard_name": "Zhang San",
                                        "url": "http://x/y.jpg"}),
     -5806, "idcard_name 'Zhang San' is not 2-30 Chinese characters"),
    (lambda c: c.json("idcardcompare", {**IDENTITY, "idcard_number": BAD_CHECKSUM,
                                        "url": "http://x/y.jpg"}),
     -5804, f"idcard_number {BAD_CHECKSUM}: GB 11643 check digit or birth date invalid"),
    (lambda c: c.multipart("livedetectpicture", {"appid": MAIN.appid},
                           {"image": media("face.gif")}),
     -1400, "image is a GIF, not JPEG, PNG or BMP"),
    (lambda c: c.multipart("livedetectpicture", {"appid": MAIN.appid},
                           {"image": media("garbage.bin")}),
     -1400, "image is not a recognised image, not JPEG, PNG or BMP"),
    (lambda c: c.multipart("livedetectpicture", {"appid": MAIN.appid},
                           {"image": media("truncated.jpg")}),
     -1102, "image is a JPEG that does not decode (truncated or corrupt)"),
    (lambda c: c.multipart("idcardcompare", IDENTITY, {"image": media("truncated.jpg")}),
     -4011, "image is a JPEG that does not decode (truncated or corrupt)"),
    (lambda c: c.multipart("livedetectpicture", {"appid": MAIN.appid}),
     -5805, "no image in the request"),
    (lambda c: c.multipart("livedetectfour", {"appid": MAIN.appid, "validate_data": "12a",
                                              "compare_flag": "false"},
                           {"video": media("video.mp4")}),
     21, "validate_data must be a string of digits"),
    (lambda c: c.multipart("livedetectfour", {"appid": MAIN.appid, "validate_data": "12",
                                              "compare_flag": "maybe"},
                           {"video": media("video.mp4")}),
     21, "compare_flag must be true or false"),
    (lambda c: c.multipart("livedetectfour", {"appid": MAIN.appid, "validate_data": "12",
                                              "compare_flag": "true"},
                           {"video": media("video.mp4")}),
     -5805, "compare_flag=true without card"),
], ids=["bad-json", "json-array", "json-object-field", "json-media-number",
        "json-media-not-base64", "other-appid", "no-appid", "no-number", "no-identity",
        "malformed-number", "malformed-name", "checksum", "gif", "garbage", "truncated-picture",
        "truncated-compare", "no-image", "digits", "compare-flag", "no-card"])
def test_each_refusal_says_why(clock, send, code, detail):
    caller, emulator = caller_with(clock)
    response = send(caller)
    body = response.get_json() if hasattr(response, "get_json") else response[1]
    assert body["code"] == code
    assert detail_of(emulator) == detail


def test_bucket_reason(clock):
    caller, emulator = caller_with(clock)
    status, body = caller.json("livegetfour", {"appid": BUCKETED.appid, "bucket": "other"},
                               authorization=auth(BUCKETED))
    assert (status, body["code"], detail_of(emulator)) == (401, 16, "bucket 'other'")


def test_in_band_reasons_on_the_video_endpoints(clock):
    caller, emulator = caller_with(clock, strict_lip_codes=True)
    fields = {**IDENTITY, "validate_data": "0000"}
    status, body = caller.multipart("idcardlivedetectfour", fields, {"video": media("video.mp4")})
    # a lip code that was never issued fails liveness only: the video still compares
    assert (status, body["data"]["live_status"], body["data"]["compare_status"]) == \
        (200, -5008, 0)
    assert "sim" in body["data"]
    assert detail_of(emulator) == ("live_status -5008: validate_data '0000' was not issued to "
                                   "appid 1000001 by livegetfour (strict_lip_codes)")
    caller.multipart("livedetectfour", {"appid": MAIN.appid, "validate_data": "1",
                                        "compare_flag": "false"}, {"video": media("garbage.bin")})
    assert detail_of(emulator) == "live_status -5001: video is not MP4, FLV, AVI or WebM"
    caller.multipart("livedetectfour", {"appid": MAIN.appid, "validate_data": "1",
                                        "compare_flag": "true"},
                     {"video": media("garbage.bin"), "card": media("card.jpg")})
    assert detail_of(emulator) == ("live_status -5001: video is not MP4, FLV, AVI or WebM; "
                                   "compare_status -5005: the video cannot be compared")
    caller.multipart("livedetectfour", {"appid": MAIN.appid, "validate_data": "1",
                                        "compare_flag": "true"},
                     {"video": media("video.mp4"), "card": media("face.gif")})
    assert detail_of(emulator).endswith("compare_status -4018: card is a GIF, not JPEG, PNG or "
                                        "BMP")


# -- JSON scalars become the text a multipart client would send --------------------------------

@pytest.mark.parametrize("value,text", [
    (True, "true"), (False, "false"), (123456, "123456"), (123456.0, "123456"), (1.5, "1.5"),
    ("x", "x")])
def test_json_scalars_become_text(value, text):
    raw = json.dumps({"appid": "1", "seq": value}).encode()
    assert wire.read_body("application/json", str(len(raw)), io.BytesIO(raw)).text["seq"] == text


# -- the edges of the time checks ---------------------------------------------------------------

def test_a_signature_expiring_now_still_works_and_one_second_later_does_not(clock):
    caller, emulator = caller_with(clock)
    header = auth(now=NOW - 60, expires_in=60)  # e == NOW
    assert caller.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] \
        == 0
    clock.advance(1)
    assert caller.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] \
        == 9
    assert detail_of(emulator) == "e expired 1 s ago"


def test_t_exactly_at_the_skew_is_accepted(clock):
    caller, emulator = caller_with(clock)
    at_edge = auth(now=NOW + 900)
    assert caller.json("livegetfour", {"appid": MAIN.appid}, authorization=at_edge)[1]["code"] \
        == 0
    beyond = auth(now=NOW + 901)
    assert caller.json("livegetfour", {"appid": MAIN.appid}, authorization=beyond)[1]["code"] \
        == 5
    assert detail_of(emulator) == "t is 901 s in the future (skew 900 s)"


def test_lifetime_reasons(clock):
    caller, emulator = caller_with(clock)
    too_long = auth(expires_in=90 * 24 * 3600 + 1)
    assert caller.json("livegetfour", {"appid": MAIN.appid}, authorization=too_long)[1]["code"] \
        == 5
    assert detail_of(emulator) == "lifetime 7776001 s is over 90 days (7776000 s)"
    exactly = auth(expires_in=90 * 24 * 3600)
    assert caller.json("livegetfour", {"appid": MAIN.appid}, authorization=exactly)[1]["code"] \
        == 0


def test_birth_dates_are_judged_by_the_utc_date(clock, monkeypatch):
    """Someone born on the UTC day of the clock is valid, even where local time (UTC-12
    here) is still the day before."""
    import time

    monkeypatch.setenv("TZ", "Etc/GMT+12")
    time.tzset()
    try:
        born_today = with_check_digit("110105" + "20270115" + "123")  # NOW is 2027-01-15 UTC
        caller, _ = caller_with(clock)
        status, body = caller.json("idcardcompare", {**IDENTITY, "idcard_number": born_today,
                                                     "url": "http://x/y.jpg"})
        assert (status, body["code"]) == (200, 0)
    finally:
        monkeypatch.undo()
        time.tzset()
