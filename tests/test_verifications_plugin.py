"""The pytest handle's verification helpers (issue 22 item 4) without pytester:
``mockface.complete``, ``mockface.verifications`` and ``mockface.auto_complete`` on the
handle of ``mockface.testing`` -- in-process, and attached to a shared server in a
namespace of its own -- with tokens issued by Tencent's official SDK."""
from __future__ import annotations

import json

import pytest

from mockface.client import AdminCallError
from mockface.testing import Mockface, MockfaceServer

from .support import ID_NAME, ID_NUMBER

models = pytest.importorskip("tencentcloud.faceid.v20180301.models")


@pytest.fixture(scope="module")
def server():
    with MockfaceServer.start() as started:
        yield started


@pytest.fixture
def mockface(server):
    with Mockface(server) as handle:
        yield handle


def detect_auth(handle: Mockface, **params) -> str:
    """A BizToken from DetectAuth (RuleId "1", the identity passed in)."""
    request = models.DetectAuthRequest()
    request.from_json_string(json.dumps(
        {"RuleId": "1", "IdCard": ID_NUMBER, "Name": ID_NAME, **params}))
    return handle.faceid_client().DetectAuth(request).BizToken


def face_id_token(handle: Mockface) -> str:
    request = models.GetFaceIdTokenRequest()
    request.from_json_string(json.dumps(
        {"CompareLib": "BUSINESS", "IdCard": ID_NUMBER, "Name": ID_NAME}))
    return handle.faceid_client().GetFaceIdToken(request).FaceIdToken


def eid_token(handle: Mockface) -> str:
    request = models.GetEidTokenRequest()
    request.from_json_string(json.dumps({"MerchantId": "0NSJ2106111700001"}))
    return handle.faceid_client().GetEidToken(request).EidToken


def detect_info(handle: Mockface, token: str) -> dict:
    """``Text`` of GetDetectInfoEnhanced for ``token`` (RuleId "1")."""
    request = models.GetDetectInfoEnhancedRequest()
    request.from_json_string(json.dumps({"BizToken": token, "RuleId": "1"}))
    answer = handle.faceid_client().GetDetectInfoEnhanced(request)
    return json.loads(answer.to_json_string())["Text"]


def test_complete_finishes_a_token_that_the_server_then_reads(mockface):
    token = detect_auth(mockface)
    assert detect_info(mockface, token)["ErrCode"] is None  # not finished yet
    record = mockface.complete(token)
    assert (record["token"], record["state"], record["outcome"]["err_code"]) == \
        (token, "finished", 0)
    text = detect_info(mockface, token)
    assert (text["ErrCode"], text["ErrMsg"], text["Sim"]) == (0, "成功", record["outcome"]["sim"])


def test_complete_takes_a_code_attempts_and_a_sim(mockface):
    failed = mockface.complete(detect_auth(mockface), err_code=2016, sim="42.00")
    assert (failed["outcome"]["err_code"], failed["outcome"]["sim"]) == (2016, "42.00")
    retried = mockface.complete(detect_auth(mockface),
                                attempts=[{"err_code": 1004}, {"err_code": 0}])
    assert [a["err_code"] for a in retried["outcome"]["attempts"]] == [1004, 0]
    text = detect_info(mockface, retried["token"])
    assert text["ErrCode"] == 0 and len(text["LivenessDetail"]) == 2


def test_complete_says_why_it_is_refused(mockface):
    token = detect_auth(mockface)
    mockface.complete(token)
    with pytest.raises(AdminCallError, match="is finished already") as finished:
        mockface.complete(token, err_code=2016)
    with pytest.raises(AdminCallError, match="unknown verification token") as unknown:
        mockface.complete("CE661F1A-0F1E-45BD-BE13-34C05CEA7681")
    with pytest.raises(AdminCallError, match="9999 is not a code") as invalid:
        mockface.complete(detect_auth(mockface), err_code=9999)
    assert (finished.value.status, unknown.value.status, invalid.value.status) == \
        (409, 404, 400)
    assert detect_info(mockface, token)["ErrCode"] == 0


def test_verifications_lists_the_tokens_last_first_with_filters(mockface):
    detect, app, eid = detect_auth(mockface), face_id_token(mockface), eid_token(mockface)
    mockface.complete(app)
    listed = mockface.verifications()
    assert [record["token"] for record in listed] == [eid, app, detect]
    assert [record["flow"] for record in listed] == ["eid", "app", "detect"]
    assert [r["token"] for r in mockface.verifications(state="finished")] == [app]
    assert [r["token"] for r in mockface.verifications(flow="detect")] == [detect]
    assert mockface.verifications(appid=mockface.appid, flow="eid")[0]["token"] == eid


def test_auto_complete_finishes_every_new_token_until_turned_off(mockface):
    mockface.auto_complete()
    finished = [detect_auth(mockface), face_id_token(mockface), eid_token(mockface)]
    assert [r["state"] for r in mockface.verifications()] == ["finished"] * 3
    assert detect_info(mockface, finished[0])["ErrCode"] == 0
    mockface.auto_complete(err_code=2016)  # replaces the first
    assert detect_info(mockface, detect_auth(mockface))["ErrCode"] == 2016
    mockface.auto_complete(None)
    token = detect_auth(mockface)
    assert mockface.verifications()[0] == {**mockface.verifications()[0], "token": token,
                                           "state": "issued", "outcome": None}


def test_auto_complete_is_gone_after_a_reset(mockface):
    mockface.auto_complete(2006)
    assert detect_info(mockface, detect_auth(mockface))["ErrCode"] == 2006
    mockface.reset()
    assert mockface.verifications() == []
    assert mockface.verifications(state="finished") == []
    detect_auth(mockface)
    assert mockface.verifications()[0]["state"] == "issued"


def test_other_rules_win_over_auto_complete(mockface):
    mockface.respond("faceid:DetectAuth", outcome={"err_code": 2006}, times=1)
    mockface.auto_complete(0)
    assert detect_info(mockface, detect_auth(mockface))["ErrCode"] == 2006
    assert detect_info(mockface, detect_auth(mockface))["ErrCode"] == 0


def test_auto_complete_takes_only_codes_of_every_flow(mockface):
    with pytest.raises(ValueError, match="err_code 1002 is not a code of every flow's table"):
        mockface.auto_complete(1002)  # 疑似非真人录制 is not in the app flow's table
    with pytest.raises(ValueError, match="err_code must be an integer ErrCode"):
        mockface.auto_complete("0")
    assert mockface.admin.scenarios()["active"] == []


def test_attached_namespaces_keep_their_tokens_and_auto_complete_apart(server):
    with MockfaceServer.attach(server.url, worker="one") as first, \
            MockfaceServer.attach(server.url, worker="two") as second:
        with Mockface(first) as one, Mockface(second) as two:
            one.auto_complete(2016)
            mine, theirs = detect_auth(one), detect_auth(two)
            assert [r["token"] for r in one.verifications()] == [mine]
            assert [r["token"] for r in two.verifications()] == [theirs]
            assert (one.verifications()[0]["state"], two.verifications()[0]["state"]) == \
                ("finished", "issued")
            assert one.verifications()[0]["appid"] == first.namespace
            two.complete(theirs, err_code=2006)
            assert detect_info(two, theirs)["ErrCode"] == 2006
            two.reset()  # its own namespace only
            assert one.verifications()[0]["token"] == mine
