"""What an installed Tencent Cloud SDK has of a service, against what the providers serve
(contract-faceid-flows §7, ``mockface coverage``).

``load_sdk(service, version)`` reads the SDK's client (``tencentcloud.<service>.<vYYYYMMDD>
.<service>_client``: its actions are the typed methods of its client class) and its
``models`` (each model's fields are the attributes its constructor sets; their types come
from the constructor's docstring: ``:type X: str`` / ``int`` / ``float`` / ``bool`` /
``list of ...`` / ``:class:`...models.Model```, and a field "可能返回 null" may be null).

``coverage(table, service)`` compares it with the declarations: every action of every
version either side has is ``served``, ``deprecated`` (served, the declaration deprecates
it in that version), ``removed`` (served, not in the SDK: with the reason its declaration
gives, ``@action(removed=...)``, else the SDK package it is missing from) or ``not
served``; one the installed (older) SDK still has though its declaration says the current
SDKs removed it is served or deprecated, with that reason as its note.  A served action
also lists the SDK's request parameters its declaration lacks, the declared ones the SDK
does not have, the parameters whose declared type differs from the SDK's, and the SDK's
response fields.

The SDK is an optional dependency, imported here at run time only: a service whose SDK is
not installed raises ``SdkMissing`` (a ModuleNotFoundError naming the package to install).
"""
from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import pkgutil
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .params import Param
from .provider import REMOVED_NOTE
from .table import ActionTable

SERVED, DEPRECATED, REMOVED, NOT_SERVED = "served", "deprecated", "removed", "not served"
STATUSES = (SERVED, DEPRECATED, REMOVED, NOT_SERVED)
#: The JSON type of a declared parameter's kind, as the SDK names it.
PARAM_KINDS = {str: "str", int: "int", float: "float", bool: "bool", dict: "object",
               list: "list"}
#: The envelope members every answer may carry besides its model's fields (the SDK's
#: common client reads ``DeprecatedWarning`` itself).
ENVELOPE_FIELDS = ("DeprecatedWarning",)
_VERSION_PACKAGE = re.compile(r"v([0-9]{4})([0-9]{2})([0-9]{2})")
_PARAM = re.compile(r":param _?(\w+):(.*?):type \1:[ \t]*([^\n]*)", re.DOTALL)
_NULLABLE = "可能返回 null"
_CLASS = re.compile(r":class:`(?:[\w.]+\.)?(\w+)`")


class SdkMissing(ModuleNotFoundError):
    """The SDK of a service (or a version of it) is not installed; the message says which
    package to install."""


@dataclass(frozen=True)
class FieldType:
    """The type of one field of an SDK model: ``kind`` is ``str``, ``int``, ``float``,
    ``bool``, ``object`` (the model ``model``), ``list`` (of ``item``) or ``any`` (a type the
    reader does not know); ``nullable``: the SDK documents that it may be null."""

    kind: str
    model: str | None = None
    item: FieldType | None = None
    nullable: bool = False

    def __str__(self) -> str:
        """As the SDK writes it: ``str``, ``list of DetectDetail``, ``DetectInfoText``."""
        if self.kind == "object":
            return self.model or "object"
        if self.kind == "list":
            return f"list of {self.item}" if self.item else "list"
        return self.kind


def parse_type(text: str, nullable: bool = False) -> FieldType:
    """The FieldType of a docstring's ``:type X:`` text (``list of int non-negative`` is a
    list of int)."""
    text = text.strip()
    if text.startswith("list of "):
        return FieldType("list", item=parse_type(text[len("list of "):]), nullable=nullable)
    found = _CLASS.fullmatch(text)
    if found:
        return FieldType("object", model=found.group(1), nullable=nullable)
    word = text.split(" ", 1)[0]
    if word in ("str", "int", "float", "bool"):
        return FieldType(word, nullable=nullable)
    if re.fullmatch(r"[A-Z]\w*", word):  # "list of Model" items: a bare model name
        return FieldType("object", model=word, nullable=nullable)
    return FieldType("any", nullable=nullable)


@dataclass(frozen=True)
class SdkModel:
    """One model class of the SDK: its name and its fields with their types, in the order
    the constructor sets them."""

    name: str
    fields: Mapping[str, FieldType]


def read_model(cls: type) -> SdkModel:
    """The fields of the SDK model class ``cls``: the attributes its constructor sets (the
    names ``_deserialize`` reads), typed from the constructor's docstring (``any`` where it
    names none)."""
    names = [name[1:] for name in vars(cls()) if name.startswith("_")]
    constructor = vars(cls).get("__init__")
    doc = (inspect.getdoc(constructor) if constructor else None) or ""
    types = {name: parse_type(kind, _NULLABLE in text)
             for name, text, kind in _PARAM.findall(doc)}
    return SdkModel(cls.__name__, {name: types.get(name, FieldType("any")) for name in names})


def version_of(package: str) -> str:
    """``2018-03-01`` for the SDK's package name ``v20180301``."""
    found = _VERSION_PACKAGE.fullmatch(package)
    if not found:
        raise ValueError(f"{package!r} is not an SDK version package")
    return "-".join(found.groups())


def package_of(version: str) -> str:
    """``v20180301`` for the API version ``2018-03-01``."""
    return "v" + version.replace("-", "")


def distribution(service: str) -> str:
    """The PyPI package of ``service``'s SDK."""
    return f"tencentcloud-sdk-python-{service}"


def installed_version(service: str) -> str | None:
    """The installed version of ``service``'s SDK package (or of the all-in-one
    ``tencentcloud-sdk-python``); None when neither is installed as a distribution."""
    for name in (distribution(service), "tencentcloud-sdk-python"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _import(name: str, service: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise SdkMissing(f"the Tencent Cloud SDK for {service} is not installed "
                         f"(pip install {distribution(service)})", name=name) from None


def sdk_versions(service: str) -> tuple[str, ...]:
    """The API versions the installed SDK has of ``service``, oldest first; SdkMissing
    when it is not installed."""
    package = _import(f"tencentcloud.{service}", service)
    return tuple(sorted(version_of(module.name) for module in
                        pkgutil.iter_modules(getattr(package, "__path__", []))
                        if _VERSION_PACKAGE.fullmatch(module.name)))


@dataclass(frozen=True)
class SdkApi:
    """One version of one service in the installed SDK: its actions (the client's typed
    methods, sorted) and every model of its ``models`` module by class name."""

    service: str
    version: str
    package_version: str | None
    actions: tuple[str, ...]
    models: Mapping[str, SdkModel]

    def request(self, action: str) -> SdkModel | None:
        """The request model of ``action`` (None when the SDK has none)."""
        return self.models.get(f"{action}Request")

    def response(self, action: str) -> SdkModel | None:
        """The response model of ``action`` (None when the SDK has none)."""
        return self.models.get(f"{action}Response")


def load_sdk(service: str, version: str) -> SdkApi:
    """What the installed SDK has of ``service`` ``version``; SdkMissing when it does not
    have it."""
    base = f"tencentcloud.{service}.{package_of(version)}"
    client = _import(f"{base}.{service}_client", service)
    models = _import(f"{base}.models", service)
    common = _import("tencentcloud.common.abstract_client", service)
    abstract = common.AbstractClient
    actions: set[str] = set()
    for value in vars(client).values():
        if inspect.isclass(value) and issubclass(value, abstract) and value is not abstract \
                and value.__module__ == client.__name__:
            actions.update(name for name, member in vars(value).items()
                           if name[:1].isupper() and inspect.isfunction(member))
    model_classes = {name: value for name, value in vars(models).items()
                     if inspect.isclass(value) and value.__module__ == models.__name__
                     and hasattr(value, "_deserialize")}
    return SdkApi(service, version, installed_version(service), tuple(sorted(actions)),
                  {name: read_model(cls) for name, cls in model_classes.items()})


@dataclass(frozen=True)
class ActionCoverage:
    """One action of one service version: its status (STATUSES); ``reason``: for a removed
    one why, for a served one the installed SDK still has its declared removal from the
    current SDKs ("" when there is none); for a served one the SDK's request parameters its
    declaration lacks (``missing_params``), its declared parameters the SDK lacks
    (``extra_params``), the parameters whose declared type differs (``type_mismatches``:
    name -> (declared, SDK)) and the SDK's response fields with their types
    (``response_fields``)."""

    product: str
    version: str
    action: str
    status: str
    reason: str = ""
    missing_params: tuple[str, ...] = ()
    extra_params: tuple[str, ...] = ()
    type_mismatches: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    response_fields: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self, details: bool = False) -> dict[str, Any]:
        """``{"product", "version", "action", "status"}`` (contract-faceid-flows §7); with
        ``details`` also what else the comparison found, empty parts left out."""
        row: dict[str, Any] = {"product": self.product, "version": self.version,
                               "action": self.action, "status": self.status}
        if details:
            extra: dict[str, Any] = {
                "reason": self.reason, "missing_params": list(self.missing_params),
                "extra_params": list(self.extra_params),
                "type_mismatches": {name: {"declared": declared, "sdk": sdk} for name,
                                    (declared, sdk) in self.type_mismatches.items()},
                "response_fields": dict(self.response_fields)}
            row.update({key: value for key, value in extra.items() if value})
        return row


def param_type(param: Param) -> str:
    """The SDK's name for the JSON type of a declared parameter."""
    return PARAM_KINDS.get(param.kind, param.kind.__name__)


def compare_params(params: tuple[Param, ...], request: SdkModel | None
                   ) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, tuple[str, str]]]:
    """(the SDK's request fields ``params`` lacks, in the SDK's order; the declared names
    the SDK lacks; name -> (declared type, SDK type) where they differ)."""
    sdk = dict(request.fields) if request else {}
    declared = {param.name: param for param in params}
    missing = tuple(name for name in sdk if name not in declared)
    extra = tuple(name for name in declared if name not in sdk)
    mismatches = {name: (param_type(param), sdk[name].kind)
                  for name, param in declared.items()
                  if name in sdk and sdk[name].kind != "any"
                  and param_type(param) != sdk[name].kind}
    return missing, extra, mismatches


def coverage(table: ActionTable, service: str,
             sdk: Mapping[str, SdkApi] | None = None) -> list[ActionCoverage]:
    """Every action of ``service`` in the installed SDK's versions and in the provider's,
    by version then action name, compared (see the module docstring).  ``sdk``: the SDK's
    versions, by version (default: what ``load_sdk`` reads); SdkMissing when the SDK of
    ``service`` is not installed."""
    provider = next((provider for provider in table.providers if provider.service == service),
                    None)
    if provider is None:
        raise ValueError(f"no provider serves {service!r}")
    if sdk is None:
        sdk = {version: load_sdk(service, version) for version in sdk_versions(service)}
    rows: list[ActionCoverage] = []
    for version in sorted(set(sdk) | set(provider.versions)):
        api = sdk.get(version)
        sdk_actions = set(api.actions) if api else set()
        served = table.versions[service].get(version, frozenset())
        for name in sorted(sdk_actions | served):
            rows.append(_row(table, service, version, name, api, name in served,
                             name in sdk_actions))
    return rows


def _row(table: ActionTable, service: str, version: str, name: str, api: SdkApi | None,
         served: bool, in_sdk: bool) -> ActionCoverage:
    if not served:
        return ActionCoverage(service, version, name, NOT_SERVED)
    declaration = table.declaration(service, name)
    if not in_sdk or api is None:
        package = distribution(service)
        installed = api.package_version if api else None
        reason = declaration.removed or f"not in {package} {installed or ''}".rstrip()
        return ActionCoverage(service, version, name, REMOVED, reason)
    missing, extra, mismatches = compare_params(declaration.params, api.request(name))
    response = api.response(name)
    fields = {key: str(kind) for key, kind in response.fields.items()} if response else {}
    status = DEPRECATED if declaration.deprecation(version) else SERVED
    note = f"{REMOVED_NOTE}: {declaration.removed}" if declaration.removed else ""
    return ActionCoverage(service, version, name, status, note, missing, extra, mismatches,
                          fields)
