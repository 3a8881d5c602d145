"""Checks 12-14 of contract-faceid §2: an action's parameters against its definition.

``Param`` describes one parameter; ``check_params`` returns the parameters as given or
raises Tc3Error: ``UnknownParameter`` (a name the action does not define),
``MissingParameter`` (a required one absent), ``InvalidParameter`` (the wrong type) or
``InvalidParameterValue`` (a value outside its set).  Messages name the parameter, as
Tencent's do.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .request import Tc3Error


@dataclass(frozen=True)
class Param:
    """One parameter of an action: its JSON type, when it has one its set of values, and
    whether it carries base64 media (decoded once per call for the action, the scenario
    facts and the journal)."""

    name: str
    kind: type = str  # str, int, bool, dict or list
    required: bool = False
    choices: tuple[Any, ...] = ()
    media: bool = False


def check_params(params: Mapping[str, Any], spec: tuple[Param, ...]) -> dict[str, Any]:
    """The parameters, checked against ``spec`` in the contract's order (unknown names
    last, as check 14)."""
    defined = {param.name: param for param in spec}
    for param in spec:
        if param.required and params.get(param.name) in (None, ""):
            raise Tc3Error("MissingParameter", f"{param.name} is missing",
                              message=f"The parameter `{param.name}` is missing.")
    for name, value in params.items():
        declared = defined.get(name)
        if declared is None or value is None:
            continue
        if not _is(value, declared.kind):
            raise Tc3Error("InvalidParameter", f"{name} must be {declared.kind.__name__}",
                              message=f"The type of the parameter `{name}` is wrong.")
        if declared.choices and value not in declared.choices:
            raise Tc3Error("InvalidParameterValue", f"{name} not in {declared.choices}",
                              message=f"The value of the parameter `{name}` is invalid.")
    unknown = [name for name in params if name not in defined]
    if unknown:
        raise Tc3Error("UnknownParameter", f"{unknown[0][:60]} is not defined",
                          message=f"The parameter `{unknown[0][:60]}` is not recognised.")
    return dict(params)


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
