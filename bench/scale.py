"""mockface alone against mockface on Redis, side by side in one run (by hand; not a test).

    python bench/scale.py                       # W1-W2 style workloads, workers 1 and 2
    python bench/scale.py --workers 1 2 4 --workloads livegetfour --seconds 5

Starts a throw-away ``redis-server`` (Debian's) on a free loopback port, then for each row
a server: ``mockface serve`` (state in memory), and ``mockface serve --workers N --state
redis://...`` for each N.  Each row gets the same signed requests from the load generator of
bench/throughput.py (several processes with keep-alive connections; every answer checked);
medians of ``--rounds`` rounds.  Ratios within one run are what to read.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import measure, median_round  # noqa: E402
from bench.throughput import WORKLOADS, start_server, worker  # noqa: E402


def start_redis(directory: str) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", directory],
                            stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return proc, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS,
                        default=["livegetfour", "idcardcompare"])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="per process")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; load: {args.processes} processes x "
          f"{args.connections} connections, {args.rounds} rounds of {args.seconds:g} s")
    with tempfile.TemporaryDirectory() as directory:
        redis, port = start_redis(directory)
        rows = [("memory, 1 process", ())]
        rows += [(f"redis, --workers {n}", ("--workers", str(n), "--state",
                                            f"redis://127.0.0.1:{port}/0?prefix=w{n}:"))
                 for n in args.workers]
        try:
            for label, extra in rows:
                proc, url = start_server(*extra)
                try:
                    for endpoint in args.workloads:
                        rounds = [measure(worker, (url, endpoint), args.seconds,
                                          args.processes, args.connections)
                                  for _ in range(args.rounds)]
                        print(json.dumps({"server": label, "endpoint": endpoint,
                                          **median_round(rounds)}), flush=True)
                finally:
                    proc.terminate()
                    proc.wait()
        finally:
            redis.terminate()
            redis.wait()


if __name__ == "__main__":
    main()
