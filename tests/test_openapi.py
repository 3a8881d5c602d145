"""The OpenAPI documents: valid OpenAPI 3.1, generated from the definitions the server checks
requests with, and borne out by schema-driven fuzzing (schemathesis) on a running server."""
from __future__ import annotations

import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from mockface.core.config import builtin_app
from mockface.products import REGISTRY
from mockface.products.legacy import fields
from mockface.products.legacy.errors import ENDPOINTS
from mockface.products.legacy.signature import sign
from mockface.web.admin import admin as admin_blueprint
from mockface.web.app import create_app
from mockface.web.openapi import admin_document, product_document

from .support import signed_now, valid_request

DOCUMENTS = ("legacy", "faceid", "admin")
#: What the fuzzing asserts: no 5xx, and status, content type and body as documented.  Not
#: schemathesis's acceptance of schema-valid data: no schema can say what a valid signature,
#: an ID number's check digit or a decodable photo is, and mockface refuses those rightly.
CONFORMANCE = [checks.not_a_server_error, openapi_checks.status_code_conformance,
               openapi_checks.content_type_conformance,
               openapi_checks.response_schema_conformance]


def legacy_document() -> dict:
    """The legacy product's OpenAPI document, as the server serves it."""
    return product_document(REGISTRY["legacy"].surface)


def document(server, name: str) -> dict:
    response = requests.get(f"{server.url}/__mockface/openapi/{name}.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return response.json()


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_document_is_valid_openapi_3_1(live_server, name):
    served = document(live_server, name)
    validate(served)
    assert served["openapi"] == "3.1.0"


def test_an_unknown_document_is_a_json_404(live_server):
    response = requests.get(f"{live_server.url}/__mockface/openapi/nope.json", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"error": "no document 'nope': legacy, faceid or admin"}


def test_the_legacy_document_follows_the_field_table(monkeypatch):
    operation = legacy_document()["paths"]["/face/idcardlivedetectfour"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["appid", "validate_data", "idcard_number", "idcard_name",
                                  "video"]
    assert schema["properties"]["idcard_number"]["pattern"] == "^[0-9]{17}[0-9X]$"
    assert schema["properties"]["video"]["contentMediaType"] == "application/octet-stream"
    as_json = operation["requestBody"]["content"]["application/json"]["schema"]
    assert as_json["properties"]["video"]["contentEncoding"] == "base64"
    monkeypatch.setitem(fields.FIELDS, "livegetfour", fields.FIELDS["livegetfour"] + (
        fields.Field("colour", "A new field.", required=True, missing_code=21),))
    changed = legacy_document()["paths"]["/face/livegetfour"]["post"]
    assert changed["requestBody"]["content"]["application/json"]["schema"]["required"] == \
        ["appid", "colour"]


def test_the_legacy_document_gives_each_top_level_code_as_an_example_of_its_status():
    responses = legacy_document()["paths"]["/face/idcardcompare"]["post"]["responses"]
    examples = responses["400"]["content"]["application/json"]["examples"]
    assert examples["code-5801"] == {"summary": "请求缺少身份证号码或身份证姓名",
                                     "value": {"code": -5801, "message": "idcard info missing"}}
    assert responses["401"]["content"]["application/json"]["examples"]["code14"]["value"] \
        == {"code": 14, "message": "sign no pass"}
    assert "200" in responses and "default" in responses


@pytest.mark.parametrize("endpoint,field", [
    (endpoint, field) for endpoint, table in fields.FIELDS.items() for field in table
    if field.required])
def test_each_required_legacy_field_left_out_gives_its_documented_code(live_server, endpoint,
                                                                       field):
    request = valid_request(endpoint)
    for part in ("json", "data", "files"):
        request.get(part, {}).pop(field.name, None)
    if endpoint == "livedetectfour" and field.name == "compare_flag":
        request["files"].pop("card")
    if "files" in request and not request["files"]:  # no part left: the same fields as JSON
        request = {"json": request["data"]}
    answer = requests.post(f"{live_server.url}/face/{endpoint}", timeout=10,
                           headers={"Authorization": signed_now()}, **request).json()
    assert answer["code"] == field.missing_code


def test_the_field_table_lists_exactly_the_five_endpoints():
    assert tuple(fields.FIELDS) == ENDPOINTS


def test_every_admin_route_is_declared_and_documented():
    app = create_app()
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith(f"{admin_blueprint.name}.")]
    undeclared = [rule.rule for rule in rules
                  if not hasattr(app.view_functions[rule.endpoint], "mockface_doc")]
    assert undeclared == []
    paths = admin_document(app)["paths"]
    assert sorted(paths) == sorted({rule.rule.replace("<", "{").replace(">", "}")
                                    for rule in rules})
    assert paths["/__mockface/ui/media/{sha256}"]["get"]["parameters"] == [
        {"name": "sha256", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert list(paths["/__mockface/ui"]["get"]["responses"]["200"]["content"]) == ["text/html"]
    advance = paths["/__mockface/clock/advance"]["post"]
    assert advance["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "object", "required": ["seconds"],
        "properties": {"seconds": {"type": "number",
                                   "description": "How far (negative: back)."}},
        "additionalProperties": False}


def test_the_faceid_document_has_every_action_with_its_parameters(live_server):
    served = document(live_server, "faceid")
    schemas = served["components"]["schemas"]
    assert {name for name in schemas if name != "Envelope"} == \
        {f"{spec.service}.{spec.name}" for spec in REGISTRY["tc3"].specs().values()}
    compare = schemas["faceid.LivenessCompare"]
    assert compare["required"] == ["LivenessType"]
    assert compare["properties"]["LivenessType"]["enum"] == ["LIP", "ACTION", "SILENT"]
    assert "FailedOperation.LipFaceIncomplete" in compare["x-mockface-error-codes"]
    header = served["paths"]["/"]["post"]["parameters"][0]
    assert header["name"] == "X-TC-Action" and "GetLiveCode" in header["schema"]["enum"]
    get = served["paths"]["/"]["get"]
    assert get["parameters"][0] == header
    assert get["parameters"][-1]["in"] == "query" and get["parameters"][-1]["explode"] is True
    assert "requestBody" not in get


# -- schema-driven fuzzing -------------------------------------------------------------------

def fuzz(server, name: str, examples: int, headers: dict | None = None) -> dict:
    """Every operation of a document, ``examples`` generated cases each, sent to ``server``;
    each answer must not be a 5xx and must conform to the document.  Counts what was sent."""
    schema = schemathesis.openapi.from_dict(document(server, name))
    sent: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(operation.as_strategy(headers=headers))
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(base_url=server.url, timeout=30)
            assert response.status_code < 500, (case.method, case.path, response.text)
            case.validate_response(response, checks=CONFORMANCE)
            sent[operation.label] = sent.get(operation.label, 0) + 1

        check()
    return sent


def test_schemathesis_finds_nothing_in_the_legacy_endpoints_unsigned(live_server):
    sent = fuzz(live_server, "legacy", 30)
    assert set(sent) == {f"POST /face/{endpoint}" for endpoint in ENDPOINTS}


def test_schemathesis_finds_nothing_in_the_legacy_endpoints_signed():
    app = builtin_app({})
    secret_id, secret_key = app.first_secret
    from mockface.web.server import start_background

    server = start_background(create_app())
    try:
        header = sign(app.appid, secret_id, secret_key, now=int(time.time()),
                      expires_in=3600)
        sent = fuzz(server, "legacy", 30, headers={"Authorization": header})
    finally:
        server.stop()
    assert sum(sent.values()) >= 5 * 15


def test_schemathesis_finds_nothing_in_the_admin_api():
    from mockface.web.server import start_background

    server = start_background(create_app())  # its own: the fuzzer changes its state
    try:
        sent = fuzz(server, "admin", 15)
    finally:
        server.stop()
    paths = admin_document(create_app())["paths"]
    assert set(sent) == {f"{method.upper()} {path}" for path, methods in paths.items()
                         for method in methods}
    assert sent["POST /__mockface/scenarios"] == 15
