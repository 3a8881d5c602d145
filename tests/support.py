"""Test data and helpers shared by the test modules: apps, identities, media, signing."""
from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from io import BytesIO
from pathlib import Path

import requests
from click.testing import CliRunner

from mockface.core.clock import Clock
from mockface.core.config import App, Settings
from mockface.core.identity import with_check_digit
from mockface.emulator import Emulator
from mockface.products.legacy.signature import sign
from mockface.web.app import create_app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
#: Every code the seed documents (face and face-verification tables) plus -5806/-5807 of
#: the contract, written out so that a test fails when one goes missing or appears.
DOCUMENTED_CODES = frozenset({
    3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 21, 23, 24, 107, 108, 213,
    -1101, -1102, -1103, -1104, -1105, -1106, -1107, -1108, -1109, -1200,
    -1300, -1301, -1302, -1303, -1304, -1305, -1306, -1307, -1308, -1309, -1310, -1311, -1312,
    -1400, -1403, -4006, -4007, -4009, -4010, -4011, -4012, -4015, -4016, -4017, -4018,
    -5001, -5002, -5005, -5007, -5008, -5009, -5010, -5011, -5012, -5013, -5014, -5015, -5016,
    -5801, -5802, -5803, -5804, -5805, -5806, -5807, -5809, -5817})
NOW = 1_800_000_000  # 2027-01-15, the frozen time of unit tests

MAIN = App("1000001", {"AKIDmain": "main-key"})
BUCKETED = App("1000002", {"AKIDbucketA": "bucket-key-a", "AKIDbucketB": "bucket-key-b"},
               buckets=frozenset({"photos"}))
LIMITED = App("1000003", {"AKIDlimited": "limited-key"}, services=frozenset({"livegetfour"}))
SUSPENDED = App("1000004", {"AKIDsuspended": "suspended-key"}, suspended=True)
THROTTLED = App("1000005", {"AKIDthrottled": "throttled-key"}, rate_limit=2)
APPS = (MAIN, BUCKETED, LIMITED, SUSPENDED, THROTTLED)

ID_NUMBER = with_check_digit("11010519900307123")  # valid checksum and birth date
ID_NAME = "张三"
REGISTERED_NUMBER = with_check_digit("44030419851120456")
REGISTERED_NAME = "李四"


def media(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_settings(**changes) -> Settings:
    base = Settings(apps=APPS, identities={REGISTERED_NUMBER: REGISTERED_NAME})
    return base.with_overrides(**changes)


def auth(app: App = MAIN, **options) -> str:
    """A valid Authorization value for ``app`` issued at the frozen NOW."""
    secret_id, secret_key = next(iter(app.secrets.items()))
    options.setdefault("now", NOW)
    return sign(app.appid, secret_id, secret_key, **options)


class Caller:
    """Posts signed requests through a Flask test client and decodes the JSON answer."""

    def __init__(self, client) -> None:
        self.client = client

    def json(self, endpoint: str, body: dict, authorization: str | None = "default",
             **headers) -> tuple[int, dict]:
        if authorization == "default":
            authorization = auth()
        if authorization is not None:
            headers["Authorization"] = authorization
        response = self.client.post(f"/face/{endpoint}", data=json.dumps(body),
                                    content_type="application/json", headers=headers)
        return response.status_code, response.get_json()

    def multipart(self, endpoint: str, fields: dict, files: dict | None = None,
                  authorization: str | None = "default", headers: dict | None = None
                  ) -> tuple[int, dict]:
        if authorization == "default":
            authorization = auth()
        data = dict(fields)
        for name, content in (files or {}).items():
            data[name] = (BytesIO(content), f"{name}.bin")
        headers = dict(headers or {})
        if authorization is not None:
            headers["Authorization"] = authorization
        response = self.client.post(f"/face/{endpoint}", data=data, headers=headers,
                                    content_type="multipart/form-data")
        return response.status_code, response.get_json()


def caller_with(clock: Clock, emulator_options: dict | None = None,
                **changes) -> tuple[Caller, Emulator]:
    """A Caller over a fresh emulator whose settings differ from the test defaults."""
    emulator = Emulator(make_settings(**changes), clock, **(emulator_options or {}))
    return Caller(create_app(emulator=emulator).test_client()), emulator


def run_concurrently(action, count: int = 20) -> list:
    """Run ``action()`` on ``count`` threads released together; return their results."""
    results: list = []
    barrier = threading.Barrier(count)

    def run():
        barrier.wait()
        results.append(action())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def signed_now(app: App = MAIN, **options) -> str:
    """A signature issued at the real current time (for servers running on real time)."""
    secret_id, secret_key = next(iter(app.secrets.items()))
    return sign(app.appid, secret_id, secret_key, now=int(time.time()), **options)


def valid_request(endpoint: str, **fields) -> dict:
    """``requests.post`` keyword arguments for a request that passes every check of
    ``endpoint`` for MAIN (fields override or add text fields)."""
    identity = {"appid": MAIN.appid, "idcard_number": ID_NUMBER, "idcard_name": ID_NAME}
    if endpoint == "idcardcompare":
        return {"json": {**identity, "url": "http://x/y.jpg", **fields}}
    if endpoint == "livedetectpicture":
        return {"data": {"appid": MAIN.appid, **fields},
                "files": {"image": ("f.jpg", media("face.jpg"))}}
    if endpoint == "livegetfour":
        return {"json": {"appid": MAIN.appid, **fields}}
    video = ("v.mp4", media("video.mp4"))
    if endpoint == "idcardlivedetectfour":
        return {"data": {**identity, "validate_data": "1234", **fields},
                "files": {"video": video}}
    return {"data": {"appid": MAIN.appid, "validate_data": "1234", "compare_flag": "true",
                     **fields},
            "files": {"video": video, "card": ("c.jpg", media("card.jpg"))}}


def run_mockface(*args: str) -> subprocess.CompletedProcess:
    """``python -m mockface ARGS`` to completion, output captured as text."""
    return subprocess.run([sys.executable, "-m", "mockface", *args], capture_output=True,
                          text=True, timeout=60)


class ServeProcess:
    """``mockface serve`` in a subprocess; reads its banner and polls health until ready."""

    def __init__(self, *args: str, env: dict | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockface", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})})
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.banner = self._read_banner()
        self.url = re.search(r"listening on (http://\S+)", self.banner).group(1)
        self._wait_healthy()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def _read_banner(self) -> str:
        text = ""
        while "-d '" not in text:
            line = self.lines.get(timeout=30)
            if line == "":
                raise AssertionError(f"serve exited: {self.proc.stderr.read()}")
            text += line
        return text

    def _wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/__mockface/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)  # polling interval, not synchronisation by sleeping
        raise AssertionError("server never became healthy")

    def stop(self) -> str:
        """SIGTERM, as CI sends it; the server must exit 0 and say so."""
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        assert self.proc.returncode == 0, err
        assert "mockface stopped" in err
        return err


def read_answers(sock: socket.socket, count: int) -> list[bytes]:
    """The bodies of ``count`` HTTP answers with Content-Length, read from ``sock``."""
    buffered, bodies = b"", []
    while len(bodies) < count:
        while b"\r\n\r\n" not in buffered:
            buffered += sock.recv(65536)
        head, _, buffered = buffered.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(buffered) < length:
            buffered += sock.recv(65536)
        bodies.append(buffered[:length])
        buffered = buffered[length:]
    return bodies


def wait_until(condition, seconds: float = 10.0) -> None:
    """Return once ``condition()`` is true; AssertionError after ``seconds`` (polled)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)  # polling interval


def read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends on ``sock`` until it closes the connection (a reset ends
    it too); socket.timeout when it does not close it within the socket's timeout."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def status_and_json(answer: bytes) -> tuple[int, dict]:
    """The HTTP status and the JSON body of a raw answer, which must say it is JSON."""
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), head
    return int(head.split()[1]), json.loads(body)


def declare_products_stores(state) -> None:
    """What an emulator does as it is built: declare every registered product's stores on
    ``state`` (a backend opened on its own stands for another process)."""
    from mockface.products import REGISTRY

    for product in REGISTRY:
        for spec in product.stores:
            state.store(spec)


def cli_runner() -> CliRunner:
    """A click CliRunner that keeps stderr apart from stdout (click 8.1 needs asking; 8.2
    on always does)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()
