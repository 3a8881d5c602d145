"""The ready-made library on API 3.0: each name that scripts the legacy endpoints scripts the
matching API 3.0 actions too (one name for code on either API, or migrating), and the two
on-demand files answer every Result they list.  Real HTTP, TC3-signed requests."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
import requests

from mockface.products import REGISTRY
from mockface.products.tc3.signature import sign_tc3
from mockface.scenarios import load_scenario

from .support import ID_NAME, ID_NUMBER, MAIN, media

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"
SECRET_ID, SECRET_KEY = next(iter(MAIN.secrets.items()))
CATALOGUE = REGISTRY["tc3"].catalogue
results_for = REGISTRY["tc3"].results_for
IMAGE = base64.b64encode(media("face.jpg")).decode()
VIDEO = base64.b64encode(media("video.mp4")).decode()
URLS = {"ImageUrl": "https://x.invalid/a.jpg", "VideoUrl": "https://x.invalid/a.mp4"}
PARAMS = {
    "faceid:GetLiveCode": {},
    "faceid:IdCardVerification": {"IdCard": ID_NUMBER, "Name": ID_NAME},
    "faceid:ImageRecognition": {"IdCard": ID_NUMBER, "Name": ID_NAME, "ImageBase64": IMAGE},
    "faceid:ImageRecognitionV2": {"IdCard": ID_NUMBER, "Name": ID_NAME, "ImageBase64": IMAGE},
    "faceid:LivenessRecognition": {"IdCard": ID_NUMBER, "Name": ID_NAME,
                                   "LivenessType": "SILENT", "VideoBase64": VIDEO},
    "faceid:LivenessCompare": {"LivenessType": "SILENT", **URLS},
    "faceid:Liveness": {"LivenessType": "SILENT", "VideoBase64": VIDEO},
    "iai:DetectLiveFace": {"Image": IMAGE},
    "iai:DetectLiveFaceAccurate": {"Image": IMAGE},
}


def call(server, target: str, params: dict | None = None) -> tuple[int, dict]:
    product, action = target.split(":")
    body = json.dumps(PARAMS[target] if params is None else params).encode()
    headers = sign_tc3(SECRET_ID, SECRET_KEY, service=product, host="localhost", action=action,
                       timestamp=int(time.time()), body=body,
                       version="2020-03-03" if product == "iai" else "2018-03-01")
    response = requests.post(f"{server.url}/", data=body, headers=headers, timeout=10)
    return response.status_code, response.json()["Response"] \
        if response.headers["Content-Type"] == "application/json" else {}


def result(name: str) -> dict:
    return {"Result": name, "Description": CATALOGUE[name].zh}


COMPARES = ("faceid:ImageRecognition", "faceid:ImageRecognitionV2",
            "faceid:LivenessRecognition", "faceid:LivenessCompare")
VIDEOS = ("faceid:LivenessRecognition", "faceid:LivenessCompare", "faceid:Liveness")
IDENTITY = ("faceid:ImageRecognition", "faceid:ImageRecognitionV2", "faceid:LivenessRecognition")
ALL = tuple(PARAMS)
ERROR = lambda code: {"Error": {"Code": code, "Message": CATALOGUE[code].zh}}  # noqa: E731

EXPECTED: dict[str, dict[str, dict]] = {
    "arrears": {target: ERROR("UnauthorizedOperation.Arrears") for target in ALL},
    "expired-signature": {target: ERROR("AuthFailure.SignatureExpire") for target in ALL},
    "rate-limited": {target: ERROR("RequestLimitExceeded") for target in ALL},
    "service-not-enabled": {target: ERROR("UnauthorizedOperation.Nonactivated")
                            for target in ALL},
    "different-person": {target: {**result("FailedOperation.CompareLowSimilarity"), "Sim": 23}
                         for target in COMPARES},
    "happy-path": {**{target: {"Result": "Success", "Sim": 90} for target in COMPARES},
                   "faceid:Liveness": {"Result": "Success"},
                   "faceid:GetLiveCode": {"LiveCode": "1234"},
                   "faceid:IdCardVerification": {"Result": "0"},
                   "iai:DetectLiveFace": {"Score": 95, "IsLiveness": True},
                   "iai:DetectLiveFaceAccurate": {"Score": 95}},
    "identity-mismatch": {**{target: result("FailedOperation.IdNameMisMatch")
                             for target in IDENTITY},
                          "faceid:IdCardVerification": {"Result": "-1"}},
    "invalid-id": {**{target: result("FailedOperation.IdFormatError") for target in IDENTITY},
                   "faceid:IdCardVerification": {"Result": "-2"}},
    "mouth-not-moving": {t: result("FailedOperation.LipMoveSmall") for t in VIDEOS},
    "no-face-in-video": {t: result("FailedOperation.SilentFaceDetectFail") for t in VIDEOS},
    "silent-video": {t: result("FailedOperation.LipVoiceDetect") for t in VIDEOS},
    "wrong-digits": {t: result("FailedOperation.LipVoiceRecognize") for t in VIDEOS},
    "not-live": {**{t: result("FailedOperation.LivessDetectFake") for t in VIDEOS},
                 "iai:DetectLiveFace": {"Score": 0, "IsLiveness": False},
                 "iai:DetectLiveFaceAccurate": {"Score": 0}},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_library_names_script_api3_too(scripted, name):
    server, engine = scripted
    engine.activate(name)
    for target in PARAMS:
        status, answer = call(server, target)
        wanted = EXPECTED[name].get(target)
        assert status == 200
        if wanted is None:
            assert "Error" not in answer and answer.get("Result") in (None, "Success", "0"), \
                (target, answer)
        else:
            assert {key: answer.get(key) for key in wanted} == wanted, (target, answer)


def test_flaky_network_fails_api3_once_then_answers(scripted):
    server, engine = scripted
    engine.activate("flaky-network")
    assert call(server, "faceid:GetLiveCode") == (503, {})
    status, answer = call(server, "faceid:GetLiveCode")
    assert status == 200 and len(answer["LiveCode"]) == 4


def test_slow_service_delays_api3(scripted):
    server, engine = scripted
    engine.activate("slow-service")
    started = time.monotonic()
    status, answer = call(server, "faceid:GetLiveCode")
    assert 0.8 <= time.monotonic() - started < 5 and "LiveCode" in answer


def test_image_errors_answer_every_result_on_demand(scripted):
    server, engine = scripted
    engine.activate("faceid-image-errors")
    names = results_for("faceid:ImageRecognitionV2")
    assert {rule.conditions[0].equals[0] for rule in
            load_scenario(LIBRARY / "faceid-image-errors.yaml").rules} == set(names)
    for name in names:
        answer = call(server, "faceid:ImageRecognitionV2",
                      {**PARAMS["faceid:ImageRecognitionV2"], "Extra": name})[1]
        assert {**result(name), "Sim": 0, "Extra": name} == \
            {key: answer[key] for key in ("Result", "Description", "Sim", "Extra")}


def test_liveness_errors_answer_every_result_on_demand(scripted):
    server, engine = scripted
    engine.activate("faceid-liveness-errors")
    names = [n for n in results_for("faceid:LivenessRecognition")
             if n in results_for("faceid:Liveness")]
    assert len(load_scenario(LIBRARY / "faceid-liveness-errors.yaml").rules) == len(names)
    for name in names:
        for target in ("faceid:LivenessRecognition", "faceid:LivenessCompare"):
            params = {**PARAMS[target], "VideoUrl": f"mockface:{name}"}
            params.pop("VideoBase64", None)
            answer = call(server, target, params)[1]
            assert answer["Result"] == name, (target, answer)
    assert call(server, "faceid:LivenessCompare")[1]["Result"] == "Success"


def test_every_library_file_with_api3_rules_is_covered():
    with_api3 = {path.stem for path in LIBRARY.glob("*.yaml")
                 if any(":" in target for rule in load_scenario(path).rules
                        for target in rule.endpoints)}
    covered = set(EXPECTED) | {"flaky-network", "slow-service", "faceid-image-errors",
                               "faceid-liveness-errors",
                               "phone-mismatch", "phone-out-of-service", "bank-card-lost",
                               "minor"}  # test_elements_*
    assert with_api3 == covered
