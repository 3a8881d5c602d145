"""What a product shows outside its requests: how the server's pages name it, its code
catalogue, its OpenAPI document, its admin routes, its part of the dashboard (journal rows,
the signing helper) and its CLI commands.  The admin API, the OpenAPI documents, the
dashboard and the CLI read these through the registry (``Product.surface``), never from a
product's modules."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .config import App
    from .journal import JournalEntry


class AdminError(Exception):
    """A bad admin request: rendered as ``{"error": message}`` (and ``extra``) with
    ``status``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


@dataclass(frozen=True)
class Arg:
    """One argument an admin route accepts: from the JSON body (changes) or the query string
    (reads), its JSON type, and what it means.  The OpenAPI document is generated from
    these, and a route reads only the arguments it declares, so the two cannot drift."""

    name: str
    kind: type | tuple[type, ...]
    description: str
    default: Any = None
    required: bool = False


class Arguments(Protocol):
    """The declared arguments of one admin request, as a product's route reads them."""

    def get(self, name: str) -> Any:
        """Argument ``name`` (one the route declares): of its declared type, its default
        when not given; AdminError 400 when it is of another type."""

    def appid(self) -> str | None:
        """The ``appid`` argument, None when not given; AdminError 404 unless the server
        knows that app."""


@dataclass(frozen=True)
class Route:
    """An admin route a product adds under ``/__mockface/``: ``rule`` as Flask's (relative,
    e.g. ``lip-codes``); ``view(services, arguments, **rule_values)`` gets the emulator
    (``core.product.Services``) and the request's ``Arguments`` and returns a JSON-able
    value or ``(value, status)``, or raises AdminError.  Its name is the view's
    (``__name__``); the admin OpenAPI document shows ``summary``, ``args``, ``status`` (of a
    success) and ``errors`` (its own error statuses).  A GET reads its arguments from the
    query string, any other method from the JSON body."""

    rule: str
    methods: tuple[str, ...]
    view: Callable[..., Any]
    summary: str = ""
    args: tuple[Arg, ...] = ()
    status: int = 200
    errors: tuple[int, ...] = ()
    #: What a success answers: JSON, or the view's text as this media type.
    media_type: str = "application/json"


@dataclass(frozen=True)
class Names:
    """How the server's own pages and messages name a product.

    ``document``: the name of its OpenAPI document (``/__mockface/openapi/<document>.json``),
    ``document_label`` the dashboard's link to it and ``document_about`` what it covers;
    ``endpoint``: one of its endpoints in words, with an article, and ``example`` one of
    them; ``codes_api``: the ``api`` value of ``GET codes`` that lists its catalogue ("":
    none), ``codes_about`` what that lists."""

    document: str
    document_label: str
    document_about: str
    endpoint: str
    example: str
    codes_api: str = ""
    codes_about: str = ""


@dataclass(frozen=True)
class OpenApiDocument:
    """A product's OpenAPI document, less what every document of the server has (the
    ``openapi`` version, ``info.version``): the web layer adds those."""

    title: str
    description: str
    components: dict[str, Any]
    security: list[dict[str, Any]]
    paths: dict[str, Any]


@dataclass(frozen=True)
class FormField:
    """A field of a product's part of the dashboard's signing form: the query parameter of
    ``GET ui`` (``arg``: its name, description and default), its ``label`` (for screen
    readers), and a select's ``choices`` (None: a text area, which left empty counts as its
    default)."""

    arg: Arg
    label: str
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SigningRequest:
    """What the dashboard's signing helper asks a product to sign: the form's ``values`` by
    field name, the app to sign for, the server's URL as the browser reached it (no
    trailing slash) and the emulated time."""

    values: Mapping[str, str]
    app: App
    url: str
    now: int


@dataclass(frozen=True)
class Signer:
    """A product's part of the dashboard's signing helper, chosen by ``sign=<kind>``:
    the radio button's ``label``, its ``fields``, and ``example``, which signs a request:
    ``{"kind", "headers", "curl"}`` (the headers to send and a curl command sending them),
    or ``{"error": message}`` for a form it cannot sign."""

    kind: str
    label: str
    fields: tuple[FormField, ...]
    example: Callable[[SigningRequest], dict[str, Any]]


class Surface(Protocol):
    """A product's outward-facing declarations."""

    #: How pages and messages name it.
    names: Names
    #: Its part of the dashboard's signing helper (None: it has none).
    signer: Signer | None

    def catalogue(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Its codes (those ``endpoint``, one of its endpoints, answers; or all) as JSON-able
        entries."""

    def openapi(self) -> OpenApiDocument:
        """Its OpenAPI document, generated from the definitions it checks requests with."""

    def admin_routes(self) -> Sequence[Route]:
        """The admin routes it adds."""

    def targets(self) -> tuple[str, ...]:
        """Its endpoints, as the dashboard lists them (journal filter, signing form)."""

    def journals(self, endpoint: str) -> bool:
        """Whether journal entries naming ``endpoint`` are its own (its endpoints, and what
        it names a request before it knows the endpoint)."""

    def failed(self, entry: JournalEntry) -> bool:
        """Whether an answer of its (one that reached the client, no fault, an HTTP status
        below 400) reports an error in band."""

    def code_label(self, entry: JournalEntry, error: bool) -> str:
        """The word the dashboard puts before an entry's code (``error``: the row is shown
        as an error)."""

    def cli_commands(self) -> Sequence[Any]:
        """The click commands it adds to ``mockface``."""


def quoted(text: str, limit: int) -> str:
    """A value a client gave, for a message on a page: clipped, in quotes (not as a repr)."""
    return f"“{text[:limit]}”"
