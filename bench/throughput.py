"""Requests per second against a running mockface (run by hand; not part of the test suite).

    python bench/throughput.py                      # starts `mockface serve` itself
    python bench/throughput.py --url http://127.0.0.1:8080 --seconds 10
    python bench/throughput.py --serve-args "--workers 2 --state redis://127.0.0.1:6379/0"

Workloads: signed ``livegetfour`` (small JSON) and signed ``idcardcompare`` with a 100 KB
JPEG (multipart); on API 3.0, TC3-signed ``GetLiveCode`` and ``ImageRecognitionV2`` with the
same JPEG in base64.  The load comes from several processes, each with keep-alive connections
on threads, all on loopback.  Every request is checked to answer code 0.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import keep_alive_load, measure, median_round  # noqa: E402
from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY  # noqa: E402
from mockface.core.identity import with_check_digit  # noqa: E402
from mockface.signing import sign_tc3  # noqa: E402
from mockface.signing import sign  # noqa: E402

WORKLOADS = ("livegetfour", "idcardcompare", "faceid:GetLiveCode", "faceid:ImageRecognitionV2")


def workloads() -> dict[str, tuple[bytes, str]]:
    """Name -> (body, content type)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (("appid", DEFAULT_APPID), ("idcard_number",
                        with_check_digit("11010519900307123")), ("idcard_name", "张三")):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    jpeg = (ROOT / "fixtures" / "face-100k.jpg").read_bytes()
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
                 f'filename="face.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode() + jpeg +
                 f"\r\n--{boundary}--\r\n".encode())
    image = json.dumps({"IdCard": with_check_digit("11010519900307123"), "Name": "张三",
                        "ImageBase64": base64.b64encode(jpeg).decode()}).encode()
    return {
        "livegetfour": (json.dumps({"appid": DEFAULT_APPID}).encode(), "application/json"),
        "idcardcompare": (b"".join(parts), f"multipart/form-data; boundary={boundary}"),
        "faceid:GetLiveCode": (b"{}", "application/json; charset=utf-8"),
        "faceid:ImageRecognitionV2": (image, "application/json; charset=utf-8"),
    }


def request_of(url: str, endpoint: str, body: bytes, content_type: str
               ) -> tuple[str, dict[str, str]]:
    """The path and headers of one signed request (TC3 signatures hold for 5 minutes)."""
    if ":" in endpoint:
        action = endpoint.split(":")[1]
        return "/", sign_tc3(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, service="faceid",
                             host=urllib.parse.urlsplit(url).netloc, action=action,
                             timestamp=int(time.time()), body=body, content_type=content_type)
    authorization = sign(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                         now=int(time.time()), expires_in=3600)
    return f"/face/{endpoint}", {"Authorization": authorization, "Content-Type": content_type}


def succeeded(status: int, payload: bytes) -> bool:
    answer = json.loads(payload)
    if "Response" in answer:
        return status == 200 and "Error" not in answer["Response"]
    return status == 200 and answer["code"] == 0


def worker(url: str, endpoint: str, seconds: float, connections: int, out) -> None:
    body, content_type = workloads()[endpoint]
    parsed = urllib.parse.urlsplit(url)
    path, headers = request_of(url, endpoint, body, content_type)

    def send(conn: http.client.HTTPConnection) -> bool:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return succeeded(response.status, response.read())

    out.put(keep_alive_load(
        lambda: http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30), send,
        seconds, connections))


def start_server(*extra: str) -> tuple[subprocess.Popen, str]:
    """``mockface serve --port 0 --quiet EXTRA`` once it answers, and its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "mockface", "serve", "--port", "0", "--quiet",
                             *extra], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    url = re.search(r"listening on (\S+)", proc.stdout.readline()).group(1)
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection(urllib.parse.urlsplit(url).hostname,
                                              urllib.parse.urlsplit(url).port, timeout=1)
            conn.request("GET", "/__mockface/health")
            if conn.getresponse().status == 200:
                return proc, url
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not become healthy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="per process")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=WORKLOADS)
    parser.add_argument("--serve-args", default="", metavar="ARGS",
                        help='more `mockface serve` options for the server started here, e.g. '
                             '"--workers 2 --state redis://127.0.0.1:6379/0"')
    args = parser.parse_args()
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server(*shlex.split(args.serve_args))
    try:
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}; server {url}")
        for endpoint in args.workloads:
            rounds = [measure(worker, (url, endpoint), args.seconds, args.processes,
                              args.connections) for _ in range(args.rounds)]
            print(json.dumps({"endpoint": endpoint, **median_round(rounds)}))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
