"""The legacy endpoints' OpenAPI document, generated from the definitions requests are
checked with: the field table (``fields.FIELDS``), the error catalogue and the success
``data`` fields of each endpoint.  Nothing here is a hand-kept copy of a field list."""
from __future__ import annotations

from typing import Any

from ...core.surface import OpenApiDocument
from .errors import ENDPOINTS, ErrorCode, Placement, codes_for, placement_on
from .fields import FIELDS, Field
from .scenario_rules import DATA_FIELDS

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


def document() -> OpenApiDocument:
    """The five ``/face/*`` endpoints: JSON and multipart bodies, the success ``data`` of
    each, and every documented code as an example of the status it is answered with."""
    return OpenApiDocument(
        title="mockface: Tencent Cloud legacy face verification (emulated)",
        description="The legacy endpoints as mockface emulates them (contract.md). Every "
                    "request needs an HMAC-SHA1 Authorization header: `mockface sign` "
                    "prints one.",
        components={
            "securitySchemes": {"legacySignature": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "base64(HMAC-SHA1(plaintext) + plaintext), plaintext "
                               "a=APPID&b=BUCKET&k=SECRET_ID&e=EXPIRES&t=NOW&r=RAND&f="}},
            "schemas": {"Error": _ERROR}},
        security=[{"legacySignature": []}],
        paths={f"/face/{endpoint}": {"post": _operation(endpoint)} for endpoint in ENDPOINTS},
    )


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


def _operation(endpoint: str) -> dict[str, Any]:
    data_fields = [name for name, owners in DATA_FIELDS.items() if endpoint in owners]
    success = {"type": "object", "required": ["code", "message", "data"],
               "properties": {"code": {"const": 0}, "message": {"type": "string"},
                              "data": {"type": "object",
                                       "properties": {n: _DATA_TYPES[n] for n in data_fields}}}}
    by_status: dict[int, list[ErrorCode]] = {}
    for entry in codes_for(endpoint):
        if placement_on(endpoint, entry.code) is Placement.TOP:
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
