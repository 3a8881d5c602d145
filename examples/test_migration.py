"""One verification flow written twice against the same mockface: on the legacy endpoints
and on their API 3.0 successor (Tencent's official SDK), with the same fixture, credentials
and scenarios.  Needs `requests` and `tencentcloud-sdk-python-faceid`.

Each `check_*` function stands for your code: lip-reading liveness plus an ID comparison,
True when the person passes.
"""
import base64
import json

import pytest
import requests
from tencentcloud.faceid.v20180301 import models

from mockface.samples import VIDEO

ID_NUMBER, NAME = "11010519491231002X", "张三"


def check_legacy(mockface, id_number, name):
    """livegetfour, then idcardlivedetectfour with the video."""
    auth = {"Authorization": mockface.sign()}
    code = requests.post(f"{mockface.url}/face/livegetfour", json={"appid": mockface.appid},
                         headers=auth, timeout=10).json()["data"]["validate_data"]
    with open(VIDEO, "rb") as video:
        data = requests.post(f"{mockface.url}/face/idcardlivedetectfour", headers=auth,
                             data={"appid": mockface.appid, "validate_data": code,
                                   "idcard_number": id_number, "idcard_name": name},
                             files={"video": video}, timeout=10).json()["data"]
    return data["live_status"] == 0 and data["compare_status"] == 0


def check_api3(mockface, id_number, name):
    """GetLiveCode, then LivenessRecognition with the video in base64."""
    client = mockface.faceid_client()
    code = client.GetLiveCode(models.GetLiveCodeRequest()).LiveCode
    with open(VIDEO, "rb") as video:
        video_base64 = base64.b64encode(video.read()).decode()
    request = models.LivenessRecognitionRequest()
    request.from_json_string(json.dumps({"IdCard": id_number, "Name": name,
                                         "LivenessType": "LIP", "ValidateData": code,
                                         "VideoBase64": video_base64}))
    return client.LivenessRecognition(request).Result == "Success"


BOTH = pytest.mark.parametrize("check", [check_legacy, check_api3])


@BOTH
def test_a_genuine_person_passes(mockface, check):
    assert check(mockface, ID_NUMBER, NAME)


@BOTH
def test_wrong_digits_fail_on_either_api(mockface, check):
    mockface.use("wrong-digits")          # one library name scripts both APIs
    assert not check(mockface, ID_NUMBER, NAME)


@BOTH
def test_one_identity_scripted_on_both_apis(mockface, check):
    mockface.use({"rules": [
        {"endpoint": "idcardlivedetectfour", "match": {"idcard_number": ID_NUMBER},
         "respond": {"code": -5803}},
        {"endpoint": "faceid:LivenessRecognition", "match": {"IdCard": ID_NUMBER},
         "respond": {"result": "FailedOperation.IdNameMisMatch"}},
    ]})
    assert not check(mockface, ID_NUMBER, NAME)
    assert check(mockface, "110105199003071239", NAME)   # anyone else still passes
