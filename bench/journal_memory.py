"""The server's memory stays flat under sustained load (run by hand; not part of the tests).

    python bench/journal_memory.py                       # 100,000 W2 requests
    python bench/journal_memory.py --requests 20000 --endpoint livedetectfour --serve-args=

Starts ``mockface serve`` (default flags, journal of 1,000 entries) and sends it signed W2
requests (``idcardcompare`` with a 100 KB JPEG) from keep-alive connections in two processes,
reading the server's resident memory (``VmRSS``) after the first 1,000 requests and then after
each round.  The target of issue 11: within +10 MB of the 1,000-request figure at 100,000.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import measure  # noqa: E402
from bench.throughput import start_server, worker  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--endpoint", default="idcardcompare",
                        help="a workload of bench/throughput.py (default: W2)")
    parser.add_argument("--round-seconds", type=float, default=10.0)
    parser.add_argument("--serve-args", default="--journal-size 1000",
                        help="`mockface serve` options (it always gets --port 0 --quiet)")
    args = parser.parse_args()
    proc, url = start_server(*args.serve_args.split())
    try:
        sent, baseline = 0, None
        while sent < args.requests:
            # a short first round, to read the memory at about 1,000 requests
            seconds = 1.0 if baseline is None else args.round_seconds
            result = measure(worker, (url, args.endpoint), seconds, 2, 8)
            if result["errors"]:
                raise SystemExit(f"{result['errors']} wrong answers")
            sent += result["requests"]
            rss = rss_mb(proc.pid)
            baseline = rss if baseline is None else baseline
            print(json.dumps({"requests": sent, "rps": result["rps"], "rss_mb": round(rss, 1),
                              "growth_mb": round(rss - baseline, 1)}), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
