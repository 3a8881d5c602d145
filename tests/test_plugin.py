"""The pytest plugin, exercised with pytester: in-process, under xdist, attached by URL; and
its handle, ``mockface.testing``, used without pytest."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import requests

from mockface import pytest_plugin
from mockface.client import AdminClient
from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, App
from mockface.testing import Clock, Credentials, Mockface, MockfaceServer
from mockface.web import server as web_server

from .support import FIXTURES, ServeProcess, signed_now

DEV_APP = App(DEFAULT_APPID, {DEFAULT_SECRET_ID: DEFAULT_SECRET_KEY})

BASIC = '''
import requests
import pytest

def lip(mockface, **headers):
    return requests.post(f"{mockface.url}/face/livegetfour", json={"appid": mockface.appid},
                         headers={"Authorization": mockface.sign(), **headers}, timeout=10).json()

def test_signed_call_and_journal(mockface):
    assert lip(mockface)["code"] == 0
    [entry] = mockface.requests("livegetfour")
    assert entry["appid"] == mockface.appid and entry["code"] == 0
    assert entry["signature"]["status"] == "passed" and entry["rule"] == "default"
    mockface.assert_called("livegetfour", times=1)

def test_reset_between_tests(mockface):
    assert mockface.requests() == [] and mockface.lip_codes == []
    code = lip(mockface)["data"]["validate_data"]
    assert mockface.lip_codes == [code]

def test_respond_one_liner_newest_first(mockface):
    mockface.respond("livegetfour", validate_data="1111")
    mockface.respond("livegetfour", validate_data="2222", times=1)
    assert lip(mockface)["data"]["validate_data"] == "2222"
    assert lip(mockface)["data"]["validate_data"] == "1111"

def test_use_library_scenario(mockface):
    mockface.use("rate-limited")
    answer = lip(mockface)
    assert answer == {"code": 15, "message": "request too frequent"}

def test_use_dict_and_file(mockface, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("rules:\\n  - respond: {validate_data: '4242'}\\n")
    mockface.use(str(path))
    assert lip(mockface)["data"]["validate_data"] == "4242"

def test_clock_freeze_and_advance_expire_signatures(mockface):
    mockface.clock.freeze(1_800_000_000)
    header = mockface.sign(expires_in=60)
    ok = requests.post(f"{mockface.url}/face/livegetfour", json={"appid": mockface.appid},
                       headers={"Authorization": header}, timeout=10).json()
    assert ok["code"] == 0
    mockface.clock.advance(61)
    expired = requests.post(f"{mockface.url}/face/livegetfour", json={"appid": mockface.appid},
                            headers={"Authorization": header}, timeout=10).json()
    assert expired["code"] == 9

@pytest.mark.mockface(scenario="wrong-digits")
def test_marker_scenario(mockface):
    with open(FIXTURE, "rb") as video:
        answer = requests.post(f"{mockface.url}/face/livedetectfour",
                               headers={"Authorization": mockface.sign()},
                               data={"appid": mockface.appid, "validate_data": "1234",
                                     "compare_flag": "false"},
                               files={"video": video}, timeout=10).json()
    assert answer["data"]["live_status"] == -5008

@pytest.mark.mockface(loose=True)
def test_marker_loose(mockface):
    header = mockface.sign(secret_key="wrong")
    assert lip(mockface, Authorization=header)["code"] == 0

def test_signature_checks_are_strict_again(mockface):
    assert lip(mockface, Authorization=mockface.sign(secret_key="wrong"))["code"] == 14

def test_credentials(mockface, mockface_server):
    creds = mockface.credentials
    assert (creds.appid, creds.secret_id, creds.secret_key) == (
        mockface_server.appid, mockface_server.secret_id, mockface_server.secret_key)
    assert mockface_server.admin.health()["status"] == "ok"
'''


def basic_suite(pytester: pytest.Pytester) -> None:
    video = str(FIXTURES / "video.mp4")
    pytester.makepyfile(test_basic=f"FIXTURE = {video!r}\n" + BASIC)


def test_in_process_server_and_every_method(pytester: pytest.Pytester):
    basic_suite(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=10)


def test_assert_called_failure_lists_what_was_received(pytester: pytest.Pytester):
    pytester.makepyfile('''
        import requests

        def test_wrong_expectation(mockface):
            requests.post(f"{mockface.url}/face/livegetfour",
                          json={"appid": mockface.appid, "seq": "abc"},
                          headers={"Authorization": mockface.sign()}, timeout=10)
            mockface.assert_called("idcardcompare", times=1)
    ''')
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*expected idcardcompare 1 time(s), got 0.*",
        "*The server received 1 request(s):*",
        '*#1 livegetfour appid=123456 code=0 rule=default fields={"appid": "123456", '
        '"seq": "abc"}*',
    ])


def test_scenario_directory_option_and_ini(pytester: pytest.Pytester):
    extra = pytester.mkdir("qa")
    (extra / "local-only.yaml").write_text("rules:\n  - respond: {validate_data: '0007'}\n")
    pytester.makepyfile('''
        import requests

        def test_local(mockface):
            mockface.use("local-only")
            answer = requests.post(f"{mockface.url}/face/livegetfour",
                                   json={"appid": mockface.appid},
                                   headers={"Authorization": mockface.sign()}, timeout=10)
            assert answer.json()["data"]["validate_data"] == "0007"
    ''')
    pytester.runpytest_subprocess("--mockface-scenarios", str(extra)).assert_outcomes(passed=1)
    pytester.makeini(f"[pytest]\nmockface_scenarios =\n    {extra}\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


ISOLATION = '''
import pytest
import requests

@pytest.mark.parametrize("n", range(12))
def test_isolated(mockface, n):
    mockface.respond("livegetfour", validate_data=f"{n:04d}")
    for _ in range(3):
        answer = requests.post(f"{mockface.url}/face/livegetfour",
                               json={"appid": mockface.appid, "seq": str(n)},
                               headers={"Authorization": mockface.sign()}, timeout=10).json()
        assert answer["data"]["validate_data"] == f"{n:04d}"
    entries = mockface.requests("livegetfour")
    assert [e["fields"]["seq"] for e in entries] == [str(n)] * 3
'''


def test_xdist_in_process_servers_do_not_clash(pytester: pytest.Pytester):
    pytester.makepyfile(test_isolation=ISOLATION)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=12)


@pytest.fixture(scope="module")
def shared_server():
    server = ServeProcess("--quiet")
    yield server
    server.stop()


def test_attach_by_url_option(pytester: pytest.Pytester, shared_server):
    basic_suite(pytester)
    result = pytester.runpytest_subprocess("--mockface-url", shared_server.url)
    result.assert_outcomes(passed=10)


def test_attach_by_environment_under_xdist(pytester: pytest.Pytester, shared_server,
                                           monkeypatch):
    pytester.makepyfile(test_isolation=ISOLATION)
    monkeypatch.setenv("MOCKFACE_URL", shared_server.url)
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=12)


def test_attach_uses_a_private_namespace(pytester: pytest.Pytester, shared_server):
    pytester.makepyfile(textwrap.dedent('''
        def test_namespace(mockface, mockface_server):
            assert mockface_server.attached
            assert mockface.appid == mockface_server.namespace
            assert mockface.appid.startswith("ns-main-")
    '''))
    pytester.runpytest_subprocess("--mockface-url", shared_server.url).assert_outcomes(passed=1)


def test_attach_to_nothing_fails_clearly(pytester: pytest.Pytester):
    pytester.makepyfile("def test_x(mockface):\n    pass\n")
    result = pytester.runpytest_subprocess("--mockface-url", "http://127.0.0.1:1",
                                           "--mockface-timeout", "0.5")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mockface at http://127.0.0.1:1 not healthy after*"])


def test_shared_server_is_left_as_it_was_found(pytester: pytest.Pytester, shared_server):
    """A session that froze and advanced the clock and created its namespace app leaves
    neither behind: a real-time signature still works afterwards (5 runs used to leave 11
    apps and a frozen clock)."""
    admin = AdminClient(shared_server.url)
    apps_before = [app["appid"] for app in admin.config()["apps"]]
    clock_before = admin.clock()
    pytester.makepyfile(textwrap.dedent('''
        def test_freezes(mockface):
            mockface.clock.freeze(1_800_000_000)
            mockface.clock.advance(3600)
            assert mockface.clock.now() == 1_800_003_600

        def test_clock_is_back_for_the_next_test(mockface):
            assert abs(mockface.clock.now() - __import__("time").time()) < 60

        def test_advances(mockface):
            mockface.clock.advance(-10_000)
    '''))
    for _ in range(2):
        pytester.runpytest_subprocess("--mockface-url", shared_server.url
                                      ).assert_outcomes(passed=3)
    assert [app["appid"] for app in admin.config()["apps"]] == apps_before
    after = admin.clock()
    assert (after["frozen"], after["offset"]) == (clock_before["frozen"], clock_before["offset"])
    answer = requests.post(f"{shared_server.url}/face/livegetfour", json={"appid": "123456"},
                           headers={"Authorization": signed_now(DEV_APP)}, timeout=10)
    assert answer.json()["code"] == 0


def test_attach_to_a_token_server_names_the_variable(pytester: pytest.Pytester, monkeypatch):
    server = ServeProcess("--quiet", "--admin-token", "s3cret")
    try:
        pytester.makepyfile("def test_x(mockface):\n    pass\n")
        monkeypatch.delenv("MOCKFACE_ADMIN_TOKEN", raising=False)
        result = pytester.runpytest_subprocess("--mockface-url", server.url)
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines([f"*mockface at {server.url} requires its admin token and "
                                     "got no token: set $MOCKFACE_ADMIN_TOKEN*"])
        monkeypatch.setenv("MOCKFACE_ADMIN_TOKEN", "s3cret")
        pytester.runpytest_subprocess("--mockface-url", server.url).assert_outcomes(passed=1)
    finally:
        server.stop()


def test_new_identity_is_registered_on_the_server(pytester: pytest.Pytester, shared_server):
    pytester.makepyfile(textwrap.dedent('''
        import requests

        def compare(mockface, number, name):
            return requests.post(f"{mockface.url}/face/idcardcompare", timeout=10,
                                 headers={"Authorization": mockface.sign()},
                                 json={"appid": mockface.appid, "idcard_number": number,
                                       "idcard_name": name, "url": "http://x/y.jpg"}
                                 ).json()["code"]

        def test_identity(mockface):
            person = mockface.new_identity()
            other = "王五" if person["idcard_name"] != "王五" else "赵六"
            assert compare(mockface, person["idcard_number"], person["idcard_name"]) == 0
            assert compare(mockface, person["idcard_number"], other) == -5803
            fixed = mockface.new_identity(idcard_name="张三")
            assert fixed["idcard_name"] == "张三"
    '''))
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    pytester.runpytest_subprocess("--mockface-url", shared_server.url).assert_outcomes(passed=1)


def test_loading_the_plugin_imports_neither_flask_nor_the_emulator():
    code = ("import sys, mockface.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'werkzeug', 'waitress', 'yaml', 'faker') or m in "
            "('mockface.emulator', 'mockface.web.app', 'mockface.web.admin', 'urllib.request')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_admin_client_ignores_proxy_variables(live_server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert AdminClient(live_server.url).health()["status"] == "ok"


API3 = '''
import json
import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.faceid.v20180301 import models

def test_official_client_with_journal_and_one_liner(mockface, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")   # a dead proxy is never used
    client = mockface.faceid_client()
    code = client.GetLiveCode(models.GetLiveCodeRequest()).LiveCode
    assert mockface.lip_codes == [code]
    mockface.respond("faceid:LivenessCompare", result="FailedOperation.CompareLowSimilarity",
                     sim=12.5)
    request = models.LivenessCompareRequest()
    request.from_json_string(json.dumps({"LivenessType": "SILENT", "ImageUrl": "https://x/a",
                                         "VideoUrl": "https://x/b"}))
    answer = client.LivenessCompare(request)
    assert (answer.Result, answer.Sim) == ("FailedOperation.CompareLowSimilarity", 12.5)
    mockface.assert_called("faceid:GetLiveCode", times=1)
    [entry] = mockface.requests("faceid:LivenessCompare")
    assert entry["appid"] == mockface.appid and entry["rule"] == "respond-1#1"

def test_common_client_for_iai_and_errors(mockface):
    answer = mockface.common_client("iai").call_json("DetectLiveFace", {"Url": "https://x/a"})
    assert answer["Response"]["IsLiveness"] is True
    mockface.respond("faceid:*", error="AuthFailure.SignatureExpire")
    with pytest.raises(TencentCloudSDKException) as caught:
        mockface.faceid_client(language="en-US").GetLiveCode(models.GetLiveCodeRequest())
    assert caught.value.get_code() == "AuthFailure.SignatureExpire"
    mockface.assert_called("faceid:GetLiveCode", code="AuthFailure.SignatureExpire")
    assert mockface.faceid_endpoint == mockface.url.split("//")[1]
'''


BOTH_MODES = pytest.mark.parametrize("attached", [False, True], ids=["in-process", "attached"])


def run_suite(pytester: pytest.Pytester, source: str, server, attached: bool) -> None:
    """Run a test file with the in-process server, or attached to ``server``; both pass."""
    pytester.makepyfile(test_suite=source)
    options = ["--mockface-url", server.url] if attached else []
    pytester.runpytest_subprocess(*options).assert_outcomes(passed=2)


@BOTH_MODES
def test_api3_from_the_fixture(pytester: pytest.Pytester, shared_server, attached):
    run_suite(pytester, API3, shared_server, attached)


PROXIED = '''
import os
import requests

BEFORE = {name: os.environ.get(name) for name in ("HTTPS_PROXY", "REQUESTS_CA_BUNDLE")}

def test_an_unmodified_client_reaches_the_real_host_name(mockface, mockface_proxy):
    answer = requests.post("https://recognition.image.myqcloud.com/face/livegetfour",
                           json={"appid": mockface.appid},
                           headers={"Authorization": mockface.sign()}, timeout=10).json()
    assert answer["code"] == 0
    [entry] = mockface.requests("livegetfour")       # admin calls still go direct
    assert entry["appid"] == mockface.appid
    assert os.environ["HTTPS_PROXY"] == mockface.url == mockface_proxy["HTTPS_PROXY"]

def test_the_environment_is_restored_afterwards():
    assert {name: os.environ.get(name) for name in BEFORE} == BEFORE
'''


@BOTH_MODES
def test_mockface_proxy_fixture(pytester: pytest.Pytester, shared_server, attached):
    run_suite(pytester, PROXIED, shared_server, attached)


OVER_TLS = '''
import requests
from tencentcloud.faceid.v20180301 import models

def test_the_in_process_server_speaks_https(mockface):
    assert mockface.url.startswith("https://127.0.0.1:") and mockface.ca_cert
    answer = requests.post(f"{mockface.url}/face/livegetfour", json={"appid": mockface.appid},
                           headers={"Authorization": mockface.sign()},
                           verify=mockface.ca_cert, timeout=10).json()
    assert answer["code"] == 0
    assert len(mockface.faceid_client().GetLiveCode(models.GetLiveCodeRequest()).LiveCode) == 4
    mockface.assert_called("faceid:GetLiveCode", times=1)
'''


def test_the_in_process_server_with_tls(pytester: pytest.Pytester):
    pytester.makepyfile(test_tls=OVER_TLS)
    pytester.runpytest_subprocess("--mockface-tls").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nmockface_tls = true\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


WITHOUT_PYTEST = '''
import sys
import time
import unittest

import requests

from mockface.testing import Mockface, MockfaceServer


class WithoutPytest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = MockfaceServer.start()
        cls.addClassCleanup(cls.server.close)

    def setUp(self):
        self.mockface = Mockface(self.server)
        self.mockface.reset()
        self.addCleanup(self.mockface.clock.restore)

    def lip(self, authorization=None):
        return requests.post(f"{self.mockface.url}/face/livegetfour",
                             json={"appid": self.mockface.appid}, timeout=10,
                             headers={"Authorization": authorization or self.mockface.sign()}
                             ).json()

    def test_1_one_liner_journal_and_lip_codes(self):
        self.mockface.respond("livegetfour", validate_data="2468", times=1)
        self.assertEqual(self.lip()["data"]["validate_data"], "2468")
        second = self.lip()["data"]["validate_data"]
        self.assertEqual(self.mockface.lip_codes, ["2468", second])
        entries = self.mockface.assert_called("livegetfour", times=2)
        self.assertEqual([entry["rule"] for entry in entries], ["respond-1#1", "default"])
        with self.assertRaisesRegex(AssertionError, "expected idcardcompare at least once"):
            self.mockface.assert_called("idcardcompare")

    def test_2_each_test_starts_reset(self):
        self.assertEqual((self.mockface.requests(), self.mockface.lip_codes), ([], []))

    def test_3_frozen_clock_expires_a_signature(self):
        self.assertEqual(self.mockface.clock.freeze(1_800_000_000), 1_800_000_000)
        header = self.mockface.sign(expires_in=60)
        self.assertEqual(self.lip(header)["code"], 0)
        self.mockface.clock.advance(61)
        self.assertEqual(self.lip(header)["code"], 9)

    def test_4_the_clock_is_back(self):
        self.assertLess(abs(self.mockface.clock.now() - time.time()), 60)

    def test_5_pytest_was_never_imported(self):
        self.assertNotIn("pytest", sys.modules)
        self.assertNotIn("_pytest", sys.modules)
'''


def test_the_handle_runs_under_unittest_without_pytest(tmp_path):
    (tmp_path / "test_unit.py").write_text(WITHOUT_PYTEST, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "unittest", "-v", "test_unit"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(" ... ok\n") == 5 and "Ran 5 tests" in result.stderr


def test_an_attached_handle_gives_its_namespace_and_the_clock_back(shared_server):
    admin = AdminClient(shared_server.url)
    apps_before = [app["appid"] for app in admin.config()["apps"]]
    clock_before = admin.clock()
    with MockfaceServer.attach(shared_server.url, worker="unit") as server:
        assert server.attached and server.namespace is not None
        assert server.namespace.startswith("ns-unit-")
        assert [app["appid"] for app in admin.config()["apps"]] == apps_before + [
            server.namespace]
        with Mockface(server) as mockface:
            assert mockface.appid == server.namespace
            assert mockface.clock.freeze(1_800_000_000) == 1_800_000_000
            answer = requests.post(f"{server.url}/face/livegetfour", timeout=10,
                                   json={"appid": mockface.appid},
                                   headers={"Authorization": mockface.sign()}).json()
            assert answer["code"] == 0
            assert admin.clock()["frozen"] is True
        after = admin.clock()
        assert {key: after[key] for key in ("frozen", "frozen_at", "offset")} == {
            key: clock_before[key] for key in ("frozen", "frozen_at", "offset")}
        assert len(Mockface(server).requests("livegetfour")) == 1
        with Mockface(server) as again:
            assert again.requests() == []
    assert [app["appid"] for app in admin.config()["apps"]] == apps_before


def test_a_closed_in_process_server_stops_listening():
    with MockfaceServer.start() as server:
        assert not server.attached and server.namespace is None and server.ca_cert is None
        assert (server.appid, server.secret_id, server.secret_key) == (
            DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
        assert server.admin.health()["status"] == "ok"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/__mockface/health", timeout=5)


def test_a_server_that_never_gets_healthy_is_stopped(monkeypatch):
    started = []
    real_start = web_server.start_background

    def recording(*args, **kwargs):
        started.append(real_start(*args, **kwargs))
        return started[-1]

    def never_healthy(self, timeout=30.0, interval=0.05):
        raise TimeoutError(f"mockface at {self.url} not healthy after {timeout:g} s")

    monkeypatch.setattr(web_server, "start_background", recording)
    monkeypatch.setattr(AdminClient, "wait_until_healthy", never_healthy)
    with pytest.raises(TimeoutError, match=r"not healthy after 0\.5 s"):
        MockfaceServer.start(timeout=0.5)
    [background] = started
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{background.url}/__mockface/health", timeout=5)


def test_the_plugin_gives_the_handle_of_mockface_testing():
    assert (pytest_plugin.Mockface, pytest_plugin.MockfaceServer, pytest_plugin.Clock,
            pytest_plugin.Credentials) == (Mockface, MockfaceServer, Clock, Credentials)


def test_importing_the_handle_imports_neither_pytest_nor_the_emulator():
    code = ("import sys, mockface.testing; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pytest', '_pytest', 'flask', 'werkzeug', 'waitress', 'yaml', 'faker') or m in "
            "('mockface.emulator', 'mockface.web.app', 'mockface.web.admin', "
            "'mockface.pytest_plugin', 'urllib.request')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
