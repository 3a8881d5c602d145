"""The scenario dialect of API 3.0: rules target actions (``faceid:LivenessCompare``,
``faceid:*``), match their parameters and the decoded media, and answer with a ``Result``,
an ``Error.Code``, the action's values, delays or faults.  ``call_facts`` gives a call's
values for ``match``."""
from __future__ import annotations

import difflib
from typing import Any

import re2

from ...core.journal import escape_surrogates
from ...core.media import LaterDigest
from ...core.scenarios.model import Facts, Response
from ...core.scenarios.schema import Checker, as_text
from ...core.yamlsource import show
from .actions import ACTIONS, ID_RESULTS, MEDIA_PARAMS, SUCCESS
from .catalogue import CATALOGUE, results_for

#: ``product:Action`` for every emulated action.
TARGETS: tuple[str, ...] = tuple(f"{product}:{action}" for product, action in ACTIONS)
WILDCARDS = {f"{product}:*": tuple(t for t in TARGETS if t.startswith(f"{product}:"))
             for product in ("faceid", "iai")}
TEXT_MATCH_FIELDS = ("appid", "SecretId", "IdCard", "Name", "ValidateData", "LivenessType",
                     "ActionType", "ImageUrl", "VideoUrl", "Url", "FaceModelVersion", "Extra")
MATCH_FIELDS = TEXT_MATCH_FIELDS + tuple(f"{media}.{fact}" for media in MEDIA_PARAMS
                                         for fact in ("sha256", "size"))
#: Response keys -> (the Response field they set, the actions that have it).
DATA_FIELDS: dict[str, tuple[str, frozenset[str]]] = {
    "sim": ("Sim", frozenset({"faceid:ImageRecognition", "faceid:ImageRecognitionV2",
                              "faceid:LivenessRecognition", "faceid:LivenessCompare"})),
    "score": ("Score", frozenset({"iai:DetectLiveFace", "iai:DetectLiveFaceAccurate"})),
    "is_liveness": ("IsLiveness", frozenset({"iai:DetectLiveFace"})),
    "live_code": ("LiveCode", frozenset({"faceid:GetLiveCode"})),
    "action_sequence": ("ActionSequence", frozenset({"faceid:GetActionSequence"})),
}
RESPONSE_KEYS = ("result", "error", "message", "delay_ms", "fault") + tuple(DATA_FIELDS)


class FaceIdDialect:
    """What a rule on API 3.0 actions may target, match and answer."""

    subject = "API 3.0 actions"
    targets = TARGETS
    wildcards = WILDCARDS
    match_fields = MATCH_FIELDS
    response_keys = RESPONSE_KEYS
    allows_before_auth = False

    def response(self, c: Checker, entry: dict, line: int,
                 targets: frozenset[str]) -> Response | None:
        """``result`` (a verification outcome), ``error`` (an Error.Code), the action's
        values, ``delay_ms`` or ``fault``."""
        before = len(c.problems)
        c.response_keys(entry, self)
        at = lambda key: c.line(entry, key)  # noqa: E731
        message = c.string(entry["message"], at("message"), "message") \
            if "message" in entry else None
        error = self.error(c, entry["error"], at("error")) if "error" in entry else None
        data: dict[str, Any] = {}
        if "result" in entry:
            result = self.result(c, entry["result"], at("result"), targets)
            if result is not None:
                data["Result"] = result
        for key, (name, owners) in DATA_FIELDS.items():
            if key not in entry:
                continue
            if not owners >= targets:
                lacking = sorted(targets - owners)
                c.problem(at(key), f"{key} is not part of the answer of "
                                   f"{'/'.join(lacking)} (it belongs to "
                                   f"{'/'.join(sorted(owners))})")
                continue
            value = self.value(c, key, entry[key], at(key))
            if value is not None:
                data[name] = value
        delay = c.delay(entry["delay_ms"], at("delay_ms")) if "delay_ms" in entry else None
        fault = c.fault(entry["fault"], at("fault")) if "fault" in entry else None
        answered = [key for key in entry if key not in ("delay_ms", "fault")]
        if fault is not None and answered:
            c.problem(line, f"a fault answers nothing else: remove {', '.join(answered)}")
        elif "error" in entry and len([k for k in answered if k != "message"]) > 1:
            c.problem(line, "an error answers no fields: remove "
                            f"{', '.join(k for k in answered if k not in ('error', 'message'))}")
        elif message is not None and "error" not in entry:
            c.problem(at("message"), "message goes with error (a Result's Description is "
                                     "its catalogue text)")
        if len(c.problems) > before:
            return None
        return Response(message=message, data=data, delay_ms=delay, fault=fault, line=line,
                        error=error)

    def error(self, c: Checker, value: Any, line: int) -> str | None:
        name = c.string(value, line, "error")
        if name is None or name in CATALOGUE:
            return name
        guess = difflib.get_close_matches(name, list(CATALOGUE), n=1, cutoff=0.6)
        hint = f"; did you mean {guess[0]!r}?" if guess else \
            " (mockface codes --api faceid lists them)"
        c.problem(line, f"unknown API 3.0 error {show(name)}{hint}")
        return None

    def result(self, c: Checker, value: Any, line: int, targets: frozenset[str]) -> str | None:
        name = c.string(value, line, "result")
        if name is None:
            return None
        for target in sorted(targets):
            action = target.split(":")[1]
            valid = tuple(ID_RESULTS) if action == "IdCardVerification" else \
                (SUCCESS,) + results_for(action) if results_for(action) else ()
            if not valid:
                c.problem(line, f"{target} has no Result (answer with error: or its values)")
                return None
            if name not in valid:
                guess = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
                hint = f"; did you mean {guess[0]!r}?" if guess else \
                    f" (valid: {', '.join(valid[:8])}, ...)"
                c.problem(line, f"result {show(name)} is not documented for {target}{hint}")
                return None
        return name

    def value(self, c: Checker, key: str, value: Any, line: int) -> Any:
        if key in ("sim", "score"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not 0 <= value <= 100:
                c.problem(line, f"{key} must be a number from 0 to 100, got {show(value)}")
                return None
            return round(float(value), 2)
        if key == "is_liveness":
            return c.boolean(value, line, key)
        if key == "live_code":
            return c.digits(value, line, key)
        if not isinstance(value, str) or not re2.fullmatch(r"[0-9](,[0-9])*", value):
            c.problem(line, f"action_sequence must be digits separated by commas (\"1,2\"), "
                            f"got {show(value)}")
            return None
        return value


FACEID = FaceIdDialect()


def call_facts(appid: str | None, secret_id: str, params: dict[str, Any],
               media: dict[str, bytes]) -> Facts:
    """The values a rule on API 3.0 actions matches: ``appid``, ``SecretId``, the text
    parameters (lone surrogates escaped, as the journal shows them), and size/sha256 of
    each base64 media parameter's decoded bytes (``media``, as ``decode_media`` gives them;
    a sha256 computed only when a rule reads it)."""
    facts = {name: escape_surrogates(as_text(params[name])) for name in TEXT_MATCH_FIELDS
             if params.get(name) is not None and not isinstance(params[name], (dict, list))}
    facts["SecretId"] = secret_id
    if appid is not None:
        facts["appid"] = appid
    for name, data in media.items():
        facts[f"{name}.size"] = str(len(data))
    return Facts(facts, {f"{name}.sha256": LaterDigest(data).hexdigest
                         for name, data in media.items()})
