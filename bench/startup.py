"""How long until mockface answers its first request (run by hand; not part of the tests).

    python bench/startup.py [--rounds 20]

Measures, as the median of several rounds:
- the pytest plugin's in-process server (``MockfaceServer.start``: settings, scenario engine,
  Flask app, waitress in a thread, health polled until 200) — the fixture's set-up cost;
- ``mockface serve`` as a subprocess until its health answers 200, for comparison (this
  includes starting the Python interpreter and importing everything).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockface.testing import MockfaceServer  # noqa: E402


def in_process() -> float:
    started = time.perf_counter()
    server = MockfaceServer.start([])
    elapsed = time.perf_counter() - started
    server.stop()
    return elapsed


def subprocess_serve() -> float:
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mockface", "serve", "--port", "0", "--quiet"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    url = re.search(r"listening on (\S+)", proc.stdout.readline()).group(1)
    while True:
        try:
            with urllib.request.urlopen(f"{url}/__mockface/health", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.005)
    elapsed = time.perf_counter() - started
    proc.terminate()
    proc.wait()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    in_process()  # warm the imports once, as a test session has them loaded
    for name, measure, rounds in (("in-process fixture server", in_process, args.rounds),
                                  ("mockface serve subprocess", subprocess_serve,
                                   max(args.rounds // 4, 3))):
        times = [measure() for _ in range(rounds)]
        print(json.dumps({"what": name, "rounds": rounds,
                          "median_ms": round(statistics.median(times) * 1000, 1),
                          "max_ms": round(max(times) * 1000, 1)}))


if __name__ == "__main__":
    main()
