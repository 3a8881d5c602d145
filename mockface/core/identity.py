"""Chinese resident ID numbers (GB 11643-1999) and names, checked as contract §4 decides;
the identity records the registry keeps (``IdentityRecord``: the number, the name, and the
phones, bank cards and ID validity dates the element checks answer from) and the checks of
their optional keys, shared by config files and the admin API (``check_extras``)."""
from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import elements

_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef·]{2,30}")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_DIGITS = "10X98765432"
_DATE = re.compile(r"[0-9]{8}")


def well_formed_number(number: str) -> bool:
    """18 characters: 17 digits then a digit or ``X``."""
    return _NUMBER.fullmatch(number) is not None


def well_formed_name(name: str) -> bool:
    """2 to 30 CJK characters; the middle dot ``·`` of minority names is allowed."""
    return _NAME.fullmatch(name) is not None and name.strip("·") == name


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_DIGITS[total % 11]


def valid_number(number: str, today: datetime.date) -> bool:
    """A well-formed number whose check digit matches and whose birth date is a real past date."""
    if not well_formed_number(number) or check_digit(number[:17]) != number[17]:
        return False
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return datetime.date(1900, 1, 1) <= born <= today


def with_check_digit(first17: str) -> str:
    """Complete 17 digits into a valid 18-character number."""
    return first17 + check_digit(first17)


# -- what the identity registry keeps of a person -----------------------------------------

PHONE_STATUSES: dict[int, str] = {0: "正常", 1: "停机", 2: "销号", 4: "不在网",
                                  5: "在网但不可用", 99: "未知"}
"""A phone's ``status``: the ``StatusCode`` MobileStatus answers for it."""

BANK_CARD_STATUSES: dict[int, str] = {
    0: "正常", 1: "未开通无卡支付", 2: "此卡被没收", 3: "无效卡号", 4: "无对应发卡行",
    5: "未初始化或睡眠卡", 6: "作弊卡/吞卡", 7: "已挂失", 8: "已过期", 9: "受限制的卡",
    10: "密码错误次数超限", 11: "发卡行不支持此交易", 12: "卡状态异常",
}
"""A bank card's ``status``: what is wrong with the card (0: nothing).  The order of the
bank-card actions' tables: BankCardVerification answers status ``s`` in 1-11 as ``-(s + 5)``
and 12 as -20, BankCard2EVerification as ``-(s + 4)`` and -18, BankCard4EVerification as
``-(s + 6)`` and -21."""

BANK_CARD_TYPES: dict[int, str] = {1: "借记卡", 2: "贷记卡", 3: "预付费卡", 4: "准贷记卡"}
"""A bank card's ``type`` (``AccountType``)."""

LONG_TERM = "00000000"
"""``Validity.end`` of an ID card valid for life (长期)."""


@dataclass(frozen=True)
class Phone:
    """A mobile number registered to a person: its ``status`` (a PHONE_STATUSES key) and
    how many ``months`` it has been in service.  The carrier follows from the number."""

    number: str
    status: int = 0
    months: int = 36

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "status": self.status, "months": self.months}


@dataclass(frozen=True)
class BankCard:
    """A bank card held by a person: ``bank`` the ``AccountBank`` text to answer for it
    (None: as the BIN table says), ``type`` a BANK_CARD_TYPES key, ``status`` a
    BANK_CARD_STATUSES key."""

    number: str
    bank: str | None = None
    type: int = 1
    status: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "bank": self.bank, "type": self.type,
                "status": self.status}


@dataclass(frozen=True)
class Validity:
    """An ID card's validity dates, ``YYYYMMDD``; ``end`` LONG_TERM for a card valid for
    life."""

    begin: str
    end: str

    def as_dict(self) -> dict[str, str]:
        return {"begin": self.begin, "end": self.end}


@dataclass(frozen=True)
class IdentityRecord:
    """One person the registry knows: the ID ``number`` and ``name``, and what else the
    element checks answer from (all optional)."""

    number: str
    name: str
    phones: tuple[Phone, ...] = ()
    bank_cards: tuple[BankCard, ...] = ()
    validity: Validity | None = None

    def phone(self, number: str) -> Phone | None:
        """This person's phone ``number``, or None."""
        return next((phone for phone in self.phones if phone.number == number), None)

    def bank_card(self, number: str) -> BankCard | None:
        """This person's bank card ``number``, or None."""
        return next((card for card in self.bank_cards if card.number == number), None)

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-able data in the shape config files and the admin API take
        (``idcard_number``, ``idcard_name``, and the optional keys only when set)."""
        data: dict[str, Any] = {"idcard_number": self.number, "idcard_name": self.name}
        if self.phones:
            data["phones"] = [phone.as_dict() for phone in self.phones]
        if self.bank_cards:
            data["bank_cards"] = [card.as_dict() for card in self.bank_cards]
        if self.validity is not None:
            data["validity"] = self.validity.as_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IdentityRecord:
        """The record ``as_dict`` gave (trusted data: no checks)."""
        validity = data.get("validity")
        return cls(str(data["idcard_number"]), str(data["idcard_name"]),
                   tuple(Phone(**phone) for phone in data.get("phones", ())),
                   tuple(BankCard(**card) for card in data.get("bank_cards", ())),
                   Validity(**validity) if validity is not None else None)


# -- checking what a config file or the admin API gives -----------------------------------

EXTRA_KEYS = ("phones", "bank_cards", "validity")
"""The optional keys of an identity, besides ``idcard_number`` and ``idcard_name``."""
PHONE_KEYS = frozenset({"number", "status", "months"})
BANK_CARD_KEYS = frozenset({"number", "bank", "type", "status"})
VALIDITY_KEYS = frozenset({"begin", "end"})

Path = tuple[str | int, ...]


class RecordError(ValueError):
    """What is wrong with one key of an identity: ``path`` the keys and indexes leading to
    it (``("phones", 0, "number")``), ``problem`` a sentence fragment.  ``str()``: both."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{where(path)}: {problem}")
        self.path = path
        self.problem = problem


def where(path: Path) -> str:
    """``path`` as messages write it: ``phones[0].number``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return f"a mapping ({len(value)} key{'' if len(value) == 1 else 's'})"
    if isinstance(value, list):
        return f"a list ({len(value)} item{'' if len(value) == 1 else 's'})"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _choices(table: Mapping[int, str]) -> str:
    return ", ".join(f"{code} ({meaning})" for code, meaning in table.items())


def _digits(value: Any, path: Path) -> str:
    """A number given as a string or an integer, as a string; RecordError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(path, f"must be a string of digits, got {_shown(value)}")
    return str(value)


def _no_unknown(item: Mapping[str, Any], allowed: frozenset[str], path: Path) -> None:
    for key in item:
        if key not in allowed:
            raise RecordError((*path, str(key)),
                              f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _code(item: Mapping[str, Any], key: str, table: Mapping[int, str], default: int,
          path: Path) -> int:
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value not in table:
        raise RecordError((*path, key), f"must be one of {_choices(table)}, "
                                        f"got {_shown(value)}")
    return value


def check_phone(value: Any, path: Path) -> Phone:
    """A phone entry: a number, or ``{number, status, months}``; RecordError otherwise."""
    item: Mapping[str, Any] = value if isinstance(value, dict) else {"number": value}
    if isinstance(value, (list, bool)) or value is None:
        raise RecordError(path, f"must be a mobile number or a mapping with number, status "
                                f"and months, got {_shown(value)}")
    _no_unknown(item, PHONE_KEYS, path)
    number_path = (*path, "number") if isinstance(value, dict) else path
    if "number" not in item:
        raise RecordError(number_path, "is required")
    number = _digits(item["number"], number_path)
    if not elements.valid_mobile(number):
        raise RecordError(number_path, f"must be a mobile number: 11 digits on a mainland "
                                       f"number segment (such as 138), got {_shown(number)}")
    status = _code(item, "status", PHONE_STATUSES, 0, path)
    months = item.get("months", 36)
    if isinstance(months, bool) or not isinstance(months, int) or not 0 <= months <= 1200:
        raise RecordError((*path, "months"), f"must be an integer from 0 to 1200, "
                                             f"got {_shown(months)}")
    return Phone(number, status, months)


def check_bank_card(value: Any, path: Path) -> BankCard:
    """A bank card entry ``{number, bank, type, status}``; RecordError otherwise.  ``type``
    defaults to the BIN table's for the number (1 when the BIN is unknown)."""
    if not isinstance(value, dict):
        raise RecordError(path, f"must be a mapping with number, bank, type and status, "
                                f"got {_shown(value)}")
    _no_unknown(value, BANK_CARD_KEYS, path)
    if "number" not in value:
        raise RecordError((*path, "number"), "is required")
    number = _digits(value["number"], (*path, "number"))
    if not number.isascii() or not number.isdigit() or not 16 <= len(number) <= 19:
        raise RecordError((*path, "number"), f"must be 16 to 19 digits, got {_shown(number)}")
    if not elements.luhn_ok(number):
        raise RecordError((*path, "number"),
                          f"fails the Luhn check (its last digit would be "
                          f"{elements.luhn_digit(number[:-1])}), got {_shown(number)}")
    bank = value.get("bank")
    if bank is not None and (not isinstance(bank, str) or not bank.strip()):
        raise RecordError((*path, "bank"), f"must be a non-empty string, got {_shown(bank)}")
    issuer = elements.bank_of(number)
    card_type = _code(value, "type", BANK_CARD_TYPES,
                      issuer.card_type if issuer is not None else 1, path)
    status = _code(value, "status", BANK_CARD_STATUSES, 0, path)
    return BankCard(number, bank, card_type, status)


def _date(value: Any, path: Path, long_term: bool) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if long_term and text == LONG_TERM:
        return text
    what = "a date YYYYMMDD" + (f" or {LONG_TERM} (long-term)" if long_term else "")
    if not isinstance(text, str) or _DATE.fullmatch(text) is None:
        raise RecordError(path, f"must be {what}, got {_shown(value)}")
    try:
        datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise RecordError(path, f"must be {what}, got {_shown(value)} (no such date)") from None
    return text


def check_validity(value: Any, path: Path) -> Validity:
    """Validity dates ``{begin, end}``; RecordError otherwise (end before begin too)."""
    if not isinstance(value, dict):
        raise RecordError(path, f"must be a mapping with begin and end, got {_shown(value)}")
    _no_unknown(value, VALIDITY_KEYS, path)
    for key in ("begin", "end"):
        if key not in value:
            raise RecordError((*path, key), "is required")
    begin = _date(value["begin"], (*path, "begin"), long_term=False)
    end = _date(value["end"], (*path, "end"), long_term=True)
    if end != LONG_TERM and end < begin:
        raise RecordError((*path, "end"), f"is before {where((*path, 'begin'))} "
                                          f"({end} < {begin})")
    return Validity(begin, end)


def check_extras(fields: Mapping[str, Any], path: Path = ()) -> dict[str, Any]:
    """The optional keys of an identity (``phones``, ``bank_cards``, ``validity``) in
    ``fields``, checked: ``{"phones": (Phone, ...), "bank_cards": (BankCard, ...),
    "validity": Validity | None}`` (absent or null: empty).  A number given twice is a
    RecordError, as is anything malformed (``path``: where ``fields`` is)."""
    phones: list[Phone] = []
    cards: list[BankCard] = []
    validity = None
    if fields.get("phones") is not None:
        for index, item in enumerate(_list(fields["phones"], (*path, "phones"))):
            phone = check_phone(item, (*path, "phones", index))
            _not_repeated(phone.number, [p.number for p in phones], (*path, "phones"), index)
            phones.append(phone)
    if fields.get("bank_cards") is not None:
        for index, item in enumerate(_list(fields["bank_cards"], (*path, "bank_cards"))):
            card = check_bank_card(item, (*path, "bank_cards", index))
            _not_repeated(card.number, [c.number for c in cards], (*path, "bank_cards"), index)
            cards.append(card)
    if fields.get("validity") is not None:
        validity = check_validity(fields["validity"], (*path, "validity"))
    return {"phones": tuple(phones), "bank_cards": tuple(cards), "validity": validity}


def _list(value: Any, path: Path) -> list[Any]:
    if not isinstance(value, list):
        raise RecordError(path, f"must be a list, got {_shown(value)}")
    return value


def _not_repeated(number: str, earlier: list[str], path: Path, index: int) -> None:
    if number in earlier:
        raise RecordError((*path, index), f"repeats {where((*path, earlier.index(number)))} "
                                          f"({number})")
