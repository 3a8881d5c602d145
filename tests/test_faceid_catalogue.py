"""The API 3.0 catalogue against the official SDK: every name Tencent's
``tencentcloud-sdk-python-faceid`` defines is there, with a message in both languages."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner

from mockface.cli import main
from mockface.products import REGISTRY

CATALOGUE = REGISTRY["tc3"].catalogue

CHECK_ORDER_CODES = ["UnsupportedProtocol", "AuthFailure.InvalidAuthorization",
                     "AuthFailure.SignatureExpire", "AuthFailure.SecretIdNotFound",
                     "AuthFailure.SignatureFailure", "AuthFailure.TokenFailure",
                     "NoSuchVersion", "InvalidAction", "UnauthorizedOperation.Nonactivated",
                     "RequestLimitExceeded", "InvalidRequest", "RequestSizeLimitExceeded",
                     "MissingParameter", "InvalidParameterValue", "InvalidParameter",
                     "UnknownParameter"]


def test_every_name_of_the_official_sdk_is_in_the_catalogue():
    from tencentcloud.faceid.v20180301 import errorcodes

    names = {value for key, value in vars(errorcodes).items()
             if key.isupper() and isinstance(value, str)}
    assert len(names) >= 95
    assert names <= set(CATALOGUE)


def test_the_contracts_check_order_codes_are_in_the_catalogue():
    assert set(CHECK_ORDER_CODES) <= set(CATALOGUE)


def test_every_entry_has_a_chinese_and_an_english_message():
    for entry in CATALOGUE.values():
        assert re.fullmatch(r"[A-Z][A-Za-z]+(\.[A-Za-z]+)?", entry.name), entry.name
        assert entry.en and entry.en.isascii() and entry.en.endswith((".", "?")), entry.name
        assert entry.zh
        assert entry.message("en-US") == entry.en
        assert entry.message("zh-CN") == entry.message(None) == entry.zh


def test_codes_command_lists_the_api_3_catalogue():
    listed = json.loads(CliRunner().invoke(main, ["codes", "--api", "faceid", "--json"]).output)
    assert [entry["code"] for entry in listed] == list(CATALOGUE)
    table = CliRunner().invoke(main, ["codes", "--api", "faceid"]).output
    assert "AuthFailure.SignatureExpire" in table and "FailedOperation.LipVoiceRecognize" in table
    refused = CliRunner().invoke(main, ["codes", "--api", "faceid", "--endpoint", "livegetfour"])
    assert refused.exit_code == 2
