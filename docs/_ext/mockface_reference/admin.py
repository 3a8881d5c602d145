"""The admin API reference: every route of the admin OpenAPI document, as
``mockface.web.openapi.admin_document`` builds it from the routes' declarations (summary,
arguments, statuses) on an app with the built-in defaults."""
from __future__ import annotations

from typing import Any

from .markdown import code, codes, table, text

#: What the statuses every admin route may answer mean (``openapi._GUARD_STATUSES``, and
#: 415 for changes); any other status a route declares is its own refusal.
STATUS_MEANINGS = {
    "400": "a bad argument",
    "401": "the admin token is missing or wrong (a server started with one)",
    "403": "a Host name or Origin the guard refuses",
    "413": "the body is too large",
    "415": "a change without `Content-Type: application/json`",
    "503": "the state backend is unreachable",
}
OWN_REFUSAL = "the route's own refusal (see its summary): an unknown app or token, a conflict"


def document() -> dict[str, Any]:
    """The admin OpenAPI document of a server on the built-in defaults."""
    from mockface.core.config import Settings, builtin_app
    from mockface.web.app import create_app
    from mockface.web.openapi import admin_document

    return admin_document(create_app(Settings(apps=(builtin_app({}),))))


def _type(schema: dict[str, Any]) -> str:
    return str(schema.get("type", "any"))


def arguments(operation: dict[str, Any]) -> list[list[str]]:
    """One row per argument: name, where it goes, type, required, default, meaning."""
    rows = [[code(param["name"]), param["in"], _type(param.get("schema", {})),
             "yes" if param.get("required") else "no", "",
             text(param.get("description", ""))]
            for param in operation.get("parameters", [])]
    body = operation.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            default = code(prop["default"]) if "default" in prop else ""
            rows.append([code(name), "body", _type(prop), "yes" if name in required else "no",
                         default, text(prop.get("description", ""))])
    return rows


def statuses(operation: dict[str, Any]) -> str:
    """The success status with its media type, then the refusals."""
    responses = operation["responses"]
    success = next(status for status, answer in responses.items()
                   if answer.get("description") == "Done")
    media = ", ".join(responses[success].get("content", {})) or "no body"
    refused = [status for status in responses if status != success]
    return f"**{success}** ({code(media)}); refused: {', '.join(refused)}"


def render() -> list[str]:
    """The page body: a summary table of every route, then a section per route."""
    doc = document()
    paths: dict[str, dict[str, Any]] = doc["paths"]
    lines = [text(doc["info"]["description"]), "",
             f"{len(paths)} paths; every change is a JSON body, every read takes its "
             "arguments from the query string. An error is answered as "
             "`{\"error\": \"...\"}` with the status below.", ""]
    lines += table(["method", "path", "summary"],
                   [[method.upper(), code(path), text(operation["summary"])]
                    for path, methods in paths.items() for method, operation in methods.items()])
    lines += ["## Statuses", ""]
    seen = sorted({status for methods in paths.values() for operation in methods.values()
                   for status in operation["responses"]
                   if operation["responses"][status].get("description") != "Done"})
    lines += table(["status", "meaning"],
                   [[status, text(STATUS_MEANINGS.get(status, OWN_REFUSAL))]
                    for status in seen])
    lines += ["## Routes", ""]
    for path, methods in paths.items():
        for method, operation in methods.items():
            lines += [f"### {method.upper()} {code(path)}", "", text(operation["summary"]), ""]
            rows = arguments(operation)
            if rows:
                lines += table(["argument", "in", "type", "required", "default", "meaning"],
                               rows)
            else:
                lines += ["No arguments.", ""]
            lines += [f"Statuses: {statuses(operation)}.", "",
                      f"Operation id: {codes([operation['operationId']])}.", ""]
    return lines
