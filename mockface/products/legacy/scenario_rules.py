"""The scenario dialect of the legacy endpoints: rules target the five endpoints, match
their text fields and media facts, and answer with a code (placed as the contract places it),
data values, delays or faults.  ``request_facts`` gives a request's values for ``match``."""
from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from typing import Any

from ...core.scenarios.model import Facts, Fault, Response
from ...core.scenarios.schema import Checker
from ...core.yamlsource import show
from .errors import CATALOGUE, ENDPOINTS, Placement, codes_for, in_band_codes, placement_on
from .model import RequestBody

TEXT_MATCH_FIELDS = ("appid", "idcard_number", "idcard_name", "seq", "session_id",
                     "validate_data", "compare_flag", "url", "bucket")
MEDIA_MATCH_FIELDS = tuple(f"{media}.{fact}" for media in ("image", "video", "card")
                           for fact in ("sha256", "size"))
MATCH_FIELDS = TEXT_MATCH_FIELDS + MEDIA_MATCH_FIELDS
#: Data values a response may set, and the endpoints whose ``data`` carries each.
DATA_FIELDS: dict[str, frozenset[str]] = {
    "similarity": frozenset({"idcardcompare"}),
    "session_id": frozenset({"idcardcompare"}),
    "score": frozenset({"livedetectpicture"}),
    "validate_data": frozenset({"livegetfour"}),
    "live_status": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "live_msg": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "compare_status": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "compare_msg": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "sim": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "photo": frozenset({"livedetectfour"}),
    "video_photo": frozenset({"idcardlivedetectfour"}),
}
COMPARE_ONLY_FIELDS = ("sim", "photo", "video_photo")
RESPONSE_KEYS = ("code", "message", "http_status", "allow_undocumented", "delay_ms",
                 "fault") + tuple(DATA_FIELDS)


class LegacyDialect:
    """What a rule on the legacy endpoints may target, match and answer."""

    subject = "legacy endpoints"
    targets = ENDPOINTS
    wildcards = {"*": ENDPOINTS}
    match_fields = MATCH_FIELDS
    response_keys = RESPONSE_KEYS
    allows_before_auth = True

    def response(self, c: Checker, entry: dict, line: int,
                 endpoints: frozenset[str]) -> Response | None:
        """``code`` (placed in-band or at top level per the contract), data values,
        ``message``, ``http_status``, ``delay_ms`` or ``fault``."""
        before = len(c.problems)
        c.response_keys(entry, self)
        at = lambda key: c.line(entry, key)  # noqa: E731
        message = None
        if "message" in entry:
            message = c.string(entry["message"], at("message"), "message")
        allow_undocumented = c.boolean(entry.get("allow_undocumented", False),
                                       at("allow_undocumented"), "allow_undocumented")
        code = None
        if "code" in entry:
            code = self.code(c, entry["code"], at("code"), endpoints, allow_undocumented, message)
        http_status = None
        if "http_status" in entry:
            http_status = c.integer(entry["http_status"], at("http_status"), "http_status",
                                    100, 599)
        data = self.data(c, entry, endpoints, at)
        delay = c.delay(entry["delay_ms"], at("delay_ms")) if "delay_ms" in entry else None
        fault = c.fault(entry["fault"], at("fault")) if "fault" in entry else None
        if len(c.problems) == before:
            self.combinations(c, entry, code, data, fault, endpoints, line)
        if len(c.problems) > before:
            return None
        return Response(code, message, http_status, data, delay, fault, line)

    def code(self, c: Checker, value: Any, line: int, endpoints: frozenset[str],
             allow_undocumented: bool, message: str | None) -> int | None:
        code = c.integer(value, line, "code")
        if code is None or code == 0:
            return code
        if allow_undocumented:
            if message is None:
                c.problem(line, f"code {code} is undocumented: allow_undocumented needs a "
                                f"message")
            return code
        for endpoint in sorted(endpoints, key=ENDPOINTS.index):
            valid = [entry.code for entry in codes_for(endpoint)]
            if code not in valid:
                c.problem(line, f"code {code} is not documented for {endpoint} (valid: "
                                f"0, {', '.join(map(str, valid))}); set allow_undocumented: "
                                f"true and a message to use it anyway")
                return None
        return code

    def data(self, c: Checker, entry: dict, endpoints: frozenset[str],
             at: Callable[[str], int]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, allowed in DATA_FIELDS.items():
            if key not in entry:
                continue
            value, line = entry[key], at(key)
            if not allowed & endpoints:
                c.problem(line, f"{key} is not part of the answer of "
                                f"{'/'.join(sorted(endpoints))} (it belongs to "
                                f"{'/'.join(sorted(allowed))})")
                continue
            checked = self.data_value(c, key, value, line, endpoints & allowed)
            if checked is not None:
                data[key] = checked
        return data

    def data_value(self, c: Checker, key: str, value: Any, line: int,
                   endpoints: frozenset[str]) -> Any:
        if key == "similarity":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not 0 <= value <= 100:
                c.problem(line, f"similarity must be a number from 0 to 100, got {show(value)}")
                return None
            return round(float(value), 2)
        if key in ("score", "sim"):
            return c.integer(value, line, key, 0, 100)
        if key == "validate_data":
            return c.digits(value, line, key)
        if key in ("live_status", "compare_status"):
            return self.status(c, key, value, line, endpoints)
        if key in ("photo", "video_photo"):
            text = c.string(value, line, key)
            if text is None:
                return None
            try:
                base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                c.problem(line, f"{key} must be base64 text")
                return None
            return text
        return c.string(value, line, key)  # session_id, live_msg, compare_msg

    def status(self, c: Checker, key: str, value: Any, line: int,
               endpoints: frozenset[str]) -> int | None:
        status = c.integer(value, line, key)
        if status is None or status == 0:
            return status
        placement = Placement.LIVE if key == "live_status" else Placement.COMPARE
        for endpoint in sorted(endpoints, key=ENDPOINTS.index):
            valid = in_band_codes(endpoint, placement)
            if status not in valid:
                c.problem(line, f"{key} {status} is not a documented {placement.value} code "
                                f"for {endpoint} (valid: 0, {', '.join(map(str, valid))})")
                return None
        return status

    def combinations(self, c: Checker, entry: dict, code: int | None, data: dict,
                     fault: Fault | None,
                     endpoints: frozenset[str], line: int) -> None:
        if fault is not None:
            extra = [key for key in entry if key in DATA_FIELDS or key in ("code", "message")]
            if extra:
                c.problem(line, f"a fault answers nothing else: remove {', '.join(extra)}")
            return
        top_level = code not in (None, 0) and any(
            code not in CATALOGUE or placement_on(endpoint, code) is Placement.TOP
            for endpoint in endpoints)
        if top_level and data:
            c.problem(line, f"code {code} is a top-level error with no data: remove "
                            f"{', '.join(data)}")
        failing_compare = data.get("compare_status") not in (None, 0) or (
            code not in (None, 0) and code in CATALOGUE and
            all(placement_on(e, code) is Placement.COMPARE for e in endpoints))
        if failing_compare:
            present = [key for key in COMPARE_ONLY_FIELDS if key in data]
            if present:
                c.problem(line, f"{', '.join(present)} cannot be set with a failing "
                                f"compare_status (they exist only when it is 0)")
        if data.get("live_status") not in (None, 0) and code not in (None, 0) and \
                code in CATALOGUE and any(placement_on(e, code) is Placement.LIVE
                                          for e in endpoints):
            c.problem(line, "set either code or live_status, not both")


LEGACY = LegacyDialect()


def request_facts(body: RequestBody) -> Facts:
    """The values a rule's ``match`` sees: text fields, and size/sha256 of each media part
    (a sha256 computed only when a rule reads it)."""
    values = {name: value for name, value in body.text.items() if name in TEXT_MATCH_FIELDS}
    for name, data in body.media.items():
        values[f"{name}.size"] = str(len(data))
    return Facts(values, {f"{name}.sha256": functools.partial(body.sha256, name)
                          for name in body.media})
