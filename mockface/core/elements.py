"""Shared domain data of the element checks: mobile number segments, Luhn, bank BINs.

Names no product.  Everything here is pure data and pure functions: the element-check
actions (format checks), the identity registry (config checks) and the identity
generator (``mockface identities``) all read the same tables, so a number the generator
makes is a number the checks accept.

* Mobile numbers: 11 digits starting with ``1``; the carrier comes from the first three
  digits (the MIIT number-segment allocations of the mainland's four operators).
* Bank cards: 16 to 19 digits whose last digit is the Luhn check digit; the issuing bank
  and card kind come from the first six digits (the BIN, UnionPay's issuer table).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CMCC = "CMCC"
CUCC = "CUCC"
CTCC = "CTCC"
CBN = "CBN"

ISP_NAMES: dict[str, str] = {CMCC: "移动", CTCC: "电信", CUCC: "联通", CBN: "广电"}
"""Carrier code -> the name Tencent answers in ``Isp``/``ISP``."""

_SEGMENTS: dict[str, tuple[int, ...]] = {
    CMCC: (134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 157, 158, 159, 172, 178,
           182, 183, 184, 187, 188, 195, 197, 198),
    CUCC: (130, 131, 132, 145, 155, 156, 166, 175, 176, 185, 186, 196),
    CTCC: (133, 149, 153, 173, 177, 180, 181, 189, 190, 191, 193, 199),
    CBN: (192,),
}

CARRIER_OF_PREFIX: dict[str, str] = {
    str(segment): carrier for carrier, segments in _SEGMENTS.items() for segment in segments
}
"""Three-digit number segment -> carrier code."""

PREFIXES: dict[str, tuple[str, ...]] = {
    carrier: tuple(str(segment) for segment in segments) for carrier, segments in _SEGMENTS.items()
}
"""Carrier code -> its three-digit number segments, in ascending order."""

_MOBILE = re.compile(r"1[0-9]{10}")
_DIGITS = re.compile(r"[0-9]+")


def well_formed_mobile(phone: str) -> bool:
    """11 ASCII digits starting with ``1`` (says nothing about the segment)."""
    return isinstance(phone, str) and _MOBILE.fullmatch(phone) is not None


def carrier_of(phone: str) -> str | None:
    """The carrier code ("CMCC", "CUCC", "CTCC", "CBN") of the number's first three digits.

    Only the prefix is read: a short or over-long number on a known segment still has a
    carrier (use :func:`valid_mobile` to check the whole number).  ``None`` for an unknown
    segment or a string that does not start with three digits.
    """
    if not isinstance(phone, str) or len(phone) < 3 or not phone[:3].isascii():
        return None
    return CARRIER_OF_PREFIX.get(phone[:3])


def isp_name(phone: str) -> str:
    """The ``Isp`` text Tencent answers for the number ("移动", ...), "" for an unknown segment."""
    carrier = carrier_of(phone)
    return ISP_NAMES[carrier] if carrier is not None else ""


def valid_mobile(phone: str) -> bool:
    """11 digits on an allocated mainland mobile segment."""
    return well_formed_mobile(phone) and carrier_of(phone) is not None


def _luhn_sum(digits: str, double_first: bool) -> int:
    """Luhn sum of ``digits`` read right to left; ``double_first``: double the rightmost."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if (position % 2 == 0) == double_first:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def luhn_ok(number: str) -> bool:
    """At least two ASCII digits whose last is the Luhn check digit of the rest."""
    if not isinstance(number, str) or len(number) < 2 or not number.isascii():
        return False
    if _DIGITS.fullmatch(number) is None:
        return False
    return _luhn_sum(number, double_first=False) % 10 == 0


def luhn_digit(prefix: str) -> str:
    """The Luhn check digit that completes ``prefix`` (ASCII digits)."""
    if _DIGITS.fullmatch(prefix) is None or not prefix.isascii():
        raise ValueError(f"not a string of digits: {prefix!r}")
    return str((10 - _luhn_sum(prefix, double_first=True) % 10) % 10)


def with_luhn_digit(prefix: str) -> str:
    """``prefix`` followed by its Luhn check digit: ``luhn_ok(with_luhn_digit(p))`` holds."""
    return prefix + luhn_digit(prefix)


DEBIT = 1
"""``AccountType`` 1: 借记卡."""
CREDIT = 2
"""``AccountType`` 2: 贷记卡 (信用卡)."""
PREPAID = 3
"""``AccountType`` 3: 预付费卡."""
QUASI_CREDIT = 4
"""``AccountType`` 4: 准贷记卡."""

CARD_TYPES: dict[int, str] = {DEBIT: "借记卡", CREDIT: "贷记卡", PREPAID: "预付费卡",
                              QUASI_CREDIT: "准贷记卡"}
"""``AccountType`` value -> its name in Tencent's documentation."""

_KIND_SUFFIX: dict[int, str] = {DEBIT: "借记卡", CREDIT: "信用卡", PREPAID: "预付费卡",
                                QUASI_CREDIT: "准贷记卡"}


@dataclass(frozen=True)
class BinEntry:
    """One issuer prefix: the first six digits, the bank's name, the card kind (1-4)."""

    bin: str
    bank: str
    card_type: int
    length: int = 19

    @property
    def account_bank(self) -> str:
        """The ``AccountBank`` text as Tencent shows it, e.g. "招商银行信用卡"."""
        return self.bank + _KIND_SUFFIX[self.card_type]


ICBC = "中国工商银行"
CCB = "中国建设银行"
ABC = "中国农业银行"
BOC = "中国银行"
CMB = "招商银行"
BOCOM = "交通银行"
PSBC = "中国邮政储蓄银行"
CITIC = "中信银行"
CEB = "中国光大银行"
CMBC = "中国民生银行"
CIB = "兴业银行"
SPDB = "浦发银行"
PAB = "平安银行"
CGB = "广发银行"

BINS: tuple[BinEntry, ...] = (
    # 中国工商银行
    BinEntry("622202", ICBC, DEBIT),
    BinEntry("622208", ICBC, DEBIT),
    BinEntry("621226", ICBC, DEBIT),
    BinEntry("621225", ICBC, DEBIT),
    BinEntry("955888", ICBC, DEBIT),
    BinEntry("622230", ICBC, CREDIT, 16),
    BinEntry("625330", ICBC, CREDIT, 16),
    BinEntry("622210", ICBC, QUASI_CREDIT, 16),
    # 中国建设银行
    BinEntry("621700", CCB, DEBIT),
    BinEntry("622700", CCB, DEBIT),
    BinEntry("436742", CCB, DEBIT),
    BinEntry("622280", CCB, DEBIT),
    BinEntry("622166", CCB, CREDIT, 16),
    BinEntry("625362", CCB, CREDIT, 16),
    BinEntry("436728", CCB, QUASI_CREDIT, 16),
    BinEntry("620107", CCB, PREPAID),
    # 中国农业银行
    BinEntry("622848", ABC, DEBIT),
    BinEntry("622845", ABC, DEBIT),
    BinEntry("623052", ABC, DEBIT),
    BinEntry("622836", ABC, CREDIT, 16),
    BinEntry("622837", ABC, CREDIT, 16),
    BinEntry("622830", ABC, QUASI_CREDIT, 16),
    # 中国银行
    BinEntry("621661", BOC, DEBIT),
    BinEntry("621663", BOC, DEBIT),
    BinEntry("601382", BOC, DEBIT),
    BinEntry("456351", BOC, DEBIT),
    BinEntry("625908", BOC, CREDIT, 16),
    BinEntry("438088", BOC, CREDIT, 16),
    BinEntry("518378", BOC, QUASI_CREDIT, 16),
    # 招商银行
    BinEntry("622588", CMB, DEBIT, 16),
    BinEntry("621483", CMB, DEBIT, 16),
    BinEntry("622580", CMB, DEBIT, 16),
    BinEntry("622575", CMB, CREDIT, 16),
    BinEntry("439225", CMB, CREDIT, 16),
    BinEntry("439226", CMB, CREDIT, 16),
    BinEntry("620520", CMB, PREPAID),
    # 交通银行
    BinEntry("622260", BOCOM, DEBIT),
    BinEntry("622262", BOCOM, DEBIT),
    BinEntry("601428", BOCOM, DEBIT, 17),
    BinEntry("521899", BOCOM, CREDIT, 16),
    BinEntry("458123", BOCOM, CREDIT, 16),
    BinEntry("622254", BOCOM, QUASI_CREDIT, 16),
    # 中国邮政储蓄银行
    BinEntry("621799", PSBC, DEBIT),
    BinEntry("622188", PSBC, DEBIT),
    BinEntry("621096", PSBC, DEBIT),
    BinEntry("625919", PSBC, CREDIT, 16),
    BinEntry("622812", PSBC, CREDIT, 16),
    # 股份制银行
    BinEntry("622690", CITIC, DEBIT, 16),
    BinEntry("622688", CITIC, CREDIT, 16),
    BinEntry("622666", CEB, DEBIT, 16),
    BinEntry("622655", CEB, CREDIT, 16),
    BinEntry("622622", CMBC, DEBIT, 16),
    BinEntry("622600", CMBC, CREDIT, 16),
    BinEntry("622908", CIB, DEBIT, 18),
    BinEntry("622909", CIB, DEBIT, 18),
    BinEntry("622901", CIB, CREDIT, 16),
    BinEntry("622521", SPDB, DEBIT, 16),
    BinEntry("622277", SPDB, CREDIT, 16),
    BinEntry("622298", PAB, DEBIT, 16),
    BinEntry("622155", PAB, CREDIT, 16),
    BinEntry("622568", CGB, DEBIT),
    BinEntry("625809", CGB, CREDIT, 16),
)
"""Issuer prefixes of the big banks (first six digits), with the card kind they issue and
the usual length of their numbers (UnionPay's issuer table)."""

_BY_BIN: dict[str, BinEntry] = {entry.bin: entry for entry in BINS}
_CARD = re.compile(r"[0-9]{16,19}")


def well_formed_card(card: str) -> bool:
    """16 to 19 ASCII digits with a valid Luhn check digit."""
    return isinstance(card, str) and card.isascii() and _CARD.fullmatch(card) is not None \
        and luhn_ok(card)


def bank_of(card: str) -> BinEntry | None:
    """The issuer entry of the card's first six digits, ``None`` for an unknown prefix.

    Only the prefix is read (use :func:`well_formed_card` for the whole number).
    """
    if not isinstance(card, str) or len(card) < 6:
        return None
    return _BY_BIN.get(card[:6])
