"""The dashboard at ``/__mockface/ui``: the journal, the verification tokens (read and
finished through a product's admin routes, found in the registry), the scenarios, the clock
and a signing helper (``dashboard_signing``) in a browser.  Routes of the admin blueprint,
so the same guard applies (loopback Host names, or the admin token, which a browser may give
once as ``?token=``).

Pages are rendered on the server (they read without JavaScript); a little vanilla
JavaScript polls for new journal rows and the current tokens (rendered by the same
templates) and sends the scenario, reset, clock and completion actions to the admin API.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, render_template, request

from ..core.config import mask
from ..core.journal import JournalEntry
from ..core.product import Registry
from ..core.surface import AdminError, Arg, Route, Surface
from ..products import REGISTRY
from .admin_args import argument, read_query
from .admin_blueprint import TOKEN_CONFIG, accepts, admin, emulator
from .dashboard_signing import signers, signing_args, signing_example, signing_form

#: The journal filters the page offers, each a query parameter.
FILTERS = ("endpoint", "appid", "secret_id", "code", "rule")
FILTER_ARGS = tuple(Arg(name, str, f"Show only journal rows with this {name}.")
                    for name in FILTERS)
#: The journal filters ``GET requests`` takes too (the page links to it).
JOURNAL_FILTERS = ("endpoint", "appid", "code")
#: The most rows the page shows; it says how many older ones it leaves out.
MAX_ROWS = 200
#: Headers of a ``ui/rows`` answer, which the page reads: the newest journal id read (the
#: next ``after``), the matching rows left out (beyond MAX_ROWS), and the entries that left
#: the journal before the page could read them.
LAST_HEADER = "X-Mockface-Last"
OLDER_HEADER = "X-Mockface-Older"
MISSED_HEADER = "X-Mockface-Missed"
#: Signature fields that are emulated times (seconds since the epoch).
TIME_FIELDS = ("timestamp", "issued", "expires")
#: Signature fields shown first, in this order; the others follow as the journal has them.
SIGNATURE_ORDER = ("status", "method", "secret_id")
#: The admin routes (of whichever product adds them) the Verifications panel reads the
#: tokens from and finishes them through; without the first the panel is not shown.
VERIFICATIONS_RULE = "verifications"
COMPLETE_RULE = "verifications/<token>/complete"
#: The outcomes the panel's buttons finish an open token with: ErrCode, words.
OUTCOMES = ((0, "Pass"), (2016, "Not the same person"), (2006, "Name/ID mismatch"),
            (1004, "Liveness failed"))
#: The states of a token that can still be finished.
OPEN_STATES = ("issued", "opened")
#: The most tokens the panel shows (the last issued); it says how many it leaves out.
MAX_VERIFICATIONS = 50
#: The longest Extra the panel shows in full (the rest is cut, with an ellipsis).
MAX_EXTRA = 200


@dataclass(frozen=True)
class Row:
    """A journal entry as the page shows it: everything in words, nothing as a repr."""

    entry: JournalEntry
    bad: bool  # shown as an error (like a legacy non-zero code)
    answer: str  # status, code and message
    signature: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # the request headers mockface read, when journaled


@dataclass(frozen=True)
class Window:
    """What the journal view shows of the entries after an id, and what it leaves out."""

    rows: list[Row]  # newest first, at most MAX_ROWS
    older: int  # matching entries left out, beyond MAX_ROWS
    missed: int  # entries after ``after`` that left the journal before this read
    last: int  # the newest journal id read (``after`` when there was none)


def _chosen() -> dict[str, str]:
    """The page's filters as given (empty: not filtered)."""
    return {name: (argument({}, name) or "").strip() for name in FILTERS}


def _matches(entry: JournalEntry, wanted: dict[str, str]) -> bool:
    """Whether ``entry`` passes the page's filters.  The code matches as text: legacy codes
    are integers, API 3.0 ones names."""
    return ((not wanted["endpoint"] or entry.endpoint == wanted["endpoint"])
            and (not wanted["appid"] or entry.appid == wanted["appid"])
            and (not wanted["secret_id"]
                 or entry.signature.get("secret_id") == wanted["secret_id"])
            and (not wanted["code"] or str(entry.code) == wanted["code"])
            and (not wanted["rule"] or entry.rule == wanted["rule"]))


def _window(after: int = 0) -> Window:
    """The newest MAX_ROWS journal entries after id ``after`` that match the page's filters,
    with the count of those left out.  Entries ``after`` + 1 up to the oldest one read have
    left the journal (evicted, or cleared by a reset) unread: ``missed``, counted only
    after a known id (``after`` > 0; before the first, a reset's ids are no loss)."""
    entries = emulator.journal.query(after=after)
    wanted = _chosen()
    kept = [entry for entry in entries if _matches(entry, wanted)]
    shown = kept[::-1][:MAX_ROWS]
    missed = entries[0].id - after - 1 if after and entries else 0
    return Window([_row(entry) for entry in shown], len(kept) - len(shown), missed,
                  entries[-1].id if entries else after)


def _stamp(seconds: float) -> str:
    """An emulated time as the rows show it: UTC, to the millisecond."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + \
        f".{int(seconds * 1000) % 1000:03d}"


def _word(value: Any) -> str:
    """A journal value as a reader reads it: booleans as yes/no, None as "not known"."""
    if value is None:
        return "not known"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _surface_of(entry: JournalEntry) -> Surface:
    """The surface of the product whose entry ``entry`` is (the default product's when no
    product claims it)."""
    registry = emulator.registry
    return next((product.surface for product in registry
                 if product.surface.journals(entry.endpoint)), registry.default.surface)


def _is_error(entry: JournalEntry) -> bool:
    """Whether a row is marked as an error: a dropped connection, an HTTP error status, a
    scripted fault, or an error the product's answer reports in band (a legacy non-zero
    code, an API 3.0 ``Error``; verdicts such as ``live_status`` or ``Result`` are not)."""
    if entry.fault is not None or entry.http_status is None or entry.http_status >= 400:
        return True
    return _surface_of(entry).failed(entry)


def _answer(entry: JournalEntry) -> str:
    """The answer in words: its HTTP status, code and message (when journaled)."""
    parts = ["connection dropped" if entry.http_status is None
             else f"HTTP {entry.http_status}"]
    if entry.fault is not None:
        parts.append(f"scripted fault {entry.fault}")
    elif entry.code is not None:
        parts.append(f"{_surface_of(entry).code_label(entry, _is_error(entry))} {entry.code}")
    text = ", ".join(parts)
    message = getattr(entry, "message", None)  # journaled by servers that keep it
    return f"{text}: {message}" if message else text


def _signature_value(name: str, value: Any) -> str:
    if name == "secret_id" and isinstance(value, str):
        return mask(value)
    if name in TIME_FIELDS and isinstance(value, (int, float)) and \
            not isinstance(value, bool):
        return f"{int(value)} ({_stamp(value)[:19]} UTC)"
    return _word(value)


def _signature(entry: JournalEntry) -> list[tuple[str, str]]:
    """The signature fields of an entry, labelled, the SecretId masked, times as dates."""
    order = [name for name in SIGNATURE_ORDER if name in entry.signature] + \
        [name for name in entry.signature if name not in SIGNATURE_ORDER]
    return [(name.replace("_", " "), _signature_value(name, entry.signature[name]))
            for name in order]


def _headers(entry: JournalEntry) -> list[tuple[str, str]]:
    """The request headers the journal kept for an entry (none when it keeps none), the
    Authorization value masked: a signature is a credential until it expires."""
    headers = getattr(entry, "headers", None) or {}
    return [(name, mask(str(value)) if name.lower() == "authorization" else _word(value))
            for name, value in headers.items()]


def _row(entry: JournalEntry) -> Row:
    return Row(entry, _is_error(entry), _answer(entry), _signature(entry), _headers(entry))


@dataclass(frozen=True)
class Verification:
    """A verification token as the panel shows it, every value as text (none as a repr).
    ``left``: the user window's time left in words ("" once finished or expired);
    ``link``: the user page, when its URL is one a page may link to (http(s) or a path);
    ``err_code``/``err_msg``: the outcome's (None until finished)."""

    token: str
    flow: str
    state: str
    appid: str
    seconds_left: int
    left: str
    link: str | None
    name: str | None
    id_card: str | None
    rule_id: str | None
    merchant_id: str | None
    extra: str | None
    err_code: str | None
    err_msg: str | None

    @property
    def open(self) -> bool:
        """Whether it can still be finished."""
        return self.state in OPEN_STATES

    @property
    def key(self) -> str:
        """What the live update compares to tell a changed token from one whose time left
        alone moved: the state and the outcome's code."""
        return f"{self.state} {self.err_code or ''}"


@dataclass(frozen=True)
class Panel:
    """What the Verifications panel shows: the last issued tokens (at most
    MAX_VERIFICATIONS), how many it leaves out, and whether its buttons can finish one
    (a product adds the completion route)."""

    rows: list[Verification]
    more: int
    can_complete: bool


class _NoArguments:
    """The arguments of an admin route called by the dashboard itself: none given (each
    its default: the list unfiltered)."""

    def get(self, name: str) -> Any:
        return None

    def appid(self) -> str | None:
        return None


def _product_route(rule: str, method: str) -> Route | None:
    """The admin route ``rule`` answering ``method`` of the first product adding one."""
    return next((route for product in emulator.registry
                 for route in product.surface.admin_routes()
                 if route.rule == rule and method in route.methods), None)


def _text(value: Any) -> str | None:
    """A record's value as text, None for none."""
    return None if value is None else str(value)


def _time_left(seconds: int) -> str:
    """Seconds as the panel shows time left: ``H:MM:SS``."""
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _link(url: Any) -> str | None:
    """``url`` when a page may link to it: http(s), or a path on this server."""
    if not isinstance(url, str):
        return None
    if url.startswith(("http://", "https://")) or (url.startswith("/")
                                                   and not url.startswith("//")):
        return url
    return None


def _verification(view: Mapping[str, Any]) -> Verification:
    """A token's record (as the product's admin route answers it) as the panel shows it."""
    state = str(view.get("state"))
    seconds = view.get("seconds_left")
    seconds = seconds if isinstance(seconds, int) and not isinstance(seconds, bool) and \
        seconds > 0 else 0
    identity = view.get("identity_masked")
    identity = identity if isinstance(identity, Mapping) else {}
    outcome = view.get("outcome")
    outcome = outcome if isinstance(outcome, Mapping) else {}
    extra = _text(view.get("extra"))
    if extra is not None and len(extra) > MAX_EXTRA:
        extra = extra[:MAX_EXTRA] + "…"
    return Verification(
        token=str(view.get("token")), flow=str(view.get("flow")), state=state,
        appid=str(view.get("appid")), seconds_left=seconds,
        left=_time_left(seconds) if state in OPEN_STATES else "",
        link=_link(view.get("url")), name=_text(identity.get("Name")),
        id_card=_text(identity.get("IdCard")), rule_id=_text(view.get("rule_id")),
        merchant_id=_text(view.get("merchant_id")), extra=extra,
        err_code=_text(outcome.get("err_code")), err_msg=_text(outcome.get("err_msg")))


def panel() -> Panel | None:
    """The Verifications panel, read through the product route ``verifications`` (None
    when no product of the registry adds one: the page shows no panel)."""
    route = _product_route(VERIFICATIONS_RULE, "GET")
    if route is None:
        return None
    answer = route.view(emulator, _NoArguments())
    value = answer[0] if isinstance(answer, tuple) else answer
    views = value.get("verifications", []) if isinstance(value, Mapping) else []
    rows = [_verification(view) for view in views[:MAX_VERIFICATIONS]
            if isinstance(view, Mapping)]
    return Panel(rows, max(0, len(views) - MAX_VERIFICATIONS),
                 _product_route(COMPLETE_RULE, "POST") is not None)


def target_marks(registry: Registry) -> dict[str, tuple[str, str]]:
    """Endpoint -> (the short mark the page shows beside it in the journal filter and the
    signing form, the sentence explaining it: the option's title), from the surfaces that
    mark some of their endpoints (``target_marks()``, optional: an action gone from
    Tencent's current SDKs is marked "removed from SDKs")."""
    marks: dict[str, tuple[str, str]] = {}
    for product in registry:
        read = getattr(product.surface, "target_marks", None)
        if callable(read):
            marks.update(read())
    return marks


def _rule_sources() -> dict[str, str]:
    """``scenario#N`` (as journal entries name rules) -> ``file:line`` of the active
    scenarios' rules; read from the scenarios, not their counters (no shared-state read)."""
    return {f"{a.scenario.name}#{rule.index + 1}": f"{a.scenario.source}:{rule.line}"
            for a in emulator.scenarios.active() for rule in a.scenario.rules}


def _journal_link(chosen: dict[str, str]) -> str:
    """``requests`` with the page's filters that the journal route takes too."""
    query = urlencode({name: chosen[name] for name in JOURNAL_FILTERS if chosen[name]})
    return f"requests?{query}" if query else "requests"


def _token() -> str:
    """The admin token the browser gave as ``?token=`` (empty when the server has none)."""
    return (argument({}, "token") or "") if current_app.config.get(TOKEN_CONFIG) else ""


@admin.get("/ui")
@accepts("The dashboard (HTML): journal, verification tokens, scenarios, clock, signing "
         "helper.",
         *FILTER_ARGS,
         Arg("token", str, "The admin token, on a browser's first visit (when the server "
                           "has one)."),
         *signing_args(REGISTRY),
         media_type="text/html")
def dashboard() -> str:
    settings = emulator.settings
    engine = emulator.scenarios
    registry = emulator.registry
    chosen = _chosen()
    token = _token()
    return render_template(
        "dashboard.html", window=_window(), max_rows=MAX_ROWS, filters=FILTERS,
        chosen=chosen, journal_link=_journal_link(chosen),
        capacity=emulator.journal.capacity,
        endpoints=[*(name for product in registry for name in product.surface.targets()),
                   *(name for page in registry.pages for name in page.endpoints)],
        documents=[(product.surface.names.document, product.surface.names.document_label)
                   for product in registry],
        rule_sources=_rule_sources(), active=[a.describe() for a in engine.active()],
        library=list(engine.library.names()), clock=emulator.clock,
        clock_text=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(emulator.clock.now())),
        apps=[(app.appid, [(sid, mask(key)) for sid, key in app.secrets.items()])
              for app in emulator.keyring.apps],
        marks=target_marks(registry), signers=signers(registry), signed=signing_example(),
        form=signing_form(settings),
        token=token, token_query=urlencode({"token": token}) if token else "",
        verifications=panel(), outcomes=OUTCOMES, max_verifications=MAX_VERIFICATIONS,
        json=json, stamp=_stamp)


@admin.get("/ui/rows")
@accepts("Journal rows newer than ``after`` (HTML), for the dashboard's live update: the "
         "newest matching ones, at most the page's limit.  Headers: X-Mockface-Last (the "
         "newest journal id read: the next after), X-Mockface-Older (matching rows left "
         "out) and X-Mockface-Missed (entries that left the journal unread).",
         *FILTER_ARGS,
         Arg("after", int, "Only rows with a greater id.", required=True),
         media_type="text/html")
def dashboard_rows() -> Response:
    after = request.args.get("after", "")
    if not after.isdigit() or len(after) > 15:
        raise AdminError(400, "after must be a journal id")
    window = _window(int(after))
    html = render_template("rows.html", rows=window.rows,
                           rule_sources=_rule_sources(), json=json, stamp=_stamp)
    response = Response(html, mimetype="text/html")
    response.headers.update({LAST_HEADER: str(window.last), OLDER_HEADER: str(window.older),
                             MISSED_HEADER: str(window.missed)})
    return response


@admin.get("/ui/verifications")
@accepts("The dashboard's Verifications panel (HTML), for its live update: the last issued "
         "verification tokens with their state, time left and outcome.", errors=(404,),
         media_type="text/html")
def dashboard_verifications() -> Response:
    read_query()
    shown = panel()
    if shown is None:
        raise AdminError(404, "no product of this server keeps verification tokens")
    html = render_template("verifications.html", verifications=shown, outcomes=OUTCOMES,
                           max_verifications=MAX_VERIFICATIONS)
    return Response(html, mimetype="text/html")


@admin.get("/ui/media/<sha256>")
@accepts("A recent small image a request carried (for thumbnails).", errors=(404,),
         media_type="image/*")
def dashboard_media(sha256: str) -> Response:
    kept = emulator.recent_images.get(sha256)
    if kept is None:
        raise AdminError(404, "no such recent image (only small JPEG, PNG and BMP images are "
                              "kept, and only the most recent)")
    media_type, data = kept
    response = Response(data, mimetype=media_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
