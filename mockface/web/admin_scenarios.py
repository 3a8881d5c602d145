"""The admin routes of the scenarios: the library and the active ones, activating and
deactivating."""
from __future__ import annotations

from flask import Response, jsonify

from ..core.logs import log_admin
from ..core.scenarios.library import ForbiddenScenario, UnknownScenario
from ..core.scenarios.model import ScenarioError
from ..core.surface import AdminError, Arg
from .admin_args import argument, known_appid, read_body
from .admin_blueprint import accepts, admin, emulator


@admin.get("/scenarios")
@accepts("The scenario library and the active scenarios with their counters.")
def scenarios() -> Response:
    engine = emulator.scenarios
    return jsonify(library=[{"name": name, "path": str(path)}
                            for name, path in engine.library.names().items()],
                   active=[a.describe() for a in engine.active()],
                   reload_errors=engine.reload_errors)


@admin.post("/scenarios")
@accepts("Activate a scenario: give exactly one of name, path, document or text.",
         Arg("name", str, "A library name (mockface scenarios lists them)."),
         Arg("path", str, "A file inside the scenario directories, or given on the "
                          "command line."),
         Arg("document", dict, "The scenario itself, as JSON."),
         Arg("text", str, "The scenario as YAML or JSON text."),
         Arg("source", str, "With text: the label its problems are reported under."),
         Arg("appid", str, "Activate for this appid only (default: every appid)."),
         Arg("first", bool, "Consult it before the active ones.", default=False),
         status=201, errors=(403, 404))
def activate() -> tuple[Response, int]:
    payload = read_body()
    sources = [key for key in ("name", "path", "document", "text") if key in payload]
    if len(sources) != 1:
        raise AdminError(400, "give exactly one of name, path, document or text")
    kind, source = sources[0], payload[sources[0]]
    if kind == "document" and not isinstance(source, dict):
        raise AdminError(400, "document must be a JSON object")
    if kind != "document" and not isinstance(source, str):
        raise AdminError(400, f"{kind} must be a string")
    appid = known_appid(payload)
    first = bool(argument(payload, "first"))
    engine = emulator.scenarios
    try:
        if kind == "text":
            label = str(payload.get("source", "<text>"))[:200]
            activation = engine.activate_text(source, label, appid=appid, first=first)
        else:
            if kind == "name":
                source = engine.library.find_name(source)
            elif kind == "path":
                source = engine.library.find_path(source)
            activation = engine.activate(source, appid=appid, first=first)
    except ForbiddenScenario as error:
        raise AdminError(403, str(error)) from None
    except UnknownScenario as error:
        raise AdminError(404, str(error)) from None
    except ScenarioError as error:
        raise AdminError(400, "invalid scenario",
                         problems=[str(p) for p in error.problems]) from None
    log_admin("scenario activated", name=activation.scenario.name, appid=appid,
              first=first or None)
    return jsonify(activation.describe()), 201


@admin.delete("/scenarios")
@accepts("Deactivate scenarios by name and/or appid (default: the global ones).",
         Arg("name", str, "Only the scenario of this name."),
         Arg("appid", str, "Only those activated for this appid."),
         Arg("everywhere", bool, "Every scope, not only the global one.", default=False),
         errors=(404,))
def deactivate() -> Response:
    payload = read_body()
    name = argument(payload, "name")
    appid = known_appid(payload)
    everywhere = bool(argument(payload, "everywhere"))
    removed = emulator.scenarios.deactivate(name, appid, everywhere)
    log_admin("scenarios deactivated", name=name or "all", appid=appid,
              everywhere=everywhere or None, removed=removed)
    return jsonify(removed=removed)
