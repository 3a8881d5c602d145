"""The fidelity check against the installed Tencent Cloud SDK (contract-faceid-flows §7):
for every action mockface serves that the SDK has, in every version both have,

- the SDK's request model has no parameter mockface does not know (the declaration's
  ``params``), and each declared parameter has the SDK's type;
- every field mockface answers -- called with valid parameters through the Flask test
  client, TC3-signed, on an emulator whose tokens stay unfinished and on one that finishes
  them at once, with the required parameters and with every optional one this file has a
  sample for, and once per ``Result`` a scenario may script -- is a field of the SDK's
  response model (recursively) with the model's type, null only where the SDK says it may
  be; and the SDK's model reads the answer.

The actions come from the providers' declarations, so an action added later is checked
without a change here -- unless it takes a parameter this file has no sample value for,
which fails with a message naming it (add it to ``SAMPLES``)."""
from __future__ import annotations

import base64
import datetime
import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("tencentcloud.faceid.v20180301.models")

from mockface.core.clock import Clock  # noqa: E402
from mockface.emulator import Emulator  # noqa: E402
from mockface.products import REGISTRY  # noqa: E402
from mockface.products.tc3.coverage import (  # noqa: E402
    ENVELOPE_FIELDS, FieldType, SdkApi, SdkMissing, SdkModel, compare_params, coverage,
    distribution, load_sdk, parse_type, sdk_versions)
from mockface.products.tc3.signature import sign_tc3  # noqa: E402
from mockface.scenarios import parse_scenario_text  # noqa: E402
from mockface.web.app import create_app  # noqa: E402

from .support import ID_NAME, ID_NUMBER, MAIN, NOW, make_settings, media  # noqa: E402

TABLE = REGISTRY["tc3"].table
IMAGE = base64.b64encode(media("face.jpg")).decode()
VIDEO = base64.b64encode(media("video.mp4")).decode()
MOBILE = "13800138000"  # China Mobile's 138 prefix
BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def luhn(first: str) -> str:
    """``first`` with its Luhn check digit appended (a well-formed bank card number)."""
    total = 0
    for index, digit in enumerate(reversed(first)):
        value = int(digit) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return first + str((10 - total % 10) % 10)


class Calls:
    """One emulator on a frozen clock and TC3-signed calls to it through Flask's test
    client."""

    def __init__(self, **changes: Any) -> None:
        self.clock = Clock()
        self.clock.freeze(NOW)
        self.emulator = Emulator(make_settings(**changes), self.clock)
        self.client = create_app(emulator=self.emulator).test_client()

    def __call__(self, service: str, version: str, action: str,
                 params: dict[str, Any]) -> dict[str, Any]:
        """The ``Response`` object of one call (the answer must be HTTP 200 JSON)."""
        secret_id, secret_key = MAIN.first_secret
        body = json.dumps(params).encode()
        signed = sign_tc3(secret_id, secret_key, service=service,
                          host=f"{service}.tencentcloudapi.com", action=action,
                          timestamp=int(self.clock.now()), body=body, version=version)
        response = self.client.post("/", data=body, headers=signed)
        assert response.status_code == 200, response.data[:300]
        assert response.headers["Content-Type"] == "application/json"
        return response.get_json()["Response"]


#: Tokens a parameter takes: the action that issues them (called with valid parameters;
#: its answer's field of the parameter's name is the value).
TOKENS = {"BizToken": "DetectAuth", "EidToken": "GetEidToken", "FaceIdToken": "GetFaceIdToken"}

#: A valid value per parameter name (a function of the Calls for those that depend on the
#: emulator), sent whenever the action declares the parameter.
SAMPLES: dict[str, Any] = {
    "IdCard": ID_NUMBER, "Name": ID_NAME, "ImageBase64": IMAGE, "Image": IMAGE,
    "VideoBase64": VIDEO, "LivenessType": "SILENT", "RuleId": "1",
    "MerchantId": "0NSJ2106111700001", "CompareLib": "LOCAL", "Mobile": MOBILE,
    "Phone": MOBILE, "BankCard": luhn("622202020011223344"), "Type": "1",
    "EncryptionMode": "0", "ValidityBegin": "20200101", "ValidityEnd": "00000000",
    "Cursor": 0,
    "Date": lambda calls: datetime.datetime.fromtimestamp(calls.clock.now(), BEIJING)
    .strftime("%Y-%m-%d"),
}
#: What an optional parameter is given in the call "with every optional one": these make
#: the answer carry its optional parts (frames, video, echoed text).
OPTIONAL_SAMPLES: dict[str, Any] = {
    "Optional": json.dumps({"BestFrameNum": 2}), "Extra": "fidelity", "InfoType": "0",
    "RedirectUrl": "https://example.com/back", "BestFramesCount": 2,
    "IsCutIdCardImage": True, "IsNeedIdCardAvatar": True, "IsNeedVideo": True,
    "IsNeedBestFrame": True, "IsReturnAllVideo": True, "VerifyMode": "1", "CertType": 0,
    "FaceModelVersion": "3.0",
}
#: Declared parameters never sent: the encryption envelope (its own tests), URLs that would
#: replace the media sent, a challenge SILENT does not take.
NOT_SENT = {"Encryption", "CiphertextBlob", "EncryptList", "Iv", "IsEncrypt",
            "IsEncryptResponse", "EncryptedBody", "ImageUrl", "VideoUrl", "Url",
            "ValidateData"}


# -- what is checked: every served action the SDK has ----------------------------------

def _sdk(service: str, version: str) -> SdkApi | None:
    try:
        return load_sdk(service, version) if version in sdk_versions(service) else None
    except SdkMissing:
        return None


SDKS = {(provider.service, version): _sdk(provider.service, version)
        for provider in TABLE.providers for version in provider.versions}


def _targets() -> Iterator[tuple[str, str, str]]:
    for (service, version), api in SDKS.items():
        if api is None:
            continue
        for name in sorted(TABLE.versions[service][version] & set(api.actions)):
            yield service, version, name


TARGETS = list(_targets())
IDS = [f"{service}-{version}-{name}" for service, version, name in TARGETS]


def sdk_of(service: str, version: str) -> SdkApi:
    api = SDKS[(service, version)]
    assert api is not None
    return api


# -- building valid calls ---------------------------------------------------------------

def params_for(calls: Calls, service: str, version: str, action: str,
               optional: bool = False) -> dict[str, Any]:
    """Valid parameters of ``action``: every declared one with a sample (tokens issued
    for the purpose, by a call with the same ``optional``), and with ``optional`` every
    optional one of OPTIONAL_SAMPLES too; a required one without a sample fails the
    test."""
    declaration = TABLE.declaration(service, action)
    params: dict[str, Any] = {}
    for param in declaration.params:
        if param.name in NOT_SENT and not param.required:
            continue
        if param.name in TOKENS:
            issuer = TOKENS[param.name]
            answer = calls(service, version, issuer,
                           params_for(calls, service, version, issuer, optional))
            assert param.name in answer, (issuer, answer)
            params[param.name] = answer[param.name]
        elif param.name in SAMPLES:
            value = SAMPLES[param.name]
            params[param.name] = value(calls) if callable(value) else value
        elif optional and param.name in OPTIONAL_SAMPLES:
            params[param.name] = OPTIONAL_SAMPLES[param.name]
        elif param.required and param.choices:
            params[param.name] = param.choices[0]
        elif param.required:
            pytest.fail(f"{service}:{action} requires {param.name}: add a valid sample value "
                        f"for it to SAMPLES in {__name__}")
    return params


# -- the check of an answer against the SDK's models -------------------------------------

def answer_problems(api: SdkApi, model: SdkModel, value: Any, where: str,
                    envelope: bool = False) -> list[str]:
    """What in ``value`` (an answer, or a part of one) the SDK's ``model`` does not have:
    fields it lacks and values not of its type (``envelope``: the ``Response`` object, which
    may carry ENVELOPE_FIELDS too)."""
    if not isinstance(value, dict):
        return [f"{where}: {value!r:.60} is not an object ({model.name})"]
    found: list[str] = []
    for name, member in value.items():
        kind = model.fields.get(name)
        if kind is None:
            if not (envelope and name in ENVELOPE_FIELDS):
                found.append(f"{where}.{name}: not a field of the SDK's {model.name}")
            continue
        found.extend(type_problems(api, kind, member, f"{where}.{name}"))
    return found


def type_problems(api: SdkApi, kind: FieldType, value: Any, where: str) -> list[str]:
    """Why ``value`` is not of the SDK type ``kind`` (empty when it is)."""
    if value is None:
        return [] if kind.nullable else [f"{where}: null, but the SDK's {kind} may not be"]
    if kind.kind == "object":
        assert kind.model is not None
        return answer_problems(api, api.models[kind.model], value, where)
    if kind.kind == "list":
        if not isinstance(value, list):
            return [f"{where}: {value!r:.60} is not a list ({kind})"]
        assert kind.item is not None
        return [problem for index, item in enumerate(value)
                for problem in type_problems(api, kind.item, item, f"{where}[{index}]")]
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    fits = {"str": isinstance(value, str), "bool": isinstance(value, bool),
            "int": is_number and isinstance(value, int), "float": is_number,
            "any": True}[kind.kind]
    return [] if fits else [f"{where}: {value!r:.60} is not {kind}"]


def assert_fits(service: str, version: str, action: str, answer: dict[str, Any]) -> None:
    """``answer`` (a success) fits the SDK's response model of ``action``, and the SDK's
    model reads it."""
    api = sdk_of(service, version)
    model = api.response(action)
    assert model is not None, f"the SDK has no {action}Response"
    assert "Error" not in answer, answer
    problems = answer_problems(api, model, answer, action, envelope=True)
    assert not problems, "\n".join(problems)
    module = importlib.import_module(f"tencentcloud.{service}.v{version.replace('-', '')}"
                                     ".models")
    getattr(module, f"{action}Response")()._deserialize(answer)


# -- the tests ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def unfinished() -> Calls:
    """An emulator whose tokens stay unfinished."""
    return Calls()


@pytest.fixture(scope="module")
def finished() -> Calls:
    """An emulator whose tokens finish at once with a pass (``auto_complete: 0``)."""
    return Calls(sections={"auto_complete": 0})


def test_the_sdk_of_each_service_is_there_to_compare_with():
    """Which services this run compares (a missing SDK skips its service's cases)."""
    missing = [distribution(provider.service) for provider in TABLE.providers
               if all(SDKS[(provider.service, version)] is None
                      for version in provider.versions)]
    assert TARGETS
    if missing:
        pytest.skip(f"not installed, not compared: {', '.join(missing)}")


@pytest.mark.parametrize("service,version,action", TARGETS, ids=IDS)
def test_mockface_knows_every_request_parameter_of_the_sdk(service, version, action):
    declaration = TABLE.declaration(service, action)
    missing, _extra, _types = compare_params(declaration.params,
                                             sdk_of(service, version).request(action))
    assert missing == (), f"{service}:{action} does not accept the SDK's {list(missing)}"


@pytest.mark.parametrize("service,version,action", TARGETS, ids=IDS)
def test_each_declared_parameter_has_the_sdks_type(service, version, action):
    declaration = TABLE.declaration(service, action)
    _missing, _extra, mismatches = compare_params(declaration.params,
                                                  sdk_of(service, version).request(action))
    assert mismatches == {}, f"{service}:{action}: (declared, SDK) types differ: {mismatches}"


@pytest.mark.parametrize("service,version,action", TARGETS, ids=IDS)
@pytest.mark.parametrize("optional", [False, True], ids=["required", "optional"])
def test_a_finished_answer_has_only_the_sdks_fields_with_their_types(
        finished, service, version, action, optional):
    params = params_for(finished, service, version, action, optional)
    answer = finished(service, version, action, params)
    assert "Error" not in answer, f"{action}({sorted(params)}) was refused: {answer['Error']}"
    assert_fits(service, version, action, answer)


@pytest.mark.parametrize("service,version,action", TARGETS, ids=IDS)
@pytest.mark.parametrize("optional", [False, True], ids=["required", "optional"])
def test_an_answer_before_the_user_finishes_has_only_the_sdks_fields(
        unfinished, service, version, action, optional):
    """Unfinished tokens: a success fits the model; an error is the bare envelope."""
    answer = unfinished(service, version, action,
                        params_for(unfinished, service, version, action, optional))
    if "Error" in answer:
        assert set(answer) == {"Error", "RequestId"}
        assert set(answer["Error"]) == {"Code", "Message"}
        return
    assert_fits(service, version, action, answer)


SCRIPTED = [(service, version, action, result) for service, version, action in TARGETS
            for result in TABLE.valid_results(f"{service}:{action}")]


@pytest.mark.parametrize("service,version,action,result", SCRIPTED,
                         ids=[f"{service}-{version}-{action}-{result}"
                              for service, version, action, result in SCRIPTED])
def test_every_result_a_scenario_scripts_has_only_the_sdks_fields(
        finished, service, version, action, result):
    params = params_for(finished, service, version, action)
    finished.emulator.scenarios.activate(parse_scenario_text(
        f"rules:\n  - endpoint: {service}:{action}\n    respond: {{result: "
        f"{json.dumps(result)}}}\n"))
    try:
        answer = finished(service, version, action, params)
    finally:
        finished.emulator.scenarios.reset()
    assert answer.get("Result") == result, answer
    assert_fits(service, version, action, answer)


# -- the reader and the checker themselves -----------------------------------------------

FACEID = SDKS[("faceid", "2018-03-01")]


def test_the_reader_types_fields_as_the_sdk_documents_them():
    assert FACEID is not None
    detect = FACEID.response("GetDetectInfoEnhanced")
    assert detect is not None
    assert detect.fields["Text"] == FieldType("object", model="DetectInfoText",
                                              nullable=True)
    assert detect.fields["IsVerifyIntention"] == FieldType("bool")
    assert detect.fields["RequestId"] == FieldType("str")
    frames = FACEID.response("LivenessRecognition")
    assert frames is not None
    assert str(frames.fields["BestFrameList"]) == "list of str"
    assert frames.fields["Sim"].kind == "float"
    request = FACEID.request("DetectAuth")
    assert request is not None and request.fields["RuleId"] == FieldType("str")
    assert str(request.fields["IntentionQuestions"]) == "list of IntentionQuestion"
    assert "GetLiveCode" in FACEID.actions and "Liveness" not in FACEID.actions


@pytest.mark.parametrize("text,parsed", [
    ("str", FieldType("str")), ("int", FieldType("int")), ("float", FieldType("float")),
    ("bool", FieldType("bool")),
    ("list of int non-negative", FieldType("list", item=FieldType("int"))),
    ("list of DetectDetail", FieldType("list", item=FieldType("object",
                                                              model="DetectDetail"))),
    (":class:`tencentcloud.faceid.v20180301.models.Encryption`",
     FieldType("object", model="Encryption")),
    ("something else", FieldType("any"))])
def test_the_reader_parses_each_kind_of_type_text(text, parsed):
    assert parse_type(text) == parsed


def test_the_checker_finds_an_unknown_field_a_wrong_type_and_an_undocumented_null():
    assert FACEID is not None
    model = FACEID.response("GetDetectInfoEnhanced")
    assert model is not None
    answer = {"Text": {"ErrCode": "0", "Bogus": 1}, "IsVerifyIntention": None,
              "Extra": "", "DeprecatedWarning": "x", "RequestId": 7}
    assert answer_problems(FACEID, model, answer, "R", envelope=True) == [
        "R.Text.ErrCode: '0' is not int", "R.Text.Bogus: not a field of the SDK's "
        "DetectInfoText", "R.IsVerifyIntention: null, but the SDK's bool may not be",
        "R.Extra: not a field of the SDK's GetDetectInfoEnhancedResponse",
        "R.RequestId: 7 is not str"]
    assert answer_problems(FACEID, model, {"DeprecatedWarning": "x"}, "R") == [
        "R.DeprecatedWarning: not a field of the SDK's GetDetectInfoEnhancedResponse"]


def test_the_checker_accepts_an_integral_float_but_no_float_int_nor_bool_number():
    assert FACEID is not None
    sim = FieldType("float")
    assert type_problems(FACEID, sim, 80, "Sim") == []
    assert type_problems(FACEID, FieldType("int"), 1.5, "N") == ["N: 1.5 is not int"]
    assert type_problems(FACEID, sim, True, "Sim") == ["Sim: True is not float"]


def test_removed_actions_are_exactly_the_served_ones_the_sdk_lacks():
    """``removed`` rows name the served actions of each compared version the SDK has no
    method for; Liveness carries the evidence's reason."""
    rows = coverage(TABLE, "faceid")
    removed = {row.action for row in rows if row.status == "removed"}
    assert FACEID is not None
    assert removed == set(TABLE.versions["faceid"]["2018-03-01"]) - set(FACEID.actions)
    liveness = next(row for row in rows if row.action == "Liveness")
    assert "3.1.3" in liveness.reason and liveness.status == "removed"
    assert {row.action for row in rows if row.status == "not served"} == \
        set(FACEID.actions) - set(TABLE.versions["faceid"]["2018-03-01"])

