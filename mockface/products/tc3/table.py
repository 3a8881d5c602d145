"""What a product's providers declare, gathered once: the tables the platform used to keep
at module level, now derived from the provider classes a ``Tc3Product`` is built with.

``ActionTable(FaceIdProvider, IaiProvider)`` holds the service -> version -> actions table
(checks 6-8), the ActionSpecs (with each action's own Result codes, Descriptions and
charged flags), the scenario targets and wildcards, the values rules may set
and match, the media parameters and the product's code catalogue.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalogue import Tc3Code, codes_for, compose
from .params import Param
from .provider import KINDS, SUCCESS, DataField, Declaration, Provider
from .request import Tc3Error

#: The match fields every call has, before its parameters.
CALLER_FIELDS = ("appid", "SecretId")


#: How ``charged`` reads in text: Tencent bills the code (收费), does not (不收费), or
#: publishes no split for the action.
CHARGE_LABELS = {True: "charged", False: "free", None: "not documented"}


@dataclass(frozen=True)
class ResultCode:
    """One code of an action's own ``Result`` table: the code, its ``Description`` and
    whether Tencent bills a call answered with it (None: Tencent publishes no split)."""

    result: str
    description: str
    charged: bool | None

    @property
    def charge_label(self) -> str:
        """"charged", "free" or "not documented"."""
        return CHARGE_LABELS[self.charged]

    def as_dict(self) -> dict[str, Any]:
        """The JSON entry ``mockface codes --json`` and ``GET /__mockface/codes`` list after
        the error codes: ``{"code": "-4", "message": "...", "meaning": "...", "kind":
        "result", "result": "-4", "description": "...", "charged": true}`` (``charged`` null
        when undocumented; ``code``/``message``/``meaning`` as the error entries have them,
        so a reader of every entry's ``code`` keeps working)."""
        return {"code": self.result, "message": self.description, "meaning": self.description,
                "kind": "result", "result": self.result, "description": self.description,
                "charged": self.charged}


def result_codes(declaration: Declaration) -> tuple[ResultCode, ...]:
    """The rows of ``declaration``'s result table in its order, each with its charged flag;
    empty for an action without a table."""
    table = declaration.result_table or {}
    return tuple(ResultCode(code, text, declaration.charges(code)) for code, text in table.items())


@dataclass(frozen=True)
class ActionSpec:
    """One API 3.0 action as the rest of the tree sees it: its service, name, parameters,
    the versions that have it, its deprecation warning (None when it is current in every
    version), why it is gone from Tencent's current SDKs (None while they have it) and its
    own ``Result`` table with the charged flag of each code (empty for an action that
    answers catalogue names, or no Result)."""

    service: str
    name: str
    params: tuple[Param, ...]
    versions: tuple[str, ...]
    deprecated: str | None = None
    removed: str | None = None
    results: tuple[ResultCode, ...] = ()

    @property
    def target(self) -> str:
        """``service:Action``, as scenario rules and the journal name it."""
        return f"{self.service}:{self.name}"


class ActionTable:
    """The actions of ``providers`` (provider classes, one per service, in order)."""

    def __init__(self, *providers: type[Provider]) -> None:
        services = [provider.service for provider in providers]
        if not providers or len(set(services)) != len(services):
            raise ValueError(f"one provider per service, at least one: {services}")
        self.providers = providers
        self.declarations: dict[str, Declaration] = {
            f"{provider.service}:{name}": declaration for provider in providers
            for name, declaration in provider.declarations.items()}
        #: service -> version -> the names of its actions (request.Versions).
        self.versions: dict[str, dict[str, frozenset[str]]] = {
            provider.service: {version: frozenset(
                name for name, declaration in provider.declarations.items()
                if declaration.versions is None or version in declaration.versions)
                for version in provider.versions} for provider in providers}
        self.specs: dict[str, ActionSpec] = {target: ActionSpec(
            target.split(":", 1)[0], declaration.name, declaration.params,
            tuple(version for version, names in
                  self.versions[target.split(":", 1)[0]].items() if declaration.name in names),
            declaration.deprecated if isinstance(declaration.deprecated, str) else None,
            declaration.removed, result_codes(declaration))
            for target, declaration in self.declarations.items()}
        #: ``service:Action`` -> why it is gone from the current SDKs, for the actions
        #: declared ``removed``, in declaration order.
        self.removals: dict[str, str] = {
            target: declaration.removed for target, declaration in self.declarations.items()
            if declaration.removed is not None}
        self.targets = tuple(self.declarations)
        self.wildcards = {f"{service}:*": tuple(target for target in self.targets
                                                if target.startswith(f"{service}:"))
                          for service in services}
        params = [param for declaration in self.declarations.values()
                  for param in declaration.params]
        #: Parameters that carry base64 media, in the order the actions declare them.
        self.media_params = tuple(dict.fromkeys(param.name for param in params if param.media))
        #: The text values a rule may match: the caller, each provider's match fields,
        #: then each action's own.
        self.text_match_fields = tuple(dict.fromkeys(
            (*CALLER_FIELDS, *(name for provider in providers for name in provider.match_fields),
             *(name for declaration in self.declarations.values()
               for name in declaration.match))))
        self.answer_media = tuple(dict.fromkeys(
            name for provider in providers for name in provider.answer_media))
        self.data_fields = self._data_fields()
        self.catalogue: dict[str, Tc3Code] = compose(
            *(provider.codes for provider in providers))

    def _data_fields(self) -> dict[str, tuple[DataField, frozenset[str]]]:
        """key -> (the value rules may set, the targets whose answer has it), grouped by
        kind in KINDS order, each group in declaration order."""
        owners: dict[str, tuple[DataField, set[str]]] = {}
        for target, declaration in self.declarations.items():
            for data in declaration.data:
                known = owners.setdefault(data.key, (data, set()))
                if known[0] != data:
                    raise ValueError(f"two different values are named {data.key}")
                known[1].add(target)
        ordered = sorted(owners.values(), key=lambda entry: KINDS.index(entry[0].kind))
        return {data.key: (data, frozenset(targets)) for data, targets in ordered}

    def declaration(self, service: str, action: str) -> Declaration:
        """The declaration of ``service:action``, or Tc3Error InvalidAction."""
        declaration = self.declarations.get(f"{service}:{action}")
        if declaration is None:
            raise Tc3Error("InvalidAction", f"{service} has no action {action[:40]!r}")
        return declaration

    def current_version(self, service: str) -> str:
        """The newest X-TC-Version of ``service`` (the first service's for one the product
        does not have): what clients are signed for by default."""
        return max(self.versions.get(service) or next(iter(self.versions.values())))

    def results_for(self, target: str) -> tuple[str, ...]:
        """The catalogue names ``target`` answers as ``Result`` besides ``Success``, in
        catalogue order; empty for an action without them (or an unknown target)."""
        declaration = self.declarations.get(target)
        names = set(declaration.results) if declaration else set()
        return tuple(name for name in self.catalogue if name in names)

    def valid_results(self, target: str) -> tuple[str, ...]:
        """Every ``Result`` a scenario rule may give ``target``: its table's codes, or
        ``Success`` and its catalogue names; empty when it answers no Result."""
        declaration = self.declarations[target]
        if declaration.result_table is not None:
            return tuple(declaration.result_table)
        results = self.results_for(target)
        return (SUCCESS, *results) if results else ()

    def result_codes(self, target: str) -> tuple[ResultCode, ...]:
        """The rows of ``target``'s own Result table with their charged flags (empty for an
        action without one, or an unknown target)."""
        spec = self.specs.get(target)
        return spec.results if spec is not None else ()

    def codes_for(self, target: str | None = None) -> tuple[str, ...]:
        """Every Error.Code and Result name (``target`` None), or those the action
        ``service:Action`` can answer (the shared Error.Codes alone for another name)."""
        return codes_for(self.catalogue, None if target is None else self.results_for(target))
