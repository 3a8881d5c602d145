"""OpenAPI 3.1 documents of what this server answers, generated from the definitions it
checks requests with: each product's from its surface (``Surface.openapi``, built from the
product's own tables), the admin API's from its routes' declarations (``accepts``).
Nothing here is a hand-kept copy of a field list."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import __version__
from .admin_blueprint import RouteDoc, route_doc

if TYPE_CHECKING:
    from flask import Flask

    from ..core.surface import Surface

OPENAPI_VERSION = "3.1.0"


def _info(title: str, description: str) -> dict[str, Any]:
    return {"title": title, "version": __version__, "description": description}


def product_document(surface: Surface) -> dict[str, Any]:
    """The OpenAPI document of a product, as served: its surface's, with the server's
    version fields."""
    document = surface.openapi()
    return {"openapi": OPENAPI_VERSION, "info": _info(document.title, document.description),
            "components": document.components, "security": document.security,
            "paths": document.paths}


# -- the admin API ----------------------------------------------------------------------------

_ADMIN_ERROR = {"type": "object", "required": ["error"],
                "properties": {"error": {"type": "string"}}}
#: Statuses any admin route may answer: a bad argument, the token, the Host/Origin guard, a
#: body too large, an unreachable state backend; and, for changes, the body's type.
_GUARD_STATUSES = (400, 401, 403, 413, 503)


def _json_type(kind: type | tuple[type, ...]) -> dict[str, Any]:
    if isinstance(kind, tuple):
        return {"type": "number"}
    return {"type": {str: "string", bool: "boolean", dict: "object", list: "array", int: "integer",
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
