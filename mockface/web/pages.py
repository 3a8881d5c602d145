"""The products' pages on the Flask app (``core.pages``): every ``PageRoute`` of the
emulator's registry mounted as a Flask route (``mount_pages``).  Each request becomes a
``PageRequest``; the ``PageAnswer`` goes out as ``text/html; charset=utf-8`` with
``Cache-Control: no-store``, ``X-Content-Type-Options: nosniff``, a Referrer-Policy and a
Content-Security-Policy that allows no script (``POLICY``) (framing is denied for every answer by
``app.deny_framing``); what the view did is journaled.

A page is not the admin API: no admin token (the page's own path is the capability) and any
Host.  A POST from another site is refused with a 403 page before the view sees it: an
``Origin`` that is neither the page's own origin (scheme and Host) nor the public URL's, or
``Sec-Fetch-Site: cross-site``."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from ..core.journal import summarise_fields
from ..core.pages import PageAnswer, PageEvent, PageRequest, PageRoute, plain_page
from ..core.state import StateUnavailable
from ..core.yamlsource import show

if TYPE_CHECKING:
    from ..core.config import Settings
    from ..emulator import Emulator

#: The policy of every page: nothing but inline style and data: images, no script, no
#: plugin, no <base>.  Forms may post to http(s) URLs only, not to the page's origin alone:
#: Chromium checks form-action on every redirect of the navigation a form starts, so
#: ``'self' <RedirectUrl's origin>`` would block an integrator's callback that redirects on
#: to another origin (a backend's /callback sending the browser to its front end, say).
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; " \
         "form-action 'self' http: https:"
#: The request headers a page's journal entry keeps.
KEPT_HEADERS = ("Origin", "Sec-Fetch-Site", "Content-Type")
#: The largest body a page accepts (its forms post a few short fields).
MAX_BODY = 64 * 1024


def mount_pages(app: Flask) -> None:
    """Add every page of the app's emulator's registry to ``app``."""
    for route in app.extensions["mockface"].registry.pages:
        app.add_url_rule(route.rule, f"page_{route.name}", _view_of(route),
                         methods=list(route.methods))


def _view_of(route: PageRoute) -> Callable[..., Response]:
    """The Flask view of a page: the cross-site guard, then the page's own view."""
    def page(**values: str) -> Response:
        started = time.perf_counter()
        emulator = current_app.extensions["mockface"]
        refusal = _refused(emulator.settings)
        if refusal is not None:
            endpoint = route.journal_endpoint(values) if route.journal_endpoint else None
            answer = plain_page(*refusal)
            answer = PageAnswer(answer.status, answer.body, event=None if endpoint is None
                                else PageEvent(endpoint, None, None,
                                               {"method": request.method}, refusal[2]))
        else:
            try:
                emulator.state.sync()
                answer = route.view(emulator, _page_request(values))
            except StateUnavailable as error:
                answer = plain_page(503, "Temporarily unavailable",
                                    f"The emulator's state cannot be reached: {error}")
        _journal(emulator, answer, started)
        return _response(answer)
    page.__name__ = f"page_{route.name}"
    return page


def _refused(settings: Settings) -> tuple[int, str, str] | None:
    """(403, title, why) for a cross-site POST (or an oversized one: 413), else None."""
    if request.method != "POST":
        return None
    if request.content_length is not None and request.content_length > MAX_BODY:
        return 413, "Too large", f"A page's form posts at most {MAX_BODY} bytes."
    origin = request.headers.get("Origin")
    site = request.headers.get("Sec-Fetch-Site")
    if origin is not None and not same_origin(origin, request.scheme, request.host,
                                              getattr(settings, "public_url", None)):
        return 403, "Cross-site request refused", \
            f"This page takes form posts from itself only, not from {show(origin)}."
    if site is not None and site.strip().lower() == "cross-site":
        return 403, "Cross-site request refused", \
            "This page takes form posts from itself only (Sec-Fetch-Site: cross-site)."
    return None


def same_origin(origin: str, scheme: str, host: str, public_url: str | None = None) -> bool:
    """Whether a browser's ``Origin`` is the page's own: ``scheme://host`` as the request
    reached the server, or the origin of the public URL the server is known by
    (``--public-url``).  ``null`` and anything but http(s) is not."""
    own = {f"{scheme}://{host}".lower()}
    if public_url:
        parts = urlsplit(public_url)
        own.add(f"{parts.scheme}://{parts.netloc}".lower())
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or \
            parts.path or parts.query or parts.fragment:
        return False
    return f"{parts.scheme}://{parts.netloc}".lower() in own


def _page_request(values: Mapping[str, str]) -> PageRequest:
    """The Flask request as a ``PageRequest`` (the first value of each repeated field)."""
    form = request.form.to_dict() if request.method == "POST" else {}
    return PageRequest(request.method, dict(values), request.args.to_dict(), form,
                       request.host, request.headers.get("Origin"),
                       request.headers.get("Sec-Fetch-Site"))


def _response(answer: PageAnswer) -> Response:
    """The answer with the headers every page carries."""
    response = Response(answer.body, status=answer.status,
                        content_type="text/html; charset=utf-8")
    for name, value in answer.headers:
        response.headers[name] = value
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _journal(emulator: Emulator, answer: PageAnswer, started: float) -> None:
    """Journal what the page did (nothing when its answer names no event)."""
    event = answer.event
    if event is None:
        return
    headers = {name: value[:200] for name in KEPT_HEADERS
               if (value := request.headers.get(name)) is not None}
    try:
        emulator.journal.record(
            time=emulator.clock.now(), endpoint=event.endpoint, appid=event.appid,
            fields=summarise_fields(dict(event.fields)), media={}, signature={},
            rule="default", http_status=answer.status, code=event.code, data=
            dict(event.data) if event.data is not None else None, fault=None,
            detail=event.detail, latency_ms=round((time.perf_counter() - started) * 1000, 3),
            miss=None, message=None, headers=headers)
    except StateUnavailable:
        pass  # the state backend's outage is logged once by the backend
