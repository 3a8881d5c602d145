"""The admin API under ``/__mockface/``: JSON in and out, for tests, fixtures and CI.

Every route calls the same Emulator and ScenarioEngine functions the CLI uses.  When a token
is configured, every route but ``health`` requires it in the ``X-Mockface-Admin-Token``
header.
"""
from __future__ import annotations

import hmac
import math
import os
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.local import LocalProxy

from .. import __version__
from ..client import TOKEN_HEADER
from ..core.config import SERVICES, App, mask
from ..core.hosts import is_loopback
from ..core.identity import well_formed_name, well_formed_number
from ..core.logs import log_admin
from ..core.scenarios.engine import ForbiddenScenario, UnknownScenario
from ..core.scenarios.model import ScenarioError
from ..core.state import StateUnavailable
from ..core.strictjson import loads_strict
from ..core.yamlsource import show
from ..emulator import Emulator
from ..faceid.catalogue import CATALOGUE as FACEID_CATALOGUE
from ..faceid.catalogue import codes_for as faceid_codes_for
from ..faceid.scenario_rules import TARGETS as API3_TARGETS
from ..legacy.errors import CATALOGUE, ENDPOINTS, codes_for


class AdminError(Exception):
    """A bad admin request: rendered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


MAX_ADMIN_BODY = 2 * 1024 * 1024
_INTEGER = re.compile(r"-?[0-9]{1,15}")
#: The emulated clock stays within what a datetime can show: 1970 to the end of year 9999.
LATEST_TIME = 253_402_300_799


def _body() -> dict[str, Any]:
    """The JSON object sent (an empty body counts as ``{}``): strict JSON (no NaN/Infinity,
    bounded depth, repeated names keep their first value), at most MAX_ADMIN_BODY bytes."""
    if (request.content_length or 0) > MAX_ADMIN_BODY:
        raise AdminError(413, f"the body is over {MAX_ADMIN_BODY} bytes")
    raw = request.stream.read(MAX_ADMIN_BODY + 1)
    if len(raw) > MAX_ADMIN_BODY:
        raise AdminError(413, f"the body is over {MAX_ADMIN_BODY} bytes")
    if not raw:
        return {}
    try:
        payload = loads_strict(raw)
    except ValueError:
        raise AdminError(400, "the body must be a JSON object") from None
    if not isinstance(payload, dict):
        raise AdminError(400, "the body must be a JSON object")
    return payload


def _param(payload: dict[str, Any], name: str, kind: type | tuple[type, ...], default=None):
    """A value from the JSON body, falling back to the query string; AdminError 400 for
    the wrong type, a number that is not finite, or an integer of more than 15 digits."""
    value = payload.get(name, request.args.get(name, default))
    if value is None or value is default:
        return value
    numeric = kind in (int, float) or kind == (int, float)
    if numeric and isinstance(value, str):
        if kind is int:
            if not _INTEGER.fullmatch(value):
                raise AdminError(400, f"{name} must be an integer")
            return int(value)
        try:
            value = float(value)
        except ValueError:
            raise AdminError(400, f"{name} must be a number") from None
    if numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or abs(value) >= 10**15:
            raise AdminError(400, f"{name} must be a finite number below 10**15")
    if kind is str and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise AdminError(400, f"{name} has the wrong type")
    return value


def _time(name: str, value: float) -> float:
    """``value`` as a clock time, refused unless between 1970 and the end of year 9999."""
    if not 0 <= value <= LATEST_TIME:
        raise AdminError(400, f"{name} must put the clock between 1970 and the end of year "
                              f"9999 (0 to {LATEST_TIME})")
    return value


@dataclass(frozen=True)
class Arg:
    """One argument a route accepts: from the JSON body (changes) or the query string
    (reads), its JSON type, and what it means.  The OpenAPI document is generated from
    these, and ``argument`` reads only declared arguments, so the two cannot drift."""

    name: str
    kind: type | tuple[type, ...]
    description: str
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class RouteDoc:
    """What the OpenAPI document says of a route."""

    summary: str
    args: tuple[Arg, ...] = ()
    status: int = 200  # of a success
    errors: tuple[int, ...] = ()  # route-specific error statuses (400 and the guard's: all)
    media_type: str = "application/json"  # of a success


def accepts(summary: str, *args: Arg, status: int = 200, errors: tuple[int, ...] = (),
            media_type: str = "application/json"):
    """Declare what a route accepts (put below the route decorator)."""
    def declare(view):
        view.mockface_doc = RouteDoc(summary, args, status, errors, media_type)
        return view
    return declare


_SCOPE = Arg("appid", str, "Only this appid's (default: everything).")


def argument(payload: dict[str, Any], name: str):
    """The current route's declared argument ``name`` (see ``_param``); a name the route
    does not declare is a bug, not a client error."""
    view = current_app.view_functions[request.endpoint]
    arg = next(a for a in view.mockface_doc.args if a.name == name)
    return _param(payload, name, arg.kind, arg.default)


def loopback_name(host: str) -> bool:
    """Whether a Host header value (port allowed) names this machine's loopback interface:
    ``localhost``, ``*.localhost``, 127.0.0.0/8 or ``[::1]``.  An empty Host counts (HTTP/1.0
    clients); browsers always send one."""
    if not host:
        return True
    name = host[1:host.index("]")] if host.startswith("[") and "]" in host \
        else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return is_loopback(name)


def _same_or_loopback(origin: str, host: str) -> bool:
    """Whether a browser's Origin is this server itself or another loopback page."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null" and the like: sandboxed or file pages
    return parts.netloc.lower() == host.lower() or loopback_name(parts.netloc)


def _endpoint_query() -> str | None:
    """The ``endpoint`` query parameter, checked to name a legacy endpoint or an API 3.0
    action (``faceid:LivenessCompare``)."""
    endpoint = request.args.get("endpoint")
    if endpoint is not None and endpoint not in ENDPOINTS and endpoint not in API3_TARGETS:
        raise AdminError(400, f"unknown endpoint {endpoint[:80]!r} (a legacy endpoint such "
                              f"as livegetfour, or an API 3.0 action such as "
                              f"faceid:GetLiveCode)")
    return endpoint


def _code_query() -> int | str | None:
    """The ``code`` query parameter: an integer (legacy codes) or a name (API 3.0
    ``Error.Code`` or ``Result``)."""
    code = request.args.get("code")
    if code is None:
        return None
    if re.fullmatch(r"-?[0-9]+", code):
        return _param({}, "code", int)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9.]{0,99}", code):
        raise AdminError(400, "code must be an integer or an API 3.0 name such as "
                              "AuthFailure.SignatureFailure")
    return code


#: The admin API: routes that let tests and CI inspect and steer a running server.  Each
#: app created by ``create_app`` registers it; the routes act on that app's emulator.
admin = Blueprint("mockface_admin", __name__, url_prefix="/__mockface",
                  template_folder="templates")
#: The app config keys the admin API reads: its token (None: loopback only) and start time.
TOKEN_CONFIG = "MOCKFACE_ADMIN_TOKEN"
STARTED_CONFIG = "MOCKFACE_STARTED"
CA_DIR_CONFIG = "MOCKFACE_CA_DIR"  # set by the server: where its local CA lives
#: The emulator of the app handling the current request.
emulator: Emulator = LocalProxy(lambda: current_app.extensions["mockface"])  # type: ignore



@admin.errorhandler(AdminError)
def admin_error(error: AdminError) -> tuple[Response, int]:
    return jsonify(error=str(error), **error.extra), error.status

@admin.errorhandler(StateUnavailable)
def state_unavailable(error: StateUnavailable) -> tuple[Response, int]:
    return jsonify(error=str(error)), 503

@admin.before_request
def guard() -> tuple[Response, int] | None:
    """Who may use the admin API: with a token, whoever sends it; without one (a loopback
    bind), only requests for a loopback Host (no DNS rebinding).  Changes also need a
    JSON body type and no foreign Origin (no cross-site form posts)."""
    token = current_app.config.get(TOKEN_CONFIG)
    if token is None and not loopback_name(request.host):
        return jsonify(error=f"the admin API answers only loopback hosts, not "
                             f"{show(request.host)} (bind a public address to use a "
                             "token instead)"), 403
    if request.endpoint == "mockface_admin.health":
        return None
    if token is not None:
        sent = request.headers.get(TOKEN_HEADER, "")
        if not sent and request.endpoint == "mockface_admin.dashboard":
            sent = request.args.get("token", "")  # a browser's first visit
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return jsonify(error=f"missing or wrong {TOKEN_HEADER} header"), 401
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        origin = request.headers.get("Origin")
        if origin is not None and not _same_or_loopback(origin, request.host):
            return jsonify(error=f"cross-site request refused (Origin {show(origin)})"), 403
        if request.mimetype != "application/json":
            return jsonify(error="changes need Content-Type: application/json"), 415
    emulator.state.sync()  # what other processes sharing the state changed
    return None

@admin.get("/health")
@accepts("Whether the server answers (503 while starting, while a scenario reload fails or "
         "while the state backend is unreachable).", errors=(503,))
def health():
    try:
        emulator.state.sync()
    except StateUnavailable as error:
        return jsonify(status="state backend unreachable", error=str(error),
                       version=__version__, pid=os.getpid()), 503
    names = [a.scenario.name for a in emulator.scenarios.active()]
    body = {"status": "ok", "version": __version__,
            "uptime": round(time.monotonic() - current_app.config[STARTED_CONFIG], 3),
            "scenarios": names, "pid": os.getpid(), "state": emulator.state.description}
    if not emulator.ready.is_set():
        return jsonify({**body, "status": "starting"}), 503
    if emulator.scenarios.reload_errors:
        return jsonify({**body, "status": "scenario reload failing",
                        "errors": emulator.scenarios.reload_errors}), 503
    return jsonify(body)

@admin.post("/reset")
@accepts("Forget journal, lip codes, used signatures, rate windows, scenarios, loose mode "
         "and registered identities: everything, or one appid's.", _SCOPE)
def reset():
    appid = argument(_body(), "appid")
    emulator.reset(appid)
    log_admin("reset", appid=appid or "all")
    return jsonify(reset=appid or "all")

# -- scenarios ------------------------------------------------------------------------

@admin.get("/scenarios")
@accepts("The scenario library and the active scenarios with their counters.")
def scenarios():
    engine = emulator.scenarios
    return jsonify(library=[{"name": name, "path": str(path)}
                            for name, path in engine.library().items()],
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
def activate():
    payload = _body()
    sources = [key for key in ("name", "path", "document", "text") if key in payload]
    if len(sources) != 1:
        raise AdminError(400, "give exactly one of name, path, document or text")
    kind, source = sources[0], payload[sources[0]]
    if kind == "document" and not isinstance(source, dict):
        raise AdminError(400, "document must be a JSON object")
    if kind != "document" and not isinstance(source, str):
        raise AdminError(400, f"{kind} must be a string")
    appid = argument(payload, "appid")
    first = bool(argument(payload, "first"))
    engine = emulator.scenarios
    try:
        if kind == "text":
            label = str(payload.get("source", "<text>"))[:200]
            activation = engine.activate_text(source, label, appid=appid, first=first)
        else:
            if kind == "name":
                source = engine.find_name(source)
            elif kind == "path":
                source = engine.find_path(source)
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
         Arg("everywhere", bool, "Every scope, not only the global one.", default=False))
def deactivate():
    payload = _body()
    name = argument(payload, "name")
    appid = argument(payload, "appid")
    everywhere = bool(argument(payload, "everywhere"))
    removed = emulator.scenarios.deactivate(name, appid, everywhere)
    log_admin("scenarios deactivated", name=name or "all", appid=appid,
              everywhere=everywhere or None, removed=removed)
    return jsonify(removed=removed)

# -- journal --------------------------------------------------------------------------

@admin.get("/requests")
@accepts("The journal, oldest first, filtered.",
         Arg("endpoint", str, "A legacy endpoint (livegetfour) or an API 3.0 action "
                              "(faceid:GetLiveCode)."),
         Arg("appid", str, "Only this appid's requests."),
         Arg("code", str, "A legacy code (an integer) or an API 3.0 Error.Code or Result."),
         Arg("since", float, "Only requests at or after this emulated time."),
         Arg("after", int, "Only entries with a greater id."))
def requests_():
    query: dict[str, Any] = {}  # filters come from the query string only
    entries = emulator.journal.query(
        endpoint=_endpoint_query(), appid=argument(query, "appid"),
        code=_code_query(), since=argument(query, "since"),
        after=argument(query, "after"))
    return jsonify(requests=[entry.as_dict() for entry in entries],
                   capacity=emulator.journal.capacity)

@admin.delete("/requests")
@accepts("Empty the journal, or drop one appid's entries.", _SCOPE)
def clear_requests():
    appid = argument(_body(), "appid")
    removed = emulator.journal.clear(appid)
    log_admin("journal cleared", appid=appid or "all", removed=removed)
    return jsonify(removed=removed)

# -- clock ----------------------------------------------------------------------------

def clock_state():
    return jsonify(now=emulator.clock.now(), frozen=emulator.clock.frozen,
                   **emulator.clock.state())

@admin.get("/clock")
@accepts("The emulated clock.")
def clock():
    return clock_state()

@admin.post("/clock/freeze")
@accepts("Stop the clock.", Arg("at", (int, float), "Seconds since 1970 (default: now)."))
def freeze():
    at = argument(_body(), "at")
    now = emulator.clock.freeze(None if at is None else _time("at", at))
    log_admin("clock frozen", at=now)
    return clock_state()

@admin.post("/clock/advance")
@accepts("Move the clock.", Arg("seconds", (int, float), "How far (negative: back).",
                                required=True))
def advance():
    seconds = argument(_body(), "seconds")
    if seconds is None:
        raise AdminError(400, "seconds is required")
    _time("seconds", emulator.clock.now() + seconds)
    now = emulator.clock.advance(seconds)
    log_admin("clock advanced", seconds=seconds, now=now)
    return clock_state()

@admin.post("/clock/restore")
@accepts("Put the clock back to a state read from GET clock.",
         Arg("frozen_at", (int, float), "The frozen time, or null for a running clock."),
         Arg("offset", (int, float), "Seconds added to real time.", default=0))
def restore():
    """Put the clock back to a state read from GET clock (frozen_at and offset)."""
    payload = _body()
    frozen_at = argument(payload, "frozen_at")
    offset = argument(payload, "offset")
    _time("frozen_at" if frozen_at is not None else "offset",
          frozen_at if frozen_at is not None else time.time() + offset)
    emulator.clock.restore(frozen_at, offset)
    log_admin("clock restored", frozen_at=frozen_at, offset=offset)
    return clock_state()

@admin.post("/clock/unfreeze")
@accepts("Let the clock run again (keeping any advance).")
def unfreeze():
    emulator.clock.unfreeze()
    log_admin("clock unfrozen")
    return clock_state()

# -- state and configuration ----------------------------------------------------------

@admin.get("/lip-codes")
@accepts("The lip codes issued, per appid.", Arg("appid", str, "Only this appid's."))
def lip_codes():
    appid = request.args.get("appid")
    if appid is not None:
        return jsonify(lip_codes={appid: emulator.lip_codes.issued(appid)})
    return jsonify(lip_codes=emulator.lip_codes.all_issued())

@admin.get("/codes")
@accepts("The error catalogue.",
         Arg("endpoint", str, "Only what this endpoint or action answers."),
         Arg("api", str, "faceid: the API 3.0 names."))
def codes():
    endpoint = _endpoint_query()
    if request.args.get("api") == "faceid" or (endpoint and ":" in endpoint):
        action = endpoint.split(":")[1] if endpoint else None
        names = faceid_codes_for(action)
        return jsonify(codes=[FACEID_CATALOGUE[name].as_dict() for name in names])
    entries = codes_for(endpoint) if endpoint else list(CATALOGUE.values())
    return jsonify(codes=[entry.as_dict() for entry in entries])

@admin.get("/config")
@accepts("The settings in effect (secret keys masked).")
def config():
    settings = emulator.settings
    return jsonify(
        source=settings.source,
        apps=[{"appid": app.appid,
               "secrets": [{"secret_id": sid, "secret_key": mask(key)}
                           for sid, key in app.secrets.items()],
               "buckets": sorted(app.buckets), "suspended": app.suspended,
               "services": [name for name in SERVICES if name in app.services],
               "rate_limit": app.rate_limit} for app in emulator.keyring.apps],
        identities=len(emulator.identities), clock_skew=settings.clock_skew,
        check_idcard=settings.check_idcard, strict_lip_codes=settings.strict_lip_codes,
        seed=settings.seed, loose=settings.loose, loose_appids=sorted(emulator.loose_appids),
        once_store_size=settings.once_store_size,
        journal_size=emulator.journal.capacity,
        allow_scenario_header=emulator.allow_scenario_header,
        scenario_search_path=[str(p) for p in emulator.scenarios.search_paths])

@admin.post("/apps")
@accepts("Create an app with fresh credentials: a private namespace.",
         Arg("appid", str, "The appid (default: a new ns… one)."), status=201, errors=(409,))
def create_app():
    """A fresh app with generated credentials: a private namespace on a shared server."""
    payload = _body()
    appid = argument(payload, "appid") or f"ns{secrets.randbelow(10**9):09d}"
    app = App(appid, {f"AKIDmockface{secrets.token_hex(12)}": secrets.token_hex(16)})
    try:
        emulator.state.add_app(emulator.keyring, app)
    except ValueError as error:
        raise AdminError(409, str(error)) from None
    secret_id, secret_key = app.first_secret
    log_admin("app created", appid=appid, secret_id=secret_id)
    return jsonify(appid=appid, secret_id=secret_id, secret_key=secret_key), 201

@admin.delete("/apps")
@accepts("Remove an app created over the admin API, and forget its state.",
         Arg("appid", str, "The app to remove.", required=True), errors=(404,))
def delete_app():
    """Remove an app created over the admin API, and forget its state."""
    appid = argument(_body(), "appid")
    if appid is None:
        raise AdminError(400, "appid is required")
    try:
        emulator.state.remove_app(emulator.keyring, appid)
    except KeyError:
        raise AdminError(404, f"no app {appid!r} was created over the admin API") from None
    emulator.reset(appid)
    log_admin("app deleted", appid=appid)
    return jsonify(deleted=appid)

@admin.post("/identities")
@accepts("Register who an ID number belongs to (another name then answers -5803).",
         Arg("idcard_number", str, "18 characters: 17 digits and a digit or X.",
             required=True),
         Arg("idcard_name", str, "2 to 30 Chinese characters.", required=True),
         Arg("appid", str, "Register for this appid (its reset forgets it)."), status=201)
def add_identity():
    """Register who an ID number belongs to (a different name then answers -5803)."""
    payload = _body()
    number = argument(payload, "idcard_number")
    name = argument(payload, "idcard_name")
    if number is None or name is None:
        raise AdminError(400, "idcard_number and idcard_name are required")
    if not well_formed_number(number):
        raise AdminError(400, "idcard_number must be 17 digits and a digit or X")
    if not well_formed_name(name):
        raise AdminError(400, "idcard_name must be 2 to 30 Chinese characters")
    appid = argument(payload, "appid")
    emulator.identities.add(number, name, appid)
    log_admin("identity registered", idcard_number=number, appid=appid)
    return jsonify(idcard_number=number, idcard_name=name, appid=appid), 201

@admin.post("/loose")
@accepts("Loose mode for one app: only the signature's format is checked.",
         Arg("appid", str, "The app.", required=True),
         Arg("enabled", bool, "On or off.", default=True))
def loose():
    payload = _body()
    appid = argument(payload, "appid")
    enabled = argument(payload, "enabled")
    if appid is None:
        raise AdminError(400, "appid is required (use --loose for the whole server)")
    emulator.state.set_loose(appid, enabled)
    log_admin("loose mode", appid=appid, enabled=enabled)
    return jsonify(appid=appid, loose=enabled)


@admin.get("/openapi/<name>.json")
@accepts("An OpenAPI 3.1 document of this server: legacy (the /face/* endpoints), faceid "
         "(API 3.0) or admin (this API).", errors=(404,))
def openapi(name: str):
    from . import openapi as documents

    if name == "legacy":
        return jsonify(documents.legacy_document())
    if name == "faceid":
        return jsonify(documents.faceid_document())
    if name == "admin":
        return jsonify(documents.admin_document(current_app))
    raise AdminError(404, f"no document {name[:40]!r}: legacy, faceid or admin")


@admin.get("/ca")
@accepts("The local CA's certificate (PEM), for clients that must trust it.",
         errors=(500,))
def ca():
    """The certificate of the CA this server signs its TLS certificates with (public; the
    key never leaves the CA directory), for clients that must trust it."""
    from .tls import CAError, CertificateAuthority

    try:
        authority = CertificateAuthority(current_app.config.get(CA_DIR_CONFIG))
    except CAError as error:
        raise AdminError(500, str(error)) from None
    return jsonify(path=str(authority.cert_path),
                   pem=authority.cert_path.read_text(encoding="ascii"))
