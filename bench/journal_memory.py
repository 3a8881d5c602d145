"""Memory of a server under sustained load stays flat (run by hand; not part of the tests).

    python bench/journal_memory.py [--requests 20000]

Sends signed requests carrying a 100 KB text field and a 100 KB JPEG to an in-process server
with the default journal size (1,000 entries), and prints the process's resident memory after
each batch. Flat numbers after the first thousand requests mean the journal and the other
stores are bounded.
"""
from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockface.core.config import load_settings  # noqa: E402
from mockface.emulator import Emulator  # noqa: E402
from mockface.legacy.signature import sign  # noqa: E402
from mockface.web.app import create_app  # noqa: E402
from mockface.web.server import start_background  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    settings = load_settings(env={})
    emulator = Emulator(settings)
    server = start_background(create_app(emulator=emulator))
    app = settings.default_app
    secret_id, secret_key = next(iter(app.secrets.items()))
    boundary = "benchboundary"
    jpeg = (ROOT / "fixtures" / "face-100k.jpg").read_bytes()
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="appid"\r\n\r\n{app.appid}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="seq"\r\n\r\n{"s" * 100_000}'
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="image"; '
            f'filename="f.jpg"\r\n\r\n').encode() + jpeg + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
               "Authorization": sign(app.appid, secret_id, secret_key, now=int(time.time()),
                                     expires_in=7200)}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    print(json.dumps({"requests": 0, "rss_mb": round(rss_mb(), 1)}))
    for sent in range(1, args.requests + 1):
        conn.request("POST", "/face/livedetectpicture", body=body, headers=headers)
        response = conn.getresponse()
        assert json.loads(response.read())["code"] == 0
        if sent in (1000, 2000, 5000) or sent % 5000 == 0:
            print(json.dumps({"requests": sent, "rss_mb": round(rss_mb(), 1),
                              "journal_entries": len(emulator.journal)}))
    server.stop()


if __name__ == "__main__":
    main()
