"""The seam between mockface and the products it emulates.

A product (the legacy ``/face/*`` API, the Cloud API 3.0 services) is one folder under
``mockface/products`` with one object satisfying ``Product``; ``mockface.products.REGISTRY``
lists them.  Everything else -- the web layer, the CLI, the admin API, the dashboard, the
OpenAPI document, proxy mode, the pytest plugin -- reaches products only through a
``Registry`` and never names one.

A product declares what it is (name, real host names, the paths it owns, its scenario
dialect, the stores it needs and its ``surface``: code catalogue, OpenAPI paths, CLI commands
and admin routes) and, bound to an emulator (``Product.bind``), handles requests: the emulator
owns the one lifecycle around them (``core.emulator.Emulator.serve``: the unexpected-error
net, delays, faults, journal, access line) and the product the part between -- parse,
authenticate, consult the scenario rules, answer -- and how its answers and errors look on
the wire.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .scenarios.activations import Activation, Miss
    from .scenarios.model import Fault
    from .surface import Surface
    from .clock import Clock
    from .config import Keyring, SectionReader, Settings
    from .media import MediaBytes
    from .pages import PageRoute
    from .scenarios.model import Facts, Response
    from .scenarios.schema import Dialect
    from .state import StateBackend
    from .stores import StoreSpec

#: The request header naming a scenario to answer one request with (when allowed).
SCENARIO_HEADER = "x-mockface-scenario"


@dataclass(frozen=True)
class Request:
    """The facts of one HTTP request to an emulated product.  ``headers`` maps lower-case
    names to the values as sent (``content-type`` and ``content-length`` included);
    ``active``: answer under this snapshot of the active scenarios (``Emulator.at_once_view``)
    instead of those active now."""

    method: str
    path: str
    host: str
    query: str
    headers: Mapping[str, str]
    stream: IO[bytes]
    active: tuple[Activation, ...] | None = None

    @property
    def scenario_header(self) -> str | None:
        """The X-Mockface-Scenario value, as sent (None when absent)."""
        return self.headers.get(SCENARIO_HEADER)


@dataclass(frozen=True)
class Rendered:
    """An answer as it goes on the wire: status, Content-Type (None for none), body and
    further headers."""

    status: int
    content_type: str | None
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Exchange:
    """One handled request, as the lifecycle, the journal and the access log see it; each
    product extends it with what it understood of the request and what it answered.

    ``http_status`` is what the client is sent (None: the connection drops), set by the
    lifecycle once any scripted delay, timeout or fault has played out."""

    endpoint: str = ""
    rule: str | None = None  # "scenario#N" when a scenario rule answered
    miss: Miss | None = None  # scenarios were active but no rule matched
    delay_ms: int = 0
    fault: Fault | None = None
    active: tuple[Activation, ...] | None = None  # the scenarios to choose from; None: now's
    signature_check: str = "not reached"  # passed, loose, failed, skipped by a rule
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # read, as the journal keeps them
    journaled: bool = True  # False: only logged (a request for an endpoint that is not one)

    def unscripted(self) -> None:
        """Forget the scenario rule's part (an answer replaced by an error answer)."""
        self.rule = self.fault = None
        self.delay_ms = 0

    # What every product's exchange answers (overridden by each product):

    @property
    def where(self) -> str:
        """How the logs name the request (``/face/idcardcompare``, ``API 3.0 faceid:X``)."""
        return self.endpoint

    @property
    def access_path(self) -> str:
        """The path the access line names."""
        return self.endpoint

    @property
    def appid(self) -> str | None:
        return None

    @property
    def code(self) -> Any:
        """The answer's code (a number, an Error.Code or a Result); None for no answer."""
        return None

    @property
    def answer_status(self) -> int:
        """The HTTP status of the answer (the client gets it unless a fault intervenes)."""
        return 200

    @property
    def reason(self) -> str:
        """Why the answer is not a plain success ("" when it is one)."""
        return ""

    @property
    def media(self) -> Mapping[str, MediaBytes | bytes]:
        """The media parts sent, by name (the dashboard keeps their thumbnails)."""
        return {}

    def journal_values(self) -> dict[str, Any]:
        """What the journal keeps of this exchange besides its outcome: ``fields``,
        ``media``, ``signature``, ``data``, ``message`` and ``headers``."""
        return {}


class Services(Protocol):
    """What a bound product may use of the emulator serving it."""

    settings: Settings
    keyring: Keyring
    state: StateBackend
    allow_scenario_header: bool
    #: The URL the server listens on (``Emulator.listen_url``; None until it is bound).
    listen_url: str | None

    @property
    def clock(self) -> Clock: ...

    def scripted(self, exchange: Exchange, facts: Facts, appid: str | None,
                 before_auth: bool, header: str | None,
                 refusal: Callable[[Exception], Exception]) -> Response | None: ...

    def scenarios_idle(self, header: str | None,
                       active: tuple[Activation, ...] | None) -> bool: ...

    def is_loose(self, appid: str | None) -> bool: ...


class Handler(Protocol):
    """A product bound to one emulator: handles its requests."""

    def begin(self, request: Request) -> Exchange:
        """A new exchange for ``request``, before anything is read; never raises."""

    def handle(self, exchange: Exchange, request: Request) -> None:
        """Parse, authenticate and answer ``request`` into ``exchange``.  A client's mistake
        is answered, not raised; ``StateUnavailable`` and unexpected exceptions go to the
        lifecycle, which calls ``unavailable`` or ``unexpected``."""

    def unavailable(self, exchange: Exchange, error: Exception) -> None:
        """Answer ``exchange`` with the product's error for a state backend in an outage."""

    def unexpected(self, exchange: Exchange, error: Exception) -> None:
        """Answer ``exchange`` with the product's internal error (its traceback is logged
        by the lifecycle)."""

    def render(self, exchange: Exchange) -> Rendered:
        """The answer of an exchange without a fault, as it goes on the wire."""

    def reset(self, appid: str | None) -> None:
        """Forget what the product keeps outside its declared stores (usually nothing)."""


@dataclass(frozen=True)
class CliApi:
    """What a product adds to one of the shared commands (``mockface sign``, ``mockface
    codes``): the ``--api`` values it answers, their help, the options only it reads (click
    options) and the function that runs the command (called with ``api=`` the chosen value,
    the shared options and its own)."""

    command: str
    names: tuple[str, ...]
    help: str
    options: tuple[Any, ...]
    run: Callable[..., None]


@dataclass(frozen=True)
class Helper:
    """A method or property a product adds to the pytest handle (``mockface.testing.Mockface``):
    ``function(handle, *args, **kwargs)``; a property is called with the handle alone."""

    function: Callable[..., Any]
    is_property: bool = False


@dataclass(frozen=True)
class ServeOption:
    """A ``mockface serve`` flag a product adds (``--auto-complete CODE``): it sets the
    product's top-level config key ``key`` to ``convert(text)`` (a ValueError is a usage
    error), over what a config file says."""

    flag: str
    key: str
    help: str
    metavar: str
    convert: Callable[[str], Any]


class Product(Protocol):
    """One emulated product (see the module docstring)."""

    @property
    def name(self) -> str:
        """A short lower-case name (``legacy``, ``tc3``): journal filters, CLI, registry."""

    @property
    def hosts(self) -> tuple[str, ...]:
        """The real host names it answers for (proxy mode, CONNECT, the TLS names)."""

    @property
    def services(self) -> tuple[str, ...]:
        """What an app's ``services`` may list to allow it (legacy endpoints, API 3.0
        services)."""

    @property
    def methods(self) -> tuple[str, ...] | None:
        """The HTTP methods it serves; None: any (the product answers the others itself)."""

    @property
    def max_body(self) -> int:
        """The largest request body it reads, in bytes."""

    @property
    def dialect(self) -> Dialect:
        """The scenario dialect of its rules."""

    @property
    def surface(self) -> Surface:
        """What it shows outside its requests (catalogue, OpenAPI, admin routes)."""

    @property
    def cli_apis(self) -> tuple[CliApi, ...]:
        """What it adds to the shared commands of the CLI."""

    @property
    def helpers(self) -> Mapping[str, Helper]:
        """What it adds to the pytest handle, by name."""

    @property
    def stores(self) -> tuple[StoreSpec[Any], ...]:
        """The state stores it needs, declared on the emulator's state when the emulator is
        built (two products declaring an equal spec share the store)."""

    # The registry reads the next four with a default of none: a product may leave them out.

    @property
    def config_keys(self) -> Mapping[str, SectionReader]:
        """Its own top-level config keys and their readers (``core.config``)."""

    @property
    def app_config_keys(self) -> Mapping[str, SectionReader]:
        """Its own keys of each configured app and their readers."""

    @property
    def serve_options(self) -> tuple[ServeOption, ...]:
        """The flags it adds to ``mockface serve``."""

    @property
    def pages(self) -> tuple[PageRoute, ...]:
        """The pages it shows to a browser (``core.pages``)."""

    def app_config(self, settings: Settings, appid: str) -> Mapping[str, Any]:
        """What ``GET /__mockface/config`` shows of app ``appid`` besides the platform's
        keys, by key (JSON-able values); {} for nothing."""

    def owns(self, path: str) -> bool:
        """Whether requests to ``path`` (no query) are this product's: a function of the path
        alone (the registry remembers its answers)."""

    def endpoints(self) -> tuple[str, ...]:
        """The names its exchanges carry as ``endpoint`` (journal filters, scenario
        targets, the dashboard's lists)."""

    def example(self, settings: Settings, url: str, ca_cert: str | None) -> list[str]:
        """Lines of a shell command that tries the product on a server at ``url`` (the
        start-up banner shows the default product's); [] for none."""

    def bind(self, services: Services) -> Handler:
        """The product's handler on one emulator (its stores taken from its state)."""

    def error(self, status: int, message: str,
              headers: tuple[tuple[str, str], ...] = ()) -> Rendered:
        """A protocol-level refusal in the product's own format: ``status`` 404 (unknown
        endpoint), 405 (method not allowed), 413 (body too large), 400 (anything else
        malformed), or 500 (an unexpected error)."""

    def fault_body(self, kind: str) -> tuple[str, bytes]:
        """Content-Type and body of a ``malformed_json`` or ``empty_body`` fault."""


#: How many paths ``Registry.owner`` remembers the owner of (any path a client sends is
#: asked about: the emulated ones are few, the rest must not fill memory).
_MAX_OWNERS = 256
_UNKNOWN: Any = object()


class Registry:
    """The products one server emulates, in order; the first answers what belongs to no
    product (unknown paths, the server's own errors) in its format."""

    def __init__(self, *products: Product) -> None:
        if not products:
            raise ValueError("a registry needs at least one product")
        names = [product.name for product in products]
        if len(set(names)) != len(names):
            raise ValueError(f"two products share a name: {names}")
        self.products = products
        self.default = products[0]
        self.hosts = tuple(host for product in products for host in product.hosts)
        self._by_host: dict[str, Product] = {}  # of_host's answers (the first product wins)
        self._owners: dict[str, Product | None] = {}  # owner's answers, for _MAX_OWNERS paths
        for product in products:
            for host in product.hosts:
                self._by_host.setdefault(host, product)
        self.services = tuple(name for product in products for name in product.services)
        self.max_body = max(product.max_body for product in products)
        self.config_keys = _merged(products, "config_keys")
        self.app_config_keys = _merged(products, "app_config_keys")
        self.serve_options: tuple[ServeOption, ...] = tuple(
            option for product in products for option in getattr(product, "serve_options", ()))
        self.pages: tuple[PageRoute, ...] = tuple(
            page for product in products for page in getattr(product, "pages", ()))

    def __iter__(self) -> Iterator[Product]:
        return iter(self.products)

    def __getitem__(self, name: str) -> Product:
        for product in self.products:
            if product.name == name:
                return product
        raise KeyError(name)

    def owner(self, path: str) -> Product | None:
        """The product that owns requests to ``path``, or None.  (Asked twice of every
        request, the answers for the first _MAX_OWNERS paths are kept: ``Product.owns``
        depends on the path alone.)"""
        found = self._owners.get(path, _UNKNOWN)
        if found is not _UNKNOWN:
            return found
        owner = None
        for product in self.products:
            if product.owns(path):
                owner = product
                break
        if len(self._owners) < _MAX_OWNERS:
            self._owners[path] = owner
        return owner

    def of_host(self, host: str) -> Product | None:
        """The product whose real host ``host`` (a bare, lower-case name) is, or None."""
        return self._by_host.get(host)

    def of_endpoint(self, endpoint: str) -> Product | None:
        """The product whose exchanges (or pages) carry ``endpoint``, or None."""
        for product in self.products:
            if endpoint in product.endpoints() or any(
                    endpoint in page.endpoints for page in getattr(product, "pages", ())):
                return product
        return None

    def protocol_error(self, path: str | None, status: int, message: str = "") -> Rendered:
        """A protocol-level refusal (see ``Product.error``) in the format of the product
        owning ``path`` (the default product's when None owns it or the path is unknown)."""
        owner = self.owner(path) if path is not None else None
        return (owner or self.default).error(status, message)


def _merged(products: Sequence[Product], attribute: str) -> dict[str, SectionReader]:
    """The products' config keys of ``attribute`` in one mapping; ValueError when two
    products declare one key."""
    merged: dict[str, SectionReader] = {}
    for product in products:
        for key, reader in getattr(product, attribute, {}).items():
            if key in merged:
                raise ValueError(f"two products declare the config key {key!r}")
            merged[key] = reader
    return merged
