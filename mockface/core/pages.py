"""Pages a product shows to a person's browser (not its protocol, not the admin API): the
user page of a verification token, say.  A product declares them as ``PageRoute``s
(``Product.pages``); the web layer mounts each on the Flask app, hands its view a
``PageRequest`` and sends the ``PageAnswer`` it returns, so a page's logic stays out of
Flask.  What a view did worth keeping (a page opened, a token finished) it says in the
answer's ``event``; the web layer journals it."""
from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .product import Services


@dataclass(frozen=True)
class PageRequest:
    """One request to a page: its method, the values of the rule's variables (``path``),
    the query and (for a POST of ``application/x-www-form-urlencoded`` or
    ``multipart/form-data``) the form fields, the ``Host`` and ``Origin`` headers and
    ``Sec-Fetch-Site`` (None when absent)."""

    method: str
    path: Mapping[str, str]
    query: Mapping[str, str]
    form: Mapping[str, str]
    host: str
    origin: str | None = None
    fetch_site: str | None = None


@dataclass(frozen=True)
class PageEvent:
    """What a page view did, for the journal: its ``endpoint`` (``h5:detect``), the
    ``appid`` it concerns (None when not known), a ``code`` (an outcome's ErrCode, say),
    the request ``fields`` worth keeping, a ``detail`` in words and any answer ``data``."""

    endpoint: str
    appid: str | None = None
    code: int | str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    detail: str | None = None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PageAnswer:
    """What a page answers: ``status``, an HTML ``body`` (already escaped by the page), and
    extra ``headers`` (``Location`` of a redirect, say).  The web layer adds the
    Content-Type, the no-framing headers, ``Cache-Control: no-store`` and a
    Content-Security-Policy allowing no script.  ``event``: what to journal (nothing when
    None)."""

    status: int
    body: str
    headers: tuple[tuple[str, str], ...] = ()
    event: PageEvent | None = None


@dataclass(frozen=True)
class PageRoute:
    """A page a product adds: ``rule`` as Flask's, absolute (``/h5/<flow>/<token>``), its
    ``methods``, and ``view(services, request) -> PageAnswer``; ``name`` names it (Flask's
    endpoint); ``journal_endpoint(path values)`` names the journal endpoint of a request the
    web layer refuses before the view sees it (a cross-site POST; None: not journaled);
    ``endpoints``: every journal endpoint its entries carry (for the journal's filters)."""

    rule: str
    methods: tuple[str, ...]
    view: Callable[[Services, PageRequest], PageAnswer]
    name: str
    journal_endpoint: Callable[[Mapping[str, str]], str | None] | None = None
    endpoints: tuple[str, ...] = ()


def plain_page(status: int, title: str, text: str) -> PageAnswer:
    """A minimal page of a title and a paragraph (both escaped here), readable on a phone:
    what the web layer answers when it refuses a request before the page's view."""
    return PageAnswer(status, (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:1.05rem/1.5 system-ui,sans-serif;margin:0 auto;padding:1rem;"
        "max-width:36rem;overflow-wrap:anywhere;color:#1b1f24}"
        "h1{font-size:1.3rem}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"))
