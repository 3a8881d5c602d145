"""The provider API of the Cloud API 3.0 platform: what ``@action`` declarations become
(the version table of checks 6-8, ActionSpecs, scenario targets, the values rules set and
match, the code catalogue, the stores), and the declarations it refuses."""
from __future__ import annotations

from typing import Any

import pytest

from mockface.products import REGISTRY
from mockface.products.faceid.provider import FaceIdProvider
from mockface.products.iai.provider import IaiProvider
from mockface.products.tc3.catalogue import COMMON, PLATFORM_CODES, Tc3Code, compose
from mockface.products.tc3.params import Param
from mockface.products.tc3.product import Tc3Product
from mockface.products.tc3.provider import Call, DataField, Provider, action
from mockface.products.tc3.stores import STORES
from mockface.products.tc3.table import ActionTable
from mockface.products.legacy.stores import IDENTITIES, LIP_CODES

TC3 = REGISTRY["tc3"]


class EchoProvider(Provider):
    """A provider of two versions: one action in both, one in the newer only."""

    service = "echo"
    hosts = ("echo.tencentcloudapi.com",)
    versions = ("2021-01-01", "2022-02-02")
    match_fields = ("Text",)
    codes = (Tc3Code("FailedOperation.EchoLost", "回声丢失。", "The echo was lost."),)

    @action(params=(Param("Text", required=True), Param("Picture", media=True)),
            deprecated={"2021-01-01": "use 2022-02-02"},
            data=(DataField("loudness", "Loudness", "percent"),))
    def Echo(self, call: Call) -> dict[str, Any]:
        return {"Text": call.params["Text"], "Loudness": 50.0}

    @action(versions=("2022-02-02",), results=("FailedOperation.EchoLost",),
            data=(DataField("loud", "Loud", "boolean"),))
    def Shout(self, call: Call) -> dict[str, Any]:
        return {"Result": "Success"}


def test_the_registered_product_is_built_from_the_two_providers():
    assert TC3.services == ("faceid", "iai")
    assert TC3.hosts == ("faceid.tencentcloudapi.com", "iai.tencentcloudapi.com")
    assert [provider.service for provider in TC3.table.providers] == ["faceid", "iai"]


def test_the_version_table_of_checks_6_to_8_derives_from_the_declarations():
    versions = TC3.table.versions
    assert set(versions) == {"faceid", "iai"}
    assert versions["faceid"]["2018-03-01"] == set(FaceIdProvider.declarations)
    assert versions["iai"] == {"2018-03-01": {"DetectLiveFace"},
                               "2020-03-03": {"DetectLiveFace", "DetectLiveFaceAccurate"}}
    assert (TC3.current_version("faceid"), TC3.current_version("iai")) == \
        ("2018-03-01", "2020-03-03")
    assert TC3.current_version("cvm") == "2018-03-01"  # the first service's


def test_specs_carry_params_versions_and_a_deprecation_of_every_version():
    specs = TC3.specs()
    assert list(specs)[:2] == ["faceid:GetLiveCode", "faceid:GetActionSequence"]
    assert list(specs)[-2:] == ["iai:DetectLiveFace", "iai:DetectLiveFaceAccurate"]
    assert specs["iai:DetectLiveFace"].versions == ("2018-03-01", "2020-03-03")
    assert specs["iai:DetectLiveFace"].deprecated is None  # deprecated in 2018-03-01 only
    assert specs["faceid:Liveness"].deprecated.startswith("Liveness is deprecated")
    assert [p.name for p in specs["faceid:MobileStatus"].params] == ["Mobile", "Encryption"]


def test_scenario_targets_and_wildcards_derive_from_the_declarations():
    dialect = TC3.dialect
    assert dialect.targets == TC3.endpoints() == tuple(TC3.specs())
    assert dialect.wildcards["iai:*"] == ("iai:DetectLiveFace", "iai:DetectLiveFaceAccurate")
    assert "faceid:MobileStatus" in dialect.wildcards["faceid:*"]
    assert list(dialect.wildcards) == ["faceid:*", "iai:*"]


def test_values_rules_set_are_grouped_by_kind_and_know_their_actions():
    data = TC3.table.data_fields
    assert list(data) == ["sim", "score", "is_liveness", "live_code", "action_sequence"]
    assert data["is_liveness"][1] == {"iai:DetectLiveFace"}
    assert data["sim"][1] == {"faceid:ImageRecognition", "faceid:ImageRecognitionV2",
                              "faceid:LivenessRecognition", "faceid:LivenessCompare"}
    assert TC3.dialect.response_keys[-8:] == (*data, "outcome", "status_code", "range")  # then
    # the rule values


def test_match_fields_are_the_callers_the_providers_then_each_actions_own():
    fields = TC3.dialect.match_fields
    assert fields[:2] == ("appid", "SecretId")
    assert fields.index("FaceModelVersion") < fields.index("Extra") < fields.index("Mobile")
    assert fields[-6:] == ("ImageBase64.sha256", "ImageBase64.size", "VideoBase64.sha256",
                           "VideoBase64.size", "Image.sha256", "Image.size")
    assert TC3.media_params == ("ImageBase64", "VideoBase64", "Image")


def test_results_follow_the_declarations_in_catalogue_order():
    assert TC3.table.valid_results("faceid:IdCardVerification")[:2] == ("0", "-1")
    assert TC3.table.valid_results("faceid:MobileStatus") == ("0", "-1", "-2", "-3", "-4",
                                                              "-13")
    assert TC3.table.valid_results("faceid:GetLiveCode") == ()
    image = TC3.results_for("faceid:ImageRecognition")
    assert image == tuple(name for name in TC3.catalogue if name in set(image))
    assert TC3.codes_for("faceid:DetectLiveFace") == TC3.codes_for("iai:DetectLiveFace")


def test_the_catalogue_is_the_common_codes_then_every_other_name_sorted():
    names = list(TC3.catalogue)
    assert names[:len(COMMON)] == [code.name for code in COMMON]
    assert names[len(COMMON):] == sorted(names[len(COMMON):])
    assert set(PLATFORM_CODES) < set(TC3.catalogue)
    assert "UnauthorizedOperation.Nonactivated" in PLATFORM_CODES  # check 9 is the platform's
    with pytest.raises(ValueError, match="two different entries"):
        compose((Tc3Code("InternalError.UnKnown", "x", "x."),),
                (Tc3Code("InternalError.UnKnown", "y", "y."),))


def test_a_product_of_other_providers_derives_its_own_tables():
    echo = Tc3Product(EchoProvider)
    assert echo.services == ("echo",) and echo.hosts == ("echo.tencentcloudapi.com",)
    assert echo.table.versions == {"echo": {"2021-01-01": {"Echo"},
                                            "2022-02-02": {"Echo", "Shout"}}}
    assert echo.specs()["echo:Echo"].deprecated is None
    assert echo.table.declaration("echo", "Echo").deprecation("2021-01-01") == \
        "use 2022-02-02"
    assert echo.dialect.response_keys[-2:] == ("loudness", "loud")
    assert echo.dialect.match_fields == ("appid", "SecretId", "Text", "Picture.sha256",
                                         "Picture.size")
    assert "FailedOperation.EchoLost" in echo.catalogue
    assert "FailedOperation.LipVoiceRecognize" not in echo.catalogue
    assert echo.codes_for("echo:Shout")[-1] == "FailedOperation.EchoLost"
    assert echo.current_version("echo") == "2022-02-02"


def test_stores_are_the_platforms_then_each_providers_once_each():
    assert TC3.stores[:2] == STORES  # used v1 nonces, rate windows
    assert LIP_CODES in TC3.stores and IDENTITIES in TC3.stores
    assert len(set(TC3.stores)) == len(TC3.stores)
    assert Tc3Product(EchoProvider).stores == TC3.stores[:2]


def test_one_provider_per_service():
    with pytest.raises(ValueError, match="one provider per service"):
        ActionTable(FaceIdProvider, IaiProvider, FaceIdProvider)
    with pytest.raises(ValueError, match="one provider per service"):
        ActionTable()


@pytest.mark.parametrize("declare,problem", [
    (lambda: action(versions=("1999-01-01",)), "are not among"),
    (lambda: action(match=("Text",)), "match names a parameter it lacks"),
    (lambda: action(results=("FailedOperation.UnKnown",), result_table={"0": "ok"}),
     "not both"),
])
def test_declarations_that_cannot_be_served_are_refused_when_the_class_is_made(declare,
                                                                               problem):
    with pytest.raises(ValueError, match=problem):
        class Broken(Provider):
            service, hosts, versions = "broken", (), ("2020-01-01",)

            @declare()
            def Act(self, call: Call) -> dict[str, Any]:
                return {}


def test_match_fields_must_be_parameters_of_the_providers_actions():
    with pytest.raises(ValueError, match="are no action's parameters"):
        class Broken(Provider):
            service, hosts, versions = "broken", (), ("2020-01-01",)
            match_fields = ("Nope",)

            @action(params=(Param("Text"),))
            def Act(self, call: Call) -> dict[str, Any]:
                return {}


def test_a_data_field_has_a_known_kind():
    with pytest.raises(ValueError, match="is not one of"):
        DataField("x", "X", "colour")
