"""The dashboard at ``/__mockface/ui``: the journal, the scenarios, the clock and a signing
helper in a browser.  Routes of the admin blueprint, so the same guard applies (loopback
Host names, or the admin token, which a browser may give once as ``?token=``).

Pages are rendered on the server (they read without JavaScript); a little vanilla
JavaScript polls for new journal rows (rendered by the same template) and sends the
scenario, reset and clock actions to the admin API.
"""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, render_template, request

from ..core.config import mask
from ..core.journal import JournalEntry
from ..core.shell import curl
from ..faceid.actions import ACTIONS
from ..faceid.request import current_version
from ..faceid.signature import sign_tc3
from ..legacy.errors import ENDPOINTS
from ..legacy.signature import sign
from .admin import TOKEN_CONFIG, AdminError, Arg, accepts, admin, argument, emulator

#: The journal filters the page offers, each a query parameter.
FILTERS = ("endpoint", "appid", "secret_id", "code", "rule")
FILTER_ARGS = tuple(Arg(name, str, f"Show only journal rows with this {name}.")
                    for name in FILTERS)
MAX_ROWS = 200
#: Every API 3.0 target, ``product:Action``.
TARGETS = sorted(f"{product}:{action}" for product, action in ACTIONS)


def _chosen() -> dict[str, str]:
    """The page's filters as given (empty: not filtered)."""
    return {name: (argument({}, name) or "").strip() for name in FILTERS}


def _filtered(after: int | None = None) -> list[JournalEntry]:
    """Journal entries matching the page's filters, newest first (at most MAX_ROWS).  The
    code matches as text: legacy codes are integers, API 3.0 ones names."""
    wanted = _chosen()
    entries = emulator.journal.query(endpoint=wanted["endpoint"] or None,
                                     appid=wanted["appid"] or None, after=after)
    kept = [entry for entry in entries
            if (not wanted["secret_id"]
                or entry.signature.get("secret_id") == wanted["secret_id"])
            and (not wanted["code"] or str(entry.code) == wanted["code"])
            and (not wanted["rule"] or entry.rule == wanted["rule"])]
    return kept[::-1][:MAX_ROWS]


def _stamp(seconds: float) -> str:
    """An emulated time as the rows show it: UTC, to the millisecond."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + \
        f".{int(seconds * 1000) % 1000:03d}"


def _rule_sources() -> dict[str, str]:
    """``scenario#N`` (as journal entries name rules) -> ``file:line`` of the active
    scenarios' rules; read from the scenarios, not their counters (no shared-state read)."""
    return {f"{a.scenario.name}#{rule.index + 1}": f"{a.scenario.source}:{rule.line}"
            for a in emulator.scenarios.active() for rule in a.scenario.rules}


@admin.get("/ui")
@accepts("The dashboard (HTML): journal, scenarios, clock, signing helper.",
         *FILTER_ARGS,
         Arg("token", str, "The admin token, on a browser's first visit (when the server "
                           "has one)."),
         Arg("sign", str, "Sign an example request: legacy or api3."),
         Arg("sign_appid", str, "The app to sign for (default: the first)."),
         Arg("sign_endpoint", str, "legacy: the endpoint.", default="livegetfour"),
         Arg("sign_action", str, "api3: the product:Action.", default="faceid:GetLiveCode"),
         Arg("sign_body", str, "api3: the JSON body to sign.", default="{}"),
         media_type="text/html")
def dashboard():
    settings = emulator.settings
    engine = emulator.scenarios
    signed = _signing_example()
    return render_template(
        "dashboard.html", entries=_filtered(), filters=FILTERS, chosen=_chosen(),
        endpoints=list(ENDPOINTS) + TARGETS,
        rule_sources=_rule_sources(), active=[a.describe() for a in engine.active()],
        library=list(engine.library()), clock=emulator.clock,
        clock_text=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(emulator.clock.now())),
        apps=[(app.appid, [(sid, mask(key)) for sid, key in app.secrets.items()])
              for app in emulator.keyring.apps],
        actions=TARGETS, signed=signed,
        token=(argument({}, "token") or "") if current_app.config.get(TOKEN_CONFIG) else "",
        default_appid=settings.default_app.appid, json=json, stamp=_stamp)


@admin.get("/ui/rows")
@accepts("Journal rows newer than ``after`` (HTML), for the dashboard's live update.",
         *FILTER_ARGS,
         Arg("after", int, "Only rows with a greater id.", required=True),
         media_type="text/html")
def dashboard_rows():
    after = request.args.get("after", "")
    if not after.isdigit() or len(after) > 15:
        raise AdminError(400, "after must be a journal id")
    entries = _filtered(int(after))
    html = render_template("rows.html", entries=entries,
                           rule_sources=_rule_sources(), json=json, stamp=_stamp)
    return Response(html, mimetype="text/html")


@admin.get("/ui/media/<sha256>")
@accepts("A recent small image a request carried (for thumbnails).", errors=(404,),
         media_type="image/*")
def dashboard_media(sha256: str):
    kept = emulator.recent_images.get(sha256)
    if kept is None:
        raise AdminError(404, "no such recent image (only small JPEG, PNG and BMP images are "
                              "kept, and only the most recent)")
    media_type, data = kept
    response = Response(data, mimetype=media_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _signing_example() -> dict[str, Any] | None:
    """What the signing form asked for (``sign=legacy`` or ``sign=api3``), signed."""
    kind = argument({}, "sign")
    if kind not in ("legacy", "api3"):
        return None
    appid = argument({}, "sign_appid") or emulator.settings.default_app.appid
    app = emulator.keyring.app(appid)
    if app is None:
        return {"error": f"no app {appid[:40]!r} is configured"}
    secret_id, secret_key = app.first_secret
    url = request.host_url.rstrip("/")
    now = int(emulator.clock.now())
    if kind == "legacy":
        endpoint = argument({}, "sign_endpoint")
        if endpoint not in ENDPOINTS:
            return {"error": f"unknown endpoint {endpoint[:40]!r}"}
        authorization = sign(app.appid, secret_id, secret_key, now=now, expires_in=3600)
        headers = {"Content-Type": "application/json", "Authorization": authorization}
        return {"kind": kind, "headers": {"Authorization": authorization},
                "curl": curl(f"{url}/face/{endpoint}", headers,
                             json.dumps({"appid": app.appid}))}
    target = argument({}, "sign_action")
    product, _, action = target.partition(":")
    if (product, action) not in ACTIONS:
        return {"error": f"unknown action {target[:60]!r}"}
    body = argument({}, "sign_body") or "{}"
    headers = sign_tc3(secret_id, secret_key, service=product, host=urlsplit(url).netloc,
                       action=action, timestamp=now, body=body.encode("utf-8"),
                       version=current_version(product))
    return {"kind": kind, "headers": headers, "curl": curl(f"{url}/", headers, body)}
