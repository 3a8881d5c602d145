"""The faceid part of the scenario dialect: ``respond: {outcome: ...}`` on the actions that
issue a token (``faceid:DetectAuth``, ``faceid:GetEidToken``, ``faceid:GetFaceIdToken``)
issues it already finished with that outcome -- a completion request as the engine takes it
(``flows.parse_completion``)::

    - endpoint: faceid:DetectAuth
      match: {RuleId: "2"}
      respond: {outcome: {attempts: [{err_code: 1004}, {err_code: 0}], sim: "91.20"}}

``OUTCOME`` is the ``RuleValue`` the provider declares in its ``rule_values``; the action
reads the checked value under the key ``outcome`` of the chosen values."""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from ...core.scenarios.schema import Checker
from ...core.yamlsource import show
from ..tc3.scenario_rules import RuleValue
from .flow_models import FLOW_CODES
from .flows import ATTEMPT_KEYS, REQUEST_KEYS, parse_completion

#: The actions that issue a token, and the flow of their tokens.
ISSUERS = {"DetectAuth": "detect", "GetEidToken": "eid", "GetFaceIdToken": "app"}
#: The rule value's key in ``respond`` (and in the chosen values the action reads).
KEY = "outcome"
#: Where a message of ``parse_completion`` says the problem is: ``attempts[1].sim: ...``.
_PATH = re.compile(r"(?P<key>[a-z_]+)(?:\[(?P<index>[0-9]+)\])?(?:\.(?P<inner>[A-Za-z_]+))?:")


def check_outcome(c: Checker, value: Any, line: int, target: str) -> dict[str, Any] | None:
    """``value`` checked as the outcome of a token of ``target``'s flow: each problem
    reported at its own line (unknown keys with the key they resemble, ErrCodes not in the
    flow's table with the code they resemble); the value itself, or None after a problem."""
    flow = ISSUERS[target.partition(":")[2]]
    if not c.expect_mapping(value, line, KEY):
        return None
    before = len(c.problems)
    c.unknown_keys(value, REQUEST_KEYS, KEY)
    attempts = value.get("attempts")
    if isinstance(attempts, list):
        for index, attempt in enumerate(attempts):
            if isinstance(attempt, dict):  # a located mapping: keep its lines
                c.unknown_keys(attempt, ATTEMPT_KEYS, f"{KEY}.attempts[{index}]")
                _check_code(c, attempt, flow, target, f"attempts[{index}].err_code")
    _check_code(c, value, flow, target, "err_code")
    if len(c.problems) > before:
        return None
    try:
        parse_completion(value, flow)
    except ValueError as error:
        c.problem(_line_of(c, value, str(error), line), f"{KEY}.{error}")
        return None
    return dict(value)


def _check_code(c: Checker, mapping: Mapping[str, Any], flow: str, target: str,
                where: str) -> None:
    """A problem for an integer ``err_code`` of ``mapping`` that ``flow``'s table lacks,
    naming the closest code of the table."""
    code = mapping.get("err_code")
    if isinstance(code, bool) or not isinstance(code, int) or code in FLOW_CODES[flow]:
        return  # a code of the table, or not an integer: parse_completion says what is wrong
    table = [str(known) for known in FLOW_CODES[flow]]
    guess = difflib.get_close_matches(str(code), table, n=1, cutoff=0.7)
    hint = f"; did you mean {guess[0]}?" if guess else f" (valid: {', '.join(table[:8])}, ...)"
    c.problem(c.line(mapping, "err_code"),
              f"{KEY}.{where}: {show(code)} is not an ErrCode of the {flow} flow "
              f"({target}){hint}")


def _line_of(c: Checker, value: Mapping[str, Any], message: str, line: int) -> int:
    """The line of the key a ``parse_completion`` message names (``line`` when it names
    none that the document has)."""
    found = _PATH.match(message)
    if found is None or found["key"] not in value:
        return line
    if found["index"] is None:
        return c.line(value, found["key"])
    items = value[found["key"]]
    index = int(found["index"])
    if not isinstance(items, list) or index >= len(items):
        return c.line(value, found["key"])
    item = items[index]
    if found["inner"] and isinstance(item, Mapping) and found["inner"] in item:
        return c.line(item, found["inner"])
    return c.line(items, index)


OUTCOME = RuleValue(KEY, tuple(ISSUERS), check_outcome)
