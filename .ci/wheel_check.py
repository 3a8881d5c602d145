"""Use mockface as a new user would: build the wheel, install it into a fresh venv in a
temporary directory outside the checkout, and run what the README promises from there.

Run by .ci/run after the suite (``python3 .ci/wheel_check.py``); exits non-zero at the first
broken promise, saying which.  Talks only to servers it starts on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GETTING_STARTED = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
#: What the wheel must carry besides the modules (mapped from the top-level folders).
MUST_SHIP = ["mockface/scenarios/wrong-digits.yaml", "mockface/scenarios/README.md",
             "mockface/fixtures/face.jpg", "mockface/fixtures/card.jpg",
             "mockface/fixtures/video.mp4", "mockface/data/photo.jpg",
             "mockface/web/templates/dashboard.html", "mockface/web/templates/rows.html",
             "mockface/web/templates/verifications.html",
             "mockface/products/faceid/samples/card-front.jpg",
             "mockface/products/faceid/samples/card-back.jpg",
             "mockface/products/faceid/samples/video.mp4",
             "mockface/products/faceid/keys/mockface-test-rsa-public.pem",
             "mockface/products/faceid/keys/mockface-test-rsa-private.pem"]


def step(title: str) -> None:
    print(f"--- {title}", flush=True)


def run(*args: str | Path, cwd: Path, env: dict | None = None, expect: int = 0,
        timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != expect:
        sys.exit(f"FAILED: {' '.join(map(str, args))} exited {result.returncode} "
                 f"(expected {expect})\n{result.stdout}\n{result.stderr}")
    return result


def readme_python_example(url: str) -> str:
    """The manual's first request from Python (docs/getting-started.md), aimed at ``url``."""
    start = GETTING_STARTED.index("## A first request from Python\n")
    block = re.compile(r"```python\n(.*?)```", re.S).search(GETTING_STARTED, start)
    assert block is not None
    return block.group(1).replace("http://127.0.0.1:8080", url)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mockface-wheel-") as temp:
        work = Path(temp)
        step("build the wheel from the tracked files only")
        source = work / "src"  # a build/ folder in the checkout would leak stale modules
        tracked = run("git", "ls-files", "-z", cwd=ROOT).stdout.split("\0")
        for name in filter(None, tracked):
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
        run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "dist",
            source, cwd=work)
        [wheel] = (work / "dist").glob("mockface-*.whl")
        names = set(zipfile.ZipFile(wheel).namelist())
        missing = [name for name in MUST_SHIP if name not in names]
        if missing:
            sys.exit(f"FAILED: the wheel lacks {missing}")
        modules = {name for name in names if name.endswith(".py")}
        expected = {str(path.relative_to(ROOT)) for path in (ROOT / "mockface").rglob("*.py")
                    if "__pycache__" not in path.parts}
        if modules - expected - {"mockface/fixtures/make_fixtures.py"}:
            sys.exit(f"FAILED: the wheel has modules the source does not: "
                     f"{sorted(modules - expected)}")
        print(f"{wheel.name}: {len(names)} files")

        step("install it into a fresh venv")
        run(sys.executable, "-m", "venv", work / "venv", cwd=work)
        bin_dir = work / "venv" / "bin"
        run(bin_dir / "pip", "install", "-q", wheel, "pytest", "requests",
            "tencentcloud-sdk-python-faceid", cwd=work)
        home = work / "user"  # an empty directory: no ./scenarios, no checkout in sight
        home.mkdir()
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               "MOCKFACE_CA_DIR": str(work / "ca")}  # never the user's data directory
        for name in ("MOCKFACE_URL", "MOCKFACE_APPID", "MOCKFACE_SECRET_ID",
                     "MOCKFACE_SECRET_KEY", "MOCKFACE_ADMIN_TOKEN", "PYTHONPATH"):
            env.pop(name, None)
        mockface = bin_dir / "mockface"
        located = run(bin_dir / "python", "-c", "import mockface; print(mockface.__file__)",
                      cwd=home, env=env).stdout.strip()
        if not located.startswith(str(work / "venv")):
            sys.exit(f"FAILED: mockface imported from {located}, not from the venv")

        step("the library and the samples from any directory")
        listing = run(mockface, "scenarios", cwd=home, env=env).stdout
        if not re.search(r"^wrong-digits\s+The person read the wrong digits", listing, re.M):
            sys.exit(f"FAILED: mockface scenarios does not list wrong-digits:\n{listing}")
        run(mockface, "check", "wrong-digits", cwd=home, env=env)
        copied = run(mockface, "samples", "--out", "media", cwd=home, env=env).stdout.split()
        if sorted(Path(p).name for p in copied) != ["card.jpg", "face.jpg", "video.mp4"]:
            sys.exit(f"FAILED: mockface samples copied {copied}")

        step("mockface serve --scenario wrong-digits, and the README's Python example")
        ready = home / "ready.json"
        server = subprocess.Popen([str(mockface), "serve", "--port", "0", "--scenario",
                                   "wrong-digits", "--ready-file", str(ready)], cwd=home,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            url = run(mockface, "wait", "--ready-file", ready, "--pid", str(server.pid),
                      "--timeout", "30", cwd=home, env=env).stdout.strip()
            document = json.loads(ready.read_text())
            if document["url"] != url or document["appid"] != "123456":
                sys.exit(f"FAILED: ready file {document}")
            example = readme_python_example(url)
            live_status = run(bin_dir / "python", "-c", example, cwd=home, env=env).stdout.split()
            if live_status[0] != "-5008":
                sys.exit(f"FAILED: with wrong-digits the example printed {live_status}")
            request = urllib.request.Request(f"{url}/__mockface/scenarios", method="DELETE",
                                             data=b"{}",
                                             headers={"Content-Type": "application/json"})
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request).read()
            live_status, sim = run(bin_dir / "python", "-c", example, cwd=home,
                                   env=env).stdout.split()
            if live_status != "0" or not 80 <= int(sim) < 100:
                sys.exit(f"FAILED: the README example printed {live_status} {sim}")
            step("the dashboard and the OpenAPI documents (README, Why did it answer that?)")
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            page = opener.open(f"{url}/__mockface/ui").read().decode()
            if "<title>mockface dashboard</title>" not in page or "livedetectfour" not in page:
                sys.exit("FAILED: /__mockface/ui is not the dashboard with the journal")
            for name in ("legacy", "faceid", "admin"):
                document = json.load(opener.open(f"{url}/__mockface/openapi/{name}.json"))
                if document.get("openapi") != "3.1.0" or not document.get("paths"):
                    sys.exit(f"FAILED: /__mockface/openapi/{name}.json is not a document")
            step("proxy mode: an unmodified client on the real host name, via mockface env")
            exports = run(mockface, "env", "--url", url, cwd=home, env=env).stdout
            client = ("import os, time, requests\n"
                      "from mockface.signing import sign\n"
                      "auth = sign('123456', 'AKIDmockfaceDEVELOPMENTsecretid00001', "
                      "'mockfaceDEVELOPMENTsecretkey0001', now=int(time.time()))\n"
                      "print(requests.post('https://recognition.image.myqcloud.com/face/"
                      "livegetfour', json={'appid': '123456'}, headers={'Authorization': "
                      "auth}, timeout=10).json()['code'])\n")
            proxied = run("bash", "-c", f'{exports}\npython -c "{client}"', cwd=home,
                          env=env).stdout.strip()
            if proxied != "0":
                sys.exit(f"FAILED: through the proxy the client printed {proxied}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        if ready.exists():
            sys.exit("FAILED: the ready file outlived the server")

        step("mockface[redis]: serve --workers 2 --state redis:// (README, Load tests)")
        check_workers_on_redis(wheel, bin_dir, home, env, work)

        step("examples/test_with_mockface.py in-process")
        (home / "examples").mkdir()
        for name in ("test_with_mockface.py", "test_migration.py", "test_detectauth_flow.py",
                     "ci-recipe.sh"):
            (home / "examples" / name).write_bytes((ROOT / "examples" / name).read_bytes())
        outcome = run(bin_dir / "pytest", "-q", "-p", "no:cacheprovider",
                      "examples/test_with_mockface.py", cwd=home, env=env).stdout
        if "5 passed" not in outcome:
            sys.exit(f"FAILED: in-process example:\n{outcome}")

        step("examples/test_migration.py in-process (both APIs, Tencent's SDK)")
        outcome = run(bin_dir / "pytest", "-q", "-p", "no:cacheprovider",
                      "examples/test_migration.py", cwd=home, env=env).stdout
        if "6 passed" not in outcome:
            sys.exit(f"FAILED: in-process migration example:\n{outcome}")

        step("examples/test_detectauth_flow.py in-process (DetectAuth through the proxy, "
             "Chromium on the user page)")
        check_detectauth_example(bin_dir, home, env, work)

        step("examples/test_with_mockface.py attached to mockface serve (the CI recipe)")
        outcome = run("bash", "examples/ci-recipe.sh", cwd=home, env=env).stdout
        if "5 passed" not in outcome:
            sys.exit(f"FAILED: attached example:\n{outcome}")
        print("the installed wheel keeps every promise checked here")


def check_detectauth_example(bin_dir: Path, home: Path, env: dict, work: Path) -> None:
    """The integrator's end-to-end example (docs/flows.md) from the installed wheel: a Flask
    app calls DetectAuth through Tencent's SDK with mockface as its proxy, and Debian's
    Chromium, driven by Playwright, clicks through the user page to the app's callback."""
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        sys.exit("FAILED: chromium is needed (apt-get install chromium)")
    run(bin_dir / "pip", "install", "-q", "playwright", cwd=work)
    outcome = run(bin_dir / "pytest", "-q", "-p", "no:cacheprovider",
                  "examples/test_detectauth_flow.py", cwd=home, env=env).stdout
    if "2 passed" not in outcome:
        sys.exit(f"FAILED: the DetectAuth browser example:\n{outcome}")
    ready = home / "ready-flows.json"  # and attached to `mockface serve`: its own page URL
    server = subprocess.Popen([str(bin_dir / "mockface"), "serve", "--port", "0", "--quiet",
                               "--ready-file", str(ready)], cwd=home, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = run(bin_dir / "mockface", "wait", "--ready-file", ready, "--pid",
                  str(server.pid), "--timeout", "30", cwd=home, env=env).stdout.strip()
        outcome = run(bin_dir / "pytest", "-q", "-p", "no:cacheprovider",
                      "examples/test_detectauth_flow.py", cwd=home,
                      env={**env, "MOCKFACE_URL": url}).stdout
        if "2 passed" not in outcome:
            sys.exit(f"FAILED: the DetectAuth browser example attached to {url}:\n{outcome}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print("the DetectAuth example passed in-process and attached to mockface serve")


def check_workers_on_redis(wheel: Path, bin_dir: Path, home: Path, env: dict,
                           work: Path) -> None:
    """The README's several-process command from the installed wheel: two worker processes
    answer, and share their lip codes and journal through a throw-away redis-server."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("FAILED: redis-server is needed (apt-get install redis-server)")
    run(bin_dir / "pip", "install", "-q", f"{wheel}[redis]", cwd=work)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(work)],
                             stdout=subprocess.DEVNULL)
    ready = home / "ready-workers.json"
    server = None
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        server = subprocess.Popen([str(bin_dir / "mockface"), "serve", "--port", "0", "--quiet",
                                   "--workers", "2", "--state", f"redis://127.0.0.1:{port}/0",
                                   "--ready-file", str(ready)], cwd=home, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = run(bin_dir / "mockface", "wait", "--ready-file", ready, "--pid",
                  str(server.pid), "--timeout", "30", cwd=home, env=env).stdout.strip()
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        pids = {json.load(opener.open(f"{url}/__mockface/health"))["pid"] for _ in range(30)}
        if len(pids) != 2:
            sys.exit(f"FAILED: --workers 2 answered from processes {sorted(pids)}")
        client = ("import time, requests\n"
                  "from mockface.signing import sign\n"
                  "auth = sign('123456', 'AKIDmockfaceDEVELOPMENTsecretid00001', "
                  "'mockfaceDEVELOPMENTsecretkey0001', now=int(time.time()))\n"
                  "for _ in range(10):\n"
                  f"    r = requests.post('{url}/face/livegetfour', json={{'appid': '123456'}}, "
                  "headers={'Authorization': auth, 'Connection': 'close'}, timeout=10)\n"
                  "    assert r.json()['code'] == 0, r.text\n")
        run(bin_dir / "python", "-c", client, cwd=home, env=env)
        codes = json.load(opener.open(f"{url}/__mockface/lip-codes"))["lip_codes"]["123456"]
        journal = json.load(opener.open(f"{url}/__mockface/requests"))["requests"]
        if len(codes) != 10 or len(journal) != 10:
            sys.exit(f"FAILED: the workers shared {len(codes)} lip codes and {len(journal)} "
                     "journal entries, not 10")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=30)
    if server.returncode != 0:
        sys.exit(f"FAILED: --workers 2 exited {server.returncode} on SIGTERM")
    print("two workers answered and shared 10 lip codes and journal entries through Redis")


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"wheel check took {time.monotonic() - started:.0f} s")
