"""W1 (signed ``livegetfour``, small JSON) four ways in one run, by hand (not a test):
plain HTTP, absolute-form through the proxy, HTTPS through a CONNECT tunnel, and ``--tls``;
then plain, the tunnel and ``--tls`` again with many connections at once (``--wide``, 300:
more than a relay thread each allowed, 256).

    python bench/proxy_tls.py [--seconds 5] [--rounds 3] [--wide 300]

Starts two servers (`mockface serve` and `mockface serve --tls`, with a temporary CA) and
drives each with keep-alive connections from several processes on loopback; every answer
is checked to be code 0, and a request that fails (a reset, a refused connection) counts
as an error and its connection is opened again.  Prints one JSON line per way and width
(median round).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import keep_alive_load, measure, median_round  # noqa: E402
from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY  # noqa: E402
from mockface.signing import sign  # noqa: E402

HOST = "recognition.image.myqcloud.com"
BODY = json.dumps({"appid": DEFAULT_APPID}).encode()


def connection(way: str, port: int, ca: str) -> tuple[http.client.HTTPConnection, str]:
    """A keep-alive connection for ``way`` and the request target to use on it."""
    if way == "plain":
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30), "/face/livegetfour"
    if way == "absolute-form":
        return (http.client.HTTPConnection("127.0.0.1", port, timeout=30),
                f"http://{HOST}/face/livegetfour")
    context = ssl.create_default_context(cafile=ca)
    if way == "connect-tls":
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
        conn.set_tunnel(HOST, 443)
        return conn, "/face/livegetfour"
    return (http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context),
            "/face/livegetfour")


def worker(way: str, port: int, ca: str, seconds: float, connections: int, out) -> None:
    headers = {"Authorization": sign(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                                     now=int(time.time())),
               "Content-Type": "application/json", "Host": HOST}
    target = connection(way, port, ca)[1]

    def send(conn: http.client.HTTPConnection) -> bool:
        try:
            conn.request("POST", target, body=BODY, headers=headers)
            response = conn.getresponse()
            return response.status == 200 and json.loads(response.read())["code"] == 0
        except (OSError, http.client.HTTPException):
            conn.close()  # the next request opens it again (and its tunnel)
            return False

    out.put(keep_alive_load(lambda: connection(way, port, ca)[0], send, seconds, connections))


def serve(*options: str, env: dict) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "mockface", "serve", "--port", "0",
                             "--quiet", *options], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)
    port = int(re.search(r"listening on \S+:(\d+)", proc.stdout.readline()).group(1))
    time.sleep(1.0)  # started by hand: let it finish starting before the load
    return proc, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="per process")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wide", type=int, default=300,
                        help="connections in all for the second set of rows (0: none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as ca_dir:
        env = {**os.environ, "MOCKFACE_CA_DIR": ca_dir}
        plain, plain_port = serve(env=env)
        tls, tls_port = serve("--tls", env=env)
        ca = str(Path(ca_dir) / "mockface-ca.pem")
        ways = {"plain": plain_port, "absolute-form": plain_port, "connect-tls": plain_port,
                "tls": tls_port}
        runs = [(way, args.connections) for way in ways]
        if args.wide:
            runs += [(way, -(-args.wide // args.processes))
                     for way in ("plain", "connect-tls", "tls")]
        try:
            print(f"{os.cpu_count()} cores")
            for way, per_process in runs:
                rounds = [measure(worker, (way, ways[way], ca), args.seconds, args.processes,
                                  per_process) for _ in range(args.rounds)]
                print(json.dumps({"way": way, **median_round(rounds)}), flush=True)
        finally:
            for proc in (plain, tls):
                proc.terminate()
                proc.wait()


if __name__ == "__main__":
    main()
