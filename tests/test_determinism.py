"""Deterministic defaults: the same request gets the same answer forever (these values are
pinned: a change to them breaks every user's recorded expectations), within the documented
ranges, and scripted overrides land where the README says."""
from __future__ import annotations

import pytest

from .support import ID_NAME, ID_NUMBER, MAIN, caller_with, media

IDENTITY = {"appid": MAIN.appid, "idcard_number": ID_NUMBER, "idcard_name": ID_NAME}

#: seed -> the answers to the five requests below, recorded once.
PINNED = {
    0: {"similarity": 85.74, "score": 87, "idcard_sim": 94, "sim": 93,
        "lip_codes": ["9758", "5195", "7597"]},
    7: {"similarity": 86.7, "score": 100, "idcard_sim": 90, "sim": 85,
        "lip_codes": ["6698", "5494", "7926"]},
}


@pytest.mark.parametrize("seed", sorted(PINNED))
def test_defaults_are_pinned_per_seed(clock, seed):
    caller, _ = caller_with(clock, seed=seed)
    compare = caller.json("idcardcompare", {**IDENTITY, "url": "http://example.com/a.jpg",
                                            "session_id": "s1"})[1]["data"]
    picture = caller.multipart("livedetectpicture", {"appid": MAIN.appid},
                               {"image": media("face.jpg")})[1]["data"]
    video = caller.multipart("idcardlivedetectfour", {**IDENTITY, "validate_data": "1234"},
                             {"video": media("video.mp4")})[1]["data"]
    four = caller.multipart("livedetectfour", {"appid": MAIN.appid, "validate_data": "1234",
                                               "compare_flag": "true"},
                            {"video": media("video.mp4"), "card": media("card.jpg")})[1]["data"]
    lips = [caller.json("livegetfour", {"appid": MAIN.appid})[1]["data"]["validate_data"]
            for _ in range(3)]
    assert compare == {"similarity": PINNED[seed]["similarity"], "session_id": "s1"}
    assert picture == {"score": PINNED[seed]["score"]}
    assert (video["sim"], four["sim"], lips) == (
        PINNED[seed]["idcard_sim"], PINNED[seed]["sim"], PINNED[seed]["lip_codes"])


def test_defaults_cover_their_documented_ranges(clock):
    """similarity: two decimals in [80, 100); score: int in [87, 100]; sim: int in [80, 100)."""
    caller, _ = caller_with(clock)
    similarities, scores, sims = [], [], []
    for index in range(600):
        url = f"http://example.com/{index}.jpg"
        similarities.append(caller.json("idcardcompare", {**IDENTITY, "url": url})[1]
                            ["data"]["similarity"])
        scores.append(caller.json("livedetectpicture", {"appid": MAIN.appid, "url": url})[1]
                      ["data"]["score"])
        if index < 150:
            sims.append(caller.multipart(
                "idcardlivedetectfour", {**IDENTITY, "validate_data": str(1000 + index)},
                {"video": media("video.mp4")})[1]["data"]["sim"])
    assert 80 <= min(similarities) < 80.5 and 99.5 < max(similarities) < 100
    assert all(round(value, 2) == value for value in similarities)
    assert any(round(value, 1) != value for value in similarities)  # two decimals used
    assert (min(scores), max(scores)) == (87, 100) and all(isinstance(s, int) for s in scores)
    assert (min(sims), max(sims)) == (80, 99)


def test_scripted_values_land_where_documented(clock):
    caller, emulator = caller_with(clock)
    emulator.scenarios.activate({"name": "s", "rules": [
        {"endpoint": "idcardcompare", "respond": {"session_id": "scripted", "http_status": 299}},
        {"endpoint": "livedetectfour", "respond": {"sim": 42}},
    ]})
    status, body = caller.json("idcardcompare", {**IDENTITY, "url": "http://x/y.jpg"})
    assert (status, body["data"]["session_id"]) == (299, "scripted")
    assert emulator.journal.query()[-1].detail is None  # a scripted plain success
    status, body = caller.multipart("livedetectfour", {"appid": MAIN.appid,
                                                       "validate_data": "1",
                                                       "compare_flag": "false"},
                                    {"video": media("video.mp4")})
    # a scripted comparison value brings the comparison stage even without compare_flag
    assert (status, body["data"]["compare_status"], body["data"]["sim"]) == (200, 0, 42)
    assert "photo" in body["data"]


def test_a_scripted_in_band_failure_names_its_rule(clock):
    caller, emulator = caller_with(clock)
    emulator.scenarios.activate({"name": "lips", "rules": [
        {"endpoint": "livedetectfour", "respond": {"code": -5008}}]})
    status, body = caller.multipart("livedetectfour", {"appid": MAIN.appid,
                                                       "validate_data": "1",
                                                       "compare_flag": "false"},
                                    {"video": media("video.mp4")})
    assert (status, body["code"], body["data"]["live_status"]) == (200, 0, -5008)
    assert emulator.journal.query()[-1].detail == "scripted by lips#1"
