"""The error catalogue against the seed's face and face-verification tables."""
from __future__ import annotations

import pytest

from mockface.products.legacy.errors import (
    CATALOGUE,
    ENDPOINTS,
    ApiError,
    Placement,
    codes_for,
    placement_on,
)

AUTH = [3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 21, 23, 24, 107, 108, 213]
FACE_TABLE = [-1101, -1102, -1103, -1104, -1105, -1106, -1107, -1108, -1109, -1200, -1300,
              -1301, -1302, -1303, -1304, -1305, -1306, -1307, -1308, -1309, -1310, -1311,
              -1312, -1400, -1403]
VERIFICATION = [-4006, -4007, -4009, -4010, -4011, -4012, -4015, -4016, -4017, -4018, -5001,
                -5002, -5005, -5007, -5008, -5009, -5010, -5011, -5012, -5013, -5014, -5015,
                -5016, -5801, -5802, -5803, -5804, -5805, -5806, -5807, -5809, -5817]


def test_catalogue_holds_every_seed_code_and_nothing_else():
    assert sorted(CATALOGUE) == sorted(AUTH + FACE_TABLE + VERIFICATION)


@pytest.mark.parametrize("code,status", [
    (3, 400), (5, 400), (21, 400), (23, 400), (4, 401), (6, 401), (9, 401), (10, 401),
    (11, 401), (12, 401), (13, 401), (14, 401), (16, 401), (24, 403), (15, 429), (213, 500),
    (107, 503), (108, 503), (-5804, 400), (-1400, 400),
])
def test_http_status_decisions(code, status):
    assert CATALOGUE[code].http_status == status


def test_recorded_messages():
    assert CATALOGUE[3].message == "invalid request"
    assert CATALOGUE[14].message == "sign no pass"
    assert CATALOGUE[4].message == "has no sign or sign is empty"
    assert CATALOGUE[-5008].constant == "VIDEO_AUDIO_RECOG_FAILED"
    assert CATALOGUE[-5005].constant == "VIDEO_FACE_GETIMAGE_FAILED"


def test_every_entry_is_complete_and_constants_are_unique():
    constants = [entry.constant for entry in CATALOGUE.values()]
    assert len(set(constants)) == len(constants)
    for entry in CATALOGUE.values():
        assert entry.meaning and entry.message and entry.endpoints <= set(ENDPOINTS)
        assert entry.constant == entry.constant.upper()


def test_per_endpoint_documentation_follows_the_seed_tables():
    picture = {e.code for e in codes_for("livedetectpicture")}
    assert {-5806, -5807} <= picture and not {-4011, -4012, -5016, -5809} & picture
    compare = {e.code for e in codes_for("idcardcompare")}
    assert {-5809, -5817, -4011, -5016} <= compare and -5807 not in compare
    assert -5809 not in {e.code for e in codes_for("livedetectfour")}
    with pytest.raises(ValueError, match="unknown endpoint"):
        codes_for("ocr")


def test_placement_is_in_band_only_on_video_endpoints():
    assert placement_on("livedetectfour", -5008) is Placement.LIVE
    assert placement_on("idcardlivedetectfour", -4015) is Placement.COMPARE
    assert placement_on("idcardlivedetectfour", -5803) is Placement.COMPARE
    assert placement_on("livedetectfour", -5803) is Placement.TOP
    assert placement_on("idcardcompare", -5008) is Placement.TOP
    assert placement_on("idcardlivedetectfour", -5801) is Placement.TOP


def test_api_error_defaults_and_overrides():
    error = ApiError(15)
    assert (error.code, error.message, error.http_status) == (15, "request too frequent", 429)
    custom = ApiError(3, "custom", 418, detail="why")
    assert (custom.message, custom.http_status, custom.detail) == ("custom", 418, "why")
    with pytest.raises(KeyError):
        ApiError(999)
