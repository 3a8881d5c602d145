"""The actions of a product's providers on one emulator: parameters checked (checks 12-14),
media decoded, then answered by the provider of the call's service -- or, when a scenario
rule decided the outcome, from its chosen values without any input validation.

``Actions.answer`` takes the call's service, action, version, the calling app's appid and
its parameters and returns an ``Answer`` (the ``Response`` fields without ``RequestId``, and
the deprecation warning of a deprecated action); a refused call raises Tc3Error.
Verification failures are not errors: they are ``Result``/``Description`` fields of a
success.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .answers import decode_media
from .provider import Call, Provider, ProviderContext, succeeds
from .table import ActionTable


@dataclass
class Answer:
    """The ``Response`` fields of an answered call (without ``RequestId``) and, for a
    deprecated action, its warning; ``detail`` says why a Result is not Success."""

    fields: dict[str, Any]
    deprecated_warning: str | None = None
    detail: str = ""


class Actions:
    """One provider of each service of ``table``, built with ``context``."""

    def __init__(self, table: ActionTable, context: ProviderContext) -> None:
        self.table = table
        self.providers: dict[str, Provider] = {provider.service: provider(context)
                                               for provider in table.providers}

    def check(self, service: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Checks 12-14 for ``action``: the checked parameters, or Tc3Error (InvalidAction
        for an action the service lacks)."""
        self.table.declaration(service, action)
        return self.providers[service].check(action, params)

    def decode(self, params: dict[str, Any]) -> dict[str, bytes]:
        """The decoded media parameters of a call (see ``answers.decode_media``)."""
        return decode_media(params, self.table.media_params)

    def answer(self, service: str, action: str, version: str, appid: str,
               params: dict[str, Any], media: dict[str, bytes] | None = None) -> Answer:
        """Validate ``params`` and answer ``action`` from the deterministic defaults
        (``media``: ``decode(params)``, when the caller has it already)."""
        checked = self.check(service, action, params)
        call = Call(service, action, version, appid, checked,
                    self.decode(checked) if media is None else media)
        fields, detail = self.providers[service].answer(call)
        return Answer(fields, self._deprecation(service, action, version), detail)

    def scripted(self, service: str, action: str, version: str, appid: str,
                 params: dict[str, Any], chosen: dict[str, Any]) -> Answer:
        """The answer a scenario chose: the action's fields with ``chosen`` (``Result``,
        ``Sim``, ``Score``, ``LiveCode`` ...) laid over the deterministic defaults; no input
        validation runs.  A failing Result drops the fields that exist only on success."""
        self.table.declaration(service, action)
        call = Call(service, action, version, appid, params, {})
        result = chosen.get("Result")
        return Answer(self.providers[service].scripted(call, chosen),
                      self._deprecation(service, action, version),
                      "" if succeeds(result) else f"scripted Result {result}")

    def _deprecation(self, service: str, action: str, version: str) -> str | None:
        return self.table.declaration(service, action).deprecation(version)
