"""An integrator's tests written with mockface's pytest fixtures (no conftest needed).

`verify_person` stands for your own code: it calls Tencent's idcardcompare endpoint and
decides. Point it at `mockface.url` in tests and at the real host in production.
"""
import pytest
import requests


def verify_person(base_url, authorization, appid, id_number, name, image_url):
    """Your code under test: True when the photo matches the ID card well enough."""
    answer = requests.post(f"{base_url}/face/idcardcompare", timeout=10,
                           headers={"Authorization": authorization},
                           json={"appid": appid, "idcard_number": id_number,
                                 "idcard_name": name, "url": image_url}).json()
    if answer["code"] != 0:
        raise RuntimeError(f"verification failed: {answer['code']} {answer['message']}")
    return answer["data"]["similarity"] >= 75


ID_NUMBER, NAME = "11010519491231002X", "张三"
PHOTO = "https://example.com/face.jpg"


def test_same_person_passes(mockface):
    mockface.respond("idcardcompare", similarity=91.5)
    assert verify_person(mockface.url, mockface.sign(), mockface.appid, ID_NUMBER, NAME, PHOTO)
    mockface.assert_called("idcardcompare", times=1)


def test_different_person_is_refused(mockface):
    mockface.use("different-person")
    assert not verify_person(mockface.url, mockface.sign(), mockface.appid, ID_NUMBER, NAME,
                             PHOTO)


@pytest.mark.mockface(scenario="invalid-id")
def test_invalid_id_card_raises(mockface):
    with pytest.raises(RuntimeError, match="-5804"):
        verify_person(mockface.url, mockface.sign(), mockface.appid, ID_NUMBER, NAME, PHOTO)


def test_expired_signature_is_reported(mockface):
    mockface.clock.freeze()
    authorization = mockface.sign(expires_in=30)
    mockface.clock.advance(31)
    with pytest.raises(RuntimeError, match="9 sign expired"):
        verify_person(mockface.url, authorization, mockface.appid, ID_NUMBER, NAME, PHOTO)


def test_what_was_sent(mockface):
    verify_person(mockface.url, mockface.sign(), mockface.appid, ID_NUMBER, NAME, PHOTO)
    [sent] = mockface.requests("idcardcompare")
    assert sent["fields"]["idcard_name"] == NAME and sent["fields"]["url"] == PHOTO
