"""The dashboard's Verifications panel (issue 22 item 5): the tokens of the three flows with
their flow, state, masked identity, time left, a link to the user page and buttons that
finish an open one through the admin API, updated live like the journal (on the emulator's
frozen clock, advanced by the tests); everything a client supplied shown as text.  The
Flask test client where the HTML is the point, headless Chromium where the page's script is
(see test_dashboard.py)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests

from mockface.core.clock import Clock
from mockface.emulator import Emulator
from mockface.products.faceid.flows import flows_of
from mockface.web.app import create_app
from mockface.web.server import start_background

from . import test_dashboard
from .support import ID_NAME, ID_NUMBER, MAIN, NOW, REGISTERED_NUMBER, make_settings

browser = test_dashboard.browser  # the same module-scoped headless Chromium

IDENTITY = {"IdCard": ID_NUMBER, "Name": ID_NAME}
MASKED_NAME = "张*"
MASKED_NUMBER = ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]
#: Values that would run script if the page put them in as HTML; each sets window.pwned.
HOSTILE_EXTRA = '<script>window.pwned = "script"</script><img src=x onerror="window.pwned=1">'
HOSTILE_NAME = '<img src=x onerror="window.pwned=2">'
#: The panel's buttons: ErrCode and label, and the ErrMsg a finished token then shows.
OUTCOMES = [(0, "Pass (0)", "成功"),
            (2016, "Not the same person (2016)", "无法判断为同一人（相似度未达到通过阈值）"),
            (2006, "Name/ID mismatch (2006)", "姓名和身份证号不匹配"),
            (1004, "Liveness failed (1004)", "人脸验证失败")]
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "dashboard-verifications.png"


class Served:
    """A real server over an emulator on a frozen clock, which the tests reach into."""

    def __init__(self, admin_token: str | None = None) -> None:
        self.clock = Clock()
        self.clock.freeze(NOW)
        self.emulator = Emulator(make_settings(), self.clock)
        self.flows = flows_of(self.emulator)
        self.server = start_background(create_app(emulator=self.emulator,
                                                  admin_token=admin_token))
        self.url = self.server.url

    def issue(self, flow: str = "detect", **data) -> str:
        """A token as DetectAuth / GetEidToken / GetFaceIdToken issue them."""
        values = {"rule_id": "1", "identity": IDENTITY, "extra": "order 42"} \
            if flow == "detect" else \
            {"merchant_id": "0NSJ2106111700001", "identity": None} if flow == "eid" else \
            {"identity": IDENTITY}
        return self.flows.issue(flow, MAIN.appid, {**values, **data}).token


@pytest.fixture
def serve():
    started: list[Served] = []

    def start(**options) -> Served:
        started.append(Served(**options))
        return started[-1]
    yield start
    for served in started:
        served.server.stop()


@pytest.fixture
def served(serve) -> Served:
    return serve()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def open_live(page, url: str) -> None:
    """Open the dashboard and wait for its first live update."""
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.locator("#status")).to_contain_text("live: updated", timeout=10_000)


def item(page, token: str):
    return page.locator(f"li.verification[data-token='{token}']")


def panel_html(served: Served) -> str:
    answer = requests.get(f"{served.url}/__mockface/ui/verifications", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    return answer.text


def block(html: str, token: str) -> str:
    """The <li> of ``token`` in the panel's HTML."""
    match = re.search(rf'<li class="verification[^"]*" data-token="{token}".*?</li>', html,
                      re.DOTALL)
    assert match, token
    return match.group(0)


def text(fragment: str) -> str:
    """The words of an HTML fragment, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


# -- what the panel shows (HTML) ---------------------------------------------------------

def test_the_panel_lists_a_token_with_its_fields(served):
    token = served.issue()
    page = requests.get(f"{served.url}/__mockface/ui", timeout=10).text
    assert '<section id="verifications">' in page
    li = block(page, token)
    assert li.startswith(f'<li class="verification state-issued" data-token="{token}" '
                         'data-state="issued" data-key="issued ">')
    assert '<span class="flow">detect</span>' in li
    assert '<span class="state">issued</span>' in li
    assert '<span class="left" data-seconds="7200" title="time left in the user window">' \
           '2:00:00 left</span>' in li
    assert f'<span class="name">{MASKED_NAME}</span> <span class="idcard">{MASKED_NUMBER}' \
           '</span>' in li
    assert f'<span class="appid">appid {MAIN.appid}</span>' in li
    assert '<span class="rule-id">RuleId 1</span>' in li
    assert '<span class="extra">Extra: <code>order 42</code></span>' in li
    url = served.flows.page_url("detect", token)
    assert url.endswith(f"/h5/detect/{token}")
    assert f'<a class="page" href="{url}" target="_blank" rel="noopener noreferrer">' \
           'user page</a>' in li
    assert [int(code) for code in re.findall(r'data-err-code="(\d+)"', li)] == \
        [0, 2016, 2006, 1004]
    assert "ErrCode" not in li
    assert ID_NUMBER not in page and ID_NAME not in page  # masked only
    assert panel_html(served).count('<li class="verification') == 1


def test_the_three_flows_are_listed_last_issued_first(served):
    detect = served.issue()
    served.clock.advance(1)
    eid = served.issue("eid")
    served.clock.advance(1)
    app = served.issue("app")
    html = panel_html(served)
    assert re.findall(r'data-token="([^"]+)"', html) == [app, eid, detect]
    assert text(block(html, eid)).startswith("eid issued 0:09:59 left no identity yet "
                                             f"appid {MAIN.appid} MerchantId "
                                             "0NSJ2106111700001 user page")
    assert text(block(html, app)).startswith(f"app issued 0:10:00 left {MASKED_NAME} "
                                             f"{MASKED_NUMBER} appid {MAIN.appid} user page")
    assert text(block(html, detect)).startswith("detect issued 1:59:58 left")


def test_a_finished_token_shows_its_err_code_and_no_buttons(served):
    token = served.issue()
    assert served.flows.complete(token, {"err_code": 1004})[0] == "finished"
    li = block(panel_html(served), token)
    assert 'data-state="finished" data-key="finished 1004"' in li
    assert '<span class="result">ErrCode <b class="err-code">1004</b> ' \
           '<span class="err-msg">人脸验证失败</span></span>' in li
    assert '<span class="left" data-seconds="0"></span>' in li
    assert "data-err-code" not in li and "left</span>" not in li


def test_a_pass_for_a_registered_number_under_another_name_shows_2006(served):
    token = served.issue(identity={"IdCard": REGISTERED_NUMBER, "Name": ID_NAME})
    served.flows.complete(token, {"err_code": 0})
    assert 'ErrCode <b class="err-code">2006</b>' in block(panel_html(served), token)


def test_an_expired_token_shows_expired_without_buttons_or_time(served):
    token = served.issue("app")
    served.clock.advance(600)
    li = block(panel_html(served), token)
    assert '<span class="state">expired</span>' in li
    assert "data-err-code" not in li and "ErrCode" not in li and "left</span>" not in li


def test_what_clients_supplied_is_text_in_the_html(served):
    token = served.issue(extra=HOSTILE_EXTRA, identity={"IdCard": ID_NUMBER,
                                                        "Name": HOSTILE_NAME})
    for html in (requests.get(f"{served.url}/__mockface/ui", timeout=10).text,
                 panel_html(served)):
        li = block(html, token)
        assert "<script>" not in li and "<img" not in li
        assert '<code>&lt;script&gt;window.pwned = &#34;script&#34;&lt;/script&gt;&lt;img ' \
               'src=x onerror=&#34;window.pwned=1&#34;&gt;</code>' in li
        assert '<span class="name">&lt;' + "*" * (len(HOSTILE_NAME) - 1) + "</span>" in li


def test_a_long_extra_is_cut(served):
    token = served.issue(extra="x" * 1000)
    assert f"<code>{'x' * 200}…</code>" in block(panel_html(served), token)


def test_the_panel_says_how_many_tokens_it_leaves_out(served):
    tokens = [served.issue("app") for _ in range(53)]
    html = panel_html(served)
    assert html.count('<li class="verification') == 50
    assert re.findall(r'data-token="([^"]+)"', html) == tokens[:-51:-1]
    assert '<p class="notice" id="verifications-more">Showing the last 50 tokens issued: ' \
           '<span class="count">3</span> older not shown — <a href="verifications">list ' \
           'them all</a>.</p>' in html
    assert '<p class="muted" id="verifications-empty" hidden>' in html


def test_an_empty_panel_says_so(served):
    html = requests.get(f"{served.url}/__mockface/ui", timeout=10).text
    assert '<p class="muted" id="verifications-empty">No verification tokens yet.</p>' in html
    assert '<p class="notice" id="verifications-more" hidden>' in html


def test_the_panel_route_is_guarded_and_takes_no_arguments(serve):
    served = serve(admin_token="s3cret")
    base = f"{served.url}/__mockface/ui/verifications"
    refused = requests.get(base, timeout=10)
    assert refused.status_code == 401
    assert refused.json() == {"error": "missing or wrong X-Mockface-Admin-Token header"}
    assert requests.get(f"{base}?token=s3cret", timeout=10).status_code == 401  # header only
    token = served.issue()
    answer = requests.get(base, headers={"X-Mockface-Admin-Token": "s3cret"}, timeout=10)
    assert answer.status_code == 200 and f'data-token="{token}"' in answer.text
    unknown = requests.get(f"{base}?flow=detect", headers={"X-Mockface-Admin-Token": "s3cret"},
                           timeout=10)
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "unknown key 'flow' in the query string: GET "
                                       "ui/verifications takes none"}
    foreign = requests.get(f"{served.url}/__mockface/ui/verifications", timeout=10,
                           headers={"Host": "evil.example", "X-Mockface-Admin-Token": "no"})
    assert foreign.status_code == 401


# -- in Chromium -----------------------------------------------------------------------------

@pytest.mark.parametrize("err_code,label,message", OUTCOMES, ids=[o[0] for o in OUTCOMES])
def test_a_finish_button_finishes_the_token_without_a_reload(served, page, err_code, label,
                                                             message):
    from playwright.sync_api import expect

    token = served.issue()
    other = served.issue("eid")
    open_live(page, f"{served.url}/__mockface/ui")
    page.evaluate("window.notReloaded = true")
    shown = item(page, token)
    expect(shown.locator(".state")).to_have_text("issued")
    shown.get_by_role("button", name=label, exact=True).click()
    expect(shown.locator(".state")).to_have_text("finished", timeout=5000)
    expect(shown.locator(".err-code")).to_have_text(str(err_code))
    expect(shown.locator(".err-msg")).to_have_text(message)
    expect(shown.locator("button")).to_have_count(0)
    expect(shown.locator(".left")).to_have_text("")
    assert page.evaluate("window.notReloaded") is True
    record = served.flows.get(token)
    assert record.state == "finished" and record.outcome["err_code"] == err_code
    assert served.flows.get(other).state == "issued"  # only the token clicked
    expect(item(page, other).locator("button")).to_have_count(4)


def test_the_time_left_follows_the_clock_and_the_token_expires_live(served, page):
    from playwright.sync_api import expect

    token = served.issue("eid")
    open_live(page, f"{served.url}/__mockface/ui")
    shown = item(page, token)
    expect(shown.locator(".left")).to_have_text("0:10:00 left")
    shown.evaluate("li => { li.dataset.marked = 'same element'; }")
    served.clock.advance(61)
    expect(shown.locator(".left")).to_have_text("0:08:59 left", timeout=5000)
    # Only the time changed: the element (and the button under a pointer) is kept.
    assert shown.evaluate("li => li.dataset.marked") == "same element"
    served.clock.advance(539)
    expect(shown.locator(".state")).to_have_text("expired", timeout=5000)
    expect(shown.locator("button")).to_have_count(0)
    expect(shown.locator(".left")).to_have_text("")


def test_tokens_issued_and_finished_elsewhere_appear_live(served, page):
    from playwright.sync_api import expect

    open_live(page, f"{served.url}/__mockface/ui")
    expect(page.locator("#verifications-empty")).to_be_visible()
    token = served.issue()
    shown = item(page, token)
    expect(shown).to_have_count(1, timeout=5000)
    expect(page.locator("#verifications-empty")).to_be_hidden()
    expect(shown.locator(".identity")).to_have_text(f"{MASKED_NAME} {MASKED_NUMBER}")
    served.flows.complete(token, {"err_code": 2016})
    expect(shown.locator(".err-code")).to_have_text("2016", timeout=5000)


def test_nothing_a_client_supplied_runs_as_script(served, page):
    from playwright.sync_api import expect

    first = served.issue(extra=HOSTILE_EXTRA, identity={"IdCard": ID_NUMBER,
                                                        "Name": HOSTILE_NAME})
    open_live(page, f"{served.url}/__mockface/ui")
    expect(item(page, first).locator(".extra code")).to_have_text(HOSTILE_EXTRA)
    later = served.issue(extra=HOSTILE_EXTRA)  # arrives through the live update
    expect(item(page, later).locator(".extra code")).to_have_text(HOSTILE_EXTRA,
                                                                    timeout=5000)
    item(page, later).get_by_role("button", name="Pass (0)").click()  # re-rendered, finished
    expect(item(page, later).locator(".err-code")).to_have_text("0", timeout=5000)
    expect(item(page, first).locator(".name")).to_have_text(
        "<" + "*" * (len(HOSTILE_NAME) - 1))
    assert page.evaluate("window.pwned") is None
    assert page.locator("li.verification img, li.verification script").count() == 0


def test_a_refused_completion_is_shown_on_the_token(served, page):
    from playwright.sync_api import expect

    token = served.issue()
    open_live(page, f"{served.url}/__mockface/ui")
    page.route("**/__mockface/ui/verifications", lambda route: route.abort())
    served.flows.complete(token, {"err_code": 2006})  # finished elsewhere meanwhile
    shown = item(page, token)
    shown.get_by_role("button", name="Pass (0)").click()
    expect(shown.locator(".problem")).to_have_text(
        f"verification {token} is finished already", timeout=5000)
    expect(page.locator("#status")).to_contain_text("paused", timeout=5000)
    page.unroute("**/__mockface/ui/verifications")
    expect(shown.locator(".err-code")).to_have_text("2006", timeout=5000)  # never changed
    assert served.flows.get(token).outcome["err_code"] == 2006


def test_with_an_admin_token_the_panel_updates_and_its_buttons_work(serve, page):
    from playwright.sync_api import expect

    served = serve(admin_token="s3cret")
    open_live(page, f"{served.url}/__mockface/ui?token=s3cret")
    token = served.issue()
    shown = item(page, token)
    shown.get_by_role("button", name="Not the same person (2016)").click()
    expect(shown.locator(".err-code")).to_have_text("2016", timeout=5000)
    assert served.flows.get(token).outcome["err_code"] == 2016


def test_without_javascript_the_panel_reads_and_links_the_user_page(served, browser):
    token = served.issue()
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{served.url}/__mockface/ui")
        shown = item(page, token)
        assert shown.locator(".left").inner_text() == "2:00:00 left"
        assert shown.locator("a.page").get_attribute("href") == \
            served.flows.page_url("detect", token)
        assert not shown.locator(".finish").is_visible()  # they would do nothing
        assert " ".join(page.locator("#verifications").inner_text().split()).startswith(
            "Verifications, last issued first Finish a token on its user page (the buttons "
            "here need JavaScript). detect issued 2:00:00 left")
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 400])
def test_the_panel_fits_the_window(served, browser, width):
    served.issue(extra="e" * 1000)
    served.issue("eid")
    finished = served.issue("app")
    served.flows.complete(finished, {"err_code": 2016})
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{served.url}/__mockface/ui")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width == 1280 and os.environ.get("MOCKFACE_SCREENSHOT") == "1":
            page.locator("#verifications").screenshot(path=str(SCREENSHOT))
    finally:
        context.close()
