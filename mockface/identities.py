"""Realistic, valid identities for tests, made by Faker: zh_CN names and GB 11643 ID numbers,
with mobile numbers on real number segments, bank cards on real BINs (valid Luhn digit) and
ID card validity dates.

Faker is optional (``pip install 'mockface[faker]'``) and stays out of the request path: its
output can change between Faker releases, while mockface's answers must stay deterministic.
Seeded generation is repeatable with one Faker version (and one day: validity dates end in
the future); what every version guarantees is the shape: a valid check digit, a real region
code, a plausible birth date, a 2-4 character name, numbers the element checks accept.
"""
from __future__ import annotations

import datetime
from typing import Any, Protocol, cast

from .core import elements
from .core.identity import LONG_TERM, check_extras, valid_number, well_formed_name

FAKER_MISSING = "generating identities needs Faker: pip install 'mockface[faker]'"
FIELDS = ("idcard_number", "idcard_name", "phones", "bank_cards", "validity")
_SEGMENTS = tuple(sorted(elements.CARRIER_OF_PREFIX))


class _ChineseFaker(Protocol):
    """What mockface uses of ``Faker("zh_CN")`` (Faker's own annotations describe its en_US
    providers, whose ``ssn`` takes no ages)."""

    def seed_instance(self, seed: int) -> Any: ...

    def ssn(self, min_age: int, max_age: int) -> str: ...

    def name(self) -> str: ...

    def phone_number(self) -> str: ...

    def numerify(self, text: str) -> str: ...

    def random_element(self, elements: Any) -> Any: ...

    def random_int(self, min: int, max: int) -> int: ...


def generate(count: int = 1, seed: int | None = None, min_age: int = 18, max_age: int = 80,
             phone_count: int = 1, card_count: int = 1, validity_dates: bool = True,
             today: datetime.date | None = None, **overrides: Any) -> list[dict[str, Any]]:
    """``count`` identities ``{"idcard_number", "idcard_name", "phones", "bank_cards",
    "validity"}`` in the shape config files and ``POST /__mockface/identities`` take:
    ``phone_count`` mobile numbers (``{number, status 0, months}``), ``card_count`` bank
    cards (``{number, bank, type, status 0}``) and, with ``validity_dates``, the ID card's
    validity dates (current on ``today``, by the age rules of the resident ID card law); a
    count of 0 or False leaves the key out.  ``overrides`` fix any field (checked as config
    files are: RecordError).  Raises RuntimeError when Faker is not installed, ValueError
    for bad arguments."""
    try:
        from faker import Faker
    except ImportError:
        raise RuntimeError(FAKER_MISSING) from None
    unknown = set(overrides) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown identity field(s) {', '.join(sorted(unknown))}; "
                         f"expected {', '.join(FIELDS)}")
    if not 0 <= min_age <= max_age <= 120:
        raise ValueError("ages must satisfy 0 <= min_age <= max_age <= 120")
    if not 0 <= phone_count <= 10 or not 0 <= card_count <= 10:
        raise ValueError("phone_count and card_count must be from 0 to 10")
    check_extras({key: overrides[key] for key in ("phones", "bank_cards", "validity")
                  if key in overrides})
    today = today or datetime.date.today()
    fake = cast(_ChineseFaker, Faker("zh_CN"))
    if seed is not None:
        fake.seed_instance(seed)
    return [_person(fake, today, min_age, max_age, phone_count, card_count, validity_dates,
                    overrides) for _ in range(count)]


def _person(fake: _ChineseFaker, today: datetime.date, min_age: int, max_age: int,
            phones: int, bank_cards: int, validity: bool,
            overrides: dict[str, Any]) -> dict[str, Any]:
    """One identity (every random draw made whatever ``overrides`` fix, so that a seed
    gives the same people whatever is fixed)."""
    number = fake.ssn(min_age=min_age, max_age=max_age)
    person: dict[str, Any] = {"idcard_number": number, "idcard_name": _name(fake)}
    numbers = _distinct(lambda: _mobile(fake), phones)
    if numbers:
        person["phones"] = [{"number": phone, "status": 0,
                             "months": fake.random_int(min=6, max=180)} for phone in numbers]
    cards = _distinct(lambda: _bank_card(fake), bank_cards)
    if cards:
        person["bank_cards"] = [{"number": card, "bank": entry.account_bank,
                                 "type": entry.card_type, "status": 0}
                                for card in cards
                                for entry in [cast(elements.BinEntry, elements.bank_of(card))]]
    if validity:
        person["validity"] = _validity(fake, number, today)
    for key, value in overrides.items():
        person[key] = str(value) if key in ("idcard_number", "idcard_name") else value
    return person


def _distinct(draw: Any, count: int) -> list[str]:
    made: list[str] = []
    while len(made) < count:
        value = draw()
        if value not in made:
            made.append(value)
    return made


def _name(fake: _ChineseFaker) -> str:
    """A name mockface accepts (Faker's zh_CN names always are; checked, not assumed)."""
    while True:
        name = fake.name()
        if well_formed_name(name):
            return name


def _mobile(fake: _ChineseFaker) -> str:
    """A mobile number of Faker's on a segment the element checks know (Faker's zh_CN
    numbers include virtual operators' segments, which they do not)."""
    for _ in range(20):
        phone = fake.phone_number()
        if elements.valid_mobile(phone):
            return phone
    return str(fake.random_element(_SEGMENTS)) + fake.numerify("########")


def _bank_card(fake: _ChineseFaker) -> str:
    """A card number on a real BIN, of its usual length, with a valid Luhn digit."""
    entry = cast(elements.BinEntry, fake.random_element(elements.BINS))
    body = entry.bin + fake.numerify("#" * (entry.length - len(entry.bin) - 1))
    return elements.with_luhn_digit(body)


def _years_later(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _validity(fake: _ChineseFaker, number: str, today: datetime.date) -> dict[str, str]:
    """Validity dates current on ``today``, by the age at issue: under 16 the card lasts 5
    years, 16-25 10, 26-45 20, from 46 for life (长期, ``00000000``)."""
    born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    lived = max((today - born).days, 0)
    begin, end = today, ""
    for _ in range(10):
        back = fake.random_int(min=0, max=min(20 * 365, lived))
        begin = today - datetime.timedelta(days=back)
        age = (begin - born).days // 365
        span = 5 if age < 16 else 10 if age < 26 else 20 if age < 46 else 0
        end = LONG_TERM if span == 0 else _years_later(begin, span).strftime("%Y%m%d")
        if end == LONG_TERM or end > today.strftime("%Y%m%d"):
            break
    else:  # issued today
        age = lived // 365
        span = 5 if age < 16 else 10 if age < 26 else 20 if age < 46 else 0
        begin = today
        end = LONG_TERM if span == 0 else _years_later(begin, span).strftime("%Y%m%d")
    return {"begin": begin.strftime("%Y%m%d"), "end": end}


def is_valid(identity: dict[str, Any], today: datetime.date | None = None) -> bool:
    """Whether an identity passes mockface's own checks (number checksum, birth date, name;
    the phones, bank cards and validity dates when it has them)."""
    today = today or datetime.date.today()
    if not (valid_number(identity["idcard_number"], today)
            and well_formed_name(identity["idcard_name"])):
        return False
    try:
        check_extras(identity)
    except ValueError:
        return False
    return True
