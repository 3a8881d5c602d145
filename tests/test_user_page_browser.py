"""The user page of the verification tokens in a real browser: headless Chromium (Debian's)
driven by Playwright, as the dashboard's tests drive it.  Clicking through to the
integrator's RedirectUrl (the Content-Security-Policy lets the form's redirect through),
with and without JavaScript; no script a client supplied runs; a form on another site is
refused; the page fits a phone's screen.

Without Chromium or Playwright these tests are skipped; with MOCKFACE_REQUIRE_BROWSER=1 (set
by ``.ci/run``) they fail instead.  MOCKFACE_SCREENSHOT=1 writes docs/user-page.png.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mockface.core.clock import Clock
from mockface.emulator import Emulator
from mockface.products.faceid.flows import flows_of
from mockface.web.app import create_app
from mockface.web.server import start_background

from .support import ID_NAME, ID_NUMBER, MAIN, NOW, REGISTERED_NUMBER, make_settings
from .test_dashboard import CHROMIUM, CHROMIUM_ARGS, _missing

SHOP = "https://shop.example"
EVIL = "https://evil.example"
PHONE = {"width": 375, "height": 667}
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "user-page.png"


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")
    if CHROMIUM is None:
        _missing("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served():
    clock = Clock()
    clock.freeze(NOW)
    emulator = Emulator(make_settings(), clock)
    server = start_background(create_app(emulator=emulator))
    yield server, flows_of(emulator)
    server.stop()


@pytest.fixture
def context(browser):
    """A fresh context whose requests to the shop and the evil site are answered by the
    test (never the network): the shop's callback shows the query it got."""
    context = browser.new_context(viewport=PHONE)
    context.route(f"{SHOP}/**", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body=f"<p id=landed>{route.request.url}</p>"))
    yield context
    context.close()


def issue(flows, flow: str = "detect", **data) -> str:
    values = {"rule_id": "1", "identity": {"IdCard": ID_NUMBER, "Name": ID_NAME},
              "extra": "order 42", "redirect_url": f"{SHOP}/callback?order=42#done"}
    return flows.issue(flow, MAIN.appid, {**values, **data}).token


def test_pass_lands_on_the_redirect_url_with_the_biztoken(served, context, shop):
    server, flows = served
    token = issue(flows, redirect_url=f"{shop.url}/landing?order=42#done")
    page = context.new_page()
    page.goto(f"{server.url}/h5/detect/{token}")
    page.get_by_role("button", name="Pass (0)").click()
    page.wait_for_url(f"{shop.url}/landing*")
    assert page.url == f"{shop.url}/landing?order=42&BizToken={token}#done"
    assert flows.get(token).outcome["err_code"] == 0


@pytest.fixture(scope="module")
def shop():
    """An integrator's app whose /callback redirects to another origin (its front end:
    ``localhost`` instead of ``127.0.0.1``), which shows the query it got."""
    from flask import Flask, redirect, request

    app = Flask("shop")
    server = start_background(app)
    port = server.url.rsplit(":", 1)[1]

    @app.get("/callback")
    def callback():
        return redirect(f"http://localhost:{port}/done?{request.query_string.decode()}", 302)

    @app.get("/landing")
    def landing():
        return f"<p id=landed>{request.url}</p>"

    @app.get("/done")
    def done():
        return f"<p id=done>{request.args.get('BizToken', '')}</p>"

    yield server
    server.stop()


def test_a_callback_may_redirect_on_to_another_origin(served, context, shop):
    server, flows = served
    token = issue(flows, redirect_url=f"{shop.url}/callback")
    page = context.new_page()
    page.goto(f"{server.url}/h5/detect/{token}")
    page.get_by_role("button", name="Pass (0)").click()
    page.wait_for_url("http://localhost:*/done*")
    assert page.locator("#done").inner_text() == token


def test_a_liveness_failure_is_chosen_from_the_list(served, context):
    server, flows = served
    token = issue(flows, redirect_url=None)
    page = context.new_page()
    page.goto(f"{server.url}/h5/detect/{token}")
    page.locator("#codes-liveness").select_option("1004")
    page.get_by_role("button", name="Liveness failed: finish with this code").click()
    assert "Verification finished: ErrCode 1004 人脸验证失败" in \
        page.locator("main").inner_text()
    assert flows.get(token).outcome["err_code"] == 1004


def test_the_page_works_without_javascript(served, browser, shop):
    server, flows = served
    token = issue(flows, rule_id="2", identity=None, ocr=True,
                  redirect_url=f"{shop.url}/landing?order=42#done")
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/h5/detect/{token}")
        page.locator("#ocr-name").fill("李四")
        page.locator("#ocr-card").fill(REGISTERED_NUMBER)
        page.get_by_role("button", name="Not the same person (2016)").click()
        page.wait_for_url(f"{shop.url}/landing*")
        assert page.url == f"{shop.url}/landing?order=42&BizToken={token}#done"
    finally:
        context.close()
    outcome = flows.get(token).outcome
    assert outcome["err_code"] == 2016
    assert outcome["identity"] == {"IdCard": REGISTERED_NUMBER, "Name": "李四"}


def test_no_script_a_client_supplied_runs(served, context):
    server, flows = served
    name = "<img src=x onerror=alert(1)>"
    extra = "</script><script>window.pwned=1;alert(2)</script><img src=x onerror=alert(3)>"
    token = issue(flows, identity={"IdCard": ID_NUMBER, "Name": name}, extra=extra,
                  redirect_url=f'{SHOP}/cb?x="><script>alert(4)</script>')
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server.url}/h5/detect/{token}")
    page.wait_for_load_state("load")
    assert dialogs == []
    assert page.evaluate("window.pwned") is None
    assert page.locator("img").count() == 0 and page.locator("main script").count() == 0
    from playwright.sync_api import expect
    expect(page.get_by_text(extra, exact=True)).to_be_visible()
    expect(page.get_by_text(f'{SHOP}/cb?x="><script>alert(4)</script>')).to_be_visible()
    expect(page.get_by_text("<" + "*" * (len(name) - 1), exact=False)).to_be_visible()


def test_a_form_on_another_site_is_refused(served, context):
    server, flows = served
    token = issue(flows)
    target = f"{server.url}/h5/detect/{token}"
    context.route(f"{EVIL}/**", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body=f"<form method=post action='{target}'><input type=hidden name=err_code "
             "value=0><button>win a prize</button></form>"))
    page = context.new_page()
    page.goto(f"{EVIL}/")
    with page.expect_navigation():
        page.get_by_role("button", name="win a prize").click()
    assert page.url == target
    assert "Cross-site request refused" in page.locator("body").inner_text()
    assert flows.get(token).state == "issued"


def test_the_page_fits_a_phone_screen(served, context):
    server, flows = served
    token = issue(flows, extra="x" * 900, redirect_url=f"{SHOP}/{'y' * 300}")
    page = context.new_page()
    page.goto(f"{server.url}/h5/detect/{token}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("window.innerWidth") == PHONE["width"]  # the viewport meta
    for button in page.get_by_role("button").all():
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 300
    if os.environ.get("MOCKFACE_SCREENSHOT") == "1":
        shown = issue(flows)
        page.goto(f"{server.url}/h5/detect/{shown}")
        page.screenshot(path=str(SCREENSHOT), full_page=True)
