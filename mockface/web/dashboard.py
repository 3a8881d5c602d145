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
from ..faceid.signature import sign_tc3
from ..legacy.errors import ENDPOINTS
from ..legacy.signature import sign
from .admin import TOKEN_CONFIG, AdminError, Arg, accepts, admin, emulator

#: The journal filters the page offers, each a query parameter.
FILTERS = ("endpoint", "appid", "secret_id", "code", "rule")
MAX_ROWS = 200


def _filtered(after: int | None = None) -> list[JournalEntry]:
    """Journal entries matching the page's filters, newest first (at most MAX_ROWS)."""
    wanted = {name: request.args.get(name, "").strip() for name in FILTERS}
    entries = emulator.journal.query(after=after)
    kept = [entry for entry in entries
            if (not wanted["endpoint"] or entry.endpoint == wanted["endpoint"])
            and (not wanted["appid"] or entry.appid == wanted["appid"])
            and (not wanted["secret_id"]
                 or entry.signature.get("secret_id") == wanted["secret_id"])
            and (not wanted["code"] or str(entry.code) == wanted["code"])
            and (not wanted["rule"] or entry.rule == wanted["rule"])]
    return kept[::-1][:MAX_ROWS]


def _stamp(seconds: float) -> str:
    """An emulated time as the rows show it: UTC, to the millisecond."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + \
        f".{int(seconds * 1000) % 1000:03d}"


def _rule_sources() -> dict[str, str]:
    """``scenario#N`` -> ``file:line`` of the active scenarios' rules."""
    sources = {}
    for activation in emulator.scenarios.active():
        described = activation.describe()
        for index, rule in enumerate(described["rules"], start=1):
            sources[f"{described['name']}#{index}"] = f"{described['source']}:{rule['line']}"
    return sources


@admin.get("/ui")
@accepts("The dashboard (HTML): journal, scenarios, clock, signing helper.",
         *(Arg(name, str, f"Show only journal rows with this {name}.") for name in FILTERS),
         media_type="text/html")
def dashboard():
    settings = emulator.settings
    engine = emulator.scenarios
    signed = _signing_example()
    return render_template(
        "dashboard.html", entries=_filtered(), filters=FILTERS,
        chosen={name: request.args.get(name, "") for name in FILTERS},
        endpoints=list(ENDPOINTS) + sorted(f"{p}:{a}" for p, a in ACTIONS),
        rule_sources=_rule_sources(), active=[a.describe() for a in engine.active()],
        library=list(engine.library()), clock=emulator.clock,
        clock_text=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(emulator.clock.now())),
        apps=[(app.appid, [(sid, mask(key)) for sid, key in app.secrets.items()])
              for app in emulator.keyring.apps],
        actions=sorted(f"{p}:{a}" for p, a in ACTIONS), signed=signed,
        token=request.args.get("token", "") if current_app.config.get(TOKEN_CONFIG) else "",
        default_appid=settings.default_app.appid, json=json, stamp=_stamp)


@admin.get("/ui/rows")
@accepts("Journal rows newer than ``after`` (HTML), for the dashboard's live update.",
         *(Arg(name, str, f"Only rows with this {name}.") for name in FILTERS),
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
    kind = request.args.get("sign")
    if kind not in ("legacy", "api3"):
        return None
    appid = request.args.get("sign_appid") or emulator.settings.default_app.appid
    app = emulator.keyring.app(appid)
    if app is None:
        return {"error": f"no app {appid[:40]!r} is configured"}
    secret_id, secret_key = app.first_secret
    url = request.host_url.rstrip("/")
    now = int(emulator.clock.now())
    if kind == "legacy":
        endpoint = request.args.get("sign_endpoint", "livegetfour")
        if endpoint not in ENDPOINTS:
            return {"error": f"unknown endpoint {endpoint[:40]!r}"}
        authorization = sign(app.appid, secret_id, secret_key, now=now, expires_in=3600)
        headers = {"Content-Type": "application/json", "Authorization": authorization}
        return {"kind": kind, "headers": {"Authorization": authorization},
                "curl": curl(f"{url}/face/{endpoint}", headers,
                             json.dumps({"appid": app.appid}))}
    target = request.args.get("sign_action", "faceid:GetLiveCode")
    product, _, action = target.partition(":")
    if (product, action) not in ACTIONS:
        return {"error": f"unknown action {target[:60]!r}"}
    body = request.args.get("sign_body") or "{}"
    headers = sign_tc3(secret_id, secret_key, service=product, host=urlsplit(url).netloc,
                       action=action, timestamp=now, body=body.encode("utf-8"),
                       version="2020-03-03" if product == "iai" else "2018-03-01")
    return {"kind": kind, "headers": headers, "curl": curl(f"{url}/", headers, body)}
