"""An integrator's end-to-end test of the 慧眼 H5 flow, in a real browser: DetectAuth ->
the verification page -> your RedirectUrl -> GetDetectInfoEnhanced.

`create_app` stands for your own web app (a few lines of Flask): `/start` asks Tencent's
official SDK for a BizToken and sends the browser to the verification page, which sends it
back to `/callback?BizToken=...`, where the app reads the result.  In the test mockface is
the SDK's HTTPS proxy (the `mockface_proxy` fixture: the SDK keeps its real endpoint
faceid.tencentcloudapi.com) and serves the page, on which Playwright clicks what the person
would.  Needs `tencentcloud-sdk-python-faceid` and `playwright` with a Chromium (Debian's
`chromium`, or `playwright install chromium`).
"""
import json
import shutil
import threading
from pathlib import Path

import flask
import pytest
from werkzeug.serving import make_server

models = pytest.importorskip("tencentcloud.faceid.v20180301.models")
faceid_client = pytest.importorskip("tencentcloud.faceid.v20180301.faceid_client")
credential = pytest.importorskip("tencentcloud.common.credential")
profiles = pytest.importorskip("tencentcloud.common.profile.client_profile")
http_profiles = pytest.importorskip("tencentcloud.common.profile.http_profile")
sync_api = pytest.importorskip("playwright.sync_api")

RULE_ID = "1"  # mockface's built-in RuleId: the identity passed in, silent liveness
ID_NUMBER, NAME = "11010519491231002X", "张三"
#: No sandbox (as root in CI), and nothing that reaches out to Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def create_app(faceid):
    """Your web app; `faceid` is Tencent's FaceidClient."""
    app = flask.Flask(__name__)

    @app.get("/start")
    def start():
        request = models.DetectAuthRequest()
        request.RuleId, request.IdCard, request.Name = RULE_ID, ID_NUMBER, NAME
        request.RedirectUrl = flask.url_for("callback", _external=True)
        return flask.redirect(faceid.DetectAuth(request).Url)

    @app.get("/callback")
    def callback():
        request = models.GetDetectInfoEnhancedRequest()
        request.BizToken, request.RuleId = flask.request.args["BizToken"], RULE_ID
        text = faceid.GetDetectInfoEnhanced(request).Text
        return flask.jsonify(ErrCode=text.ErrCode, ErrMsg=text.ErrMsg, Sim=text.Sim)

    return app


@pytest.fixture
def app_url(mockface, mockface_proxy):
    """Your app on a free port, its SDK client built as in production: the real endpoint,
    reached through mockface as the proxy, trusting the CA bundle the fixture wrote."""
    http = http_profiles.HttpProfile(certification=mockface_proxy["REQUESTS_CA_BUNDLE"])
    faceid = faceid_client.FaceidClient(
        credential.Credential(mockface.credentials.secret_id, mockface.credentials.secret_key),
        "ap-guangzhou", profiles.ClientProfile(httpProfile=http))
    server = make_server("127.0.0.1", 0, create_app(faceid), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium: the system's if installed, else Playwright's own."""
    with sync_api.sync_playwright() as playwright:
        system = shutil.which("chromium") or shutil.which("chromium-browser")
        if system is None and not Path(playwright.chromium.executable_path).exists():
            pytest.skip("no Chromium: apt-get install chromium, or playwright install chromium")
        browser = playwright.chromium.launch(executable_path=system, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 375, "height": 667})  # a phone
    yield context.new_page()
    context.close()


def verify_in_the_browser(page, app_url, outcome):
    """Open your app, follow it to the verification page, click the button `outcome`, and
    return what your /callback answered."""
    page.goto(f"{app_url}/start")
    assert "/h5/detect/" in page.url  # your app sent the browser to the verification page
    page.get_by_role("button", name=outcome).click()
    page.wait_for_url(f"{app_url}/callback?BizToken=*")
    return json.loads(page.locator("body").inner_text())


def test_the_person_passes(mockface, app_url, page):
    result = verify_in_the_browser(page, app_url, "Pass")
    assert result["ErrCode"] == 0 and 80 <= float(result["Sim"]) < 100
    [token] = mockface.verifications(state="finished")
    assert page.url == f"{app_url}/callback?BizToken={token['token']}"


def test_not_the_same_person(mockface, app_url, page):
    result = verify_in_the_browser(page, app_url, "Not the same person")
    assert result["ErrCode"] == 2016
    assert result["ErrMsg"] == "无法判断为同一人（相似度未达到通过阈值）"
