"""The verification tokens across processes on a real Redis (issue 22 item 7): two
``mockface serve`` processes sharing one Redis, and ``serve --workers 2``, act as one
emulator for the token flows -- a token DetectAuth issued through one process is read and
finished through the other, and of many concurrent completions of one token, sent to both
processes at once through the admin API, exactly one wins (200) and every other is refused
(409) naming the winner's outcome."""
from __future__ import annotations

import itertools
import json
import time

import pytest
import requests

from mockface.core.config import builtin_app
from mockface.products.tc3.signature import sign_tc3

from .support import ID_NAME, ID_NUMBER, ServeProcess, run_concurrently

BUILTIN = builtin_app({})
REDIRECT = "https://shop.example/callback?order=42"
#: Outcomes the concurrent completions choose among: each loser must name the winner's.
CODES = (0, 2016, 1004, 2006)
CONCURRENT = 16


def api3(url: str, action: str, params: dict) -> dict:
    """The ``Response`` of one TC3-signed call to the server at ``url`` (real time), as the
    built-in app; it must be HTTP 200 JSON."""
    secret_id, secret_key = BUILTIN.first_secret
    body = json.dumps(params).encode()
    headers = sign_tc3(secret_id, secret_key, service="faceid", host=url.split("://", 1)[1],
                       action=action, timestamp=int(time.time()), body=body)
    answer = requests.post(f"{url}/", data=body, headers={**headers, "Connection": "close"},
                           timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    return answer.json()["Response"]


def detect_auth(url: str) -> str:
    """A BizToken DetectAuth issued through the server at ``url``."""
    answer = api3(url, "DetectAuth", {"RuleId": "1", "IdCard": ID_NUMBER, "Name": ID_NAME,
                                      "RedirectUrl": REDIRECT})
    assert "Error" not in answer, answer
    assert answer["Url"] == f"{url}/h5/detect/{answer['BizToken']}"
    return answer["BizToken"]


def text_of(url: str, token: str) -> dict:
    """GetDetectInfoEnhanced's ``Text`` for ``token`` through the server at ``url``."""
    answer = api3(url, "GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1"})
    assert "Error" not in answer, answer
    return answer["Text"]


def record(url: str, token: str) -> dict:
    answer = requests.get(f"{url}/__mockface/verifications/{token}", timeout=10,
                          headers={"Connection": "close"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def complete(url: str, token: str, err_code: int) -> tuple[int, dict]:
    answer = requests.post(f"{url}/__mockface/verifications/{token}/complete", timeout=10,
                           json={"err_code": err_code}, headers={"Connection": "close"})
    return answer.status_code, answer.json()


def race(urls: list[str], token: str) -> tuple[dict, list[dict]]:
    """``CONCURRENT`` completions of ``token`` released together, spread over ``urls``,
    each choosing a code of ``CODES``: (the one winner's record, the losers' bodies).
    Exactly one must win with 200; every other must be a 409."""
    turn = itertools.count()

    def one() -> tuple[int, dict]:
        n = next(turn)
        return complete(urls[n % len(urls)], token, CODES[n % len(CODES)])

    answers = run_concurrently(one, CONCURRENT)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * (CONCURRENT - 1), statuses
    [winner] = [body for status, body in answers if status == 200]
    return winner, [body for status, body in answers if status == 409]


@pytest.fixture
def two_servers(redis_server):
    """Two ``mockface serve`` processes on one Redis prefix."""
    url = redis_server.url()
    servers = [ServeProcess("--quiet", "--state", url) for _ in range(2)]
    yield [server.url for server in servers]
    for server in servers:
        server.stop()


def test_a_token_issued_by_one_process_is_read_and_finished_through_the_other(two_servers):
    first, second = two_servers
    token = detect_auth(first)
    seen = record(second, token)
    assert (seen["token"], seen["flow"], seen["state"], seen["appid"]) == \
        (token, "detect", "issued", BUILTIN.appid)
    assert seen["redirect_url"] == REDIRECT and seen["outcome"] is None
    assert all(value is None for value in text_of(second, token).values())
    status, finished = complete(second, token, 2016)
    assert status == 200 and finished["state"] == "finished"
    assert finished["outcome"]["err_code"] == 2016
    text = text_of(first, token)
    assert (text["ErrCode"], text["ErrMsg"]) == (2016, "无法判断为同一人（相似度未达到通过阈值）")
    here, there = record(first, token), record(second, token)
    assert (here.pop("url"), there.pop("url")) == \
        (f"{first}/h5/detect/{token}", f"{second}/h5/detect/{token}")  # each its own address
    assert here == there


def test_one_of_many_concurrent_completions_wins_across_two_processes(two_servers):
    token = detect_auth(two_servers[0])
    winner, losers = race(two_servers, token)
    code = winner["outcome"]["err_code"]
    assert winner["token"] == token and winner["state"] == "finished" and code in CODES
    for body in losers:
        assert body["error"] == f"verification {token} is finished already"
        assert body["verification"]["outcome"] == winner["outcome"]
    for url in two_servers:
        assert record(url, token)["outcome"] == winner["outcome"]
        assert text_of(url, token)["ErrCode"] == code
    assert complete(two_servers[1], token, 0)[0] == 409  # and it never changes afterwards


def test_the_page_and_the_admin_api_race_for_one_token_across_two_processes(two_servers):
    """Half the completions post the page's form (as a browser or ``curl -d`` does), half
    call the admin API, spread over both processes: one wins (a 303 to RedirectUrl from
    the page, or a 200 from the admin API), every other is a 409."""
    token = detect_auth(two_servers[0])
    page = requests.get(f"{two_servers[1]}/h5/detect/{token}", timeout=10,
                        headers={"Connection": "close"})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert record(two_servers[0], token)["state"] == "opened"  # opened in the other one
    turn = itertools.count()

    def one() -> tuple[str, int, str]:
        n = next(turn)
        url, code = two_servers[n % 2], CODES[n % len(CODES)]
        if n % 4 < 2:
            answer = requests.post(f"{url}/h5/detect/{token}", data={"err_code": str(code)},
                                   allow_redirects=False, timeout=10,
                                   headers={"Connection": "close"})
            return "page", answer.status_code, answer.headers.get("Location", "")
        status, _ = complete(url, token, code)
        return "admin", status, ""

    answers = run_concurrently(one, CONCURRENT)
    winners = [answer for answer in answers if answer[1] in (200, 303)]
    assert len(winners) == 1 and sorted(a[1] for a in answers).count(409) == CONCURRENT - 1
    [(via, status, location)] = winners
    assert (via, status) in (("page", 303), ("admin", 200))
    if via == "page":
        assert location == f"{REDIRECT}&BizToken={token}"
    code = record(two_servers[1], token)["outcome"]["err_code"]
    assert text_of(two_servers[0], token)["ErrCode"] == code


def test_workers_share_the_tokens_and_one_completion_wins(redis_server):
    server = ServeProcess("--quiet", "--workers", "2", "--state", redis_server.url())
    try:
        pids = {requests.get(f"{server.url}/__mockface/health", timeout=10,
                             headers={"Connection": "close"}).json()["pid"] for _ in range(40)}
        assert len(pids) == 2  # each new connection may reach either worker
        tokens = [detect_auth(server.url) for _ in range(10)]
        for token in tokens:  # read on new connections: through either worker
            assert record(server.url, token)["state"] == "issued"
        listed = requests.get(f"{server.url}/__mockface/verifications", timeout=10,
                              params={"flow": "detect", "state": "issued"}).json()
        assert [entry["token"] for entry in listed["verifications"]] == tokens[::-1]
        winner, losers = race([server.url], tokens[0])
        assert len(losers) == CONCURRENT - 1
        assert {json.dumps(body["verification"]["outcome"], sort_keys=True)
                for body in losers} == {json.dumps(winner["outcome"], sort_keys=True)}
        assert text_of(server.url, tokens[0])["ErrCode"] == winner["outcome"]["err_code"]
    finally:
        server.stop()
