"""The API 3.0 OpenAPI document, generated from the actions' declarations (``specs()``: their
parameters, versions, deprecation and removal from the current SDKs) and the code catalogue
of the product it documents."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.surface import OpenApiDocument
from .provider import REMOVED_NOTE

if TYPE_CHECKING:
    from .params import Param
    from .product import ActionSpec, Tc3Product


def document(product: Tc3Product) -> OpenApiDocument:
    """The API 3.0 actions: one ``POST /`` whose ``X-TC-Action`` header names the action;
    each action's parameters and its Error.Codes (Tencent's envelope, always HTTP 200); an
    action deprecated in every version or gone from the current SDKs is ``deprecated`` with
    the reason in its description (the header's description names the removed ones)."""
    specs = product.specs()
    schemas: dict[str, Any] = {
        f"{spec.service}.{spec.name}": _action_schema(product, spec) for spec in specs.values()}
    names = sorted({spec.name for spec in specs.values()})
    envelope = {"type": "object", "required": ["Response"], "properties": {"Response": {
        "type": "object", "required": ["RequestId"], "properties": {
            "RequestId": {"type": "string"},
            "Error": {"type": "object", "required": ["Code", "Message"], "properties": {
                "Code": {"enum": list(product.catalogue)}, "Message": {"type": "string"}}}}}}}
    removed = sorted({spec.name for spec in specs.values() if spec.removed})
    action_header: dict[str, Any] = {"name": "X-TC-Action", "in": "header", "required": True,
                                     "schema": {"enum": names}}
    if removed:
        action_header["description"] = f"The action. Served though {REMOVED_NOTE}: " \
                                       f"{', '.join(removed)}."
    headers = [
        action_header,
        {"name": "X-TC-Version", "in": "header", "required": True,
         "schema": {"enum": sorted({version for spec in specs.values()
                                    for version in spec.versions})}},
        {"name": "X-TC-Timestamp", "in": "header", "required": True,
         "schema": {"type": "string", "pattern": "^[0-9]+$"}},
        {"name": "X-TC-Language", "in": "header", "schema": {"enum": ["zh-CN", "en-US"]}}]
    answers = {"200": {"description": "Tencent's envelope: the action's fields, or Error",
                       "content": {"application/json": {
                           "schema": {"$ref": "#/components/schemas/Envelope"}}}}}
    return OpenApiDocument(
        title="mockface: Tencent Cloud API 3.0 faceid and iai (emulated)",
        description="Every call is POST / (a JSON body) or GET / (the parameters in the "
                    "query, flattened as the SDKs send them: Encryption.EncryptList.0=IdCard) "
                    "with the action in X-TC-Action, the version in X-TC-Version and a "
                    "TC3-HMAC-SHA256 Authorization (`mockface sign --api faceid` prints "
                    "one). Answers are always HTTP 200.",
        components={"schemas": {**schemas, "Envelope": envelope},
                    "securitySchemes": {"tc3": {"type": "apiKey", "in": "header",
                                                "name": "Authorization"}}},
        security=[{"tc3": []}],
        paths={"/": {
            "post": {
                "operationId": "call",
                "parameters": headers,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"oneOf": [{"$ref": f"#/components/schemas/{name}"}
                                         for name in schemas]}}}},
                "responses": answers},
            "get": {
                "operationId": "callWithQuery",
                "parameters": [*headers, {
                    "name": "parameters", "in": "query", "style": "form", "explode": True,
                    "description": "The action's parameters, flattened (a list's items as "
                                   "Name.0, Name.1; a mapping's keys as Name.Key)",
                    "schema": {"type": "object",
                               "additionalProperties": {"type": "string"}}}],
                "responses": answers},
        }},
    )


def _param_schema(product: Tc3Product, param: Param) -> dict[str, Any]:
    kind = {str: "string", int: "integer", bool: "boolean", dict: "object",
            list: "array"}[param.kind]
    schema: dict[str, Any] = {"type": kind}
    if param.choices:
        schema["enum"] = list(param.choices)
    if param.name in product.media_params:
        schema["contentEncoding"] = "base64"
    return schema


def _action_schema(product: Tc3Product, spec: ActionSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "title": f"{spec.service} {spec.name}", "type": "object",
        "properties": {p.name: _param_schema(product, p) for p in spec.params},
        "required": [p.name for p in spec.params if p.required],
        "additionalProperties": False,
        "x-mockface-error-codes": list(product.codes_for(spec.target))}
    removed = REMOVED_NOTE[:1].upper() + REMOVED_NOTE[1:]
    reasons = [*([f"Deprecated: {spec.deprecated}"] if spec.deprecated else []),
               *([f"{removed}: {spec.removed} (mockface still serves it)."]
                 if spec.removed else [])]
    if reasons:
        schema["deprecated"] = True
        schema["description"] = " ".join(reasons)
    return schema
