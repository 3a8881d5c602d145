"""Response shapes (contract §3), validation (§4) and defaults (§5) of the five endpoints."""
from __future__ import annotations

import base64

import pytest

from mockface.core.identity import with_check_digit
from mockface.core.media import inspect_image
from mockface.products.legacy.signature import sign
from mockface.products.legacy.stores import LIP_CODES

from .support import (
    ID_NAME,
    ID_NUMBER,
    MAIN,
    REGISTERED_NAME,
    REGISTERED_NUMBER,
    auth,
    caller_with,
    media,
)

IDENTITY = {"appid": "1000001", "idcard_number": ID_NUMBER, "idcard_name": ID_NAME}
JPEG = media("face.jpg")
MP4 = media("video.mp4")
URL = "http://test-123456.image.myqcloud.com/test.jpg"


def error(code: int, message: str) -> dict:
    return {"code": code, "message": message}


# -- idcardcompare ---------------------------------------------------------------------

def test_idcardcompare_json_url_success_shape(call):
    status, body = call.json("idcardcompare", {**IDENTITY, "url": URL})
    assert status == 200
    assert list(body) == ["code", "message", "data"]
    assert (body["code"], body["message"]) == (0, "OK")
    assert set(body["data"]) == {"similarity", "session_id"}
    similarity = body["data"]["similarity"]
    assert isinstance(similarity, float) and 80 <= similarity < 100
    assert round(similarity, 2) == similarity
    assert body["data"]["session_id"] == ""


@pytest.mark.parametrize("image", ["face.jpg", "face.png", "face.bmp"])
def test_idcardcompare_multipart_images(call, image):
    status, body = call.multipart("idcardcompare", {**IDENTITY, "session_id": "s-1"},
                                  {"image": media(image)})
    assert status == 200 and body["code"] == 0
    assert body["data"]["session_id"] == "s-1"


def test_idcardcompare_is_deterministic_and_content_sensitive(call):
    first = call.multipart("idcardcompare", IDENTITY, {"image": JPEG})[1]["data"]["similarity"]
    again = call.multipart("idcardcompare", IDENTITY, {"image": JPEG})[1]["data"]["similarity"]
    other = call.multipart("idcardcompare", IDENTITY,
                           {"image": media("face.png")})[1]["data"]["similarity"]
    assert first == again
    assert first != other


@pytest.mark.parametrize("missing", ["idcard_number", "idcard_name"])
def test_idcardcompare_missing_identity_is_5801(call, missing):
    fields = {k: v for k, v in IDENTITY.items() if k != missing}
    assert call.json("idcardcompare", {**fields, "url": URL}) == (
        400, error(-5801, "idcard info missing"))


@pytest.mark.parametrize("number,name", [
    ("11010519900307123", ID_NAME),  # 17 characters
    (ID_NUMBER[:17] + "x", ID_NAME),  # lowercase check character
    ("1101051990030712A4", ID_NAME),
    (ID_NUMBER, "张"),  # one character
    (ID_NUMBER, "Zhang San"),
    (ID_NUMBER, "张" * 31),
])
def test_idcardcompare_badly_formed_identity_is_5806(call, number, name):
    body = {"appid": "1000001", "idcard_number": number, "idcard_name": name, "url": URL}
    assert call.json("idcardcompare", body) == (400, error(-5806, "idcard format invalid"))


def test_idcardcompare_accepts_minority_names_with_middle_dot(call):
    body = {**IDENTITY, "idcard_name": "阿依古丽·买买提", "url": URL}
    assert call.json("idcardcompare", body)[1]["code"] == 0


@pytest.mark.parametrize("number", [
    "110105199003071230" if ID_NUMBER[-1] != "0" else "110105199003071231",  # checksum
    with_check_digit("11010519901307123"),  # month 13
    with_check_digit("11010518000101123"),  # born before 1900
    with_check_digit("11010520990101123"),  # born in the future
    "110110199909090909",  # the seed's own sample fails GB 11643
])
def test_idcardcompare_invalid_number_is_5804(call, number):
    body = {**IDENTITY, "idcard_number": number, "url": URL}
    assert call.json("idcardcompare", body) == (400, error(-5804, "idcard number invalid"))


def test_idcard_checksum_check_can_be_switched_off(clock):
    caller, _ = caller_with(clock, check_idcard=False)
    body = {**IDENTITY, "idcard_number": "110110199909090909", "url": URL}
    assert caller.json("idcardcompare", body)[1]["code"] == 0


def test_idcardcompare_registry_mismatch_is_5803(call):
    body = {"appid": "1000001", "idcard_number": REGISTERED_NUMBER, "idcard_name": ID_NAME,
            "url": URL}
    assert call.json("idcardcompare", body) == (400, error(-5803, "idcard name number mismatch"))
    body["idcard_name"] = REGISTERED_NAME
    assert call.json("idcardcompare", body)[1]["code"] == 0


def test_idcardcompare_without_image_or_url_is_5805(call):
    assert call.json("idcardcompare", IDENTITY) == (400, error(-5805, "no image or url"))
    assert call.multipart("idcardcompare", IDENTITY)[1]["code"] == -5805


@pytest.mark.parametrize("name", ["face.gif", "garbage.bin"])
def test_idcardcompare_gif_or_unknown_image_is_1400(call, name):
    assert call.multipart("idcardcompare", IDENTITY, {"image": media(name)}) == (
        400, error(-1400, "image format invalid"))


def test_idcardcompare_undecodable_image_is_4011(call):
    assert call.multipart("idcardcompare", IDENTITY, {"image": media("truncated.jpg")}) == (
        400, error(-4011, "photo decode failed"))


def test_url_wins_over_image(call):
    status, body = call.multipart("idcardcompare", {**IDENTITY, "url": URL},
                                  {"image": media("face.gif")})
    assert (status, body["code"]) == (200, 0)


# -- livedetectpicture ------------------------------------------------------------------

def test_livedetectpicture_success_shape(call):
    status, body = call.multipart("livedetectpicture", {"appid": "1000001"}, {"image": JPEG})
    assert status == 200 and body["code"] == 0 and set(body["data"]) == {"score"}
    score = body["data"]["score"]
    assert type(score) is int and 87 <= score <= 100


def test_livedetectpicture_json_base64_image_with_sign_field(call):
    body = {"appid": 1000001, "image": base64.b64encode(JPEG).decode(), "sign": "ignored"}
    status, answer = call.json("livedetectpicture", body)
    assert (status, answer["code"]) == (200, 0)
    multipart = call.multipart("livedetectpicture", {"appid": "1000001"}, {"image": JPEG})[1]
    assert answer["data"]["score"] == multipart["data"]["score"]


def test_livedetectpicture_json_bad_base64_is_21(call):
    assert call.json("livedetectpicture", {"appid": "1000001", "image": "@@not base64@@"}) == (
        400, error(21, "invalid parameter"))


def test_livedetectpicture_image_errors(call):
    assert call.multipart("livedetectpicture", {"appid": "1000001"},
                          {"image": media("truncated.jpg")})[1]["code"] == -1102
    assert call.multipart("livedetectpicture", {"appid": "1000001"},
                          {"image": media("face.gif")})[1]["code"] == -1400
    assert call.json("livedetectpicture", {"appid": "1000001"})[1]["code"] == -5805


# -- livegetfour --------------------------------------------------------------------------

def test_livegetfour_issues_remembered_four_digit_strings(call, emulator):
    codes = []
    for _ in range(5):
        status, body = call.json("livegetfour", {"appid": "1000001", "seq": "abc"})
        assert status == 200 and set(body["data"]) == {"validate_data"}
        code = body["data"]["validate_data"]
        assert isinstance(code, str) and len(code) == 4 and code.isdigit()
        codes.append(code)
    assert emulator.state.store(LIP_CODES).issued("1000001") == codes
    assert emulator.state.store(LIP_CODES).issued("1000002") == []


def test_livegetfour_codes_depend_on_seed_only(clock):
    first, second, other = (caller_with(clock, seed=seed)[1] for seed in (7, 7, 8))
    seq = [first.state.store(LIP_CODES).issue("1") for _ in range(10)]
    assert seq == [second.state.store(LIP_CODES).issue("1") for _ in range(10)]
    assert seq != [other.state.store(LIP_CODES).issue("1") for _ in range(10)]


def test_livegetfour_accepts_multipart(call):
    assert call.multipart("livegetfour", {"appid": "1000001"})[1]["code"] == 0


def test_missing_appid_is_21_on_every_endpoint(call):
    for endpoint in ("idcardcompare", "livedetectpicture", "livegetfour",
                     "idcardlivedetectfour", "livedetectfour"):
        assert call.json(endpoint, {"seq": "1"}) == (400, error(21, "invalid parameter"))


# -- idcardlivedetectfour ------------------------------------------------------------------

VIDEO_IDENTITY = {**IDENTITY, "validate_data": "1234"}


@pytest.mark.parametrize("video", ["video.mp4", "video.flv", "video.avi", "video.webm"])
def test_idcardlivedetectfour_success_shape(call, video):
    status, body = call.multipart("idcardlivedetectfour", VIDEO_IDENTITY, {"video": media(video)})
    assert status == 200 and (body["code"], body["message"]) == (0, "OK")
    data = body["data"]
    assert list(data) == ["live_status", "live_msg", "compare_status", "compare_msg", "sim",
                          "video_photo"]
    assert (data["live_status"], data["live_msg"]) == (0, "OK")
    assert (data["compare_status"], data["compare_msg"]) == (0, "OK")
    assert type(data["sim"]) is int and 80 <= data["sim"] < 100
    photo = inspect_image(base64.b64decode(data["video_photo"], validate=True))
    assert (photo.kind, photo.decodes) == ("jpeg", True)


def test_idcardlivedetectfour_request_errors(call):
    video = {"video": MP4}
    no_digits = {k: v for k, v in VIDEO_IDENTITY.items() if k != "validate_data"}
    assert call.multipart("idcardlivedetectfour", no_digits, video)[1]["code"] == 21
    letters = {**VIDEO_IDENTITY, "validate_data": "12a4"}
    assert call.multipart("idcardlivedetectfour", letters, video)[1]["code"] == 21
    no_name = {k: v for k, v in VIDEO_IDENTITY.items() if k != "idcard_name"}
    assert call.multipart("idcardlivedetectfour", no_name, video)[1]["code"] == -5801
    bad_name = {**VIDEO_IDENTITY, "idcard_name": "x"}
    assert call.multipart("idcardlivedetectfour", bad_name, video)[1]["code"] == -5806
    bad_sum = {**VIDEO_IDENTITY, "idcard_number": "110110199909090909"}
    assert call.multipart("idcardlivedetectfour", bad_sum, video)[1]["code"] == -5804
    assert call.multipart("idcardlivedetectfour", VIDEO_IDENTITY) == (
        400, error(-5805, "no image or url"))


def test_idcardlivedetectfour_unrecognised_video_is_in_band_5001(call):
    status, body = call.multipart("idcardlivedetectfour", VIDEO_IDENTITY,
                                  {"video": media("face.jpg")})
    assert status == 200 and body["code"] == 0
    assert body["data"] == {"live_status": -5001, "live_msg": "VIDEO_FORMAT_INVALID",
                            "compare_status": -5005, "compare_msg": "VIDEO_FACE_GETIMAGE_FAILED"}


def test_idcardlivedetectfour_low_resolution_is_in_band_5015(call):
    data = call.multipart("idcardlivedetectfour", VIDEO_IDENTITY,
                          {"video": media("video-small.mp4")})[1]["data"]
    assert (data["live_status"], data["live_msg"]) == (-5015, "VIDEO_RESOLUTION_TOO_LOW")
    assert data["compare_status"] == 0 and "sim" in data


def test_idcardlivedetectfour_registry_mismatch_is_compare_status(call):
    fields = {**VIDEO_IDENTITY, "idcard_number": REGISTERED_NUMBER}
    status, body = call.multipart("idcardlivedetectfour", fields, {"video": MP4})
    assert (status, body["code"]) == (200, 0)
    assert body["data"] == {"live_status": 0, "live_msg": "OK", "compare_status": -5803,
                            "compare_msg": "IDCARD_NAME_NUMBER_MISMATCH"}


# -- livedetectfour ----------------------------------------------------------------------

LIVE = {"appid": "1000001", "validate_data": "0912"}


@pytest.mark.parametrize("flag", ["true", "TRUE", "True"])
def test_livedetectfour_with_compare_success_shape(call, flag):
    status, body = call.multipart("livedetectfour", {**LIVE, "compare_flag": flag},
                                  {"video": MP4, "card": media("card.jpg")})
    assert status == 200 and body["code"] == 0
    data = body["data"]
    assert list(data) == ["live_status", "live_msg", "compare_status", "compare_msg", "sim",
                          "photo"]
    assert type(data["sim"]) is int and 80 <= data["sim"] < 100
    assert inspect_image(base64.b64decode(data["photo"])).decodes


@pytest.mark.parametrize("flag", ["false", "False"])
def test_livedetectfour_without_compare_has_no_compare_fields(call, flag):
    status, body = call.multipart("livedetectfour", {**LIVE, "compare_flag": flag},
                                  {"video": MP4})
    assert (status, body) == (200, {"code": 0, "message": "OK",
                                    "data": {"live_status": 0, "live_msg": "OK"}})


@pytest.mark.parametrize("flag", [None, "yes", "1", ""])
def test_livedetectfour_bad_compare_flag_is_21(call, flag):
    fields = dict(LIVE) if flag is None else {**LIVE, "compare_flag": flag}
    assert call.multipart("livedetectfour", fields, {"video": MP4}) == (
        400, error(21, "invalid parameter"))


def test_livedetectfour_compare_without_card_is_5805(call):
    assert call.multipart("livedetectfour", {**LIVE, "compare_flag": "true"},
                          {"video": MP4})[1]["code"] == -5805


@pytest.mark.parametrize("card", ["face.gif", "garbage.bin", "truncated.jpg"])
def test_livedetectfour_bad_card_is_compare_status_4018(call, card):
    data = call.multipart("livedetectfour", {**LIVE, "compare_flag": "true"},
                          {"video": MP4, "card": media(card)})[1]["data"]
    assert data == {"live_status": 0, "live_msg": "OK", "compare_status": -4018,
                    "compare_msg": "CARD_DECODE_FAILED"}


def test_livedetectfour_bad_video_is_in_band(call):
    data = call.multipart("livedetectfour", {**LIVE, "compare_flag": "false"},
                          {"video": media("garbage.bin")})[1]["data"]
    assert data == {"live_status": -5001, "live_msg": "VIDEO_FORMAT_INVALID"}


def test_strict_lip_codes_refuse_unissued_digits(clock):
    caller, _ = caller_with(clock, strict_lip_codes=True)
    issued = caller.json("livegetfour", {"appid": "1000001"})[1]["data"]["validate_data"]
    wrong = str((int(issued) + 1) % 10000).zfill(4)
    fields = {"appid": "1000001", "compare_flag": "false"}
    ok = caller.multipart("livedetectfour", {**fields, "validate_data": issued}, {"video": MP4})
    bad = caller.multipart("livedetectfour", {**fields, "validate_data": wrong}, {"video": MP4})
    assert ok[1]["data"]["live_status"] == 0
    assert bad[1]["data"] == {"live_status": -5008, "live_msg": "VIDEO_AUDIO_RECOG_FAILED"}


# -- auth-layer errors have no data and the contract's statuses -----------------------------

@pytest.mark.parametrize("authorization,status,code,message", [
    (None, 401, 4, "has no sign or sign is empty"),
    ("%%%", 400, 5, "sign format error"),
    (auth(MAIN, now=1_800_000_000 - 7200, expires_in=60, rand=1), 401, 9, "sign expired"),
    (sign("1000001", "AKIDmain", "not-the-key", now=1_800_000_000, rand=1), 401, 14,
     "sign no pass"),
], ids=["no-header", "not-base64", "expired", "wrong-key"])
def test_auth_errors_render_without_data(call, authorization, status, code, message):
    assert call.json("livegetfour", {"appid": "1000001"}, authorization=authorization) == (
        status, error(code, message))


def test_loose_mode_answers_any_well_formed_signature(clock):
    caller, _ = caller_with(clock, loose=True)
    header = sign("42", "AKIDwhatever", "nope", now=1)
    assert caller.json("livegetfour", {"appid": "42"}, authorization=header)[1]["code"] == 0
    assert caller.json("livegetfour", {"appid": "42"}, authorization=None)[1]["code"] == 4
    assert caller.json("livegetfour", {}, authorization=header)[1]["code"] == 21


def test_lip_code_book_remembers_a_bounded_number_of_apps():
    from mockface.core.state import LipCodeBook
    book = LipCodeBook(seed=0, per_app=2, apps=3)
    for appid in "abcd":
        book.issue(appid)
    assert sorted(book.all_issued()) == ["b", "c", "d"]
    for _ in range(3):
        book.issue("d")
    assert len(book.issued("d")) == 2
