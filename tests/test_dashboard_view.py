"""What the dashboard shows: every request shown or counted (never skipped silently), a
bounded page, API 3.0 errors marked as errors, expanded rows with the answer, headers and
signature, the signing helper's defaults, words instead of Python reprs, and its links.
Headless Chromium where it is about what the page shows (see test_dashboard.py)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import pytest
import requests

from mockface.core import journal as journal_module
from mockface.core.journal import JournalEntry
from mockface.emulator import Emulator
from mockface.products.tc3.signature import sign_tc3
from mockface.scenarios import ScenarioEngine, search_path
from mockface.web.app import create_app
from mockface.web.server import start_background

from . import test_dashboard
from .support import MAIN, make_settings, run_concurrently, signed_now

browser = test_dashboard.browser  # the same module-scoped headless Chromium
post = test_dashboard.post

#: A journal entry's values as Journal.record takes them: a plain legacy success.
PLAIN = {"time": 1_800_000_000.0, "endpoint": "livegetfour", "appid": MAIN.appid,
         "fields": {"appid": MAIN.appid}, "media": {},
         "signature": {"status": "passed", "once": False}, "rule": "default",
         "http_status": 200, "code": 0, "data": {"validate_data": "1234"}, "fault": None,
         "detail": None, "latency_ms": 0.1}


class Served:
    """A real server over an emulator these tests reach into, stopped by the fixture."""

    def __init__(self, journal_size: int = 1000, admin_token: str | None = None) -> None:
        self.emulator = Emulator(make_settings(), scenarios=ScenarioEngine(search_path()),
                                 journal_size=journal_size)
        self.server = start_background(create_app(emulator=self.emulator,
                                                  admin_token=admin_token))
        self.url = self.server.url
        self.port = self.server.port

    def record(self, count: int, **changes: Any) -> None:
        """Journal ``count`` entries directly (far faster than requests)."""
        for _ in range(count):
            self.emulator.journal.record(**{**PLAIN, **changes})


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
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def open_live(page, url: str) -> None:
    """Open the dashboard and wait for its first live update."""
    from playwright.sync_api import expect

    page.goto(f"{url}/__mockface/ui")
    expect(page.locator("#status")).to_contain_text("live: updated", timeout=10_000)


def get_live_code(served: Served) -> requests.Response:
    """A TC3-signed faceid:GetLiveCode that succeeds."""
    headers = sign_tc3("AKIDmain", "main-key", service="faceid",
                       host=served.url.split("//")[1], action="GetLiveCode",
                       timestamp=int(time.time()), body=b"{}")
    response = requests.post(f"{served.url}/", data=b"{}", headers=headers, timeout=10)
    assert "LiveCode" in response.json()["Response"]
    return response


def shown_ids(page) -> list[int]:
    return [int(i) for i in page.locator("details.row").evaluate_all(
        "rows => rows.map(r => r.dataset.id)")]


# -- every request shown or counted; at most 200 rows ---------------------------------------

def test_under_load_every_request_is_shown_or_counted(serve, page):
    from playwright.sync_api import expect

    served = serve()
    open_live(page, served.url)
    batches = run_concurrently(lambda: [post(served, "livegetfour")["code"]
                                        for _ in range(50)], 6)
    assert [code for batch in batches for code in batch] == [0] * 300
    expect(page.locator("#older .count")).to_have_text("100", timeout=15_000)
    expect(page.locator("#older")).to_contain_text(
        "Showing the newest 200 rows: 100 older rows not shown — filter or open the journal")
    assert shown_ids(page) == list(range(300, 100, -1))  # the newest 200, none skipped
    expect(page.locator("#missed")).to_be_hidden()


def test_the_page_drops_its_oldest_rows_beyond_200_and_says_so(serve, page):
    from playwright.sync_api import expect

    served = serve()
    open_live(page, served.url)
    served.record(150)
    expect(page.locator("details.row")).to_have_count(150, timeout=10_000)
    expect(page.locator("#older")).to_be_hidden()
    served.record(150)  # sent in full by the server: the page drops 100 rows itself
    expect(page.locator("#older .count")).to_have_text("100", timeout=10_000)
    assert shown_ids(page) == list(range(300, 100, -1))


def test_3000_requests_between_two_updates_are_counted(serve, page):
    from playwright.sync_api import expect

    served = serve(journal_size=4000)
    open_live(page, served.url)
    served.record(3000)  # the server sends the newest 200 and counts the rest
    expect(page.locator("#older .count")).to_have_text("2,800", timeout=10_000)
    assert shown_ids(page) == list(range(3000, 2800, -1))
    link = page.locator("#older a")
    assert link.get_attribute("href") == "requests"


def test_the_first_page_says_how_many_older_rows_it_leaves_out(serve):
    served = serve()
    served.record(250)
    html = requests.get(f"{served.url}/__mockface/ui?appid={MAIN.appid}", timeout=10).text
    assert html.count('<details class="row"') == 200
    assert ('<p class="notice" id="older">Showing the newest 200 rows: <span class="count">'
            '50</span> older <span class="noun" data-one="row" data-many="rows">rows</span> '
            'not shown — filter or <a href="requests?appid=1000001">open the journal</a>.'
            in html)
    assert '<div id="rows" data-last="250" data-limit="200">' in html


def test_rows_the_journal_evicted_before_the_page_read_them_are_counted(serve, page):
    from playwright.sync_api import expect

    served = serve(journal_size=50)
    served.record(1)
    open_live(page, served.url)
    page.route("**/__mockface/ui/rows?*", lambda route: route.abort())
    expect(page.locator("#status")).to_contain_text("paused", timeout=10_000)
    served.record(120)  # ids 2..121: the journal keeps 72..121, 70 went unread
    page.unroute("**/__mockface/ui/rows?*")
    expect(page.locator("#missed")).to_have_text(
        "70 requests left the server's journal (it keeps the newest 50) before this page "
        "could read them.", timeout=10_000)
    assert shown_ids(page) == [*range(121, 71, -1), 1]
    expect(page.locator("#older")).to_be_hidden()


def test_the_rows_answer_says_what_it_read_left_out_and_missed(serve):
    served = serve(journal_size=50)
    served.record(300)  # ids 1..300: 251..300 kept
    rows = requests.get(f"{served.url}/__mockface/ui/rows?after=100", timeout=10)
    assert rows.status_code == 200
    assert (rows.headers["X-Mockface-Last"], rows.headers["X-Mockface-Older"],
            rows.headers["X-Mockface-Missed"]) == ("300", "0", "150")
    assert rows.text.count('<details class="row"') == 50
    served.record(1, appid="1000002")
    rows = requests.get(f"{served.url}/__mockface/ui/rows?after=300&appid={MAIN.appid}",
                        timeout=10)
    assert (rows.headers["X-Mockface-Last"], rows.headers["X-Mockface-Older"],
            rows.headers["X-Mockface-Missed"], rows.text.strip()) == ("301", "0", "0", "")
    fresh = requests.get(f"{served.url}/__mockface/ui/rows?after=0", timeout=10)
    assert fresh.headers["X-Mockface-Missed"] == "0"  # before a known id nothing is lost


# -- API 3.0 errors are errors -----------------------------------------------------------

def test_an_api3_error_row_is_marked_like_a_legacy_error(serve, page):
    from playwright.sync_api import expect

    served = serve()
    assert post(served, "livegetfour")["code"] == 0
    assert post(served, "livegetfour", authorization=None)["code"] == 4
    unsigned = requests.post(f"{served.url}/", data=b"{}", timeout=10,
                             headers={"Content-Type": "application/json",
                                      "X-TC-Action": "GetLiveCode"})
    assert "Error" in unsigned.json()["Response"] and unsigned.status_code == 200
    get_live_code(served)
    page.goto(f"{served.url}/__mockface/ui")
    legacy_ok, legacy_error, api3_error, api3_ok = (
        page.locator(f"details.row[data-id='{number}']") for number in (1, 2, 3, 4))
    for row in (legacy_error, api3_error):
        expect(row).to_have_class(re.compile(r"\bbad\b"))
        expect(row.locator(".flag")).to_have_text("error")
    for row in (legacy_ok, api3_ok):
        expect(row).not_to_have_class(re.compile(r"\bbad\b"))
        expect(row.locator(".flag")).to_have_count(0)

    def colour(row):
        return row.locator(".code").evaluate("e => getComputedStyle(e).color")
    assert colour(api3_error) == colour(legacy_error) == "rgb(179, 38, 30)"
    assert colour(legacy_ok) != colour(legacy_error)


# -- an expanded row ----------------------------------------------------------------------

@dataclass(frozen=True)
class KeptEntry(JournalEntry):
    """An entry of a journal that keeps the answer's message and the request headers."""

    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def test_an_expanded_row_shows_the_message_headers_and_signature(serve, page, monkeypatch):
    from playwright.sync_api import expect

    served = serve()
    monkeypatch.setattr(journal_module, "JournalEntry", KeptEntry)
    authorization = signed_now()
    served.record(1, http_status=401, code=14, data=None, message="sign check failed",
                  detail="HMAC-SHA1 does not match", headers={
                      "Authorization": authorization, "Content-Type": "application/json"},
                  signature={"status": "failed", "method": "HMAC-SHA1",
                             "secret_id": "AKIDmain", "once": None,
                             "issued": 1_800_000_000, "expires": 1_800_003_600})
    page.goto(f"{served.url}/__mockface/ui")
    row = page.locator("details.row").first
    row.locator("summary").click()
    expect(row.locator(".answer")).to_have_text("Answer: HTTP 401, code 14: sign check failed")
    signature = row.locator("table.signature tr")
    assert signature.all_inner_texts() == [
        "status\tfailed", "method\tHMAC-SHA1", "secret id\t****main", "once\tnot known",
        "issued\t1800000000 (2027-01-15 08:00:00 UTC)",
        "expires\t1800003600 (2027-01-15 09:00:00 UTC)"]
    headers = row.locator("table.headers tr").all_inner_texts()
    assert headers[1] == "Content-Type\tapplication/json"
    name, value = headers[0].split("\t")
    assert (name, value) == ("Authorization", "*" * (len(authorization) - 4)
                             + authorization[-4:])
    expect(row.locator(".detail")).to_contain_text("Answer data: none")


def test_an_api3_row_shows_its_signature_method_and_masked_secret_id(serve, page):
    served = serve()
    get_live_code(served)
    page.goto(f"{served.url}/__mockface/ui")
    row = page.locator("details.row").first
    row.locator("summary").click()
    texts = row.locator("table.signature tr").all_inner_texts()
    assert texts[:3] == ["status\tpassed", "method\tTC3-HMAC-SHA256", "secret id\t****main"]
    assert "AKIDmain" not in row.inner_text()
    assert row.locator(".answer").inner_text().startswith("Answer: HTTP 200")


# -- words, not reprs; the signing helper; links -----------------------------------------

def test_the_page_shows_no_python_reprs(serve, page):
    served = serve()
    requests.post(f"{served.url}/__mockface/scenarios", json={"name": "wrong-digits"},
                  timeout=10)
    post(served, "livegetfour")
    post(served, "livegetfour", authorization=None)
    post(served, "livedetectfour")
    requests.post(f"{served.url}/", data=b"{}", timeout=10)
    served.record(1, http_status=None, code=None, fault="connection_reset", data=None,
                  signature={"status": "passed", "once": True})
    page.goto(f"{served.url}/__mockface/ui?sign=legacy&sign_appid=%27x%27")
    for summary in page.locator("details.row summary").all():
        summary.click()
    headers = page.locator("table.headers")
    assert headers.count() >= 3  # the request headers are shown, and written as sent ...
    assert "boundary=" in " ".join(headers.all_inner_texts())
    headers.evaluate_all("tables => tables.forEach(t => t.remove())")  # ... key=value kept
    text = page.locator("body").inner_text()
    assert re.findall(r"\b(?:True|False|None)\b|\w+=\w+", text) == []
    assert "once\tno" in text and "once\tyes" in text and "once\tnot known" in text
    assert "no app “'x'” is configured" in text


def test_the_signing_helper_defaults_to_get_live_code_and_keeps_the_choice(serve, page):
    served = serve()
    page.goto(f"{served.url}/__mockface/ui")
    assert page.locator("#sign select[name=sign_action]").input_value() == \
        "faceid:GetLiveCode"
    assert page.locator("#sign select[name=sign_endpoint]").input_value() == "livegetfour"
    page.check("#sign input[name=sign][value=api3]")
    page.select_option("#sign select[name=sign_action]", "iai:DetectLiveFace")
    page.fill("#sign textarea[name=sign_body]", '{"Url": "http://x/y.jpg"}')
    page.click("#sign button[type=submit]")
    assert page.locator("#curl").inner_text().startswith("curl ")
    assert page.locator("#sign input[name=sign][value=api3]").is_checked()
    assert page.locator("#sign select[name=sign_action]").input_value() == "iai:DetectLiveFace"
    assert page.locator("#sign textarea[name=sign_body]").input_value() == \
        '{"Url": "http://x/y.jpg"}'


TOKEN = "a b&c=d/é#"


def test_the_token_links_are_url_encoded(serve, page):
    from playwright.sync_api import expect

    served = serve(admin_token=TOKEN)
    served.record(1)
    page.goto(f"{served.url}/__mockface/ui?token={quote_plus(TOKEN)}")
    clear = page.locator("#clear")
    assert clear.get_attribute("href") == "ui?token=a+b%26c%3Dd%2F%C3%A9%23"
    clear.click()
    expect(page.locator("details.row")).to_have_count(1)
    assert page.url.endswith("/__mockface/ui?token=a+b%26c%3Dd%2F%C3%A9%23")
    expect(page.locator("#status")).to_contain_text("live: updated", timeout=10_000)
