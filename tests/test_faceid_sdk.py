"""API 3.0 against Tencent's official Python SDK over real HTTP on loopback: the SDK's own
typed clients and CommonClient, with its three signature methods, talk to a real mockface
server and read its answers (successes, verification failures, errors, warnings) as they
read Tencent's."""
from __future__ import annotations

import base64
import json
import socket
import uuid

import pytest
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import faceid_client, models

from mockface.products.faceid.encryption import encrypt_fields
from mockface.core.config import App, Settings
from mockface.emulator import Emulator
from mockface.products.tc3 import envelope
from mockface.web.app import create_app
from mockface.web.server import start_background
from mockface.products.legacy.stores import LIP_CODES

from .support import ID_NAME, ID_NUMBER, media

APP = App("1300000001", {"AKIDsdktest0001": "sdk-test-key"})
SECRET_ID, SECRET_KEY = "AKIDsdktest0001", "sdk-test-key"
IMAGE = base64.b64encode(media("face.jpg")).decode()
VIDEO = base64.b64encode(media("video.mp4")).decode()


@pytest.fixture(scope="module")
def server():
    emulator = Emulator(Settings(apps=(APP,)))
    background = start_background(create_app(emulator=emulator))
    background.emulator = emulator
    yield background
    background.stop()


def profile(server, sign_method: str = "TC3-HMAC-SHA256", language: str = "zh-CN",
            method: str = "POST") -> ClientProfile:
    http = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}", reqMethod=method)
    return ClientProfile(httpProfile=http, signMethod=sign_method, language=language)


def typed(server, **options) -> faceid_client.FaceidClient:
    return faceid_client.FaceidClient(credential.Credential(SECRET_ID, SECRET_KEY), "",
                                      profile(server, **options))


def common(server, product: str = "faceid", version: str = "2018-03-01", key: str = SECRET_KEY,
           **options) -> CommonClient:
    return CommonClient(product, version, credential.Credential(SECRET_ID, key), "",
                        profile(server, **options))


def request(model, **params):
    instance = model()
    instance.from_json_string(json.dumps(params))
    return instance


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA1", "HmacSHA256"])
def test_each_signature_method_of_the_sdk_is_served(server, sign_method):
    answer = typed(server, sign_method=sign_method).GetLiveCode(models.GetLiveCodeRequest())
    assert len(answer.LiveCode) == 4 and answer.LiveCode.isdigit()
    assert uuid.UUID(answer.RequestId).version == 4
    assert answer.LiveCode in server.emulator.state.store(LIP_CODES).issued(APP.appid)


def test_a_lip_flow_end_to_end(server):
    client = typed(server)
    code = client.GetLiveCode(models.GetLiveCodeRequest()).LiveCode
    answer = client.LivenessRecognition(request(
        models.LivenessRecognitionRequest, IdCard=ID_NUMBER, Name=ID_NAME, LivenessType="LIP",
        ValidateData=code, VideoBase64=VIDEO, Optional=json.dumps({"BestFrameNum": 2})))
    assert (answer.Result, answer.Description) == ("Success", "成功")
    assert 80 <= answer.Sim < 100 and len(answer.BestFrameList) == 2
    assert base64.b64decode(answer.BestFrameBase64)[:2] == b"\xff\xd8"


def test_an_action_flow_and_its_failure(server):
    client = typed(server, sign_method="HmacSHA256")
    sequence = client.GetActionSequence(models.GetActionSequenceRequest()).ActionSequence
    ok = client.LivenessCompare(request(models.LivenessCompareRequest, LivenessType="ACTION",
                                        ValidateData=sequence, ImageBase64=IMAGE,
                                        VideoBase64=VIDEO))
    assert ok.Result == "Success"
    failed = client.LivenessCompare(request(models.LivenessCompareRequest,
                                            LivenessType="ACTION", ValidateData="7,7",
                                            ImageBase64=IMAGE, VideoBase64=VIDEO))
    assert (failed.Result, failed.Sim) == ("FailedOperation.ActionFirstAction", 0)


SIGN_METHODS = pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA256",
                                                     "HmacSHA1"])


@SIGN_METHODS
def test_the_sdks_get_is_answered_from_its_query_nested_parameters_too(server, sign_method):
    client = typed(server, sign_method=sign_method, method="GET")
    sent, _ = encrypt_fields({"IdCard": ID_NUMBER, "Name": ID_NAME}, ("IdCard",))
    verified = client.IdCardVerification(request(models.IdCardVerificationRequest, **sent))
    assert (verified.Result, verified.Description) == ("0", "姓名和身份证号一致")
    entry = server.emulator.journal.query(endpoint="faceid:IdCardVerification")[-1]
    assert (entry.code, entry.fields) == ("0", {"IdCard": ID_NUMBER, "Name": ID_NAME})
    assert entry.signature == {"status": "passed", "method": sign_method,
                               "secret_id": SECRET_ID}


@SIGN_METHODS
def test_the_sdks_get_carries_json_text_parameters(server, sign_method):
    client = typed(server, sign_method=sign_method, method="GET")
    answer = client.LivenessCompare(request(
        models.LivenessCompareRequest, LivenessType="SILENT", ImageUrl="https://x.invalid/a",
        VideoUrl="https://x.invalid/b", Optional=json.dumps({"BestFrameNum": 3})))
    assert (answer.Result, len(answer.BestFrameList)) == ("Success", 3)


@SIGN_METHODS
def test_the_sdks_get_reports_parameter_errors(server, sign_method):
    with pytest.raises(TencentCloudSDKException) as caught:
        typed(server, sign_method=sign_method, method="GET", language="en-US"
              ).IdCardVerification(request(models.IdCardVerificationRequest, IdCard=ID_NUMBER))
    assert (caught.value.get_code(), caught.value.get_message()) == (
        "MissingParameter", "The parameter `Name` is missing.")


def test_the_sdks_get_through_common_client_for_iai(server):
    client = common(server, "iai", "2020-03-03", method="GET")
    answer = client.call_json("DetectLiveFace", {"Image": IMAGE})["Response"]
    assert answer["IsLiveness"] is True and 87 <= answer["Score"] < 100


def test_image_recognition_v2_and_id_card_verification(server):
    client = typed(server)
    image = client.ImageRecognitionV2(request(models.ImageRecognitionV2Request, IdCard=ID_NUMBER,
                                              Name=ID_NAME, ImageBase64=IMAGE, Extra="order-7"))
    assert image.Result == "Success" and image.Extra == "order-7" and 80 <= image.Sim < 100
    verified = client.IdCardVerification(request(models.IdCardVerificationRequest,
                                                 IdCard=ID_NUMBER, Name="Zhang San"))
    assert (verified.Result, verified.Description) == ("-3", "非法姓名（长度、格式等不正确）")


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA256"])
def test_errors_reach_the_sdk_as_its_exception(server, sign_method):
    with pytest.raises(TencentCloudSDKException) as caught:
        common(server, key="not-the-key", sign_method=sign_method).call_json("GetLiveCode", {})
    assert caught.value.get_code() == "AuthFailure.SignatureFailure"
    assert caught.value.get_message() == "签名错误。"
    assert uuid.UUID(caught.value.get_request_id()).version == 4


def test_parameter_errors_name_the_parameter(server):
    with pytest.raises(TencentCloudSDKException) as caught:
        typed(server, language="en-US").IdCardVerification(
            request(models.IdCardVerificationRequest, IdCard=ID_NUMBER))
    assert (caught.value.get_code(), caught.value.get_message()) == (
        "MissingParameter", "The parameter `Name` is missing.")


def test_error_messages_follow_the_language(server):
    with pytest.raises(TencentCloudSDKException) as caught:
        common(server, key="x", language="en-US").call_json("GetLiveCode", {})
    assert caught.value.get_message() == "The signature does not match."


def test_removed_actions_through_common_client_warn(server):
    with pytest.warns(DeprecationWarning, match="Liveness is deprecated"):
        answer = common(server).call_json("Liveness", {"VideoBase64": VIDEO,
                                                       "LivenessType": "SILENT"})
    assert answer["Response"]["Result"] == "Success" and "Sim" not in answer["Response"]


@pytest.mark.parametrize("version,sign_method", [("2020-03-03", "TC3-HMAC-SHA256"),
                                                 ("2020-03-03", "HmacSHA1")])
def test_iai_photo_liveness(server, version, sign_method):
    client = common(server, "iai", version, sign_method=sign_method)
    answer = client.call_json("DetectLiveFace", {"Image": IMAGE})["Response"]
    assert answer["IsLiveness"] is True and 87 <= answer["Score"] < 100
    accurate = client.call_json("DetectLiveFaceAccurate", {"Image": IMAGE})["Response"]
    assert "IsLiveness" not in accurate and accurate["FaceModelVersion"] == "3.0"


def test_an_11_mb_body_is_refused_in_the_envelope_before_it_is_read(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 11534336\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert json.loads(body)["Response"]["Error"]["Code"] == "RequestSizeLimitExceeded"


def test_the_envelope_shapes():
    assert json.loads(envelope.success({"Sim": 0}, "r")) == \
        {"Response": {"Sim": 0, "RequestId": "r"}}
    assert json.loads(envelope.error("MissingParameter", "r", "en-US", "IdCard is missing")) \
        == {"Response": {"Error": {"Code": "MissingParameter",
                                   "Message": "IdCard is missing"}, "RequestId": "r"}}
    assert envelope.request_id(7, b"same") == envelope.request_id(7, b"same")
    assert envelope.request_id(7, b"same") != envelope.request_id(7, b"other")
    assert envelope.request_id() != envelope.request_id()
    assert (envelope.STATUS, envelope.CONTENT_TYPE) == (200, "application/json")
