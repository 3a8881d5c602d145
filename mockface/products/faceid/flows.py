"""The token engine of the three verification flows (contract-faceid-flows §1): ``detect``
(DetectAuth -> GetDetectInfoEnhanced), ``eid`` (GetEidToken -> GetEidResult) and ``app``
(GetFaceIdToken -> GetFaceIdResult).

``Flows`` issues tokens into the declared token store (``TOKENS``) with each flow's user
window and the three-day read window, on the emulator's clock; opens them (the user page);
finishes them once with an outcome built from a completion request (the page, the admin
API, a scenario's ``outcome``, auto-complete); and shows them (``view``).  The store makes
the finish atomic: of several concurrent completions, in any processes sharing the store,
exactly one wins.

A completion request is ``{"err_code": 0}`` or ``{"attempts": [{"err_code": 1004},
{"err_code": 0}]}``, with optional ``"sim"`` ("NN.NN"), ``"identity"`` ({"IdCard",
"Name"}: the identity an OCR rule reads from the card) and ``"intention_code"``.  Its
outcome, as stored: ``err_code``/``err_msg`` (the final code), ``sim``, ``attempts``
(each ``err_code``, ``err_msg``, ``live_status``, ``live_msg``, ``compare_status``,
``compare_msg``, ``sim``, ``time``, ``seq``), ``identity`` (or None), ``identity_from``
("passed", "ocr" or None), ``liveness_mode`` and ``intention_code``.
"""
from __future__ import annotations

import datetime
import hashlib
import math
import re
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ...core.identity import valid_number, well_formed_name, well_formed_number, \
    with_check_digit
from ...core.stores import Identities, Tokens, TokenStoreSpec
from ...core.tokens import EXPIRED, FINISHED, ISSUED, OPENED, TokenRecord, new_token
from .flow_models import FLOW_CODES, READ_WINDOW, USER_WINDOWS, Code

if TYPE_CHECKING:
    from ...core.clock import Clock
    from ...core.config import Settings

FLOWS = ("detect", "eid", "app")
STATES = (ISSUED, OPENED, FINISHED, EXPIRED)
#: The verification tokens of every flow (declared in ``FaceIdProvider.stores``).
TOKENS = TokenStoreSpec("verifications")

#: What ``complete`` answers: the token finished now, was finished before, its user window
#: is over, or no such (readable) token exists.
COMPLETED, ALREADY, TOO_LATE, UNKNOWN = "finished", "already", "expired", "unknown"

#: The keys of a completion request and of one of its attempts.
REQUEST_KEYS = ("err_code", "attempts", "sim", "identity", "intention_code")
ATTEMPT_KEYS = ("err_code", "sim")
#: At most this many attempts in one completion (a real flow allows a few retries).
MAX_ATTEMPTS = 10
#: The longest token text looked up (a UUID has 36 characters).
MAX_TOKEN = 64
_SIM = re.compile(r"[0-9]{1,3}(\.[0-9]{1,2})?", re.ASCII)
_REGIONS = ("110101", "110105", "310104", "320102", "330106", "440305", "510107", "610113")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国玉兰"


class Flows:
    """The tokens of the three flows on one emulator (see the module docstring).

    ``auto_complete``: when not None, every new token finishes at once with that ErrCode
    (settable at run time).  ``listen_url`` gives the URL the server listens on (None while
    it is not known); the user page's address prefers ``settings.public_url``."""

    def __init__(self, tokens: Tokens, identities: Identities, clock: Clock,
                 settings: Settings, *, auto_complete: int | None = None,
                 listen_url: Callable[[], str | None] = lambda: None) -> None:
        self.tokens = tokens
        self.identities = identities
        self.clock = clock
        self.settings = settings
        self.listen_url = listen_url
        self.auto_complete = auto_complete

    # -- the life of a token ----------------------------------------------------------

    def issue(self, flow: str, appid: str, data: Mapping[str, Any],
              outcome: Mapping[str, Any] | None = None) -> TokenRecord:
        """A new token of ``flow`` for ``appid`` keeping ``data`` (JSON-able: what the page
        and the readers need), issued now with its user and read windows.  With
        ``outcome`` (a completion request), or else with ``auto_complete`` set, it is
        issued finished with that outcome.  ValueError for an unknown flow or an invalid
        outcome (naming the field)."""
        _check_flow(flow)
        now = self.clock.now()
        record = TokenRecord(token=new_token(), flow=flow, appid=appid, issued_at=now,
                             expires_at=now + USER_WINDOWS[flow],
                             readable_until=now + READ_WINDOW, data=dict(data))
        request = outcome if outcome is not None else \
            None if self.auto_complete is None else {"err_code": self.auto_complete}
        if request is not None:
            built = self._outcome(record, parse_completion(request, flow), now)
            record = TokenRecord(**{**record.as_dict(), "state": FINISHED,
                                    "finished_at": now, "outcome": built})
        self.tokens.issue(record)
        return self.tokens.get(record.token, now) or record

    def get(self, token: Any, appid: str | None = None) -> TokenRecord | None:
        """The record of ``token``; None when it is unknown, past its read window, or
        (``appid`` given) another app's."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
            return None
        record = self.tokens.get(token, self.clock.now())
        if record is None or appid not in (None, record.appid):
            return None
        return record

    def past_reading(self, token: Any, appid: str) -> bool:
        """Whether ``token`` is ``appid``'s and past its three-day read window (as long as
        the store still remembers it)."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
            return False
        record = self.tokens.get(token, float("-inf"))  # as it was, whatever the time
        return record is not None and record.appid == appid and \
            not record.readable_at(self.clock.now())

    def open(self, token: Any) -> TokenRecord | None:
        """The record of ``token`` after the user page opened it (``issued`` becomes
        ``opened`` inside the user window; any other record stays); None as ``get``."""
        if self.get(token) is None:
            return None
        return self.tokens.open(token, self.clock.now())

    def complete(self, token: Any, request: Mapping[str, Any]
                 ) -> tuple[str, TokenRecord | None]:
        """Finish ``token`` with the outcome of ``request`` (see the module docstring):
        ("finished", the record) for the one completion that wins, ("already", record)
        once it is finished, ("expired", record) after its user window, ("unknown", None)
        for no readable token.  ValueError, naming the field, for an invalid request (an
        err_code not in the flow's table, say).  A pass for an ID number and a name the
        identity registry says do not belong together finishes with 2006."""
        record = self.get(token)
        if record is None:
            return UNKNOWN, None
        parsed = parse_completion(request, record.flow)
        now = self.clock.now()
        state = record.state_at(now)
        if state != ISSUED and state != OPENED:
            return (ALREADY if state == FINISHED else TOO_LATE), record
        won, after = self.tokens.finish(record.token, self._outcome(record, parsed, now), now)
        if after is None:
            return UNKNOWN, None
        if won:
            return COMPLETED, after
        return (ALREADY if after.state_at(now) == FINISHED else TOO_LATE), after

    # -- reading ------------------------------------------------------------------------

    def state(self, record: TokenRecord) -> str:
        """The state of ``record`` now: issued, opened, finished or expired."""
        return record.state_at(self.clock.now())

    def records(self, appid: str | None = None, flow: str | None = None,
                state: str | None = None) -> list[TokenRecord]:
        """The readable records (of ``appid``, of ``flow``, in ``state``: each filter when
        given), the last issued first; ValueError for an unknown flow or state."""
        if flow is not None:
            _check_flow(flow)
        if state is not None and state not in STATES:
            raise ValueError(f"state: {state[:20]!r} is not one of {', '.join(STATES)}")
        return self.tokens.list(self.clock.now(), appid=appid, flow=flow, state=state)

    def view(self, record: TokenRecord, host: str | None = None) -> dict[str, Any]:
        """The record as the admin API and the dashboard show it: ``token``, ``flow``,
        ``state``, ``appid``, ``issued_at``, ``expires_at``, ``readable_until``,
        ``opened_at``, ``finished_at``, ``seconds_left`` (of the user window; 0 once
        finished or expired), ``url`` (the user page), ``identity_masked``, ``rule_id``,
        ``merchant_id``, ``extra``, ``redirect_url`` and ``outcome`` (or null)."""
        now = self.clock.now()
        state = record.state_at(now)
        data = record.data
        identity = (record.outcome or {}).get("identity") or data.get("identity")
        return {
            "token": record.token, "flow": record.flow, "state": state,
            "appid": record.appid, "issued_at": record.issued_at,
            "expires_at": record.expires_at, "readable_until": record.readable_until,
            "opened_at": record.opened_at, "finished_at": record.finished_at,
            "seconds_left": max(0, math.ceil(record.expires_at - now))
            if state in (ISSUED, OPENED) else 0,
            "url": self.page_url(record.flow, record.token, host),
            "identity_masked": masked(identity),
            "rule_id": data.get("rule_id"), "merchant_id": data.get("merchant_id"),
            "extra": data.get("extra"), "redirect_url": data.get("redirect_url"),
            "outcome": record.outcome,
        }

    def err_codes(self, flow: str) -> dict[int, str]:
        """The ErrCode table of ``flow``: code -> message (ValueError for an unknown
        flow)."""
        _check_flow(flow)
        return {code: entry.message for code, entry in FLOW_CODES[flow].items()}

    def code(self, flow: str, err_code: int) -> Code | None:
        """The table entry of ``err_code`` in ``flow`` (message, billed), or None."""
        return FLOW_CODES[flow].get(err_code)

    def page_url(self, flow: str, token: str, host: str | None = None) -> str:
        """The user page of a token: ``<public url>/h5/<flow>/<token>``, the public URL
        being ``settings.public_url``, else the URL the server listens on, else
        ``http://<host>`` (the Host of the request); a bare path when none is known."""
        base = self.public_base(host)
        return f"{base}/h5/{flow}/{token}"

    def public_base(self, host: str | None = None) -> str:
        """The public URL without a trailing slash ("" when none is known)."""
        base = getattr(self.settings, "public_url", None) or self.listen_url() or \
            (f"http://{host}" if host else "")
        return base.rstrip("/")

    # -- outcomes -----------------------------------------------------------------------

    def _outcome(self, record: TokenRecord, parsed: Mapping[str, Any],
                 now: float) -> dict[str, Any]:
        """The outcome ``parsed`` (``parse_completion``) makes of ``record`` at ``now``."""
        data = record.data
        identity, source = data.get("identity"), "passed" if data.get("identity") else None
        if data.get("ocr"):
            identity, source = parsed["identity"] or generated_identity(
                self.settings.seed, record.token), "ocr"
        elif parsed["identity"] is not None:
            raise ValueError("identity: only a token whose identity is read from the ID "
                             "card (an OCR rule) takes one")
        codes = list(parsed["attempts"])
        if codes[-1] == 0 and identity and \
                self.identities.name_for(identity["IdCard"]) not in (None, identity["Name"]):
            codes[-1] = 2006
        table = FLOW_CODES[record.flow]
        sims = list(parsed["sims"])
        if parsed["sim"] is not None:
            sims[-1] = parsed["sim"]
        attempts = []
        for index, code in enumerate(codes):
            message = table[code].message
            live, compare = _statuses(code)
            attempts.append({
                "err_code": code, "err_msg": message,
                "live_status": live, "live_msg": table[live].message,
                "compare_status": compare, "compare_msg": table[compare].message,
                "sim": sims[index] or self._sim(record, identity, code, index),
                "time": max(record.issued_at, now - (len(codes) - 1 - index)),
                "seq": self._seq(record.token, index),
            })
        final = attempts[-1]
        return {"err_code": final["err_code"], "err_msg": final["err_msg"],
                "sim": final["sim"], "attempts": attempts,
                "identity": dict(identity) if identity else None, "identity_from": source,
                "liveness_mode": data.get("liveness_mode", 3),
                "intention_code": parsed["intention_code"]}

    def _sim(self, record: TokenRecord, identity: Mapping[str, str] | None, code: int,
             index: int) -> str:
        """The default Sim of an attempt ending with ``code``: in [80, 100) for a pass,
        [40, 70) for "not the same person" (2016), else "0.00"; from the identity (the
        token without one) and the server seed."""
        if code not in (0, 2016):
            return "0.00"
        who = f"{identity['IdCard']}\0{identity['Name']}" if identity else record.token
        number = _number(f"{self.settings.seed}\0{record.flow}\0{who}\0{index}")
        low, span = (80, 2000) if code == 0 else (40, 3000)
        return f"{low + (number % span) / 100:.2f}"

    def _seq(self, token: str, index: int) -> str:
        """The Seq of an attempt: a UUID from the server seed, the token and ``index``."""
        digest = hashlib.sha256(f"{self.settings.seed}\0{token}\0{index}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))


def parse_completion(request: Any, flow: str | None = None) -> dict[str, Any]:
    """A completion request checked for ``flow`` (None: any flow's table): ``attempts``
    (the ErrCodes, the last the final one), ``sims`` (each attempt's chosen Sim or None),
    ``sim``, ``identity`` ({"IdCard", "Name"} or None) and ``intention_code`` (0 unless
    given).  ValueError naming the field for anything invalid; err_code may be given as
    an integer or its digits ("2016": what a form posts)."""
    if not isinstance(request, Mapping):
        raise ValueError("outcome: must be a mapping with err_code or attempts")
    unknown = [str(key) for key in request if key not in REQUEST_KEYS]
    if unknown:
        raise ValueError(f"{unknown[0][:40]}: unknown key (allowed: "
                         f"{', '.join(REQUEST_KEYS)})")
    if ("err_code" in request) == ("attempts" in request):
        raise ValueError("err_code: give err_code or attempts (one of them)")
    if "attempts" in request:
        attempts = request["attempts"]
        if not isinstance(attempts, list) or not 1 <= len(attempts) <= MAX_ATTEMPTS:
            raise ValueError(f"attempts: must be a list of 1 to {MAX_ATTEMPTS} "
                             "{err_code: ...} mappings")
        codes, sims = [], []
        for index, attempt in enumerate(attempts):
            where = f"attempts[{index}]"
            if not isinstance(attempt, Mapping) or "err_code" not in attempt:
                raise ValueError(f"{where}: must be a mapping with err_code")
            extra = [str(key) for key in attempt if key not in ATTEMPT_KEYS]
            if extra:
                raise ValueError(f"{where}.{extra[0][:40]}: unknown key (allowed: "
                                 f"{', '.join(ATTEMPT_KEYS)})")
            codes.append(_err_code(attempt["err_code"], flow, f"{where}.err_code"))
            sims.append(_sim_value(attempt["sim"], f"{where}.sim")
                        if attempt.get("sim") is not None else None)
    else:
        codes, sims = [_err_code(request["err_code"], flow, "err_code")], [None]
    sim = _sim_value(request["sim"], "sim") if request.get("sim") is not None else None
    identity = _identity(request["identity"]) if request.get("identity") is not None \
        else None
    intention = request.get("intention_code", 0)
    if intention is None:
        intention = 0
    if isinstance(intention, bool) or not isinstance(intention, int):
        raise ValueError(f"intention_code: must be an integer, not {intention!r:.40}")
    return {"attempts": codes, "sims": sims, "sim": sim, "identity": identity,
            "intention_code": intention}


def masked(identity: Mapping[str, Any] | None) -> dict[str, str] | None:
    """An identity shown safely: the name's first character and the ID number's first
    and last four (``{"Name": "张*", "IdCard": "1101**********1239"}``); None for
    none."""
    if not identity:
        return None
    name, number = str(identity.get("Name") or ""), str(identity.get("IdCard") or "")
    return {"Name": name[:1] + "*" * (len(name) - 1),
            "IdCard": number[:4] + "*" * (len(number) - 8) + number[-4:]
            if len(number) > 8 else "*" * len(number)}


def generated_identity(seed: int, token: str) -> dict[str, str]:
    """A valid identity made from the server seed and ``token``: what an OCR rule's "ID
    card" shows unless the completion names one."""
    number = _number(f"{seed}\0identity\0{token}")
    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=number % 14600)
    first17 = f"{_REGIONS[number % len(_REGIONS)]}{born:%Y%m%d}{(number >> 20) % 1000:03d}"
    given = _GIVEN[(number >> 30) % len(_GIVEN)] + \
        ("" if (number >> 40) % 3 == 0 else _GIVEN[(number >> 45) % len(_GIVEN)])
    return {"IdCard": with_check_digit(first17),
            "Name": _SURNAMES[(number >> 10) % len(_SURNAMES)] + given}


def flows_of(emulator: Any) -> Flows:
    """The ``Flows`` of an emulator (its faceid provider's)."""
    provider = emulator.handlers["tc3"].actions.providers["faceid"]
    return cast(Flows, provider.flows)


# -- helpers ------------------------------------------------------------------------------

def _check_flow(flow: Any) -> None:
    if flow not in FLOWS:
        raise ValueError(f"flow: {str(flow)[:20]!r} is not one of {', '.join(FLOWS)}")


def _err_code(value: Any, flow: str | None, where: str) -> int:
    """``value`` as an ErrCode of ``flow``'s table (any flow's when None)."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,6}", value, re.ASCII):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: must be an integer ErrCode, not {value!r:.40}")
    tables = [FLOW_CODES[flow]] if flow is not None else list(FLOW_CODES.values())
    if not any(value in table for table in tables):
        whose = f"the {flow} flow's table" if flow else "any flow's table"
        raise ValueError(f"{where}: {value} is not a code of {whose}")
    return value


def _sim_value(value: Any, where: str) -> str:
    """``value`` ("NN.NN" or a number from 0 to 100) as Sim text with two decimals."""
    if isinstance(value, str) and _SIM.fullmatch(value):
        number = float(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value):
        number = float(value)
    else:
        raise ValueError(f"{where}: must be a similarity like \"88.30\", not {value!r:.40}")
    if not 0 <= number <= 100:
        raise ValueError(f"{where}: must be from 0 to 100, not {value!r:.40}")
    return f"{number:.2f}"


def _identity(value: Any) -> dict[str, str]:
    """``value`` as an identity {"IdCard", "Name"}: a valid ID number, a well-formed
    name."""
    if not isinstance(value, Mapping) or set(value) != {"IdCard", "Name"}:
        raise ValueError("identity: must be a mapping of IdCard and Name")
    number, name = value["IdCard"], value["Name"]
    if not isinstance(number, str) or not well_formed_number(number) or \
            not valid_number(number, datetime.date.today()):
        raise ValueError(f"identity.IdCard: {str(number)[:40]!r} is not a valid ID number")
    if not isinstance(name, str) or not well_formed_name(name):
        raise ValueError(f"identity.Name: {str(name)[:40]!r} is not 2-30 Chinese "
                         "characters")
    return {"IdCard": number, "Name": name}


def _statuses(code: int) -> tuple[int, int]:
    """LiveStatus and Comparestatus of an attempt ending with ``code``: a comparison
    failure (2xxx) passed the liveness check; any other failure stopped both there."""
    if 2000 <= code < 3000:
        return 0, code
    return code, code


def _number(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8],
                          "big")
