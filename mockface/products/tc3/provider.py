"""One Cloud API 3.0 service as a provider: a class whose actions are declared methods.

A provider names its service, the real host names it answers for and its versions; each
action is a method named after the API action, declared with ``@action`` (its parameters,
the versions that have it, its deprecation, the ``Result`` names it answers or its own
``Result`` table with the codes Tencent charges for, the values a scenario rule may set)::

    class OcrProvider(Provider):
        service, hosts, versions = "ocr", ("ocr.tencentcloudapi.com",), ("2018-11-19",)

        @action(params=(Param("ImageBase64", media=True),))
        def GeneralBasicOCR(self, call: Call) -> dict[str, Any]:
            return {"TextDetections": []}

From the declarations the platform derives what used to be tables (``table.ActionTable``):
the service -> version -> actions table of checks 6-8, the parameter checks 12-14, the
scenario targets (``ocr:GeneralBasicOCR``, ``ocr:*``), the ActionSpecs and the code list.
A provider is built per emulator with a ``ProviderContext`` (clock, state, settings, photo,
catalogue); an action method gets the ``Call`` and returns the ``Response`` fields (without
``RequestId``), raises ``Refusal`` for a verification failure answered as ``Result``, or
raises ``Tc3Error`` for a refused call.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .catalogue import Tc3Code
from .params import Param, check_params

if TYPE_CHECKING:
    from ...core.clock import Clock
    from ...core.config import SectionReader, Settings
    from ...core.pages import PageRoute
    from ...core.product import CliApi, Helper, ServeOption
    from ...core.surface import Route
    from ...core.state import StateBackend
    from ...core.stores import StoreSpec

SUCCESS = "Success"
SUCCESS_DESCRIPTION = "成功"
#: How an action's removal from Tencent's current SDKs (``@action(removed=...)``) is
#: introduced wherever it is shown: "removed from current SDKs: <reason>".
REMOVED_NOTE = "removed from current SDKs"
#: What a value a scenario rule sets may be; rules list the values in this order of kinds.
KINDS = ("percent", "boolean", "digits", "digit_list")


@dataclass(frozen=True)
class DataField:
    """A value of an action's answer that a scenario rule may set: the rule's key
    (``sim``), the ``Response`` field it sets (``Sim``) and its kind (KINDS: a number from 0
    to 100, true/false, a quoted string of digits, digits separated by commas)."""

    key: str
    field: str
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.key}: kind {self.kind!r} is not one of {KINDS}")


@dataclass(frozen=True)
class Declaration:
    """What ``@action`` declares of one action (see ``action``)."""

    name: str
    params: tuple[Param, ...] = ()
    versions: tuple[str, ...] | None = None
    deprecated: str | Mapping[str, str] | None = None
    results: tuple[str, ...] = ()
    result_table: Mapping[str, str] | None = None
    failure_fields: Mapping[str, Any] = field(default_factory=dict)
    data: tuple[DataField, ...] = ()
    match: tuple[str, ...] = ()
    removed: str | None = None
    charged: tuple[str, ...] | None = None

    def charges(self, result: str) -> bool | None:
        """Whether Tencent bills a call answered ``result`` (收费: True, 不收费: False) by the
        action's ``charged`` codes; None when the action declares no such split or
        ``result`` is not a code of its result table."""
        if self.charged is None or self.result_table is None or \
                result not in self.result_table:
            return None
        return result in self.charged

    def deprecation(self, version: str) -> str | None:
        """The DeprecatedWarning of the action in ``version`` (None when it is current)."""
        if isinstance(self.deprecated, str):
            return self.deprecated
        return self.deprecated.get(version) if self.deprecated else None


F = TypeVar("F", bound=Callable[..., Any])


def action(*, params: tuple[Param, ...] = (), versions: tuple[str, ...] | None = None,
           deprecated: str | Mapping[str, str] | None = None, results: tuple[str, ...] = (),
           result_table: Mapping[str, str] | None = None,
           failure_fields: Mapping[str, Any] | None = None, data: tuple[DataField, ...] = (),
           match: tuple[str, ...] = (), removed: str | None = None,
           charged: tuple[str, ...] | None = None) -> Callable[[F], F]:
    """Declare the method it decorates as the API action of the same name.

    ``params``: its parameters (checks 12-14); ``versions``: the provider's versions that
    have it (None: all); ``deprecated``: its DeprecatedWarning, for every version or by
    version; ``results``: the catalogue names it answers as ``Result`` besides ``Success``;
    ``result_table``: instead, its own Result codes and their Descriptions (``"0"`` the
    success); ``failure_fields``: what a failing Result of a table answers besides
    ``Result`` and ``Description``; ``data``: the values a scenario rule may set;
    ``match``: its text parameters a rule may match besides the provider's
    ``match_fields``; ``removed``: why it is gone from Tencent's current SDKs (still
    served: ``mockface coverage``, ``mockface codes``, the dashboard and the OpenAPI
    document say so), None while the SDKs have it; ``charged``: the codes of its
    ``result_table`` Tencent bills (收费), every other code of the table being free
    (不收费); None when Tencent publishes no such split (``mockface codes --action`` and
    ``GET /__mockface/codes`` show each code's)."""
    if removed is not None and not removed.strip():
        raise ValueError("removed: give the reason (the SDK release that deleted it)")

    def declare(method: F) -> F:
        method.__tc3_action__ = Declaration(  # type: ignore[attr-defined]
            method.__name__, tuple(params), versions, deprecated, tuple(results),
            result_table, dict(failure_fields or {}), tuple(data), tuple(match), removed,
            None if charged is None else tuple(charged))
        return method
    return declare


def _no_url() -> str | None:
    """No listen URL known (a context built without a server)."""
    return None


@dataclass(frozen=True)
class ProviderContext:
    """What the platform gives a provider on one emulator: its clock, its state backend
    (``state.store(spec)`` gives each store the provider declares), its settings, the photo
    its frames show, the product's code catalogue and ``listen_url()``: the URL the server
    listens on (``Emulator.listen_url``: None before it is bound, or when it listens on
    every address), asked each time since the server is bound after the providers are
    built."""

    clock: Clock
    state: StateBackend
    settings: Settings
    photo: bytes
    catalogue: Mapping[str, Tc3Code]
    listen_url: Callable[[], str | None] = _no_url


@dataclass
class Call:
    """One admitted call to an action: its service, action, version, the calling app's
    appid, its checked parameters and their decoded media (``answers.decode_media``)."""

    service: str
    action: str
    version: str
    appid: str
    params: dict[str, Any]
    media: dict[str, bytes]


class Refusal(Exception):
    """A verification failure: answered as ``Result`` (not an error)."""

    def __init__(self, result: str, detail: str) -> None:
        super().__init__(detail)
        self.result = result
        self.detail = detail


def succeeds(result: str | None) -> bool:
    """Whether a scripted ``Result`` (None: none chosen) is the success of its action."""
    return result in (None, SUCCESS, "0")


class Provider:
    """One API 3.0 service on the platform (see the module docstring).  Subclasses set the
    class attributes and declare their actions with ``@action``; they may override the
    hooks ``check``, ``defaults``, ``refused`` and ``scripted``."""

    #: The service name: the credential scope's, the target prefix (``faceid:``).
    service: ClassVar[str]
    #: The real host names it answers for (proxy mode, CONNECT, the TLS names).
    hosts: ClassVar[tuple[str, ...]]
    #: Its X-TC-Versions, oldest first.
    versions: ClassVar[tuple[str, ...]]
    #: The state stores it needs (declared on the emulator's state before it is built).
    stores: ClassVar[tuple[StoreSpec[Any], ...]] = ()
    #: Text parameters of its actions a scenario rule may match (with each action's own).
    match_fields: ClassVar[tuple[str, ...]] = ()
    #: Answer fields that hold base64 photos (the journal keeps their summaries).
    answer_media: ClassVar[tuple[str, ...]] = ()
    #: Its own Error.Code and Result names (the platform's are in ``tc3.catalogue``).
    codes: ClassVar[tuple[Tc3Code, ...]] = ()
    #: Structured values a scenario rule's ``respond`` may give some of its actions
    #: (``scenario_rules.RuleValue``).
    rule_values: ClassVar[tuple[Any, ...]] = ()
    #: The admin routes it adds under ``/__mockface/`` (``core.surface.Route``).
    admin_routes: ClassVar[tuple[Route, ...]] = ()
    #: The pages it shows to a browser (``core.pages.PageRoute``).
    pages: ClassVar[tuple[PageRoute, ...]] = ()
    #: What it adds to the pytest handle, by name.
    helpers: ClassVar[Mapping[str, Helper]] = {}
    #: Its own top-level and per-app config keys, with their readers (``core.config``).
    config_keys: ClassVar[Mapping[str, SectionReader]] = {}
    app_config_keys: ClassVar[Mapping[str, SectionReader]] = {}
    #: The flags it adds to ``mockface serve``.
    serve_options: ClassVar[tuple[ServeOption, ...]] = ()
    #: What it adds to the shared commands of the CLI (``mockface keys``, say).
    cli_apis: ClassVar[tuple[CliApi, ...]] = ()
    #: Its actions by name, in the order the class declares them (set for each subclass).
    declarations: ClassVar[dict[str, Declaration]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Declaration] = {}
        for klass in cls.__mro__:  # the class's own first, then its mixins' (the first wins)
            for name, value in vars(klass).items():
                declaration = getattr(value, "__tc3_action__", None)
                if isinstance(declaration, Declaration):
                    declared.setdefault(name, declaration)
        cls.declarations = declared
        if declared:
            _check_declarations(cls)

    @classmethod
    def app_config(cls, settings: Settings, appid: str) -> Mapping[str, Any]:
        """What ``GET /__mockface/config`` shows of app ``appid`` besides the platform's
        keys (say, the MerchantIds it may use, built-in and configured), by key: JSON-able
        values; none by default."""
        return {}

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    def check(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Checks 12-14 for ``action``: the checked parameters, or Tc3Error."""
        return check_params(params, self.declarations[action].params)

    def answer(self, call: Call) -> tuple[dict[str, Any], str]:
        """The fields of ``call``'s answer from its action method, and why its Result is
        not a success ("" when it is); a refused call raises Tc3Error."""
        try:
            return getattr(self, call.action)(call), ""
        except Refusal as refusal:
            return self.refused(call, refusal.result), refusal.detail

    def scripted(self, call: Call, chosen: Mapping[str, Any]) -> dict[str, Any]:
        """The fields of an answer a scenario rule chose: ``chosen`` (``Result``, ``Sim``,
        ...) laid over the failure fields of a failing Result, else over ``defaults``; no
        input validation runs."""
        result = chosen.get("Result")
        fields = self.defaults(call, chosen) if succeeds(result) else \
            self.refused(call, result or "")
        for key, value in chosen.items():
            if key == "Result":
                fields["Result"], fields["Description"] = value, \
                    self.describe(call.action, value)
            else:
                fields[key] = value
        return fields

    def defaults(self, call: Call, chosen: Mapping[str, Any]) -> dict[str, Any]:
        """The success fields of a scripted answer before ``chosen`` is laid over them: by
        default what the action method answers (override it for an action whose method
        checks its input, which a scripted answer must not)."""
        return self.answer(call)[0]

    def refused(self, call: Call, result: str) -> dict[str, Any]:
        """The fields of a failing ``result``: ``Result``, ``Description`` and the action's
        ``failure_fields``."""
        return {"Result": result, "Description": self.describe(call.action, result),
                **self.declarations[call.action].failure_fields}

    def describe(self, action: str, result: str) -> str:
        """The ``Description`` of ``result`` for ``action``: from its result table, else
        the catalogue's Chinese text."""
        table = self.declarations[action].result_table
        if table is not None and result in table:
            return table[result]
        if result == SUCCESS:
            return SUCCESS_DESCRIPTION
        return self.context.catalogue[result].zh


def _check_declarations(cls: type[Provider]) -> None:
    """ValueError for declarations that cannot be served: a version the provider lacks,
    a match field no action has, a Result both from a table and the catalogue, or charged
    codes without a result table or that are not codes of it."""
    for name, declaration in cls.declarations.items():
        unknown = set(declaration.versions or ()) - set(cls.versions)
        if unknown:
            raise ValueError(f"{cls.__name__}.{name}: versions {sorted(unknown)} are not "
                             f"among {cls.versions}")
        if declaration.results and declaration.result_table is not None:
            raise ValueError(f"{cls.__name__}.{name}: results or result_table, not both")
        if declaration.charged is not None:
            table = declaration.result_table
            if table is None:
                raise ValueError(f"{cls.__name__}.{name}: charged needs a result_table")
            stray = [code for code in declaration.charged if code not in table]
            if stray:
                raise ValueError(f"{cls.__name__}.{name}: charged {stray} are not codes of "
                                 "its result_table")
        if not set(declaration.match) <= {param.name for param in declaration.params}:
            raise ValueError(f"{cls.__name__}.{name}: match names a parameter it lacks")
    names = {param.name for declaration in cls.declarations.values()
             for param in declaration.params}
    if not set(cls.match_fields) <= names:
        raise ValueError(f"{cls.__name__}: match_fields "
                         f"{sorted(set(cls.match_fields) - names)} are no action's parameters")
