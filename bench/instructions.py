"""Instructions per W1 request, counted by valgrind's callgrind (by hand; not a test).

    python bench/instructions.py [--requests 1000]

Wall-clock benchmarks on a shared 2-core machine move by 30 % between runs; instruction
counts do not (callgrind counts the same total whatever else the machine does).  Each row
is a server under callgrind with collection off; after 200 warm-up requests collection is
switched on for ``--requests`` sequential keep-alive W1 requests (a small signed JSON POST),
then off.  The count covers the whole server process: waitress, the app, logging.

Rows: a bare Flask app on waitress answering a canned body (the issue's "bare Flask"
baseline), mockface with its defaults, and mockface --quiet.  Needs valgrind
(apt-get install valgrind); about 3 minutes.
"""
from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY  # noqa: E402
from mockface.signing import sign  # noqa: E402

BARE_APP = '''
from flask import Flask, Response, request
app = Flask("bare")
CANNED = b'{"code": 0, "message": "OK", "data": {"validate_data": "1234"}}'
@app.post("/face/livegetfour")
def answer():
    request.get_data()
    return Response(CANNED, mimetype="application/json")
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def send(port: int, count: int) -> None:
    """``count`` signed W1 requests on one keep-alive connection, each checked."""
    authorization = sign(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                         now=int(time.time()), expires_in=3600)
    body = json.dumps({"appid": DEFAULT_APPID}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    for _ in range(count):
        conn.request("POST", "/face/livegetfour", body=body,
                     headers={"Authorization": authorization,
                              "Content-Type": "application/json"})
        response = conn.getresponse()
        answer = json.loads(response.read())
        if response.status != 200 or answer["code"] != 0:
            raise SystemExit(f"unexpected answer {response.status} {answer}")
    conn.close()


def count(label: str, command: list[str], port: int, requests: int, work: Path,
          cwd: Path | None = None) -> int:
    """Instructions per request of the server ``command`` listening on ``port``."""
    out = work / f"{label}.callgrind"
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                             f"--callgrind-out-file={out}", *command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        for _ in range(1200):  # the server starts slowly under valgrind
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.25)
        send(port, 200)
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True,
                       capture_output=True)
        send(port, requests)
        subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], check=True,
                       capture_output=True)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True,
                       capture_output=True)
    finally:
        proc.terminate()
        proc.wait()
    total = 0
    for part in glob.glob(f"{out}*"):
        summary = subprocess.run(["callgrind_annotate", part], capture_output=True,
                                 text=True).stdout
        found = re.search(r"([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS", summary)
        total += int(found.group(1).replace(",", "")) if found else 0
    return total // requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        (work / "bare.py").write_text(BARE_APP)
        rows = []
        port = free_port()
        rows.append(("bare Flask on waitress (64 threads)", count(
            "bare", [python, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=64",
                     "bare:app"], port, args.requests, work, cwd=work)))
        for label, extra in (("mockface", []), ("mockface --quiet", ["--quiet"])):
            port = free_port()
            rows.append((label, count(label.replace(" ", ""), [
                python, "-m", "mockface", "serve", "--port", str(port), *extra],
                port, args.requests, work)))
    baseline = rows[0][1]
    print(f"W1, {args.requests} sequential keep-alive requests, instructions per request "
          f"(Python {sys.version.split()[0]}, {os.uname().machine}):")
    for label, value in rows:
        print(f"  {label:40} {value:>10,}  {baseline / value:.2f}x bare")


if __name__ == "__main__":
    main()
