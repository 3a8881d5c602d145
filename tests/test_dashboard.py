"""The dashboard in a real browser: headless Chromium (Debian's) driven by Playwright.

Without Chromium or Playwright these tests are skipped; with MOCKFACE_REQUIRE_BROWSER=1 (set
by ``.ci/run``, which installs Chromium) they fail instead.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from mockface.emulator import Emulator
from mockface.scenarios import ScenarioEngine, search_path
from mockface.web.app import create_app
from mockface.web.server import start_background

from .support import MAIN, make_settings, signed_now, valid_request

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: How the probe of this machine starts Chromium: no sandbox as root, and nothing that
#: reaches out to Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "dashboard.png"


def _missing(reason: str):
    if os.environ.get("MOCKFACE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


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


@pytest.fixture
def server():
    emulator = Emulator(make_settings(), scenarios=ScenarioEngine(search_path()))
    server = start_background(create_app(emulator=emulator))
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def post(server, endpoint: str, authorization: str | None = "signed", **fields) -> dict:
    request = valid_request(endpoint, **fields)
    headers = {"Authorization": signed_now()} if authorization == "signed" else {}
    return requests.post(f"{server.url}/face/{endpoint}", headers=headers, timeout=10,
                         **request).json()


def test_a_request_appears_in_the_journal_view_within_2_seconds(server, page):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/__mockface/ui")
    expect(page.locator("#status")).to_contain_text("live")
    assert post(server, "livegetfour")["code"] == 0
    row = page.locator("details.row[data-endpoint=livegetfour]")
    expect(row).to_have_count(1, timeout=2000)
    expect(row.locator(".appid")).to_have_text(MAIN.appid)
    expect(row.locator(".status")).to_have_text("200")


def test_filtering_and_expanding_rows(server, page):
    from playwright.sync_api import expect

    post(server, "livegetfour")
    post(server, "idcardcompare", authorization=None)
    page.goto(f"{server.url}/__mockface/ui")
    expect(page.locator("details.row")).to_have_count(2)
    page.select_option("select[name=endpoint]", "idcardcompare")
    page.click("form.filters button[type=submit]")
    rows = page.locator("details.row")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".endpoint")).to_have_text("idcardcompare")
    expect(rows.first.locator(".code")).to_have_text("4")
    expect(rows.first.locator(".reason")).not_to_be_visible()
    rows.first.locator("summary").click()
    expect(rows.first.locator(".reason")).to_be_visible()
    expect(rows.first.locator(".reason")).to_contain_text("no Authorization header")
    expect(rows.first.locator("table.fields")).to_contain_text("idcard_number")


def test_media_rows_show_dimensions_and_a_thumbnail(server, page):
    from playwright.sync_api import expect

    assert post(server, "livedetectpicture")["code"] == 0
    page.goto(f"{server.url}/__mockface/ui")
    row = page.locator("details.row").first
    row.locator("summary").click()
    media = row.locator("table.media")
    expect(media).to_contain_text("jpeg")
    thumbnail = media.locator("img.thumb")
    expect(thumbnail).to_be_visible()
    thumbnail.evaluate("img => img.decode()")  # resolves once it loaded and decoded
    assert thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [300, 400]
    expect(media).to_contain_text("300×400")  # make_fixtures.py's face.jpg


def test_activating_a_library_scenario_changes_the_next_answer(server, page):
    from playwright.sync_api import expect

    before = post(server, "livedetectfour")
    assert before["data"]["live_status"] == 0
    page.goto(f"{server.url}/__mockface/ui")
    page.select_option("#activate select[name=name]", "wrong-digits")
    page.click("#activate button[type=submit]")
    expect(page.locator(".scenario[data-name=wrong-digits]")).to_be_visible()
    after = post(server, "livedetectfour")
    assert after["data"]["live_status"] == -5008
    page.reload()
    rule = page.locator(".scenario[data-name=wrong-digits] table.rules tr").nth(1)
    expect(rule).to_contain_text("wrong-digits#1")
    page.click(".scenario[data-name=wrong-digits] button[data-action=deactivate]")
    expect(page.locator(".scenario")).to_have_count(0)
    assert post(server, "livedetectfour")["data"]["live_status"] == 0


def test_the_clock_and_reset_work_from_the_page(server, page):
    from playwright.sync_api import expect

    post(server, "livegetfour")
    page.goto(f"{server.url}/__mockface/ui")
    page.click("#clock button[data-action=freeze]")
    expect(page.locator("#clock")).to_contain_text("frozen")
    page.click("#clock button[data-action=unfreeze]")
    expect(page.locator("#clock")).to_contain_text("running")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("details.row")).to_have_count(0)
    assert requests.get(f"{server.url}/__mockface/requests", timeout=10).json()["requests"] \
        == []


@pytest.mark.parametrize("api,target,expected", [
    ("legacy", "livegetfour", '"code":0'), ("api3", "faceid:GetLiveCode", '"LiveCode":')])
def test_the_signing_helper_gives_a_curl_that_works(server, page, api, target, expected):
    import shlex
    import subprocess

    page.goto(f"{server.url}/__mockface/ui")
    page.select_option("#sign select[name=sign_appid]", MAIN.appid)
    page.check(f"#sign input[name=sign][value={api}]")
    field = "sign_endpoint" if api == "legacy" else "sign_action"
    page.select_option(f"#sign select[name={field}]", target)
    page.click("#sign button[type=submit]")
    command = page.locator("#curl").inner_text()
    assert command.startswith("curl ")
    answer = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30)
    assert expected in answer.stdout.replace(" ", "")


def test_the_page_reads_without_javascript(server, browser):
    post(server, "livegetfour")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/__mockface/ui")
        assert page.locator("details.row").count() == 1
        assert page.locator("#status").inner_text() == "live updates need JavaScript"
        page.locator("details.row summary").click()
        assert page.locator("details.row .detail").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 400])
def test_the_page_fits_the_window(server, browser, width):
    post(server, "livegetfour")
    post(server, "livedetectpicture")
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/__mockface/ui")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width
        if width == 1280 and os.environ.get("MOCKFACE_SCREENSHOT") == "1":
            page.locator("details.row").first.locator("summary").click()
            page.screenshot(path=str(SCREENSHOT))
    finally:
        context.close()


def test_with_a_token_the_page_needs_it_once_and_keeps_updating(browser):
    from playwright.sync_api import expect

    server = start_background(create_app(make_settings(), admin_token="s3cret"))
    context = browser.new_context()
    try:
        page = context.new_page()
        assert page.goto(f"{server.url}/__mockface/ui").status == 401
        page.goto(f"{server.url}/__mockface/ui?token=s3cret")
        post(server, "livegetfour")
        expect(page.locator("details.row")).to_have_count(1, timeout=2000)
    finally:
        context.close()
        server.stop()


def test_what_clients_send_is_escaped_on_the_page(server):
    """No browser needed: the page is HTML, and a request's values are text in it."""
    post(server, "livegetfour", seq='<script>alert("x")</script>')
    page = requests.get(f"{server.url}/__mockface/ui", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<script>alert("x")</script>' not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def test_the_dashboard_routes_refuse_what_they_cannot_serve(server):
    rows = requests.get(f"{server.url}/__mockface/ui/rows?after=abc", timeout=10)
    assert (rows.status_code, rows.json()) == (400, {"error": "after must be a journal id"})
    media = requests.get(f"{server.url}/__mockface/ui/media/{'0' * 64}", timeout=10)
    assert media.status_code == 404 and "no such recent image" in media.json()["error"]
    foreign = requests.get(f"{server.url}/__mockface/ui", timeout=10,
                           headers={"Host": "evil.example"})
    assert foreign.status_code == 403


def test_a_row_names_the_rule_that_answered_with_its_file_and_line(server):
    requests.post(f"{server.url}/__mockface/scenarios", json={"name": "wrong-digits"},
                  timeout=10)
    assert post(server, "livedetectfour")["data"]["live_status"] == -5008
    page = requests.get(f"{server.url}/__mockface/ui", timeout=10).text
    library = Path(__file__).resolve().parent.parent / "scenarios" / "wrong-digits.yaml"
    assert f'<code class="source">{library}:7</code>' in page  # the rule's line in the file


def test_a_row_explains_a_near_miss(server):
    requests.post(f"{server.url}/__mockface/scenarios", timeout=10, json={"document": {
        "name": "only-x", "rules": [{"endpoint": "livegetfour", "match": {"seq": "x"},
                                     "respond": {"code": 15}}]}})
    assert post(server, "livegetfour", seq="y")["code"] == 0
    page = requests.get(f"{server.url}/__mockface/ui", timeout=10).text
    assert '<p class="miss"><b>Near miss:</b> no rule matched; closest only-x rule 1' in page
    assert "seq" in page.split('<p class="miss">')[1].split("</p>")[0]
