"""Scenario behaviour in-process: matching, sequences, times, scoping, header selection,
thread safety, reloads and the log line for unmatched requests."""
from __future__ import annotations

import logging

import pytest

from mockface.core.scenarios.library import UnknownScenario
from mockface.core.scenarios.model import ScenarioError
from mockface.core.scenarios.watcher import ScenarioWatcher
from mockface.products.legacy.model import RequestBody
from mockface.products.legacy.scenario_rules import request_facts
from mockface.scenarios import ScenarioEngine
from mockface.products.legacy.stores import LIP_CODES

from .support import ID_NAME, ID_NUMBER, MAIN, auth, caller_with, media, run_concurrently

URL = "http://x/y.jpg"
COMPARE = {"appid": "1000001", "idcard_number": ID_NUMBER, "idcard_name": ID_NAME, "url": URL}


@pytest.fixture
def setup(clock):
    caller, emulator = caller_with(clock, {"allow_scenario_header": True})
    return caller, emulator.scenarios


def similarity(caller, **fields) -> float:
    return caller.json("idcardcompare", {**COMPARE, **fields})[1]["data"]["similarity"]


def lip(caller, appid="1000001", **options) -> dict:
    return caller.json("livegetfour", {"appid": appid}, **options)[1]


def rule(respond, **extra) -> dict:
    return {"name": "t", "rules": [{"respond": respond, **extra}]}


# -- matching ----------------------------------------------------------------------------

def test_scalar_condition_scripts_one_id_number(setup):
    caller, engine = setup
    default = similarity(caller)
    engine.activate({"name": "one", "rules": [{"endpoint": "idcardcompare",
                                                "match": {"idcard_number": ID_NUMBER},
                                                "respond": {"similarity": 42.5}}]})
    assert similarity(caller) == 42.5
    other = "11010519491231002X"
    assert similarity(caller, idcard_number=other) != 42.5
    engine.reset()
    assert similarity(caller) == default


@pytest.mark.parametrize("condition,seq,matches", [
    ("abc", "abc", True), ("abc", "abd", False),
    (["a", "b"], "b", True), (["a", "b"], "c", False),
    ({"regex": "ord-[0-9]+"}, "ord-17", True), ({"regex": "ord-[0-9]+"}, "ord-17x", False),
    ({"present": True}, "x", True), ({"present": True}, None, False),
    ({"present": False}, None, True), ({"present": False}, "x", False),
    (5, "5", True),  # compared as strings
])
def test_condition_forms(setup, condition, seq, matches):
    caller, engine = setup
    engine.activate({"rules": [{"endpoint": "livegetfour", "match": {"seq": condition},
                                "respond": {"validate_data": "0000"}}]})
    body = {"appid": "1000001"} if seq is None else {"appid": "1000001", "seq": seq}
    code = caller.json("livegetfour", body)[1]["data"]["validate_data"]
    assert (code == "0000") is matches


def test_all_conditions_must_hold_and_numbers_compare_as_strings(setup):
    caller, engine = setup
    engine.activate({"rules": [{"match": {"appid": 1000001, "seq": "x"},
                                "respond": {"validate_data": "9999"}}]})
    assert lip(caller)["data"]["validate_data"] != "9999"
    assert caller.json("livegetfour", {"appid": 1000001, "seq": "x"})[1]["data"] == {
        "validate_data": "9999"}


def test_media_facts_match_sha256_and_size(setup):
    caller, engine = setup
    jpeg = media("face.jpg")
    facts = request_facts(RequestBody("multipart", media={"image": jpeg}))
    engine.activate({"rules": [{"match": {"image.sha256": facts["image.sha256"],
                                          "image.size": len(jpeg)},
                                "respond": {"code": -1101}}]})
    fields = {"appid": "1000001"}
    assert caller.multipart("livedetectpicture", fields, {"image": jpeg}) == (
        400, {"code": -1101, "message": "face detect failed"})
    assert caller.multipart("livedetectpicture", fields,
                            {"image": media("face.png")})[1]["code"] == 0


def test_first_matching_rule_wins_and_unmatched_get_defaults(setup):
    caller, engine = setup
    engine.activate({"rules": [
        {"match": {"seq": "a"}, "respond": {"validate_data": "1111"}},
        {"match": {"seq": {"present": True}}, "respond": {"validate_data": "2222"}},
    ]})
    assert caller.json("livegetfour", {"appid": "1000001", "seq": "a"})[1]["data"][
        "validate_data"] == "1111"
    assert caller.json("livegetfour", {"appid": "1000001", "seq": "b"})[1]["data"][
        "validate_data"] == "2222"
    assert lip(caller)["data"]["validate_data"] not in ("1111", "2222")


# -- responses ----------------------------------------------------------------------------

def test_top_level_code_with_message_and_status_override(setup):
    caller, engine = setup
    engine.activate(rule({"code": -5804, "message": "custom", "http_status": 418},
                         endpoint="idcardcompare"))
    assert caller.json("idcardcompare", COMPARE) == (418, {"code": -5804, "message": "custom"})


def test_in_band_codes_follow_the_contract(setup):
    caller, engine = setup
    engine.activate({"rules": [
        {"endpoint": "livedetectfour", "match": {"seq": "live"}, "respond": {"code": -5008}},
        {"endpoint": "livedetectfour", "match": {"seq": "cmp"}, "respond": {"code": -4015}},
        {"endpoint": "livedetectfour", "match": {"seq": "both"},
         "respond": {"live_status": -5010, "compare_status": -5005}},
    ]})
    fields = {"appid": "1000001", "validate_data": "1234", "compare_flag": "true"}
    files = {"video": media("video.mp4"), "card": media("card.jpg")}
    status, body = caller.multipart("livedetectfour", {**fields, "seq": "live"}, files)
    assert (status, body["code"]) == (200, 0)
    assert body["data"]["live_status"] == -5008
    assert body["data"]["live_msg"] == "VIDEO_AUDIO_RECOG_FAILED"
    assert body["data"]["compare_status"] == 0 and "sim" in body["data"]
    body = caller.multipart("livedetectfour", {**fields, "seq": "cmp"}, files)[1]
    assert body["data"] == {"live_status": 0, "live_msg": "OK", "compare_status": -4015,
                            "compare_msg": "SELFIE_FACE_DETECT_FAILED"}
    body = caller.multipart("livedetectfour", {**fields, "seq": "both"}, files)[1]
    assert body["data"] == {"live_status": -5010, "live_msg": "VIDEO_LIP_MOVE_FAILED",
                            "compare_status": -5005,
                            "compare_msg": "VIDEO_FACE_GETIMAGE_FAILED"}
    no_compare = {**fields, "compare_flag": "false", "seq": "live"}
    body = caller.multipart("livedetectfour", no_compare, {"video": media("video.mp4")})[1]
    assert body["data"] == {"live_status": -5008, "live_msg": "VIDEO_AUDIO_RECOG_FAILED"}


def test_data_values_and_messages_are_laid_over_defaults(setup):
    caller, engine = setup
    engine.activate({"rules": [{"endpoint": "idcardlivedetectfour", "respond": {
        "sim": 33, "video_photo": "aGVsbG8=", "live_msg": "CUSTOM"}}]})
    fields = {**COMPARE, "validate_data": "1234"}
    fields.pop("url")
    data = caller.multipart("idcardlivedetectfour", fields,
                            {"video": media("video.mp4")})[1]["data"]
    assert data == {"live_status": 0, "live_msg": "CUSTOM", "compare_status": 0,
                    "compare_msg": "OK", "sim": 33, "video_photo": "aGVsbG8="}


def test_scripted_lip_code_is_remembered(clock):
    caller, emulator = caller_with(clock, strict_lip_codes=True)
    emulator.scenarios.activate(rule({"validate_data": "0042"}, endpoint="livegetfour"))
    assert lip(caller)["data"] == {"validate_data": "0042"}
    assert emulator.state.store(LIP_CODES).issued(MAIN.appid) == ["0042"]
    emulator.scenarios.reset()
    fields = {"appid": MAIN.appid, "validate_data": "0042", "compare_flag": "false"}
    status, body = caller.multipart("livedetectfour", fields, {"video": media("video.mp4")})
    assert (status, body["data"]["live_status"]) == (200, 0)  # strict mode accepts it


def test_undocumented_code_is_top_level(setup):
    caller, engine = setup
    engine.activate(rule({"code": 777, "message": "weird", "allow_undocumented": True}))
    assert lip(caller) == {"code": 777, "message": "weird"}


def test_scenario_answers_without_input_validation(setup):
    caller, engine = setup
    engine.activate(rule({"similarity": 50}, endpoint="idcardcompare"))
    status, body = caller.json("idcardcompare", {"appid": "1000001"})  # no identity, no url
    assert (status, body["data"]["similarity"]) == (200, 50.0)


# -- sequences and times -------------------------------------------------------------------

def test_sequence_repeats_its_last_response(setup):
    caller, engine = setup
    engine.activate(rule([{"validate_data": "0001"}, {"validate_data": "0002"}]))
    assert [lip(caller)["data"]["validate_data"] for _ in range(4)] == [
        "0001", "0002", "0002", "0002"]


def test_sequence_cycles_when_asked(setup):
    caller, engine = setup
    engine.activate(rule([{"validate_data": "0001"}, {"validate_data": "0002"}], cycle=True))
    assert [lip(caller)["data"]["validate_data"] for _ in range(5)] == [
        "0001", "0002", "0001", "0002", "0001"]


def test_times_limits_a_rule_then_later_rules_or_defaults_answer(setup):
    caller, engine = setup
    engine.activate({"rules": [
        {"times": 2, "respond": {"code": 15}},
        {"times": 1, "respond": {"validate_data": "7777"}},
    ]})
    codes = [lip(caller) for _ in range(4)]
    assert [c["code"] for c in codes[:2]] == [15, 15]
    assert codes[2]["data"]["validate_data"] == "7777"
    assert codes[3]["code"] == 0 and codes[3]["data"]["validate_data"] != "7777"


def test_reactivation_resets_counters(setup):
    caller, engine = setup
    document = rule([{"validate_data": "0001"}, {"validate_data": "0002"}])
    engine.activate(document)
    lip(caller)
    assert lip(caller)["data"]["validate_data"] == "0002"
    engine.activate(document)
    assert lip(caller)["data"]["validate_data"] == "0001"
    assert len(engine.active()) == 1  # replaced, not added


def test_concurrent_requests_never_share_a_step(setup):
    caller, engine = setup
    steps = [{"validate_data": f"{n:04d}"} for n in range(20)]
    engine.activate(rule(steps))
    activation = engine.active()[0]
    facts = {"appid": "1000001"}
    taken = run_concurrently(lambda: activation.take("livegetfour", facts, False)[1], 20)
    assert sorted(r.data["validate_data"] for r in taken) == [f"{n:04d}" for n in range(20)]


def test_describe_shows_remaining_times_and_next_step(setup):
    caller, engine = setup
    activation = engine.activate({"name": "d", "rules": [
        {"times": 3, "respond": [{"validate_data": "0001"}, {"validate_data": "0002"}]}]})
    lip(caller)
    [described] = activation.describe()["rules"]
    assert described == {"rule": "rule 1", "line": 1, "answered": 1, "remaining": 2,
                         "next_step": 1, "steps": 2}


# -- scoping and header selection ---------------------------------------------------------

def test_scoped_activation_affects_one_appid_only(clock):
    from .support import BUCKETED
    caller, emulator = caller_with(clock)
    emulator.scenarios.activate(rule({"validate_data": "5555"}), appid="1000002")
    assert lip(caller)["data"]["validate_data"] != "5555"
    scoped = lip(caller, appid="1000002", authorization=auth(BUCKETED))
    assert scoped["data"]["validate_data"] == "5555"
    emulator.scenarios.reset(appid="1000002")
    assert lip(caller, appid="1000002",
               authorization=auth(BUCKETED))["data"]["validate_data"] != "5555"


def test_scoped_rules_come_before_shared_ones(setup):
    caller, engine = setup
    engine.activate({"name": "shared", "rules": [{"respond": {"validate_data": "1111"}}]})
    engine.activate({"name": "mine", "rules": [{"respond": {"validate_data": "2222"}}]},
                    appid="1000001")
    assert lip(caller)["data"]["validate_data"] == "2222"
    assert engine.deactivate("mine", appid="1000001") == 1
    assert lip(caller)["data"]["validate_data"] == "1111"


def test_header_selects_a_scenario_for_one_request(tmp_path, clock):
    (tmp_path / "slowpoke.yaml").write_text("rules:\n  - respond: {validate_data: '3333'}\n")
    engine = ScenarioEngine([tmp_path])
    caller, _ = caller_with(clock, {"scenarios": engine, "allow_scenario_header": True})
    assert lip(caller, **{"X-Mockface-Scenario": "slowpoke"})["data"]["validate_data"] == "3333"
    assert lip(caller)["data"]["validate_data"] != "3333"
    assert lip(caller, **{"X-Mockface-Scenario": "nope"}) == {
        "code": 3, "message": "unknown scenario nope"}


def test_header_is_ignored_unless_allowed(tmp_path, clock):
    (tmp_path / "x.yaml").write_text("rules:\n  - respond: {validate_data: '3333'}\n")
    caller, _ = caller_with(clock, {"scenarios": ScenarioEngine([tmp_path])})
    assert lip(caller, **{"X-Mockface-Scenario": "x"})["data"]["validate_data"] != "3333"


# -- auth order -------------------------------------------------------------------------------

def test_signature_checks_run_before_ordinary_rules(setup):
    caller, engine = setup
    engine.activate(rule({"validate_data": "1212"}))
    assert lip(caller, authorization=None) == {"code": 4,
                                               "message": "has no sign or sign is empty"}


def test_before_auth_rules_answer_unsigned_requests(setup):
    caller, engine = setup
    engine.activate(rule({"code": 9}, before_auth=True))
    assert caller.json("livegetfour", {"appid": "1000001"}, authorization=None) == (
        401, {"code": 9, "message": "sign expired"})


# -- the library and loading ------------------------------------------------------------------

def test_names_are_found_on_the_search_path_in_order(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "x.yaml").write_text("name: from-a\nrules: []\n")
    (second / "x.yml").write_text("name: from-b\nrules: []\n")
    (second / "y.json").write_text('{"rules": []}')
    engine = ScenarioEngine([first, second])
    assert sorted(engine.library.names()) == ["x", "y"]
    assert engine.activate("x").scenario.name == "from-a"
    assert engine.activate(str(second / "x.yml")).scenario.name == "from-b"
    with pytest.raises(UnknownScenario, match="unknown scenario 'z'"):
        engine.activate("z")


def test_invalid_scenario_is_refused(tmp_path):
    (tmp_path / "bad.yaml").write_text("rules:\n  - respond: {scor: 1}\n")
    engine = ScenarioEngine([tmp_path])
    with pytest.raises(ScenarioError, match=r"bad\.yaml:2: unknown key 'scor'"):
        engine.activate("bad")
    assert engine.active() == []


def test_reload_keeps_last_valid_version(tmp_path, clock, caplog):
    path = tmp_path / "live.yaml"
    path.write_text("rules:\n  - respond: {validate_data: '1111'}\n")
    engine = ScenarioEngine([tmp_path])
    caller, _ = caller_with(clock, {"scenarios": engine})
    engine.activate("live")
    watcher = ScenarioWatcher(engine)
    watcher.check_now()  # first snapshot
    path.write_text("rules:\n  - respond: {validate_data: '2222'}\n# changed\n")
    watcher.check_now()
    assert lip(caller)["data"]["validate_data"] == "2222"
    path.write_text("rules:\n  - respond: {validate_data: 'bad'}\n")
    with caplog.at_level(logging.ERROR, logger="mockface.scenarios"):
        watcher.check_now()
    assert lip(caller)["data"]["validate_data"] == "2222"
    assert "keeping the last valid version" in caplog.text and "live.yaml:2" in caplog.text
    assert str(path) in engine.reload_errors
    path.write_text("rules:\n  - respond: {validate_data: '3333'}\n")
    watcher.check_now()
    assert lip(caller)["data"]["validate_data"] == "3333" and engine.reload_errors == {}


def test_unmatched_request_logs_the_closest_rule(setup, caplog):
    caller, engine = setup
    engine.activate({"name": "picky", "rules": [
        {"endpoint": "livegetfour", "match": {"appid": "1000001", "seq": "wanted"},
         "respond": {"validate_data": "1111"}},
        {"endpoint": "idcardcompare", "respond": {"similarity": 1}},
    ]})
    with caplog.at_level(logging.INFO, logger="mockface.access"):
        caller.json("livegetfour", {"appid": "1000001", "seq": "other"})
    line = [r.getMessage() for r in caplog.records if r.name == "mockface.access"][-1]
    assert line.endswith("rule=default miss=\"no rule matched; closest picky rule 1 "
                         "(<inline>:1): seq is 'other', not 'wanted'\"")


def test_idle_only_while_nothing_could_answer():
    engine = ScenarioEngine()
    assert engine.idle() and not engine.idle("happy-path")
    engine.activate({"rules": [{"respond": {"code": 15}}]})
    assert not engine.idle()
    engine.reset()
    assert engine.idle()
