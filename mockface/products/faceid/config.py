"""The faceid product's config keys: ``auto_complete:`` and ``unknown_identity:`` (top
level) and, per app, ``rules:`` (DetectAuth's RuleIds) and ``merchants:`` (GetEidToken's
MerchantIds)::

    auto_complete: 0              # every new token finishes at once with this ErrCode
    unknown_identity: no_record   # element checks: a well-formed identity the registry
                                  # lacks answers the action's "no record" code
                                  # (default: consistent)
    apps:
      - appid: "1250000000"
        secrets: [...]
        rules:
          "3": {liveness: LIP}                  # needs the identity passed in (default)
          "4": {ocr: true, liveness: ACTION}    # reads the identity from the ID card
          "5": {disabled: true}
        merchants:
          "0NSJ2106111700002": {return_identity: true}

Built in (a configured entry of the same id replaces it): RuleId "1" (identity passed in,
silent liveness), RuleId "2" (OCR, silent liveness) and MerchantId ``0NSJ2106111700001``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.config import App, ConfigContext, Settings
from ...core.product import ServeOption
from .flow_models import FLOW_CODES, LIVENESS_MODES

RULE_KEYS = {"needs_identity", "ocr", "liveness", "disabled"}
MERCHANT_KEYS = {"return_identity", "disabled"}
#: The most RuleIds or MerchantIds one app may configure.
MAX_ENTRIES = 1000
#: The longest RuleId or MerchantId accepted.
MAX_ID = 64


@dataclass(frozen=True)
class Rule:
    """One RuleId: whether DetectAuth needs ``IdCard``/``Name`` passed in, whether the page
    reads the identity from the ID card (``ocr``), the liveness (LIP/ACTION/SILENT) and
    whether it is disabled."""

    rule_id: str
    needs_identity: bool = True
    ocr: bool = False
    liveness: str = "SILENT"
    disabled: bool = False

    @property
    def liveness_mode(self) -> int:
        """``LivenessMode`` of the results: 1 数字 (LIP), 2 动作 (ACTION), 3 静默."""
        return LIVENESS_MODES[self.liveness]


@dataclass(frozen=True)
class Merchant:
    """One E证通 MerchantId: whether GetEidResult answers ``EidInfo`` (the identity) and
    whether it is disabled."""

    merchant_id: str
    return_identity: bool = False
    disabled: bool = False


BUILTIN_RULES = {"1": Rule("1", needs_identity=True),
                 "2": Rule("2", needs_identity=False, ocr=True)}
BUILTIN_MERCHANT = "0NSJ2106111700001"
BUILTIN_MERCHANTS = {BUILTIN_MERCHANT: Merchant(BUILTIN_MERCHANT)}


def codes_of_every_flow() -> frozenset[int]:
    """The ErrCodes every flow's table has: what ``auto_complete`` may be."""
    tables = list(FLOW_CODES.values())
    return frozenset(tables[0]).intersection(*tables[1:])


def check_auto_complete(value: Any) -> int:
    """``value`` as an auto-complete ErrCode; ValueError unless it is an integer in every
    flow's table."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer ErrCode, not {value!r:.40}")
    if value not in codes_of_every_flow():
        raise ValueError(f"{value} is not a code of every flow's table (e.g. 0 pass, 2016 "
                         "not the same person, 2006 name/ID mismatch, 1004 liveness failed)")
    return value


def read_auto_complete(value: Any, context: ConfigContext) -> int:
    """The top-level ``auto_complete:``."""
    try:
        return check_auto_complete(value)
    except ValueError as error:
        raise context.fail(context.where, str(error)) from None


def _ids(value: Any, context: ConfigContext, what: str) -> list[tuple[str, Any, int | None]]:
    """The entries of a ``rules:``/``merchants:`` mapping: (id, settings, line)."""
    if not isinstance(value, dict):
        raise context.fail(context.where, f"must be a mapping of {what} to their settings")
    if len(value) > MAX_ENTRIES:
        raise context.fail(context.where, f"at most {MAX_ENTRIES} entries")
    entries = []
    for key, item in value.items():
        line = context.line_of(value, key)
        if isinstance(key, bool) or not isinstance(key, (str, int)) or \
                not 0 < len(str(key)) <= MAX_ID:
            raise context.fail(context.where, f"{what} must be non-empty text of at most "
                                              f"{MAX_ID} characters", line)
        entries.append((str(key), {} if item is None else item, line))
    return entries


def read_rules(value: Any, context: ConfigContext) -> dict[str, Rule]:
    """An app's ``rules:``: RuleId -> {needs_identity, ocr, liveness, disabled}."""
    rules = {}
    for rule_id, item, line in _ids(value, context, "RuleIds"):
        where = f"{context.where}.{rule_id}"
        context.mapping(item, where, RULE_KEYS, (), line)
        ocr = context.boolean(item.get("ocr", False), f"{where}.ocr",
                              context.line_of(item, "ocr") or line)
        needs = context.boolean(item.get("needs_identity", not ocr),
                                f"{where}.needs_identity",
                                context.line_of(item, "needs_identity") or line)
        if ocr and needs:
            raise context.fail(where, "a rule reads the identity from the ID card (ocr) or "
                                      "needs it passed in (needs_identity), not both", line)
        liveness = item.get("liveness", "SILENT")
        if liveness not in LIVENESS_MODES:
            raise context.fail(f"{where}.liveness", f"must be one of "
                               f"{', '.join(LIVENESS_MODES)}, got {liveness!r:.40}",
                               context.line_of(item, "liveness") or line)
        disabled = context.boolean(item.get("disabled", False), f"{where}.disabled",
                                   context.line_of(item, "disabled") or line)
        rules[rule_id] = Rule(rule_id, needs, ocr, liveness, disabled)
    return rules


def read_merchants(value: Any, context: ConfigContext) -> dict[str, Merchant]:
    """An app's ``merchants:``: MerchantId -> {return_identity, disabled}."""
    merchants = {}
    for merchant_id, item, line in _ids(value, context, "MerchantIds"):
        where = f"{context.where}.{merchant_id}"
        context.mapping(item, where, MERCHANT_KEYS, (), line)
        merchants[merchant_id] = Merchant(
            merchant_id,
            context.boolean(item.get("return_identity", False), f"{where}.return_identity",
                            context.line_of(item, "return_identity") or line),
            context.boolean(item.get("disabled", False), f"{where}.disabled",
                            context.line_of(item, "disabled") or line))
    return merchants


#: What ``unknown_identity:`` may be: how the element checks answer a well-formed identity
#: (phone, ID number, name) the registry does not know.
UNKNOWN_IDENTITY = ("consistent", "no_record")


def read_unknown_identity(value: Any, context: ConfigContext) -> str:
    """The top-level ``unknown_identity:``: ``consistent`` (the default: as the legacy API
    treats identities it does not know) or ``no_record`` (the action's "no record" code)."""
    if value not in UNKNOWN_IDENTITY:
        raise context.fail(context.where, f"must be one of {', '.join(UNKNOWN_IDENTITY)}, "
                                          f"got {value!r:.40}")
    return str(value)


#: The product's top-level keys and per-app keys, with their readers (``load_settings``'s
#: ``sections`` and ``app_sections``).
CONFIG_KEYS = {"auto_complete": read_auto_complete,
               "unknown_identity": read_unknown_identity}
APP_CONFIG_KEYS = {"rules": read_rules, "merchants": read_merchants}


def _auto_complete_flag(text: str) -> int:
    """``--auto-complete CODE``: the code's digits, checked as ``auto_complete:``."""
    if not text.strip().lstrip("-").isdigit():
        raise ValueError(f"must be an integer ErrCode, not {text[:20]!r}")
    return check_auto_complete(int(text))


SERVE_OPTIONS = (ServeOption(
    "--auto-complete", "auto_complete",
    "Every verification token DetectAuth, GetEidToken or GetFaceIdToken issues finishes at "
    "once with this ErrCode (0 pass, 2016 not the same person, ...) [default: config "
    "auto_complete, else none].", "CODE", _auto_complete_flag),)


def app_of(settings: Settings, appid: str) -> App | None:
    """The configured app ``appid`` (None for one added at run time or unknown)."""
    return next((app for app in settings.apps if app.appid == appid), None)


def rules_of(settings: Settings, appid: str) -> Mapping[str, Rule]:
    """The RuleIds of ``appid``: the built-in ones, then its configured ones."""
    app = app_of(settings, appid)
    return {**BUILTIN_RULES, **(app.sections.get("rules", {}) if app else {})}


def merchants_of(settings: Settings, appid: str) -> Mapping[str, Merchant]:
    """The MerchantIds of ``appid``: the built-in one, then its configured ones."""
    app = app_of(settings, appid)
    return {**BUILTIN_MERCHANTS, **(app.sections.get("merchants", {}) if app else {})}


def auto_complete_of(settings: Settings) -> int | None:
    """The configured ``auto_complete`` ErrCode, or None."""
    value = settings.sections.get("auto_complete")
    return value if isinstance(value, int) else None


def no_record_for_unknown(settings: Settings) -> bool:
    """Whether ``unknown_identity: no_record`` is configured: an element check answers a
    well-formed identity the registry lacks with its "no record" code, not "consistent"."""
    return settings.sections.get("unknown_identity") == "no_record"
