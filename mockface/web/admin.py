"""The admin API under ``/__mockface/``: JSON in and out, for tests, fixtures and CI.

Every route calls the same Emulator and ScenarioEngine functions the CLI uses.  When a token
is configured, every route but ``health`` requires it in the ``X-Mockface-Admin-Token``
header.  A route takes only the arguments it declares (``accepts``): an unknown key, a value
of the wrong type or an appid the server does not know is refused, saying which.
"""
from __future__ import annotations

import difflib
import hmac
import json
import math
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.local import LocalProxy

from .. import __version__
from ..client import TOKEN_HEADER
from ..core.config import SERVICES, App, mask
from ..core.hosts import is_loopback
from ..core.identity import well_formed_name, well_formed_number
from ..core.logs import log_admin
from ..core.scenarios.library import ForbiddenScenario, UnknownScenario
from ..core.scenarios.model import ScenarioError
from ..core.state import StateUnavailable
from ..core.strictjson import loads_strict
from ..core.yamlsource import show
from ..emulator import Emulator
from ..products.tc3.catalogue import CATALOGUE as FACEID_CATALOGUE
from ..products.tc3.catalogue import codes_for as faceid_codes_for
from ..products.tc3.scenario_rules import TARGETS as API3_TARGETS
from ..products.legacy.errors import CATALOGUE, ENDPOINTS, codes_for


class AdminError(Exception):
    """A bad admin request: rendered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


MAX_ADMIN_BODY = 2 * 1024 * 1024
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?")
#: Numbers the admin API takes are below this in magnitude (at most 15 digits).
NUMBER_LIMIT = 10**15
#: The emulated clock stays within what a datetime can show: 1970 to the end of year 9999.
LATEST_TIME = 253_402_300_799
#: What each argument type must be, as messages say it.
_EXPECTED = {str: "a string", bool: "true or false", dict: "a JSON object",
             int: "an integer", (int, float): "a number"}


def _body() -> dict[str, Any]:
    """The JSON object sent (an empty body counts as ``{}``): strict JSON (no NaN/Infinity,
    bounded depth, repeated names keep their first value), at most MAX_ADMIN_BODY bytes,
    with no key (nor query parameter) the current route does not declare.  AdminError 400
    saying what is wrong otherwise (413 for a body too large)."""
    if (request.content_length or 0) > MAX_ADMIN_BODY:
        raise AdminError(413, f"the body is over {MAX_ADMIN_BODY} bytes")
    raw = request.stream.read(MAX_ADMIN_BODY + 1)
    if len(raw) > MAX_ADMIN_BODY:
        raise AdminError(413, f"the body is over {MAX_ADMIN_BODY} bytes")
    _only_declared(request.args, "query string")
    if not raw:
        return {}
    try:
        payload = loads_strict(raw)
    except ValueError as error:
        raise AdminError(400, _why_not_json(raw, error)) from None
    if not isinstance(payload, dict):
        raise AdminError(400, "the body must be a JSON object")
    _only_declared(payload, "body")
    return payload


def _declared() -> tuple[Arg, ...]:
    """The arguments the current route declares (``accepts``)."""
    doc = route_doc(current_app.view_functions.get(request.endpoint or ""))
    return doc.args if doc is not None else ()


def _only_declared(keys: Iterable[str], where: str) -> None:
    """AdminError 400 naming the first of ``keys`` (of the body or the query string) that
    the current route does not declare, with the declared name it resembles, if any: an
    ignored misspelling would widen what a change does (``appId``: a reset of every app)."""
    names = [arg.name for arg in _declared()]
    for key in keys:
        if key in names:
            continue
        route = request.path.removeprefix(ADMIN_PREFIX + "/")
        if not names:
            raise AdminError(400, f"unknown key {show(key)} in the {where}: "
                                  f"{request.method} {route} takes none")
        guess = [name for name in names if name.lower() == str(key).lower()] or \
            difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
        hint = f"; did you mean {guess[0]!r}?" if guess else \
            f" ({request.method} {route} takes {', '.join(names)})"
        raise AdminError(400, f"unknown key {show(key)} in the {where}{hint}")


class _Unfit:
    """A value strict JSON refuses, as ``_why_not_json`` parses it: what is wrong with it."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


class _UnfitAt(Exception):
    """The innermost key holding an _Unfit value."""

    def __init__(self, key: str, unfit: _Unfit) -> None:
        super().__init__(key)
        self.key, self.unfit = key, unfit


def _why_not_json(raw: bytes, error: ValueError) -> str:
    """Why ``loads_strict`` refused ``raw``, naming the key of a NaN, an Infinity or an
    integer too long for Python to convert; else the parser's own reason (``error``)."""
    def constant(name: str) -> _Unfit:
        return _Unfit(f"must be a finite number ({name} is not JSON)")

    def integer(text: str) -> int | _Unfit:
        digits = len(text.lstrip("-"))
        if digits > sys.get_int_max_str_digits():
            return _Unfit(f"is a number too large ({digits} digits)")
        return int(text)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        for key, value in items:
            unfit = _first_unfit(value)
            if unfit is not None:
                raise _UnfitAt(key, unfit)
        return dict(items)

    try:
        json.loads(raw, parse_constant=constant, parse_int=integer, object_pairs_hook=pairs)
    except _UnfitAt as found:
        return f"{_label(found.key)} {found.unfit.problem}"
    except (ValueError, RecursionError):
        pass
    reason = "nested too deeply" if "nested too deeply" in str(error) else str(error)[:200]
    return f"the body is not JSON ({reason})"


def _first_unfit(value: Any) -> _Unfit | None:
    """``value`` itself or the first _Unfit in it, through lists (an object inside has
    been checked already, by its own ``pairs``)."""
    if isinstance(value, _Unfit):
        return value
    if isinstance(value, list):
        return next((u for u in map(_first_unfit, value) if u is not None), None)
    return None


def _label(key: str) -> str:
    """A body key for a message: as it is when it looks like a name, else quoted and
    clipped."""
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", key) else show(key)


def _param(payload: dict[str, Any], name: str, kind: type | tuple[type, ...],
           default: Any = None) -> Any:
    """Argument ``name``: from the JSON body, else from the query string, else ``default``
    (a JSON ``null`` counts as not given).  AdminError 400 unless it is of ``kind`` -- in a
    body a number must be a JSON number, a query value is parsed -- and, for numbers,
    finite and below NUMBER_LIMIT in magnitude."""
    kind = (int, float) if kind in (float, (int, float)) else kind
    if payload.get(name) is not None:
        value = payload[name]
    elif name in request.args:
        value = _from_query(name, request.args[name], kind)
    else:
        return default
    if kind is str and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # appids are numbers at Tencent: 1000001 means "1000001"
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise AdminError(400, f"{name} must be {_EXPECTED[kind]}, not {_shown(value)}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise AdminError(400, f"{name} must be a finite number")
        if abs(value) >= NUMBER_LIMIT:
            raise AdminError(400, f"{name} is a number too large (at most 15 digits)")
    return value


def _from_query(name: str, text: str, kind: type | tuple[type, ...]) -> Any:
    """A query-string value as ``kind``: numbers and true/false parsed, else the text."""
    if kind is int:
        if not _INTEGER.fullmatch(text):
            raise AdminError(400, f"{name} must be an integer of at most 15 digits")
        return int(text)
    if kind == (int, float):
        if not _NUMBER.fullmatch(text):
            raise AdminError(400, f"{name} must be a number of at most 15 digits")
        return float(text)
    if kind is bool and text in ("true", "false"):
        return text == "true"
    return text


def _shown(value: Any) -> str:
    """A JSON value for "must be X, not ..." messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {show(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return show(value)


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


#: The attribute of a view function that holds its RouteDoc (``accepts``, ``route_doc``).
_DOC_ATTRIBUTE = "mockface_doc"
_View = TypeVar("_View", bound=Callable[..., Any])


def accepts(summary: str, *args: Arg, status: int = 200, errors: tuple[int, ...] = (),
            media_type: str = "application/json") -> Callable[[_View], _View]:
    """Declare what a route accepts (put below the route decorator)."""
    def declare(view: _View) -> _View:
        setattr(view, _DOC_ATTRIBUTE, RouteDoc(summary, args, status, errors, media_type))
        return view
    return declare


def route_doc(view: object) -> RouteDoc | None:
    """What ``accepts`` declared of a view function; None when it declared nothing."""
    doc = getattr(view, _DOC_ATTRIBUTE, None)
    return doc if isinstance(doc, RouteDoc) else None


_SCOPE = Arg("appid", str, "Only this appid's (default: everything).")


def argument(payload: dict[str, Any], name: str) -> Any:
    """The current route's declared argument ``name`` (see ``_param``); a name the route
    does not declare is a bug, not a client error."""
    arg = next(a for a in _declared() if a.name == name)
    return _param(payload, name, arg.kind, arg.default)


def known_appid(payload: dict[str, Any]) -> str | None:
    """The current route's ``appid`` argument, None when not given; AdminError 404 naming
    it unless the server knows it: configured, created over the admin API, or any appid
    when the whole server is in loose mode (which answers every appid)."""
    appid = argument(payload, "appid")
    if appid is None or emulator.settings.loose or emulator.keyring.app(appid) is not None \
            or appid in emulator.loose_appids:
        return appid
    known = [app.appid for app in emulator.keyring.apps]
    guess = difflib.get_close_matches(appid, known, n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]!r}?" if guess else " (GET config lists the apps)"
    raise AdminError(404, f"unknown appid {show(appid)}: not configured and not created "
                          f"over the admin API{hint}")


def _query() -> dict[str, Any]:
    """For a route reading only the query string: nothing, once every query parameter is
    checked to be one the route declares (``_only_declared``)."""
    _only_declared(request.args, "query string")
    return {}


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


#: Where the admin API lives on every server.
ADMIN_PREFIX = "/__mockface"
#: The admin API: routes that let tests and CI inspect and steer a running server.  Each
#: app created by ``create_app`` registers it; the routes act on that app's emulator.
admin = Blueprint("mockface_admin", __name__, url_prefix=ADMIN_PREFIX,
                  template_folder="templates")
#: The app config keys the admin API reads: its token (None: loopback only) and start time.
TOKEN_CONFIG = "MOCKFACE_ADMIN_TOKEN"
STARTED_CONFIG = "MOCKFACE_STARTED"
CA_DIR_CONFIG = "MOCKFACE_CA_DIR"  # set by the server: where its local CA lives
#: The emulator of the app handling the current request.
emulator = cast(Emulator, LocalProxy(lambda: current_app.extensions["mockface"]))



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
def health() -> Response | tuple[Response, int]:
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
         "and registered identities: everything, or one appid's.", _SCOPE, errors=(404,))
def reset() -> Response:
    appid = known_appid(_body())
    emulator.reset(appid)
    log_admin("reset", appid=appid or "all")
    return jsonify(reset=appid or "all")

# -- scenarios ------------------------------------------------------------------------

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
    payload = _body()
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
    payload = _body()
    name = argument(payload, "name")
    appid = known_appid(payload)
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
         Arg("after", int, "Only entries with a greater id."), errors=(404,))
def requests_() -> Response:
    query = _query()  # filters come from the query string only
    entries = emulator.journal.query(
        endpoint=_endpoint_query(), appid=known_appid(query),
        code=_code_query(), since=argument(query, "since"),
        after=argument(query, "after"))
    return jsonify(requests=[entry.as_dict() for entry in entries],
                   capacity=emulator.journal.capacity)

@admin.delete("/requests")
@accepts("Empty the journal, or drop one appid's entries.", _SCOPE, errors=(404,))
def clear_requests() -> Response:
    appid = known_appid(_body())
    removed = emulator.journal.clear(appid)
    log_admin("journal cleared", appid=appid or "all", removed=removed)
    return jsonify(removed=removed)

# -- clock ----------------------------------------------------------------------------

def clock_state() -> Response:
    return jsonify(now=emulator.clock.now(), frozen=emulator.clock.frozen,
                   **emulator.clock.state())

@admin.get("/clock")
@accepts("The emulated clock.")
def clock() -> Response:
    return clock_state()

@admin.post("/clock/freeze")
@accepts("Stop the clock.", Arg("at", (int, float), "Seconds since 1970 (default: now)."))
def freeze() -> Response:
    at = argument(_body(), "at")
    now = emulator.clock.freeze(None if at is None else _time("at", at))
    log_admin("clock frozen", at=now)
    return clock_state()

@admin.post("/clock/advance")
@accepts("Move the clock.", Arg("seconds", (int, float), "How far (negative: back).",
                                required=True))
def advance() -> Response:
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
def restore() -> Response:
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
def unfreeze() -> Response:
    _body()  # takes no arguments: refuses any
    emulator.clock.unfreeze()
    log_admin("clock unfrozen")
    return clock_state()

# -- state and configuration ----------------------------------------------------------

@admin.get("/lip-codes")
@accepts("The lip codes issued, per appid.", Arg("appid", str, "Only this appid's."),
         errors=(404,))
def lip_codes() -> Response:
    appid = known_appid(_query())
    if appid is not None:
        return jsonify(lip_codes={appid: emulator.lip_codes.issued(appid)})
    return jsonify(lip_codes=emulator.lip_codes.all_issued())

@admin.get("/codes")
@accepts("The error catalogue.",
         Arg("endpoint", str, "Only what this endpoint or action answers."),
         Arg("api", str, "faceid: the API 3.0 names."))
def codes() -> Response:
    _query()
    endpoint = _endpoint_query()
    if request.args.get("api") == "faceid" or (endpoint and ":" in endpoint):
        action = endpoint.split(":")[1] if endpoint else None
        names = faceid_codes_for(action)
        return jsonify(codes=[FACEID_CATALOGUE[name].as_dict() for name in names])
    entries = codes_for(endpoint) if endpoint else list(CATALOGUE.values())
    return jsonify(codes=[entry.as_dict() for entry in entries])

@admin.get("/config")
@accepts("The settings in effect (secret keys masked).")
def config() -> Response:
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
        scenario_search_path=[str(p) for p in emulator.scenarios.library.search_paths])

@admin.post("/apps")
@accepts("Create an app with fresh credentials: a private namespace.",
         Arg("appid", str, "The appid (default: a new ns… one)."), status=201, errors=(409,))
def create_app() -> tuple[Response, int]:
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
def delete_app() -> Response:
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
         Arg("appid", str, "Register for this appid (its reset forgets it)."), status=201,
         errors=(404,))
def add_identity() -> tuple[Response, int]:
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
    appid = known_appid(payload)
    emulator.identities.add(number, name, appid)
    log_admin("identity registered", idcard_number=number, appid=appid)
    return jsonify(idcard_number=number, idcard_name=name, appid=appid), 201

@admin.post("/loose")
@accepts("Loose mode for one app: only the signature's format is checked.",
         Arg("appid", str, "The app.", required=True),
         Arg("enabled", bool, "On or off.", default=True), errors=(404,))
def loose() -> Response:
    payload = _body()
    appid = known_appid(payload)
    if appid is None:
        raise AdminError(400, "appid is required (use --loose for the whole server)")
    enabled = argument(payload, "enabled")
    emulator.state.set_loose(appid, enabled)
    log_admin("loose mode", appid=appid, enabled=enabled)
    return jsonify(appid=appid, loose=enabled)


@admin.get("/openapi/<name>.json")
@accepts("An OpenAPI 3.1 document of this server: legacy (the /face/* endpoints), faceid "
         "(API 3.0) or admin (this API).", errors=(404,))
def openapi(name: str) -> Response:
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
def ca() -> Response:
    """The certificate of the CA this server signs its TLS certificates with (public; the
    key never leaves the CA directory), for clients that must trust it."""
    from .tls import CAError, CertificateAuthority

    try:
        authority = CertificateAuthority(current_app.config.get(CA_DIR_CONFIG))
    except CAError as error:
        raise AdminError(500, str(error)) from None
    return jsonify(path=str(authority.cert_path),
                   pem=authority.cert_path.read_text(encoding="ascii"))
