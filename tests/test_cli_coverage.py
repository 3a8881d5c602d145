"""``mockface coverage [--json] [--details] [--api SERVICE]``: the installed Tencent SDK's
actions of faceid and iai against what mockface serves (contract-faceid-flows §7), reached
through the products' ``coverage`` parts; without the SDK it says so and exits 2."""
from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import pytest

from mockface.cli import main
from mockface.cli.coverage import coverage_command
from mockface.products import REGISTRY
from mockface.products.tc3.coverage import (
    DEPRECATED, NOT_SERVED, REMOVED, SERVED, SdkApi, SdkModel, coverage)

from .support import cli_runner

TABLE = REGISTRY["tc3"].table
KEYS = {"product", "version", "action", "status"}


def run(*args: str) -> Any:
    return cli_runner().invoke(coverage_command, list(args))


def sdk_client_actions(service: str, version: str) -> set[str]:
    """The typed methods of the SDK's client class, read here independently of mockface."""
    module = importlib.import_module(f"tencentcloud.{service}.v{version.replace('-', '')}."
                                     f"{service}_client")
    client = next(value for name, value in vars(module).items()
                  if name.lower() == f"{service}client")
    return {name for name, value in vars(client).items()
            if name[:1].isupper() and callable(value)}


def served(service: str, version: str) -> set[str]:
    return set(TABLE.versions[service][version])


@pytest.fixture
def no_sdk(monkeypatch):
    """Neither SDK importable (``import`` of a None entry of sys.modules fails)."""
    for service in ("faceid", "iai"):
        monkeypatch.setitem(sys.modules, f"tencentcloud.{service}", None)


# -- wiring -------------------------------------------------------------------------------

def test_the_api_3_product_offers_coverage_of_faceid_and_iai():
    parts = [api for product in REGISTRY for api in product.cli_apis
             if api.command == "coverage"]
    assert [part.names for part in parts] == [("faceid", "iai")]


def test_mockface_has_the_coverage_command():
    result = cli_runner().invoke(main, ["coverage", "--help"])
    assert result.exit_code == 0, result.output
    assert "--json" in result.output and "not served" in result.output


# -- without the SDK ------------------------------------------------------------------------

def test_without_any_sdk_it_says_so_and_exits_2(no_sdk):
    result = run("--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "mockface coverage: faceid: the Tencent Cloud SDK for faceid is not installed "
        "(pip install tencentcloud-sdk-python-faceid)",
        "mockface coverage: iai: the Tencent Cloud SDK for iai is not installed "
        "(pip install tencentcloud-sdk-python-iai)"]


def test_asking_for_a_service_whose_sdk_is_missing_exits_2(monkeypatch):
    monkeypatch.setitem(sys.modules, "tencentcloud.iai", None)
    result = run("--api", "iai")
    assert result.exit_code == 2
    assert "pip install tencentcloud-sdk-python-iai" in result.stderr


def test_an_unknown_service_is_a_usage_error():
    result = run("--api", "ocr")
    assert result.exit_code == 2
    assert "'ocr' is not one of" in result.output + result.stderr


# -- the statuses, on a stand-in SDK (no SDK needed) ------------------------------------

def stand_in(service: str, version: str, actions: tuple[str, ...],
             models: dict[str, SdkModel] | None = None) -> SdkApi:
    return SdkApi(service, version, "0.0.0", actions, models or {})


def test_a_served_action_the_sdk_has_is_served_or_deprecated_and_one_it_lacks_removed():
    sdk = {"2018-03-01": stand_in("faceid", "2018-03-01",
                                  ("GetLiveCode", "ImageRecognition", "NewThing"))}
    rows = {row.action: row for row in coverage(TABLE, "faceid", sdk)}
    assert rows["GetLiveCode"].status == SERVED
    assert rows["ImageRecognition"].status == DEPRECATED  # declared deprecated, in the SDK
    assert rows["NewThing"].status == NOT_SERVED
    assert rows["Liveness"].status == REMOVED
    assert rows["Liveness"].reason.startswith("deleted from the SDKs in tencentcloud-sdk-"
                                              "python 3.1.3 / Go v1.3.3 (2025-11-25)")
    assert rows["Liveness"].reason == TABLE.declarations["faceid:Liveness"].removed
    assert rows["IdCardVerification"].reason == \
        "not in tencentcloud-sdk-python-faceid 0.0.0"
    assert set(rows) == served("faceid", "2018-03-01") | {"NewThing"}


def test_deprecation_is_per_version():
    sdk = {version: stand_in("iai", version, ("DetectLiveFace",))
           for version in ("2018-03-01", "2020-03-03")}
    rows = {(row.version, row.action): row.status for row in coverage(TABLE, "iai", sdk)}
    assert rows == {("2018-03-01", "DetectLiveFace"): DEPRECATED,
                    ("2020-03-03", "DetectLiveFace"): SERVED,
                    ("2020-03-03", "DetectLiveFaceAccurate"): REMOVED}


def test_a_served_action_lists_the_sdks_parameters_it_lacks_and_the_types_that_differ():
    from mockface.products.tc3.coverage import FieldType
    request = SdkModel("GetActionSequenceRequest", {"ActionType": FieldType("int"),
                                                    "Brand": FieldType("str")})
    response = SdkModel("GetActionSequenceResponse", {"ActionSequence": FieldType("str"),
                                                      "RequestId": FieldType("str")})
    sdk = {"2018-03-01": stand_in("faceid", "2018-03-01", ("GetActionSequence",),
                                  {request.name: request, response.name: response})}
    row = next(row for row in coverage(TABLE, "faceid", sdk)
               if row.action == "GetActionSequence")
    assert (row.missing_params, row.extra_params) == (("Brand",), ())
    assert row.type_mismatches == {"ActionType": ("str", "int")}
    assert row.as_dict() == {"product": "faceid", "version": "2018-03-01",
                             "action": "GetActionSequence", "status": SERVED}
    assert row.as_dict(details=True) == {
        "product": "faceid", "version": "2018-03-01", "action": "GetActionSequence",
        "status": SERVED, "missing_params": ["Brand"],
        "type_mismatches": {"ActionType": {"declared": "str", "sdk": "int"}},
        "response_fields": {"ActionSequence": "str", "RequestId": "str"}}


# -- against the installed SDK ------------------------------------------------------------

@pytest.fixture
def faceid_sdk():
    pytest.importorskip("tencentcloud.faceid.v20180301.faceid_client")


def test_json_lists_every_sdk_action_and_every_served_one_once(faceid_sdk):
    result = run("--json", "--api", "faceid")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert all(set(row) == KEYS for row in rows)
    sdk = sdk_client_actions("faceid", "2018-03-01")
    mine = served("faceid", "2018-03-01")
    statuses = {row["action"]: row["status"] for row in rows}
    assert len(statuses) == len(rows)
    assert {row["product"] for row in rows} == {"faceid"}
    assert {row["version"] for row in rows} == {"2018-03-01"}
    assert set(statuses) == sdk | mine
    assert {name for name, status in statuses.items() if status == "not served"} == \
        sdk - mine
    assert {name for name, status in statuses.items() if status == "removed"} == mine - sdk
    assert {name for name, status in statuses.items() if status in ("served", "deprecated")} \
        == sdk & mine
    assert statuses["Liveness"] == "removed"
    assert statuses["GetLiveCode"] == "served"


def test_details_give_the_reason_and_the_models_fields(faceid_sdk):
    result = run("--json", "--details", "--api", "faceid")
    assert result.exit_code == 0, result.stderr
    rows = {row["action"]: row for row in json.loads(result.stdout)}
    assert rows["Liveness"]["reason"].startswith("deleted from the SDKs")
    assert rows["GetLiveCode"]["response_fields"] == {"LiveCode": "str", "RequestId": "str"}
    assert "missing_params" not in rows["GetLiveCode"]
    assert set(rows["DetectAIFakeFaces"]) == KEYS  # not served: nothing to compare


def test_the_table_has_a_line_per_action_and_a_count_per_version(faceid_sdk):
    result = run("--api", "faceid")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["product", "version", "action", "status", "note"]
    liveness = next(line for line in lines if " Liveness " in line)
    assert liveness.split()[:4] == ["faceid", "2018-03-01", "Liveness", "removed"]
    assert "deleted from the SDKs" in liveness
    sdk = sdk_client_actions("faceid", "2018-03-01")
    mine = served("faceid", "2018-03-01")
    count = next(line for line in lines if line.startswith("faceid 2018-03-01:"))
    assert count == (f"faceid 2018-03-01: {len(sdk & mine)} served, 0 deprecated, "
                     f"{len(mine - sdk)} removed, {len(sdk - mine)} not served")
    assert any(line.startswith("SDK read: faceid: tencentcloud-sdk-python-faceid ")
               for line in lines)


def test_a_missing_iai_sdk_leaves_faceid_listed(faceid_sdk, monkeypatch):
    monkeypatch.setitem(sys.modules, "tencentcloud.iai", None)
    result = run("--json")
    assert result.exit_code == 0
    assert {row["product"] for row in json.loads(result.stdout)} == {"faceid"}
    assert result.stderr == ("mockface coverage: iai: the Tencent Cloud SDK for iai is not "
                             "installed (pip install tencentcloud-sdk-python-iai)\n")


def test_iai_detect_live_face_is_removed_in_both_versions():
    pytest.importorskip("tencentcloud.iai.v20200303.iai_client")
    result = run("--json", "--details", "--api", "iai")
    assert result.exit_code == 0, result.stderr
    rows = {(row["version"], row["action"]): row for row in json.loads(result.stdout)}
    for version in ("2018-03-01", "2020-03-03"):
        assert rows[(version, "DetectLiveFace")]["status"] == "removed"
        assert "3.1.2" in rows[(version, "DetectLiveFace")]["reason"]
        assert rows[(version, "DetectLiveFace")]["reason"] == \
            TABLE.declarations["iai:DetectLiveFace"].removed  # @action(removed=...)
    assert rows[("2020-03-03", "DetectLiveFaceAccurate")]["status"] == "served"
    assert {action for (version, action), row in rows.items() if version == "2020-03-03"
            and row["status"] != "removed"} == sdk_client_actions("iai", "2020-03-03")
