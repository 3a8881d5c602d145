"""How admin routes read their arguments: a JSON body or a query string, only the keys the
route declares (``accepts``), each of its declared type, an appid only when the server knows
it.  A bad argument is an AdminError saying which, and how."""
from __future__ import annotations

import difflib
import json
import math
import re
import sys
from collections.abc import Iterable
from typing import Any

from flask import current_app, request

from ..core.strictjson import loads_strict
from ..core.surface import AdminError, Arg
from ..core.yamlsource import show
from .admin_blueprint import ADMIN_PREFIX, emulator, route_doc

#: The largest admin request body read, in bytes.
MAX_ADMIN_BODY = 2 * 1024 * 1024
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?")
#: Numbers the admin API takes are below this in magnitude (at most 15 digits).
NUMBER_LIMIT = 10**15
#: What each argument type must be, as messages say it.
_EXPECTED = {str: "a string", bool: "true or false", dict: "a JSON object", list: "a JSON array",
             int: "an integer", (int, float): "a number"}


def read_body() -> dict[str, Any]:
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


def param(payload: dict[str, Any], name: str, kind: type | tuple[type, ...],
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


#: The ``appid`` argument of a change that acts on everything or one app.
SCOPE = Arg("appid", str, "Only this appid's (default: everything).")


def argument(payload: dict[str, Any], name: str) -> Any:
    """The current route's declared argument ``name`` (see ``param``); a name the route
    does not declare is a bug, not a client error."""
    arg = next(a for a in _declared() if a.name == name)
    return param(payload, name, arg.kind, arg.default)


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


def read_query() -> dict[str, Any]:
    """For a route reading only the query string: nothing, once every query parameter is
    checked to be one the route declares (``_only_declared``)."""
    _only_declared(request.args, "query string")
    return {}


class RequestArguments:
    """The declared arguments of the current admin request, read from ``payload`` (the
    body, or ``{}`` for a query string): what a product's route reads
    (``core.surface.Arguments``)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def get(self, name: str) -> Any:
        return argument(self.payload, name)

    def appid(self) -> str | None:
        return known_appid(self.payload)
