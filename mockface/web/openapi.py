"""OpenAPI 3.1 documents of what this server answers, generated from the definitions it
checks requests with: the legacy endpoints from ``legacy.fields`` and the error catalogue,
API 3.0 from the actions' parameter definitions and its catalogue, the admin API from its
routes' declarations (``web.admin``).  Nothing here is a hand-kept copy of a field list."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..products.tc3.actions import ACTIONS, MEDIA_PARAMS
from ..products.tc3.catalogue import CATALOGUE as FACEID_CATALOGUE
from ..products.tc3.catalogue import codes_for as faceid_codes_for
from ..products.tc3.params import Param
from ..products.tc3.request import ACTIONS as ACTIONS_BY_VERSION
from ..products.legacy.errors import ENDPOINTS, codes_for, placement_on
from ..products.legacy.errors import Placement as _Placement
from ..products.legacy.fields import FIELDS, Field
from ..products.legacy.scenario_rules import DATA_FIELDS
from .admin import RouteDoc, route_doc

if TYPE_CHECKING:
    from flask import Flask

OPENAPI_VERSION = "3.1.0"

#: The JSON type of each success ``data`` field (contract §5).
_DATA_TYPES: dict[str, dict[str, Any]] = {
    "similarity": {"type": "number", "minimum": 0, "maximum": 100},
    "session_id": {"type": "string"},
    "score": {"type": "integer", "minimum": 0, "maximum": 100},
    "validate_data": {"type": "string", "pattern": "^[0-9]{4}$"},
    "live_status": {"type": "integer"},
    "live_msg": {"type": "string"},
    "compare_status": {"type": "integer"},
    "compare_msg": {"type": "string"},
    "sim": {"type": "integer", "minimum": 0, "maximum": 100},
    "photo": {"type": "string", "contentEncoding": "base64",
              "contentMediaType": "image/jpeg"},
    "video_photo": {"type": "string", "contentEncoding": "base64",
                    "contentMediaType": "image/jpeg"},
}
_ERROR = {"type": "object", "required": ["code", "message"],
          "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}}


def _info(title: str, description: str) -> dict[str, Any]:
    return {"title": title, "version": __version__, "description": description}


# -- the legacy endpoints ---------------------------------------------------------------------

def legacy_document() -> dict[str, Any]:
    """The five ``/face/*`` endpoints: JSON and multipart bodies, the success ``data`` of
    each, and every documented code as an example of the status it is answered with."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": _info("mockface: Tencent Cloud legacy face verification (emulated)",
                      "The legacy endpoints as mockface emulates them (contract.md). Every "
                      "request needs an HMAC-SHA1 Authorization header: `mockface sign` "
                      "prints one."),
        "components": {
            "securitySchemes": {"legacySignature": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "base64(HMAC-SHA1(plaintext) + plaintext), plaintext "
                               "a=APPID&b=BUCKET&k=SECRET_ID&e=EXPIRES&t=NOW&r=RAND&f="}},
            "schemas": {"Error": _ERROR}},
        "security": [{"legacySignature": []}],
        "paths": {f"/face/{endpoint}": {"post": _legacy_operation(endpoint)}
                  for endpoint in ENDPOINTS},
    }


def _field_schema(field: Field, multipart: bool) -> dict[str, Any]:
    if field.media:
        schema: dict[str, Any] = {"type": "string", "contentMediaType":
                                  "application/octet-stream"}
        if not multipart:
            schema = {"type": "string", "contentEncoding": "base64"}
    else:
        schema = {"type": "string"}
        if field.pattern:
            schema["pattern"] = field.pattern
    schema["description"] = field.description + (
        f" Missing: code {field.missing_code}." if field.missing_code is not None else "")
    return schema


def _body_schema(endpoint: str, multipart: bool) -> dict[str, Any]:
    fields = FIELDS[endpoint]
    return {"type": "object",
            "properties": {f.name: _field_schema(f, multipart) for f in fields},
            "required": [f.name for f in fields if f.required]}


def _legacy_operation(endpoint: str) -> dict[str, Any]:
    data_fields = [name for name, owners in DATA_FIELDS.items() if endpoint in owners]
    success = {"type": "object", "required": ["code", "message", "data"],
               "properties": {"code": {"const": 0}, "message": {"type": "string"},
                              "data": {"type": "object",
                                       "properties": {n: _DATA_TYPES[n] for n in data_fields}}}}
    by_status: dict[int, list] = {}
    for entry in codes_for(endpoint):
        if placement_on(endpoint, entry.code) is _Placement.TOP:
            by_status.setdefault(entry.http_status, []).append(entry)
    responses: dict[str, Any] = {"200": {
        "description": "Answered: code 0 with data (in-band statuses on the video endpoints)",
        "content": {"application/json": {"schema": success}}}}
    for status, entries in sorted(by_status.items()):
        responses[str(status)] = {
            "description": ", ".join(str(e.code) for e in entries),
            "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "examples": {f"code{e.code}": {"summary": e.meaning,
                                               "value": {"code": e.code,
                                                         "message": e.message}}
                             for e in entries}}}}
    responses["default"] = {"description": "A refused request (malformed HTTP, unknown "
                                           "method, a scripted status)",
                            "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "operationId": endpoint,
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _body_schema(endpoint, multipart=False)},
            "multipart/form-data": {"schema": _body_schema(endpoint, multipart=True)}}},
        "responses": responses,
    }


# -- API 3.0 ----------------------------------------------------------------------------------

def faceid_document() -> dict[str, Any]:
    """The API 3.0 actions: one ``POST /`` whose ``X-TC-Action`` header names the action;
    each action's parameters and its Error.Codes (Tencent's envelope, always HTTP 200)."""
    schemas: dict[str, Any] = {}
    for (product, action), definition in ACTIONS.items():
        schemas[f"{product}.{action}"] = _action_schema(product, action, definition.params)
    names = sorted({action for _, action in ACTIONS})
    envelope = {"type": "object", "required": ["Response"], "properties": {"Response": {
        "type": "object", "required": ["RequestId"], "properties": {
            "RequestId": {"type": "string"},
            "Error": {"type": "object", "required": ["Code", "Message"], "properties": {
                "Code": {"enum": list(FACEID_CATALOGUE)}, "Message": {"type": "string"}}}}}}}
    headers = [
        {"name": "X-TC-Action", "in": "header", "required": True, "schema": {"enum": names}},
        {"name": "X-TC-Version", "in": "header", "required": True,
         "schema": {"enum": sorted({v for by_version in ACTIONS_BY_VERSION.values()
                                    for v in by_version})}},
        {"name": "X-TC-Timestamp", "in": "header", "required": True,
         "schema": {"type": "string", "pattern": "^[0-9]+$"}},
        {"name": "X-TC-Language", "in": "header", "schema": {"enum": ["zh-CN", "en-US"]}}]
    answers = {"200": {"description": "Tencent's envelope: the action's fields, or Error",
                       "content": {"application/json": {
                           "schema": {"$ref": "#/components/schemas/Envelope"}}}}}
    return {
        "openapi": OPENAPI_VERSION,
        "info": _info("mockface: Tencent Cloud API 3.0 faceid and iai (emulated)",
                      "Every call is POST / (a JSON body) or GET / (the parameters in the "
                      "query, flattened as the SDKs send them: Encryption.EncryptList.0=IdCard) "
                      "with the action in X-TC-Action, the version in X-TC-Version and a "
                      "TC3-HMAC-SHA256 Authorization (`mockface sign --api faceid` prints "
                      "one). Answers are always HTTP 200."),
        "components": {"schemas": {**schemas, "Envelope": envelope},
                       "securitySchemes": {"tc3": {"type": "apiKey", "in": "header",
                                                   "name": "Authorization"}}},
        "security": [{"tc3": []}],
        "paths": {"/": {
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
    }


def _param_schema(param: Param) -> dict[str, Any]:
    kind = {str: "string", int: "integer", bool: "boolean", dict: "object",
            list: "array"}[param.kind]
    schema: dict[str, Any] = {"type": kind}
    if param.choices:
        schema["enum"] = list(param.choices)
    if param.name in MEDIA_PARAMS:
        schema["contentEncoding"] = "base64"
    return schema


def _action_schema(product: str, action: str, params: tuple[Param, ...]) -> dict[str, Any]:
    return {"title": f"{product} {action}", "type": "object",
            "properties": {p.name: _param_schema(p) for p in params},
            "required": [p.name for p in params if p.required],
            "additionalProperties": False,
            "x-mockface-error-codes": list(faceid_codes_for(action))}


# -- the admin API ----------------------------------------------------------------------------

_ADMIN_ERROR = {"type": "object", "required": ["error"],
                "properties": {"error": {"type": "string"}}}
#: Statuses any admin route may answer: a bad argument, the token, the Host/Origin guard, a
#: body too large, an unreachable state backend; and, for changes, the body's type.
_GUARD_STATUSES = (400, 401, 403, 413, 503)


def _json_type(kind: type | tuple[type, ...]) -> dict[str, Any]:
    if isinstance(kind, tuple):
        return {"type": "number"}
    return {"type": {str: "string", bool: "boolean", dict: "object", int: "integer",
                     float: "number"}[kind]}


def admin_document(app: Flask) -> dict[str, Any]:
    """The admin API of ``app``: every route of the admin blueprint, from the declarations
    its handlers read their arguments through."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("mockface_admin."):
            continue
        doc = route_doc(app.view_functions[rule.endpoint])
        if doc is None:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = _admin_operation(rule.endpoint.split(".", 1)[1], method, doc)
            operation.setdefault("parameters", []).extend(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in rule.arguments)
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": _info("mockface admin API",
                      "Script, inspect and reset a running mockface. Without a token only "
                      "loopback Host names are served; changes need Content-Type: "
                      "application/json and no foreign Origin."),
        "components": {"schemas": {"AdminError": _ADMIN_ERROR},
                       "securitySchemes": {"adminToken": {
                           "type": "apiKey", "in": "header",
                           "name": "X-Mockface-Admin-Token"}}},
        "security": [{}, {"adminToken": []}],
        "paths": paths,
    }


def _admin_operation(name: str, method: str, doc: RouteDoc) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": f"{name}_{method.lower()}",
                                 "summary": doc.summary}
    if method == "GET":
        operation["parameters"] = [
            {"name": arg.name, "in": "query", "required": arg.required,
             "description": arg.description, "schema": _json_type(arg.kind)}
            for arg in doc.args]
    else:
        properties = {arg.name: {**_json_type(arg.kind), "description": arg.description,
                                 **({"default": arg.default} if arg.default is not None
                                    else {})}
                      for arg in doc.args}
        operation["requestBody"] = {"required": False, "content": {"application/json": {
            "schema": {"type": "object", "properties": properties,
                       "required": [arg.name for arg in doc.args if arg.required],
                       "additionalProperties": False}}}}
    error = {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/AdminError"}}}}
    statuses = sorted(set(_GUARD_STATUSES + doc.errors + (() if method == "GET" else (415,))))
    success = {"schema": {"type": "object"}} if doc.media_type == "application/json" else {}
    operation["responses"] = {
        str(doc.status): {"description": "Done", "content": {doc.media_type: success}},
        **{str(status): {"description": "Refused", **error} for status in statuses
           if status != doc.status}}
    return operation
