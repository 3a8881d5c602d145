"""The command line for API 3.0: ``mockface sign --api faceid|iai`` (headers and a curl
command a real server accepts) and ``mockface codes --api faceid --action``."""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest
import requests
from click.testing import CliRunner

from mockface.cli import main
from mockface.core.config import load_settings
from mockface.products import REGISTRY
from mockface.web.app import create_app
from mockface.web.server import start_background


@pytest.fixture(scope="module")
def default_server():
    """A server on the built-in defaults, the credentials ``mockface sign`` uses."""
    server = start_background(create_app(load_settings(env={})))
    yield server
    server.stop()


def headers_of(output: str) -> dict[str, str]:
    """The header lines of ``mockface sign --api faceid`` (click before 8.2 mixes the
    stderr note into the output)."""
    return dict(line.split(": ", 1) for line in output.splitlines()
                if not line.startswith("(send exactly"))


def run(*args: str):
    return CliRunner().invoke(main, list(args), env={"MOCKFACE_APPID": "",
                                                     "MOCKFACE_SECRET_ID": "",
                                                     "MOCKFACE_SECRET_KEY": ""})


def test_sign_faceid_prints_headers_the_server_accepts(default_server):
    body = json.dumps({"IdCard": "110105199003071239", "Name": "张三"})
    result = run("sign", "--api", "faceid", "--action", "IdCardVerification", "--body", body,
                 "--url", default_server.url)
    assert result.exit_code == 0, result.output
    headers = headers_of(result.stdout)
    assert set(headers) == {"Authorization", "Content-Type", "Host", "X-TC-Action",
                            "X-TC-Timestamp", "X-TC-Version"}
    assert headers["Host"] == default_server.url.split("//")[1]
    answer = requests.post(f"{default_server.url}/", data=body.encode(), headers=headers,
                           timeout=10).json()["Response"]
    assert answer["Result"] == "0"


def test_sign_with_another_body_is_refused(default_server):
    result = run("sign", "--api", "faceid", "--action", "GetLiveCode", "--url",
                 default_server.url)
    headers = headers_of(result.stdout)
    answer = requests.post(f"{default_server.url}/", data=b'{"x":1}', headers=headers,
                           timeout=10).json()["Response"]
    assert answer["Error"]["Code"] == "AuthFailure.SignatureFailure"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_sign_curl_prints_a_command_that_works(default_server):
    result = run("sign", "--api", "iai", "--action", "DetectLiveFace", "--body",
                 '{"Url": "https://example.invalid/a.jpg"}', "--url", default_server.url,
                 "--curl")
    assert result.exit_code == 0 and result.stdout.startswith("curl -sS ")
    done = subprocess.run(shlex.split(result.stdout), capture_output=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin", "NO_PROXY": "*"})
    answer = json.loads(done.stdout)["Response"]
    assert answer["IsLiveness"] is True and answer["FaceModelVersion"] == "3.0"


def test_sign_faceid_needs_an_action():
    result = run("sign", "--api", "faceid")
    assert result.exit_code == 2 and "--api faceid/iai needs --action" in result.output


def test_codes_for_one_action():
    result = run("codes", "--api", "faceid", "--action", "ImageRecognitionV2", "--json")
    names = [entry["code"] for entry in json.loads(result.stdout)]
    assert "FailedOperation.CompareLowSimilarity" in names and "MissingParameter" in names
    assert "FailedOperation.LipVoiceRecognize" not in names
    assert len(names) == len([n for n in REGISTRY["tc3"].catalogue if not n.startswith("FailedOperation.")]) \
        + len(REGISTRY["tc3"].results_for("faceid:ImageRecognitionV2"))
    wrong = run("codes", "--api", "faceid", "--action", "Nope")
    assert wrong.exit_code == 2 and "'Nope' is not one of" in wrong.output
