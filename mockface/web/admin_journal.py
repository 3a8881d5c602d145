"""The admin routes of the journal: reading it, filtered, and emptying it."""
from __future__ import annotations

import re

from flask import Response, jsonify, request

from ..core.logs import log_admin
from ..core.surface import AdminError, Arg
from ..products import REGISTRY
from .admin_args import SCOPE, argument, known_appid, param, read_body, read_query
from .admin_blueprint import accepts, admin, emulator
from .admin_products import endpoint_query, endpoints_described


def code_query() -> int | str | None:
    """The ``code`` query parameter: an integer (legacy codes) or a name (API 3.0
    ``Error.Code`` or ``Result``)."""
    code = request.args.get("code")
    if code is None:
        return None
    if re.fullmatch(r"-?[0-9]+", code):
        return param({}, "code", int)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9.]{0,99}", code):
        raise AdminError(400, "code must be an integer or an API 3.0 name such as "
                              "AuthFailure.SignatureFailure")
    return code


@admin.get("/requests")
@accepts("The journal, oldest first, filtered.",
         Arg("endpoint", str, endpoints_described(REGISTRY)),
         Arg("appid", str, "Only this appid's requests."),
         Arg("code", str, "A legacy code (an integer) or an API 3.0 Error.Code or Result."),
         Arg("since", float, "Only requests at or after this emulated time."),
         Arg("after", int, "Only entries with a greater id."), errors=(404,))
def requests_() -> Response:
    query = read_query()  # filters come from the query string only
    entries = emulator.journal.query(
        endpoint=endpoint_query(), appid=known_appid(query),
        code=code_query(), since=argument(query, "since"),
        after=argument(query, "after"))
    return jsonify(requests=[entry.as_dict() for entry in entries],
                   capacity=emulator.journal.capacity)


@admin.delete("/requests")
@accepts("Empty the journal, or drop one appid's entries.", SCOPE, errors=(404,))
def clear_requests() -> Response:
    appid = known_appid(read_body())
    removed = emulator.journal.clear(appid)
    log_admin("journal cleared", appid=appid or "all", removed=removed)
    return jsonify(removed=removed)
