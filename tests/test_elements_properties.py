"""Property tests for the element checks: any well-typed input (strings where the SDK has
strings, VerifyMode from its enumeration) answers a ``Result`` of the action's own table
with that Result's Description and the action's fields with their types -- never an error,
never ``InternalError`` -- deterministically, and writes no state.  Over HTTP, any
parameters at all get a Result or a documented error, never ``InternalError``."""
from __future__ import annotations

import hashlib
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockface.core.clock import Clock
from mockface.core.config import App, Settings
from mockface.core.elements import PREFIXES
from mockface.core.identity import IdentityRecord, Phone, with_check_digit
from mockface.emulator import Emulator
from mockface.products import REGISTRY
from mockface.products.faceid.elements_phone import PHONE_ACTIONS, RANGES
from mockface.products.faceid.provider import FaceIdProvider
from mockface.products.tc3.actions import Actions
from mockface.products.tc3.signature import sign_tc3
from mockface.web.app import create_app

APP = App("1300000003", {"AKIDproperty01": "property-key"})
SECRET_ID, SECRET_KEY = next(iter(APP.secrets.items()))
OWNER = with_check_digit("44030419851120456")
PHONES = ("13800138000", "18912345678", "13012345678", "13912345670", "15012345671")
RECORDS = {OWNER: IdentityRecord(OWNER, "李四", phones=(
    Phone(PHONES[0]), Phone(PHONES[1], months=13), Phone(PHONES[2], status=1, months=2),
    Phone(PHONES[3], status=2), Phone(PHONES[4], status=99)))}
CATALOGUE = REGISTRY["tc3"].catalogue
ISPS = {"", "移动", "电信", "联通"}
BUCKETS = {text for _, text in RANGES} | {""}
STATUS_CODES = {0, 1, 2, 4, 5, 99}

any_text = st.text(st.characters(blacklist_categories=()), max_size=30)
prefixes = st.sampled_from([prefix for group in PREFIXES.values() for prefix in group]
                           + ["120", "100", "１３８"])
phones = st.one_of(
    st.sampled_from(PHONES),
    st.builds(lambda prefix, rest: prefix + rest, prefixes,
              st.text("0123456789", min_size=6, max_size=10)),
    any_text)
numbers = st.one_of(
    st.just(OWNER),
    st.builds(with_check_digit, st.text("0123456789", min_size=17, max_size=17)),
    st.text("0123456789X", min_size=18, max_size=18), any_text)
names = st.one_of(st.sampled_from(["李四", "张三", "欧阳·娜娜"]),
                  st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                          min_size=1, max_size=31), any_text)
modes = st.one_of(st.sampled_from(["0", "1", "2", "3"]), any_text.filter(bool))


def hashed(mode: str, value: str) -> str:
    name = {"1": "md5", "2": "sha256", "3": "sm3"}.get(mode)
    return hashlib.new(name, value.encode()).hexdigest() if name else value


@st.composite
def calls(draw) -> tuple[str, dict]:
    """An action of the phone family and well-typed parameters for it."""
    action = draw(st.sampled_from(PHONE_ACTIONS))
    if action in ("MobileStatus", "MobileNetworkTimeVerification"):
        return action, {"Mobile": draw(phones.filter(bool))}
    if action == "CheckPhoneAndName":
        return action, {"Mobile": draw(phones.filter(bool)), "Name": draw(names.filter(bool))}
    params = {"Phone": draw(phones.filter(bool)), "IdCard": draw(numbers.filter(bool)),
              "Name": draw(names.filter(bool))}
    if action == "PhoneVerification" and draw(st.booleans()):
        params["VerifyMode"] = draw(st.sampled_from(["0", "1"]))
    if action == "EncryptedPhoneVerification":
        mode = draw(modes)
        if draw(st.booleans()):
            params = {key: hashed(mode, value) for key, value in params.items()}
        params["EncryptionMode"] = mode
    return action, params


def actions_of(**sections) -> Actions:
    clock = Clock()
    clock.freeze(1_800_000_000)
    return Emulator(Settings(apps=(APP,), identities={OWNER: "李四"}, identity_records=RECORDS,
                             sections=sections), clock).handlers["tc3"].actions


@pytest.fixture(scope="module", params=["consistent", "no_record"])
def actions(request) -> Actions:
    return actions_of(unknown_identity=request.param)


def assert_fields(action: str, fields: dict) -> None:
    table = FaceIdProvider.declarations[action].result_table
    assert table is not None
    assert fields["Result"] in table, fields
    assert fields["Description"] == table[fields["Result"]]
    if action == "EncryptedPhoneVerification":
        assert set(fields) == {"Result", "Description", "ISP"} and fields["ISP"] in ISPS
    elif action.startswith("PhoneVerification"):
        assert set(fields) - {"ResultDetail"} == {"Result", "Description", "Isp"}
        assert fields["Isp"] in ISPS
        if "ResultDetail" in fields:
            assert action == "PhoneVerification" and fields["Result"] == "-4"
    elif action == "MobileStatus":
        assert set(fields) == {"Result", "Description", "StatusCode"}
        assert type(fields["StatusCode"]) is int and fields["StatusCode"] in STATUS_CODES
    elif action == "MobileNetworkTimeVerification":
        assert set(fields) == {"Result", "Description", "Range"}
        assert fields["Range"] in BUCKETS
        assert (fields["Range"] != "") == (fields["Result"] == "0")
    else:
        assert set(fields) == {"Result", "Description"}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=calls())
def test_any_well_typed_input_answers_a_result_of_the_actions_table(actions, call):
    action, params = call
    registry = actions.providers["faceid"].identities
    before = len(registry)
    first = actions.answer("faceid", action, "2018-03-01", APP.appid, dict(params)).fields
    again = actions.answer("faceid", action, "2018-03-01", APP.appid, dict(params)).fields
    assert first == again
    assert len(registry) == before
    assert_fields(action, first)


@pytest.fixture(scope="module")
def client():
    clock = Clock()
    clock.freeze(time.time())
    emulator = Emulator(Settings(apps=(APP,), identity_records=RECORDS), clock)
    return create_app(emulator=emulator).test_client()


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(any_text, inner, max_size=3), max_leaves=6)
parameter_names = st.sampled_from(["Phone", "Mobile", "IdCard", "Name", "VerifyMode",
                                   "EncryptionMode", "Encryption", "CiphertextBlob",
                                   "EncryptList", "Iv", "Other"])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=calls(), extra=st.dictionaries(parameter_names, json_values, max_size=3))
def test_any_parameters_over_http_answer_a_result_or_a_documented_error(client, call, extra):
    action, params = call
    body = json.dumps({**params, **extra}).encode()
    headers = sign_tc3(SECRET_ID, SECRET_KEY, service="faceid", host="localhost",
                       action=action, timestamp=int(time.time()), body=body,
                       version="2018-03-01")
    response = client.post("/", data=body, headers=headers)
    assert (response.status_code, response.headers["Content-Type"]) == (200,
                                                                       "application/json")
    answer = json.loads(response.data)["Response"]
    if "Error" in answer:
        assert answer["Error"]["Code"] in CATALOGUE
        assert not answer["Error"]["Code"].startswith("InternalError"), answer
    else:
        assert_fields(action, {key: value for key, value in answer.items()
                               if key != "RequestId"})
