"""The API 3.0 actions implemented so far, answered from the legacy API's rules and state."""
from __future__ import annotations

import pytest

from mockface.core.clock import Clock
from mockface.core.identity import with_check_digit
from mockface.core.state import IdentityRegistry, LipCodeBook
from mockface.products.tc3.actions import ID_RESULTS, FaceIdActions
from mockface.products.tc3.request import FaceIdError

NUMBER = with_check_digit("11010519900307123")
REGISTERED = with_check_digit("44030419851120456")


def answer(actions: FaceIdActions, action: str, appid: str, params: dict,
           product: str = "faceid", version: str = "2018-03-01") -> dict:
    """The Response fields ``actions`` answers for one call."""
    return actions.answer(product, action, version, appid, params).fields


@pytest.fixture
def actions() -> FaceIdActions:
    clock = Clock()
    clock.freeze(1_800_000_000)
    return FaceIdActions(LipCodeBook(0), IdentityRegistry({REGISTERED: "李四"}), clock)


def test_live_codes_are_issued_and_remembered_per_app(actions):
    first = answer(actions, "GetLiveCode", "app1", {})["LiveCode"]
    second = answer(actions, "GetLiveCode", "app1", {})["LiveCode"]
    assert len(first) == 4 and first.isdigit()
    assert actions.lip_codes.issued("app1") == [first, second]
    assert actions.lip_codes.issued("app2") == []
    with pytest.raises(FaceIdError) as caught:
        answer(actions, "GetLiveCode", "app1", {"Extra": "x"})
    assert caught.value.code == "UnknownParameter"


@pytest.mark.parametrize("number,name,result", [
    (NUMBER, "张三", "0"),
    (REGISTERED, "李四", "0"),
    (REGISTERED, "张三", "-1"),
    (NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1"), "张三", "-2"),
    ("12345", "张三", "-2"),
    (NUMBER, "Zhang San", "-3"),
])
def test_id_card_verification(actions, number, name, result):
    fields = answer(actions, "IdCardVerification", "app1", {"IdCard": number, "Name": name})
    assert fields == {"Result": result, "Description": ID_RESULTS[result]}


def test_id_card_verification_without_checksum_checks():
    clock = Clock()
    loose = FaceIdActions(LipCodeBook(0), IdentityRegistry({}), clock, check_idcard=False)
    wrong_checksum = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    assert answer(loose, "IdCardVerification", "a", {"IdCard": wrong_checksum,
                                                    "Name": "张三"})["Result"] == "0"


def test_id_card_verification_needs_both_fields(actions):
    with pytest.raises(FaceIdError) as caught:
        answer(actions, "IdCardVerification", "app1", {"IdCard": NUMBER})
    assert (caught.value.code, caught.value.message) == (
        "MissingParameter", "The parameter `Name` is missing.")


def test_action_sequences_are_issued_and_remembered_per_app(actions):
    issued = [answer(actions, "GetActionSequence", "app1", {})["ActionSequence"]
              for _ in range(20)]
    assert set(issued) == {"1,2", "2,1"}
    assert actions.action_sequences.issued("app1") == issued
    assert actions.lip_codes.issued("app1") == []  # a separate book
    assert answer(actions, "GetActionSequence", "app1", {"ActionType": "x"})["ActionSequence"] \
        in ("1,2", "2,1")
    again = FaceIdActions(LipCodeBook(0), IdentityRegistry({}), Clock())
    assert [answer(again, "GetActionSequence", "app1", {})["ActionSequence"]
            for _ in range(20)] == issued  # the same seed gives the same sequences


@pytest.mark.parametrize("optional", [
    "[" * 100_000,                              # nested past the stack: RecursionError
    '{"BestFrameNum": ' + "[" * 100_000 + "}",
    '{"BestFrameNum": 1' + "0" * 5000 + "}",   # past int()'s 4,300 digits
    '{"BestFrameNum": 1e999}',
    '{"BestFrameNum": NaN}',
])
@pytest.mark.parametrize("action,params", [
    ("LivenessCompare", {"LivenessType": "SILENT", "ImageUrl": "u", "VideoUrl": "v"}),
    ("LivenessRecognition", {"IdCard": NUMBER, "Name": "张三", "LivenessType": "SILENT",
                             "VideoUrl": "v"}),
    ("ImageRecognitionV2", {"IdCard": NUMBER, "Name": "张三", "ImageBase64": "AA=="}),
])
def test_a_hostile_optional_is_an_invalid_parameter_value(actions, optional, action, params):
    with pytest.raises(FaceIdError) as caught:
        answer(actions, action, "app1", {**params, "Optional": optional})
    assert (caught.value.code, caught.value.message) == (
        "InvalidParameterValue", "The value of the parameter `Optional` is invalid.")
