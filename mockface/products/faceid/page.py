"""The user page of the verification tokens (contract-faceid-flows §2), at
``/h5/<flow>/<token>`` for the flows ``detect``, ``eid`` and ``app``.

``GET`` shows the token, server-rendered and usable without JavaScript: the flow, RuleId or
MerchantId, the masked identity, Extra, the time left, and the outcomes as buttons.  The
first ``GET`` opens the token.  An expired token shows ErrCode 15, a finished one ErrCode 14,
an E证通 page opened before "used" (its Url works once); an unknown token is a 404 page.

``POST`` with a field ``err_code`` (the code, as every outcome button posts it, and as
``curl -d err_code=0 URL`` does) finishes the token and answers ``303 See Other`` to its
RedirectUrl with ``BizToken=<token>`` (detect) or ``token=<token>`` (eid) appended, or,
without a RedirectUrl (and for app tokens), a page showing the outcome.  On an OCR rule the
fields ``IdCard`` and ``Name`` give the identity the "ID card" shows.  ``close`` instead of
``err_code`` leaves the page without an outcome.  A finished token answers 409 with ErrCode
14, an expired one 409 with ErrCode 15, an invalid ``err_code`` a 400 page naming the
problem.

Everything a client supplied (Name, Extra, RedirectUrl, the token in the path) is escaped
(``markupsafe``); the web layer adds the headers (no script, no framing, no caching) and
refuses cross-site POSTs before the view runs.  Each view says what to journal (endpoint
``h5:<flow>``).
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from markupsafe import Markup

from ...core.pages import PageAnswer, PageEvent, PageRequest, PageRoute
from ...core.tokens import EXPIRED, FINISHED, ISSUED, OPENED, TokenRecord
from .flows import ALREADY, FLOWS, TOO_LATE, UNKNOWN, Flows, flows_of, \
    generated_identity

if TYPE_CHECKING:
    from ...core.product import Services

#: The flows in words, as the page names them.
FLOW_WORDS = {
    "detect": "Face verification (慧眼 H5 / mini program, DetectAuth)",
    "eid": "E证通 (GetEidToken)",
    "app": "App SDK (HuiYan, GetFaceIdToken)",
}
#: The query parameter each flow appends to its RedirectUrl (app tokens redirect nowhere).
REDIRECT_PARAMS = {"detect": "BizToken", "eid": "token"}
#: The actions that read each flow's result.
READERS = {"detect": "GetDetectInfoEnhanced", "eid": "GetEidResult",
           "app": "GetFaceIdResult"}
#: The fixed outcome buttons: code and words (a code not in the flow's table is left out).
FIXED_OUTCOMES = ((0, "Pass"), (2016, "Not the same person"), (2006, "Name / ID mismatch"),
                  (303, "ID card unreadable"))
#: The form fields of a POST: the outcome, the OCR identity, and leaving without one.
ERR_CODE, ID_CARD, NAME, CLOSE = "err_code", "IdCard", "Name", "close"
#: The most characters of a client's value a page or a journal entry shows.
SHOWN = 200
_URL_SAFE = re.compile(r"https?://[^\x00-\x1f\x7f]+", re.IGNORECASE)

_STYLE = """
*{box-sizing:border-box}
body{font:1.05rem/1.5 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;
margin:0;background:#f3f5f7;color:#1b1f24;overflow-wrap:anywhere}
main{max-width:36rem;margin:0 auto;padding:1rem}
header{background:#0b5cff;color:#fff;padding:.75rem 1rem}
header b{font-size:1.15rem}
header small{display:block;opacity:.85}
h1{font-size:1.3rem;margin:.5rem 0 1rem}
h2{font-size:1.05rem;margin:1.25rem 0 .5rem}
section{background:#fff;border-radius:.75rem;padding:1rem;margin:0 0 1rem;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem .75rem;margin:0}
dt{color:#5b6470}
dd{margin:0;min-width:0}
form{margin:0 0 .75rem}
button{display:block;width:100%;min-height:3rem;font:inherit;font-weight:600;border:0;
border-radius:.6rem;padding:.6rem 1rem;background:#e4e8ee;color:#1b1f24;cursor:pointer}
button+button{margin-top:.5rem}
button.pass{background:#12a150;color:#fff}
button.fail{background:#d93025;color:#fff}
button.quiet{background:transparent;border:1px solid #c3c9d1;font-weight:400}
select,input{display:block;width:100%;min-height:2.75rem;font:inherit;padding:.4rem .5rem;
margin:0 0 .5rem;border:1px solid #c3c9d1;border-radius:.5rem;background:#fff}
label{display:block;color:#5b6470;margin:0 0 .2rem}
code{font-size:.95em}
.code{font-weight:400;opacity:.85}
.note{color:#5b6470;font-size:.92rem}
.big{font-size:1.2rem;font-weight:600}
.bad{color:#b3261e}
.good{color:#0f7b3d}
"""


def view(services: Services, request: PageRequest) -> PageAnswer:
    """The answer to one request of the user page (see the module docstring)."""
    flows = flows_of(services)
    flow, token = request.path.get("flow", ""), request.path.get("token", "")
    record = flows.get(token) if flow in FLOWS else None
    if record is None or record.flow != flow:
        return _unknown(flow, token, request.method)
    if request.method == "POST":
        return _post(flows, record, request)
    return _get(flows, record, request)


def journal_endpoint(path: Mapping[str, str]) -> str | None:
    """The journal endpoint of a request to ``/h5/<flow>/...``: ``h5:<flow>`` (None for a
    path naming no flow: not journaled)."""
    flow = path.get("flow", "")
    return f"h5:{flow}" if flow in FLOWS else None


PAGES: tuple[PageRoute, ...] = (
    PageRoute("/h5/<flow>/<path:token>", ("GET", "POST"), view, "faceid_user_page",
              journal_endpoint, tuple(f"h5:{flow}" for flow in FLOWS)),
)


# -- GET ------------------------------------------------------------------------------------

def _get(flows: Flows, record: TokenRecord, request: PageRequest) -> PageAnswer:
    """The page of a known token; a GET (not a HEAD) opens an issued one."""
    state = flows.state(record)
    opening = state == ISSUED and request.method == "GET"
    if opening:
        record = flows.open(record.token) or record
    elif state == OPENED and record.flow == "eid":
        return _answer(flows, record, 200, "This E证通 link was used",
                       _message_body(flows, record, Markup(
                           "<p class=big>This page was opened before: an E证通 "
                           "<code>Url</code> works once.</p>"
                           "<p class=note>Finish the token from the page first opened, the "
                           "admin API or the dashboard.</p>")),
                       "used", request)
    state = flows.state(record)
    if state == EXPIRED:
        return _state_page(flows, record, 200, 15, request)
    if state == FINISHED:
        return _state_page(flows, record, 200, 14, request)
    view_ = flows.view(record, request.host)
    body = Markup().join((_details(flows, record, view_), _outcomes(flows, record)))
    return _answer(flows, record, 200, "Verify your identity", body,
                   "page opened" if opening else "page shown", request)


# -- POST -----------------------------------------------------------------------------------

def _post(flows: Flows, record: TokenRecord, request: PageRequest) -> PageAnswer:
    """Finish the token with the posted outcome (see the module docstring)."""
    form = request.form
    if CLOSE in form and ERR_CODE not in form:
        return _answer(flows, record, 200, "Page closed", _message_body(flows, record, Markup(
            "<p class=big>You left the page without an outcome.</p>"
            "<p class=note>The token stays as it is until its time runs out; the "
            "integrator's server reads it with <code>{reader}</code>.</p>").format(
                reader=READERS[record.flow])), "closed without an outcome", request)
    raw = form.get(ERR_CODE)
    if raw is None or not raw.strip():
        return _problem(flows, record, request, "err_code: missing (post err_code=0 to "
                        "pass, or another code of the flow's table)")
    completion: dict[str, Any] = {ERR_CODE: raw.strip()}
    card, name = (form.get(ID_CARD) or "").strip(), (form.get(NAME) or "").strip()
    if card or name:
        completion["identity"] = {ID_CARD: card, NAME: name}
    try:
        result, after = flows.complete(record.token, completion)
    except ValueError as error:
        return _problem(flows, record, request, str(error))
    if result == UNKNOWN or after is None:
        return _unknown(record.flow, record.token, request.method)
    if result in (ALREADY, TOO_LATE):
        return _state_page(flows, after, 409, 14 if result == ALREADY else 15, request)
    outcome = after.outcome or {}
    event = _event(after, request, outcome.get("err_code"), "completed", flows.clock.now())
    target = _redirect_target(after)
    if target is not None:
        return PageAnswer(303, _layout("Redirecting", Markup(
            "<section><p>Verification finished: continue to <a href=\"{url}\">{shown}</a>."
            "</p></section>").format(url=target, shown=_clip(target))),
            (("Location", target),), event=event)
    body = _message_body(flows, after, Markup(
        "<p class=big>Verification finished: ErrCode {code} {message}</p>"
        "{detail}<p class=note>The integrator's server reads the result with "
        "<code>{reader}</code>.</p>").format(
            code=outcome.get("err_code"), message=outcome.get("err_msg", ""),
            detail=_outcome_details(outcome), reader=READERS[after.flow]))
    return PageAnswer(200, _layout("Verification finished", body), event=event)


def redirect_url(url: str, name: str, value: str) -> str:
    """``url`` with ``name=value`` appended to its query (``?`` or ``&``, both URL-encoded),
    any ``#fragment`` kept at the end, and every space and non-ASCII character
    percent-encoded (a header carries printable ASCII only)."""
    base, hash_mark, fragment = url.partition("#")
    separator = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    joined = f"{base}{separator}{quote(name, safe='')}={quote(value, safe='')}" \
             f"{hash_mark}{fragment}"
    return "".join(char if 32 < ord(char) < 127 else quote(char, safe="") for char in joined)


def _redirect_target(record: TokenRecord) -> str | None:
    """Where a finished token's POST redirects: its RedirectUrl with the flow's parameter,
    or None (no RedirectUrl, an app token, or not an http(s) URL free of control
    characters)."""
    url, name = record.data.get("redirect_url"), REDIRECT_PARAMS.get(record.flow)
    if not isinstance(url, str) or name is None or not _URL_SAFE.fullmatch(url):
        return None
    return redirect_url(url, name, record.token)


# -- the parts of a page --------------------------------------------------------------------

def _details(flows: Flows, record: TokenRecord, shown: Mapping[str, Any]) -> Markup:
    """The token's facts: flow, rule or merchant, identity, Extra, time left, redirect."""
    rows: list[tuple[str, Markup | str]] = [("Flow", FLOW_WORDS[record.flow])]
    if shown.get("rule_id") is not None:
        rows.append(("RuleId", Markup("<code>{}</code>").format(_clip(shown["rule_id"]))))
    if shown.get("merchant_id") is not None:
        rows.append(("MerchantId", Markup("<code>{}</code>").format(
            _clip(shown["merchant_id"]))))
    masked = shown.get("identity_masked")
    if masked:
        rows.append(("Identity", Markup("{} · <code>{}</code>").format(
            _clip(masked.get("Name")), _clip(masked.get("IdCard")))))
    elif record.data.get("ocr"):
        rows.append(("Identity", "read from the ID card (below)"))
    else:
        rows.append(("Identity", "none given"))
    extra = shown.get("extra")
    if extra not in (None, ""):
        rows.append(("Extra", _clip(extra, 1024)))
    rows.append(("Time left", Markup("<span class=big>{}</span> <span class=note>(until "
                                     "{} UTC)</span>").format(
        _duration(shown.get("seconds_left") or 0), _stamp(record.expires_at))))
    target = shown.get("redirect_url")
    if record.flow in REDIRECT_PARAMS:
        rows.append(("Then", Markup("back to <code>{}</code>").format(_clip(target, 1024))
                     if target else "a page showing the outcome (no RedirectUrl)"))
    rows.append(("Token", Markup("<code>{}</code>").format(record.token)))
    items = Markup().join(Markup("<dt>{}</dt><dd>{}</dd>").format(name, value)
                          for name, value in rows)
    return Markup("<section><dl>{}</dl></section>").format(items)


def _outcomes(flows: Flows, record: TokenRecord) -> Markup:
    """The outcome forms: each a plain POST of ``err_code``; on an OCR rule the fixed
    buttons post the identity the "ID card" shows too."""
    table = flows.err_codes(record.flow)
    ocr = bool(record.data.get("ocr"))
    identity = generated_identity(flows.settings.seed, record.token) if ocr else None
    buttons = Markup().join(
        Markup("<button type=submit name=err_code value={code} class={kind}>{words} "
               "<span class=code>({code})</span></button>").format(
            code=code, words=words, kind="pass" if code == 0 else "fail")
        for code, words in FIXED_OUTCOMES if code in table)
    card = Markup()
    hidden = Markup()
    if identity is not None:
        card = Markup(
            "<h2>The ID card shows</h2>"
            "<label for=ocr-name>Name</label>"
            "<input id=ocr-name name=Name value=\"{name}\" autocomplete=off>"
            "<label for=ocr-card>ID number</label>"
            "<input id=ocr-card name=IdCard value=\"{card}\" autocomplete=off "
            "inputmode=text>").format(name=identity[NAME], card=identity[ID_CARD])
        hidden = Markup("<input type=hidden name=Name value=\"{name}\">"
                        "<input type=hidden name=IdCard value=\"{card}\">").format(
            name=identity[NAME], card=identity[ID_CARD])
    main = Markup("<form method=post>{card}<h2>Outcome</h2>{buttons}</form>").format(
        card=card, buttons=buttons)
    liveness = [(code, message) for code, message in table.items() if 1000 <= code < 2000]
    others = [(code, message) for code, message in table.items() if code != 0]
    parts = [main]
    if liveness:
        parts.append(_select_form("Liveness failed", "liveness", liveness, hidden))
    parts.append(_select_form("Another code of the table", "any", others, hidden))
    parts.append(Markup(
        "<form method=post><button type=submit name=close value=1 class=quiet>Close the "
        "page <span class=code>(no outcome, no redirect)</span></button></form>"))
    note = Markup("<p class=note>The lists post the identity generated for the card "
                  "(<code>{name}</code>, <code>{card}</code>).</p>").format(
        name=identity[NAME], card=identity[ID_CARD]) if identity is not None else Markup()
    return Markup("<section>{}{}</section>").format(Markup().join(parts), note)


def _select_form(words: str, name: str, codes: Iterable[tuple[int, str]],
                 hidden: Markup) -> Markup:
    """A form choosing one of ``codes`` in a list, posting it as ``err_code``."""
    options = Markup().join(Markup("<option value={code}>{code} · {message}</option>").format(
        code=code, message=message) for code, message in codes)
    return Markup(
        "<form method=post><h2><label for=codes-{name}>{words}</label></h2>"
        "<select id=codes-{name} name=err_code>{options}</select>{hidden}"
        "<button type=submit class=fail>{words}: finish with this code</button></form>"
    ).format(name=name, words=words, options=options, hidden=hidden)


def _outcome_details(outcome: Mapping[str, Any]) -> Markup:
    """The recorded outcome: Sim and the identity used (masked)."""
    rows: list[tuple[str, Any]] = [("Sim", outcome.get("sim"))]
    identity = outcome.get("identity")
    if identity:
        name, number = str(identity.get(NAME, "")), str(identity.get(ID_CARD, ""))
        rows.append(("Identity", f"{name[:1]}{'*' * max(0, len(name) - 1)} · "
                                 f"{number[:4]}{'*' * max(0, len(number) - 8)}{number[-4:]}"))
    items = Markup().join(Markup("<dt>{}</dt><dd>{}</dd>").format(key, _clip(value))
                          for key, value in rows if value is not None)
    return Markup("<dl>{}</dl>").format(items) if items else Markup()


def _state_page(flows: Flows, record: TokenRecord, status: int, err_code: int,
                request: PageRequest) -> PageAnswer:
    """The page of a token that can no longer finish: ErrCode 14 (finished) or 15
    (expired), with the recorded outcome of a finished one."""
    message = flows.err_codes(record.flow).get(err_code, "")
    outcome = record.outcome or {}
    detail = Markup("<p>Its outcome: ErrCode {code} {msg}</p>{rows}").format(
        code=outcome.get("err_code"), msg=outcome.get("err_msg", ""),
        rows=_outcome_details(outcome)) if err_code == 14 and outcome else Markup(
        "<p class=note>Its time ran out before it was finished.</p>")
    body = _message_body(flows, record, Markup(
        "<p class=\"big bad\">ErrCode {code} {message}</p>{detail}").format(
            code=err_code, message=message, detail=detail))
    title = "Already finished" if err_code == 14 else "Expired"
    return _answer(flows, record, status, title, body,
                   "already finished" if err_code == 14 else "expired", request,
                   code=err_code)


def _problem(flows: Flows, record: TokenRecord, request: PageRequest,
             problem: str) -> PageAnswer:
    """A 400 page naming what is wrong with a POST."""
    body = _message_body(flows, record, Markup(
        "<p class=\"big bad\">The outcome was not recorded.</p><p>{}</p>"
        "<p class=note>Post <code>err_code</code> with a code of the flow's table "
        "(<code>0</code> to pass).</p>").format(_clip(problem, 400)))
    return _answer(flows, record, 400, "Invalid outcome", body, f"refused: {problem}",
                   request)


def _message_body(flows: Flows, record: TokenRecord, message: Markup) -> Markup:
    """A page's message with the token and its flow under it."""
    return Markup("<section>{message}<p class=note>{flow} · token <code>{token}</code> · "
                  "state {state}</p></section>").format(
        message=message, flow=FLOW_WORDS[record.flow], token=record.token,
        state=flows.state(record))


def _answer(flows: Flows, record: TokenRecord, status: int, title: str, body: Markup,
            detail: str, request: PageRequest, code: int | None = None) -> PageAnswer:
    """A page of ``record``, journaled (unless it answers a HEAD)."""
    event = _event(record, request, code, detail, flows.clock.now()) \
        if request.method != "HEAD" else None
    return PageAnswer(status, _layout(title, body), event=event)


def _unknown(flow: str, token: str, method: str) -> PageAnswer:
    """The 404 page of a token that does not exist (or no longer: past its read window)."""
    body = Markup(
        "<section><p class=\"big bad\">No such verification token: <code>{token}</code>"
        "</p><p class=note>It was never issued, belongs to another flow's page, or its "
        "three-day read window is over.</p></section>").format(token=_clip(token, 80))
    endpoint = journal_endpoint({"flow": flow})
    event = None if method == "HEAD" or endpoint is None else PageEvent(
        endpoint, None, None, {"token": _clip(token, 80), "method": method},
        "unknown token")
    return PageAnswer(404, _layout("Unknown verification", body), event=event)


def _event(record: TokenRecord, request: PageRequest, code: int | None, detail: str,
           now: float) -> PageEvent:
    """What to journal of a request to ``record``'s page: the token, the method and the
    posted fields; the state at ``now`` and any outcome as its data."""
    fields = {"token": record.token, "method": request.method}
    fields.update({name: _clip(value) for name, value in request.form.items()
                   if name in (ERR_CODE, ID_CARD, NAME, CLOSE)})
    data: dict[str, Any] = {"state": record.state_at(now)}
    if record.outcome is not None:
        data.update(err_code=record.outcome.get("err_code"),
                    err_msg=record.outcome.get("err_msg"), sim=record.outcome.get("sim"))
    return PageEvent(f"h5:{record.flow}", record.appid, code, fields, detail, data)


def _layout(title: str, body: Markup) -> str:
    """A whole page: phone-sized viewport, inline style, no script."""
    return str(Markup(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
        "<meta name=referrer content=same-origin>"
        "<title>{title} · mockface</title><style>{style}</style></head><body>"
        "<header><b>mockface</b><small>Emulated verification page: nothing here reaches "
        "Tencent</small></header><main><h1>{title}</h1>{body}</main></body></html>"
    ).format(title=title, style=Markup(_STYLE), body=body))


def _clip(value: Any, limit: int = SHOWN) -> str:
    """``value`` as text of at most ``limit`` characters (then an ellipsis)."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


def _duration(seconds: int) -> str:
    """Seconds as ``H:MM:SS`` (or ``M:SS`` under an hour)."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _stamp(seconds: float) -> str:
    """An emulated time as ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))
