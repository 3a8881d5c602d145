"""Pages a product shows to a person's browser (not its protocol, not the admin API): the
user page of a verification token, say.  A product declares them as ``PageRoute``s
(``Product.pages``); the web layer mounts each on the Flask app, hands its view a
``PageRequest`` and sends the ``PageAnswer`` it returns, so a page's logic stays out of
Flask."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
class PageAnswer:
    """What a page answers: ``status``, an HTML ``body`` (already escaped by the page), and
    extra ``headers`` (``Location`` of a redirect, say).  The web layer adds the
    Content-Type, the no-framing headers and ``Cache-Control: no-store``."""

    status: int
    body: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PageRoute:
    """A page a product adds: ``rule`` as Flask's, absolute (``/h5/<flow>/<token>``), its
    ``methods``, and ``view(services, request) -> PageAnswer``; ``name`` names it (Flask's
    endpoint)."""

    rule: str
    methods: tuple[str, ...]
    view: Callable[[Services, PageRequest], PageAnswer]
    name: str
