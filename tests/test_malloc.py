"""``mockface serve`` keeps and reuses freed memory (glibc): large uploads do not cost a page
fault per page of every request."""
from __future__ import annotations

import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from mockface.core.config import builtin_app
from mockface.products.legacy.signature import sign

from .support import ServeProcess

BUILTIN = builtin_app({})

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc",
                                reason="the allocator tuning is for glibc only")

#: Three 2 MB buffers at once, freed, twenty times: what a 2 MB upload allocates (received
#: pieces, the joined part) over twenty requests.  Prints the page faults per round.
ROUNDS = """
import resource, sys
from mockface.web.malloc import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def rounds(n):
    for _ in range(n):
        held = [bytearray(2 << 20) for _ in range(3)]  # zeroed: every page is touched
        del held
rounds(3)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds(20)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def faults_per_round(mode: str) -> float:
    done = subprocess.run([sys.executable, "-c", ROUNDS, mode], capture_output=True,
                          text=True, timeout=60, check=True)
    return float(done.stdout)


def test_freed_memory_is_reused_without_page_faults():
    assert faults_per_round("keep") < 20  # of 1,536 pages per round
    assert faults_per_round("plain") > 500  # glibc's default gives most of them back


def minor_faults(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])


def test_concurrent_2_mb_uploads_cost_few_page_faults_in_the_server():
    server = ServeProcess("--quiet", "--threads", "4")  # each thread's heap warms up once
    upload = {"video": ("v.mp4", b"\0" * (2 << 20), "video/mp4")}
    fields = {"appid": BUILTIN.appid, "validate_data": "1234"}
    secret_id, secret_key = BUILTIN.first_secret

    def post(_: int) -> dict:
        authorization = sign(BUILTIN.appid, secret_id, secret_key, now=int(time.time()))
        return requests.post(f"{server.url}/face/livedetectfour", data=fields, files=upload,
                             headers={"Authorization": authorization}, timeout=30).json()

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(post, range(40)))
            before = minor_faults(server.proc.pid)
            answers = list(pool.map(post, range(40)))
        assert answers == [{"code": 21, "message": "invalid parameter"}] * 40  # not a video
        assert (minor_faults(server.proc.pid) - before) / 40 < 100  # 512 pages per 2 MB
    finally:
        server.stop()
