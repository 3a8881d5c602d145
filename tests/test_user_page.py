"""The user page of the verification tokens (issue 22 item 3, contract-faceid-flows §2) over
the Flask test client and a real server: each state of the page, the POST and its exact
303 Location, curl-style posts, the cross-site refusals, the escaping of what clients
supplied, the headers, and the journal entries.  Frozen clock (advanced, never slept)."""
from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import pytest
import requests

from mockface.core.clock import Clock
from mockface.emulator import Emulator
from mockface.products.faceid.flows import flows_of, generated_identity
from mockface.web.app import create_app
from mockface.web.server import start_background

from .support import ID_NAME, ID_NUMBER, MAIN, NOW, REGISTERED_NUMBER, make_settings

IDENTITY = {"IdCard": ID_NUMBER, "Name": ID_NAME}
REDIRECT = "https://shop.example/callback"
POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
          "form-action 'self' http: https:; frame-ancestors 'none'")
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_EXTRA = "</script><script>alert(2)</script><b onmouseover=alert(3)>x</b>"


@pytest.fixture
def flows(emulator):
    return flows_of(emulator)


def issue(flows, flow: str = "detect", **data) -> str:
    """A token of ``flow`` issued by the engine, as the issuing actions do."""
    values = {"detect": {"rule_id": "1", "identity": IDENTITY, "extra": "order 42",
                         "redirect_url": REDIRECT},
              "eid": {"merchant_id": "0NSJ2106111700001", "identity": None,
                      "redirect_url": REDIRECT, "ocr": True},
              "app": {"identity": IDENTITY, "extra": "app 7"}}[flow]
    return flows.issue(flow, MAIN.appid, {**values, **data}).token


class Forms(HTMLParser):
    """The forms of a page: for each, its method, the submit buttons (name, value) and
    the options of its selects, its other inputs (name -> value)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"method": values.get("method"), "action": values.get("action"),
                               "buttons": [], "selects": {}, "inputs": {}})
        elif not self.forms:
            return
        elif tag == "button":
            self.forms[-1]["buttons"].append((values.get("name"), values.get("value")))
        elif tag == "select":
            self._select = values["name"]
            self.forms[-1]["selects"][self._select] = []
        elif tag == "option" and self._select:
            self.forms[-1]["selects"][self._select].append(int(values["value"]))
        elif tag == "input":
            self.forms[-1]["inputs"][values["name"]] = values.get("value")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def page(client, flow: str, token: str):
    response = client.get(f"/h5/{flow}/{token}")
    return response.status_code, response.get_data(as_text=True)


def post(client, flow: str, token: str, **fields):
    headers = {key.replace("_", "-"): fields.pop(key)
               for key in ("Origin", "Sec_Fetch_Site") if key in fields}
    return client.post(f"/h5/{flow}/{token}", data=fields, headers=headers)


# -- GET ------------------------------------------------------------------------------------

def test_the_first_get_opens_the_token_and_shows_it(client, flows):
    token = issue(flows)
    status, text = page(client, "detect", token)
    assert status == 200
    record = flows.get(token)
    assert record.state == "opened" and record.opened_at == NOW
    for shown in ("Face verification (慧眼 H5 / mini program, DetectAuth)",
                  "<dt>RuleId</dt><dd><code>1</code></dd>",
                  f"张* · <code>{ID_NUMBER[:4]}{'*' * 10}{ID_NUMBER[-4:]}</code>",
                  "<dt>Extra</dt><dd>order 42</dd>", "<span class=big>2:00:00</span>",
                  f"back to <code>{REDIRECT}</code>", token,
                  '<meta name=viewport content="width=device-width, initial-scale=1">'):
        assert shown in text
    assert ID_NUMBER not in text and ID_NAME not in text
    assert "<script" not in text


def test_the_outcomes_are_forms_posting_err_code(client, flows):
    token = issue(flows)
    _, text = page(client, "detect", token)
    forms = Forms(text).forms
    assert all(form["method"] == "post" and form["action"] is None for form in forms)
    main, liveness, any_code, close = forms
    assert main["buttons"] == [("err_code", "0"), ("err_code", "2016"), ("err_code", "2006"),
                               ("err_code", "303")]
    table = flows.err_codes("detect")
    assert liveness["selects"] == {"err_code": [code for code in table if 1000 <= code < 2000]}
    assert any_code["selects"] == {"err_code": [code for code in table if code != 0]}
    assert close["buttons"] == [("close", "1")]
    for words in ("Pass", "Not the same person", "Name / ID mismatch", "ID card unreadable",
                  "Liveness failed", "Close the page"):
        assert words in text


def test_an_app_page_offers_only_codes_of_the_app_table(client, flows):
    token = issue(flows, "app")
    status, text = page(client, "app", token)
    assert status == 200
    main, liveness, any_code, _ = Forms(text).forms
    assert main["buttons"] == [("err_code", "0"), ("err_code", "2016"), ("err_code", "2006")]
    assert liveness["selects"]["err_code"] == [1001, 1003, 1004, 1005, 1007, 1202]
    assert 303 not in any_code["selects"]["err_code"]
    assert "App SDK (HuiYan, GetFaceIdToken)" in text
    assert "ID card unreadable" not in text


def test_the_headers_allow_no_script_no_framing_no_caching(client, flows):
    response = client.get(f"/h5/detect/{issue(flows)}")
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers.getlist("Content-Security-Policy") == [POLICY]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_every_answer_of_the_page_carries_the_headers(client, flows):
    response = client.get(f"/h5/detect/{issue(flows, redirect_url=None)}")
    for other in (response, client.get("/h5/detect/unknown"),
                  client.post(f"/h5/detect/{issue(flows)}", data={"err_code": "0"}),
                  client.post(f"/h5/detect/{issue(flows)}", data={"err_code": "0"},
                              headers={"Origin": "https://evil.example"})):
        assert other.headers.getlist("Content-Security-Policy") == [POLICY]
        assert other.headers["Cache-Control"] == "no-store"
        assert other.headers["X-Frame-Options"] == "DENY"
        assert other.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "a page showing the outcome (no RedirectUrl)" in response.get_data(as_text=True)


def test_a_second_get_shows_the_page_again_and_time_runs_down(client, flows, clock):
    token = issue(flows)
    page(client, "detect", token)
    clock.advance(3601.5)
    status, text = page(client, "detect", token)
    assert status == 200 and "<span class=big>59:59</span>" in text
    assert flows.get(token).opened_at == NOW


def test_an_eid_page_works_once_then_shows_used(client, flows):
    token = issue(flows, "eid")
    status, text = page(client, "eid", token)
    assert status == 200 and "<dt>MerchantId</dt><dd><code>0NSJ2106111700001</code>" in text
    assert "10:00" in text
    status, text = page(client, "eid", token)
    assert status == 200 and "This E证通 link was used" in text
    assert "err_code" not in text
    assert post(client, "eid", token, err_code="0").status_code == 303


def test_an_expired_token_shows_errcode_15(client, flows, clock):
    token = issue(flows)
    clock.advance(7200)
    status, text = page(client, "detect", token)
    assert status == 200 and "ErrCode 15 Token过期，请重试" in text
    assert "err_code" not in text
    assert flows.get(token).state == "issued"  # an expired token is not opened


def test_a_finished_token_shows_errcode_14_and_its_outcome(client, flows):
    token = issue(flows)
    flows.complete(token, {"err_code": 2016})
    status, text = page(client, "detect", token)
    assert status == 200
    assert "ErrCode 14 本次校验已完成" in text and "ErrCode 2016" in text
    assert "err_code" not in text


@pytest.mark.parametrize("path", [
    "/h5/detect/CE661F1A-0F1E-45BD-BE13-34C05CEA7681",
    "/h5/detect/" + "A" * 500,
    "/h5/other/TOKEN",
    "/h5/detect/a/b",
])
def test_an_unknown_token_is_a_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "No such verification token" in response.get_data(as_text=True)
    assert client.post(path, data={"err_code": "0"}).status_code == 404


def test_a_token_is_not_shown_on_another_flows_page(client, flows):
    token = issue(flows)
    assert page(client, "eid", token)[0] == 404
    assert post(client, "app", token, err_code="0").status_code == 404
    assert flows.get(token).state == "issued"


def test_a_head_request_does_not_open_the_token(client, flows):
    token = issue(flows)
    assert client.head(f"/h5/detect/{token}").status_code == 200
    assert flows.get(token).state == "issued"


# -- POST -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("https://shop.example/callback", "https://shop.example/callback?BizToken={}"),
    ("https://shop.example/callback?order=42", "https://shop.example/callback?order=42&BizToken={}"),
    ("https://shop.example/cb?", "https://shop.example/cb?BizToken={}"),
    ("https://shop.example/cb?a=1&", "https://shop.example/cb?a=1&BizToken={}"),
    ("https://shop.example/cb#/done", "https://shop.example/cb?BizToken={}#/done"),
    ("https://shop.example/cb?a=b#x?y", "https://shop.example/cb?a=b&BizToken={}#x?y"),
    ("http://127.0.0.1:8000/回调", "http://127.0.0.1:8000/%E5%9B%9E%E8%B0%83?BizToken={}"),
    ("https://shop.example/a b?q=x y", "https://shop.example/a%20b?q=x%20y&BizToken={}"),
])
def test_a_post_redirects_with_the_biztoken_appended(client, flows, url, expected):
    token = issue(flows, redirect_url=url)
    response = post(client, "detect", token, err_code="0")
    assert response.status_code == 303
    assert response.headers["Location"] == expected.format(token)
    record = flows.get(token)
    assert record.state == "finished" and record.outcome["err_code"] == 0


def test_an_eid_post_redirects_with_token_appended(client, flows):
    token = issue(flows, "eid", redirect_url="https://shop.example/eid?step=2#top")
    response = post(client, "eid", token, err_code="2016")
    assert response.status_code == 303
    assert response.headers["Location"] == f"https://shop.example/eid?step=2&token={token}#top"
    assert flows.get(token).outcome["err_code"] == 2016


def test_a_redirect_url_with_a_control_character_is_not_followed(client, flows):
    token = issue(flows, redirect_url="https://shop.example/cb\r\nSet-Cookie: a=b")
    response = post(client, "detect", token, err_code="0")
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Set-Cookie" not in response.headers


def test_without_a_redirect_url_the_post_shows_the_outcome(client, flows):
    token = issue(flows, redirect_url=None)
    response = post(client, "detect", token, err_code="2006")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Verification finished: ErrCode 2006 姓名和身份证号不匹配" in text
    assert "GetDetectInfoEnhanced" in text and "Location" not in response.headers


def test_an_app_token_shows_the_outcome_and_redirects_nowhere(client, flows):
    token = issue(flows, "app", redirect_url="https://shop.example/x")
    response = post(client, "app", token, err_code="0")
    assert response.status_code == 200 and "Location" not in response.headers
    record = flows.get(token)
    text = response.get_data(as_text=True)
    assert "ErrCode 0 成功" in text and f"<dd>{record.outcome['sim']}</dd>" in text
    assert "GetFaceIdResult" in text


def test_a_pass_for_a_mismatched_identity_finishes_with_2006(client, flows):
    token = issue(flows, identity={"IdCard": REGISTERED_NUMBER, "Name": "王五"})
    post(client, "detect", token, err_code="0")
    assert flows.get(token).outcome["err_code"] == 2006


def test_a_second_post_is_refused_with_errcode_14(client, flows):
    token = issue(flows)
    assert post(client, "detect", token, err_code="0").status_code == 303
    response = post(client, "detect", token, err_code="2016")
    assert response.status_code == 409
    assert "ErrCode 14 本次校验已完成" in response.get_data(as_text=True)
    assert flows.get(token).outcome["err_code"] == 0


def test_a_post_after_the_window_is_refused_with_errcode_15(client, flows, clock):
    token = issue(flows)
    page(client, "detect", token)
    clock.advance(7200)
    response = post(client, "detect", token, err_code="0")
    assert response.status_code == 409
    assert "ErrCode 15 Token过期，请重试" in response.get_data(as_text=True)
    assert flows.get(token).state_at(clock.now()) == "expired"


@pytest.mark.parametrize("fields, problem", [
    ({}, "err_code: missing"),
    ({"err_code": ""}, "err_code: missing"),
    ({"err_code": "99"}, "err_code: 99 is not a code of the detect flow&#39;s table"),
    ({"err_code": "pass"}, "err_code: must be an integer ErrCode, not &#39;pass&#39;"),
    ({"err_code": "0", "IdCard": ID_NUMBER, "Name": ID_NAME},
     "identity: only a token whose identity is read from the ID card"),
])
def test_an_invalid_post_is_a_400_page_naming_the_problem(client, flows, fields, problem):
    token = issue(flows)
    response = post(client, "detect", token, **fields)
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    assert flows.get(token).state == "issued"


def test_303_is_not_a_code_of_the_app_flow(client, flows):
    token = issue(flows, "app")
    response = post(client, "app", token, err_code="303")
    assert response.status_code == 400
    assert "303 is not a code of the app flow&#39;s table" in response.get_data(as_text=True)


def test_close_leaves_without_an_outcome(client, flows):
    token = issue(flows)
    page(client, "detect", token)
    response = post(client, "detect", token, close="1")
    assert response.status_code == 200 and "Location" not in response.headers
    assert "You left the page without an outcome." in response.get_data(as_text=True)
    assert flows.get(token).state == "opened"


# -- OCR rules ------------------------------------------------------------------------------

def test_an_ocr_page_prefills_the_generated_identity_and_posts_it(client, flows, emulator):
    token = issue(flows, rule_id="2", identity=None, ocr=True, redirect_url=None)
    generated = generated_identity(emulator.settings.seed, token)
    _, text = page(client, "detect", token)
    main, liveness, *_ = Forms(text).forms
    assert main["inputs"] == {"Name": generated["Name"], "IdCard": generated["IdCard"]}
    assert liveness["inputs"] == main["inputs"]  # the lists post it as hidden fields
    assert "read from the ID card" in text
    chosen = {"IdCard": REGISTERED_NUMBER, "Name": "李四"}
    assert post(client, "detect", token, err_code="0", **chosen).status_code == 200
    outcome = flows.get(token).outcome
    assert outcome["identity"] == chosen and outcome["identity_from"] == "ocr"


def test_an_ocr_post_with_an_invalid_identity_is_refused(client, flows):
    token = issue(flows, rule_id="2", identity=None, ocr=True)
    response = post(client, "detect", token, err_code="0", IdCard="123", Name="张三")
    assert response.status_code == 400
    assert "identity.IdCard: &#39;123&#39; is not a valid ID number" in \
        response.get_data(as_text=True)


# -- cross-site POSTs -----------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "http://localhost:8000"},  # another port is another origin
    {"Origin": "https://localhost"},  # another scheme too
    {"Origin": "null"},
    {"Sec_Fetch_Site": "cross-site"},
    {"Origin": "http://localhost", "Sec_Fetch_Site": "cross-site"},
])
def test_a_cross_site_post_is_refused(client, flows, headers):
    token = issue(flows)
    response = post(client, "detect", token, err_code="0", **headers)
    assert response.status_code == 403
    assert "Cross-site request refused" in response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert flows.get(token).state == "issued"


@pytest.mark.parametrize("headers", [
    {"Origin": "http://localhost"}, {"Origin": "HTTP://LOCALHOST"},
    {"Sec_Fetch_Site": "same-origin"}, {"Sec_Fetch_Site": "none"}, {},
])
def test_a_same_origin_post_is_accepted(client, flows, headers):
    response = post(client, "detect", issue(flows), err_code="0", **headers)
    assert response.status_code == 303


def test_the_public_urls_origin_is_the_pages_own_too(clock):
    emulator = Emulator(make_settings(public_url="https://mock.example"), clock)
    client = create_app(emulator=emulator).test_client()
    flows = flows_of(emulator)
    token = issue(flows)
    assert post(client, "detect", token, err_code="0",
                Origin="https://mock.example").status_code == 303
    other = issue(flows)
    assert post(client, "detect", other, err_code="0",
                Origin="https://evil.example").status_code == 403


# -- escaping -------------------------------------------------------------------------------

def test_what_clients_supplied_is_escaped(client, flows):
    url = 'https://shop.example/cb?x="><script>alert(4)</script>'
    token = issue(flows, identity={"IdCard": ID_NUMBER, "Name": HOSTILE_NAME},
                  extra=HOSTILE_EXTRA, redirect_url=url)
    _, text = page(client, "detect", token)
    assert "<script" not in text and "<img" not in text and "<b " not in text
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;&lt;b onmouseover=alert(3)" \
           "&gt;x&lt;/b&gt;" in text
    assert "&lt;" + "*" * (len(HOSTILE_NAME) - 1) in text  # the masked name
    assert "x=&#34;&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in text


def test_the_token_in_the_path_is_escaped(client):
    response = client.get("/h5/detect/<script>alert(1)</script>")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# -- the journal ----------------------------------------------------------------------------

def test_views_and_completions_are_journaled(client, flows, emulator):
    token = issue(flows)
    page(client, "detect", token)
    page(client, "detect", token)
    post(client, "detect", token, err_code="2016")
    post(client, "detect", token, err_code="0", Origin="https://evil.example")
    post(client, "detect", token, err_code="0")
    entries = [(e.endpoint, e.appid, e.code, e.http_status, e.detail)
               for e in emulator.journal.query()]
    assert entries == [
        ("h5:detect", MAIN.appid, None, 200, "page opened"),
        ("h5:detect", MAIN.appid, None, 200, "page shown"),
        ("h5:detect", MAIN.appid, 2016, 303, "completed"),
        ("h5:detect", None, None, 403, "This page takes form posts from itself only, not "
                                       "from 'https://evil.example'."),
        ("h5:detect", MAIN.appid, 14, 409, "already finished"),
    ]
    first, _, completed, _, again = emulator.journal.query()
    assert first.fields == {"token": token, "method": "GET"}
    assert first.data == {"state": "opened"}
    assert completed.fields == {"token": token, "method": "POST", "err_code": "2016"}
    assert completed.data == {"state": "finished", "err_code": 2016,
                              "err_msg": "无法判断为同一人（相似度未达到通过阈值）",
                              "sim": flows.get(token).outcome["sim"]}
    assert completed.time == NOW and completed.headers == {
        "Content-Type": "application/x-www-form-urlencoded"}
    assert again.data["state"] == "finished"


def test_unknown_tokens_are_journaled_and_paths_of_no_flow_are_not(client, emulator):
    client.get("/h5/eid/NOPE")
    client.get("/h5/other/NOPE")
    client.post("/h5/other/NOPE", data={"err_code": "0"}, headers={"Origin": "https://x.example"})
    assert [(e.endpoint, e.appid, e.http_status, e.detail, e.fields)
            for e in emulator.journal.query()] == [
        ("h5:eid", None, 404, "unknown token", {"token": "NOPE", "method": "GET"})]


def test_the_page_declares_its_journal_endpoints():
    from mockface.products import REGISTRY
    assert [(page.rule, page.endpoints) for page in REGISTRY.pages] == [
        ("/h5/<flow>/<path:token>", ("h5:detect", "h5:eid", "h5:app"))]


def test_the_dashboard_and_the_journal_route_read_page_entries(client, flows):
    token = issue(flows)
    page(client, "detect", token)
    post(client, "detect", token, err_code="2016")
    answer = client.get("/__mockface/requests").get_json()
    assert [entry["endpoint"] for entry in answer["requests"]] == ["h5:detect", "h5:detect"]
    assert client.get("/__mockface/requests", query_string={"appid": MAIN.appid}
                      ).status_code == 200
    dashboard = client.get("/__mockface/ui")
    assert dashboard.status_code == 200 and "h5:detect" in dashboard.get_data(as_text=True)
    rows = client.get("/__mockface/ui/rows", query_string={"after": 0})
    assert rows.status_code == 200 and "h5:detect" in rows.get_data(as_text=True)


# -- a real server ---------------------------------------------------------------------------

@pytest.fixture
def served():
    clock = Clock()
    clock.freeze(NOW)
    emulator = Emulator(make_settings(), clock)
    server = start_background(create_app(emulator=emulator))
    yield server, flows_of(emulator)
    server.stop()


def test_a_form_post_over_http_completes_the_token(served):
    server, flows = served
    token = issue(flows)
    url = f"{server.url}/h5/detect/{token}"
    assert requests.get(url, timeout=10).status_code == 200
    response = requests.post(url, data={"err_code": "0"}, allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{REDIRECT}?BizToken={token}"
    assert flows.get(token).outcome["err_code"] == 0


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_d_err_code_completes_a_token(served):
    server, flows = served
    token = issue(flows, "eid")
    answer = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
         "-d", "err_code=1004", f"{server.url}/h5/eid/{token}"],
        capture_output=True, text=True, timeout=30, check=True)
    assert answer.stdout == f"303 {REDIRECT}?token={token}"
    assert flows.get(token).outcome["err_code"] == 1004


# -- a shared Redis state ------------------------------------------------------------------

def test_the_page_works_across_processes_on_redis_and_one_post_wins(redis_server):
    from .redis_server import shared_emulator
    from .support import run_concurrently
    url = redis_server.url("page:")
    first, second = shared_emulator(url), shared_emulator(url)
    apps = [create_app(emulator=first), create_app(emulator=second)]
    token = issue(flows_of(first))
    assert apps[1].test_client().get(f"/h5/detect/{token}").status_code == 200
    assert flows_of(first).get(token).state == "opened"
    turns = iter(range(1000))

    def attempt():
        client = apps[next(turns) % 2].test_client()
        return client.post(f"/h5/detect/{token}", data={"err_code": "0"}).status_code

    statuses = run_concurrently(attempt, 16)
    assert sorted(statuses) == [303] + [409] * 15
    codes = [(e.endpoint, e.code) for e in second.journal.query()]
    assert codes.count(("h5:detect", 0)) == 1 and codes.count(("h5:detect", 14)) == 15
