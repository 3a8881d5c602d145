"""Actions gone from Tencent's current SDKs (evidence-faceid-flows §1, S12) are declared so
(``@action(removed="<reason>")``) and said so wherever users look: ``mockface coverage``,
``mockface codes`` (the action list and one action's codes), the dashboard (the journal
filter's and the signing form's action lists) and the OpenAPI document (``deprecated`` with
the reason).  faceid ``Liveness`` and iai ``DetectLiveFace`` are the two."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner
from openapi_spec_validator import validate

from mockface.cli import main
from mockface.emulator import Emulator
from mockface.products import REGISTRY
from mockface.products.tc3.coverage import DEPRECATED, REMOVED, SERVED, SdkApi, coverage
from mockface.products.tc3.provider import Call, Provider, action
from mockface.products.tc3.table import ActionTable
from mockface.web.app import create_app
from mockface.web.openapi import product_document

from .support import make_settings

TC3 = REGISTRY["tc3"]
TABLE = TC3.table
#: The reasons, as the providers declare them (evidence §1: the SDK changelogs' 删除接口).
LIVENESS_REASON = ("deleted from the SDKs in tencentcloud-sdk-python 3.1.3 / Go v1.3.3 "
                   "(2025-11-25); callable only through a common client")
DETECT_LIVE_FACE_REASON = ("deleted from the SDKs in tencentcloud-sdk-python 3.1.2 / Go "
                           "v1.3.2 (2025-11-24; 3.1.3 for 2018-03-01); DetectLiveFaceAccurate "
                           "remains")
REMOVED_ACTIONS = {"faceid:Liveness": LIVENESS_REASON,
                   "iai:DetectLiveFace": DETECT_LIVE_FACE_REASON}


class GoneProvider(Provider):
    """A stand-in service: ``Old`` gone from the SDKs, ``New`` current."""

    service, hosts, versions = "gone", ("gone.example",), ("2020-01-01",)

    @action(removed="deleted in SDK 9.9")
    def Old(self, call: Call) -> dict[str, Any]:
        return {}

    @action()
    def New(self, call: Call) -> dict[str, Any]:
        return {}


def runner() -> CliRunner:
    """A runner that keeps stderr apart (click 8.1 needs asking; 8.2 on always does)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


# -- the declaration ----------------------------------------------------------------------

def test_the_declaration_carries_the_reason_to_the_spec_and_the_table():
    table = ActionTable(GoneProvider)
    assert GoneProvider.declarations["Old"].removed == "deleted in SDK 9.9"
    assert GoneProvider.declarations["New"].removed is None
    assert table.specs["gone:Old"].removed == "deleted in SDK 9.9"
    assert table.specs["gone:New"].removed is None
    assert table.removals == {"gone:Old": "deleted in SDK 9.9"}
    assert table.versions["gone"]["2020-01-01"] == {"Old", "New"}  # still served


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_removal_without_a_reason_is_refused(reason):
    with pytest.raises(ValueError, match="removed: give the reason"):
        action(removed=reason)


def test_detect_live_face_is_declared_removed_in_both_versions():
    spec = TC3.specs()["iai:DetectLiveFace"]
    assert spec.removed == DETECT_LIVE_FACE_REASON
    assert spec.versions == ("2018-03-01", "2020-03-03")
    assert TC3.specs()["iai:DetectLiveFaceAccurate"].removed is None


def test_exactly_liveness_and_detect_live_face_are_declared_removed():
    assert TABLE.removals == REMOVED_ACTIONS


# -- mockface coverage -------------------------------------------------------------------

def test_coverage_gives_the_declared_reason_else_the_package_it_is_missing_from():
    table = ActionTable(GoneProvider)
    sdk = {"2020-01-01": SdkApi("gone", "2020-01-01", "1.0", (), {})}
    rows = {row.action: row for row in coverage(table, "gone", sdk)}
    assert (rows["Old"].status, rows["Old"].reason) == (REMOVED, "deleted in SDK 9.9")
    assert (rows["New"].status, rows["New"].reason) == \
        (REMOVED, "not in tencentcloud-sdk-python-gone 1.0")


def test_an_older_sdk_that_still_has_it_lists_it_served_with_the_removal_as_a_note():
    sdk = {version: SdkApi("iai", version, "3.0.0", ("DetectLiveFace",), {})
           for version in ("2018-03-01", "2020-03-03")}
    rows = {(row.version, row.action): row for row in coverage(TABLE, "iai", sdk)}
    old, new = rows[("2018-03-01", "DetectLiveFace")], rows[("2020-03-03", "DetectLiveFace")]
    assert (old.status, new.status) == (DEPRECATED, SERVED)
    assert new.reason == f"removed from current SDKs: {DETECT_LIVE_FACE_REASON}"
    assert new.as_dict() == {"product": "iai", "version": "2020-03-03",
                             "action": "DetectLiveFace", "status": SERVED}
    assert new.as_dict(details=True)["reason"] == new.reason
    assert rows[("2020-03-03", "DetectLiveFaceAccurate")].reason == \
        "not in tencentcloud-sdk-python-iai 3.0.0"


def test_the_coverage_table_shows_detect_live_faces_reason():
    pytest.importorskip("tencentcloud.iai.v20200303.iai_client")
    result = runner().invoke(main, ["coverage", "--api", "iai"])
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if " DetectLiveFace " in line]
    assert [line.split()[:4] for line in lines] == [
        ["iai", "2018-03-01", "DetectLiveFace", "removed"],
        ["iai", "2020-03-03", "DetectLiveFace", "removed"]]
    assert all(line.endswith(DETECT_LIVE_FACE_REASON) for line in lines)


# -- mockface codes ------------------------------------------------------------------------

def test_codes_for_a_removed_action_say_so_first():
    result = runner().invoke(main, ["codes", "--api", "faceid", "--action", "Liveness"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Liveness: removed from current SDKs: {LIVENESS_REASON}"
    assert lines[1].split()[0] == TC3.codes_for("faceid:Liveness")[0]
    assert len(lines) == 1 + len(TC3.codes_for("faceid:Liveness"))


def test_codes_for_another_services_removed_action_name_that_service():
    result = runner().invoke(main, ["codes", "--api", "faceid", "--action", "DetectLiveFace"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == \
        f"DetectLiveFace: iai: removed from current SDKs: {DETECT_LIVE_FACE_REASON}"


def test_codes_json_keeps_stdout_json_and_says_it_on_stderr():
    result = runner().invoke(main, ["codes", "--api", "faceid", "--action", "Liveness",
                                    "--json"])
    assert result.exit_code == 0, result.output
    names = [entry["code"] for entry in json.loads(result.stdout)]
    assert names == list(TC3.codes_for("faceid:Liveness"))
    assert result.stderr == f"Liveness: removed from current SDKs: {LIVENESS_REASON}\n"


def test_codes_of_a_current_action_say_nothing_of_removal():
    result = runner().invoke(main, ["codes", "--api", "faceid", "--action", "GetLiveCode"])
    assert result.exit_code == 0, result.output
    assert "removed" not in result.output
    assert result.stdout.splitlines()[0].split()[0] == TC3.codes_for("faceid:GetLiveCode")[0]


def test_the_action_list_of_an_unknown_action_marks_the_removed_ones():
    result = runner().invoke(main, ["codes", "--api", "faceid", "--action", "Nope"])
    assert result.exit_code == 2
    message = " ".join((result.stderr or result.output).split())  # click wraps nothing here
    assert f"Liveness (removed from current SDKs: {LIVENESS_REASON})" in message
    assert (f"DetectLiveFace (iai: removed from current SDKs: {DETECT_LIVE_FACE_REASON})"
            in message)
    assert "GetLiveCode, " in message and "GetLiveCode (" not in message
    assert "DetectLiveFaceAccurate (" not in message


# -- the OpenAPI document ------------------------------------------------------------------

@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    served = product_document(TC3.surface)
    validate(served)
    return served


@pytest.mark.parametrize("target", sorted(REMOVED_ACTIONS))
def test_the_document_deprecates_a_removed_action_with_its_reason(document, target):
    schema = document["components"]["schemas"][target.replace(":", ".")]
    assert schema["deprecated"] is True
    assert f"Removed from current SDKs: {REMOVED_ACTIONS[target]} (mockface still serves " \
           "it)." in schema["description"]


def test_the_document_deprecates_an_action_deprecated_everywhere(document):
    schema = document["components"]["schemas"]["faceid.ImageRecognition"]
    assert schema["deprecated"] is True
    assert schema["description"] == \
        f"Deprecated: {TC3.specs()['faceid:ImageRecognition'].deprecated}"


def test_a_current_action_is_not_deprecated(document):
    for name in ("faceid.GetLiveCode", "iai.DetectLiveFaceAccurate"):
        schema = document["components"]["schemas"][name]
        assert "deprecated" not in schema and "description" not in schema


def test_the_action_header_names_the_removed_actions(document):
    header = document["paths"]["/"]["post"]["parameters"][0]
    assert header["name"] == "X-TC-Action"
    assert header["description"] == \
        "The action. Served though removed from current SDKs: DetectLiveFace, Liveness."
    assert {"DetectLiveFace", "Liveness"} <= set(header["schema"]["enum"])


# -- the dashboard -------------------------------------------------------------------------

def test_the_surface_marks_the_removed_actions():
    assert dict(TC3.surface.target_marks()) == {
        target: ("removed from SDKs", f"removed from current SDKs: {reason}")
        for target, reason in sorted(REMOVED_ACTIONS.items())}


@pytest.fixture
def page() -> str:
    client = create_app(emulator=Emulator(make_settings())).test_client()
    answer = client.get("/__mockface/ui")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def select(html: str, name: str) -> str:
    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert found, name
    return found.group(1)


def option(options: str, value: str) -> str:
    found = re.search(rf'<option value="{re.escape(value)}"[^>]*>[^<]*</option>', options)
    assert found, value
    return found.group(0)


@pytest.mark.parametrize("field", ["endpoint", "sign_action"])
def test_both_action_lists_mark_detect_live_face(page, field):
    options = select(page, field)
    shown = option(options, "iai:DetectLiveFace")
    assert shown.endswith(">iai:DetectLiveFace (removed from SDKs)</option>")
    assert f'title="removed from current SDKs: {DETECT_LIVE_FACE_REASON}"' in shown
    current = option(options, "iai:DetectLiveFaceAccurate")
    assert current.endswith(">iai:DetectLiveFaceAccurate</option>") and "title=" not in current


@pytest.mark.parametrize("field", ["endpoint", "sign_action"])
def test_both_action_lists_mark_liveness(page, field):
    shown = option(select(page, field), "faceid:Liveness")
    assert shown.endswith(">faceid:Liveness (removed from SDKs)</option>")
    assert f'title="removed from current SDKs: {LIVENESS_REASON}"' in shown


def test_the_marks_are_on_no_other_action(page):
    marked = re.findall(r'<option value="([^"]+)"[^>]*>[^<]*\(removed from SDKs\)</option>',
                        page)
    assert sorted(marked) == sorted([*REMOVED_ACTIONS, *REMOVED_ACTIONS])


def test_a_marked_action_is_still_the_value_the_forms_send(page):
    client = create_app(emulator=Emulator(make_settings())).test_client()
    chosen = client.get("/__mockface/ui?endpoint=iai:DetectLiveFace&sign=api3"
                        "&sign_action=iai:DetectLiveFace").get_data(as_text=True)
    assert 'selected>iai:DetectLiveFace (removed from SDKs)</option>' in \
        select(chosen, "endpoint")
    assert 'selected>iai:DetectLiveFace (removed from SDKs)</option>' in \
        select(chosen, "sign_action")
    assert "X-TC-Action" in chosen and "DetectLiveFace" in chosen.split('id="curl"')[1]
