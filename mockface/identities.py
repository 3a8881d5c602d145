"""Realistic, valid identities for tests: zh_CN names and GB 11643 ID numbers, made by Faker.

Faker is optional (``pip install 'mockface[faker]'``) and stays out of the request path: its
output can change between Faker releases, while mockface's answers must stay deterministic.
Seeded generation is repeatable with one Faker version; what every version guarantees is the
shape: a valid check digit, a real region code, a plausible birth date, a 2-4 character name.
"""
from __future__ import annotations

import datetime
from typing import Any, Protocol, cast

from .core.identity import valid_number, well_formed_name

FAKER_MISSING = "generating identities needs Faker: pip install 'mockface[faker]'"
FIELDS = ("idcard_number", "idcard_name")


class _ChineseFaker(Protocol):
    """What mockface uses of ``Faker("zh_CN")`` (Faker's own annotations describe its en_US
    providers, whose ``ssn`` takes no ages)."""

    def seed_instance(self, seed: int) -> Any: ...

    def ssn(self, min_age: int, max_age: int) -> str: ...

    def name(self) -> str: ...


def generate(count: int = 1, seed: int | None = None, min_age: int = 18, max_age: int = 80,
             **overrides: Any) -> list[dict[str, str]]:
    """``count`` identities ``{"idcard_number", "idcard_name"}``; ``overrides`` fix either
    field.  Raises RuntimeError when Faker is not installed, ValueError for bad arguments."""
    try:
        from faker import Faker
    except ImportError:
        raise RuntimeError(FAKER_MISSING) from None
    unknown = set(overrides) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown identity field(s) {', '.join(sorted(unknown))}; "
                         f"expected {' or '.join(FIELDS)}")
    if not 0 <= min_age <= max_age <= 120:
        raise ValueError("ages must satisfy 0 <= min_age <= max_age <= 120")
    fake = cast(_ChineseFaker, Faker("zh_CN"))
    if seed is not None:
        fake.seed_instance(seed)
    return [{"idcard_number": str(overrides.get("idcard_number")
                                  or fake.ssn(min_age=min_age, max_age=max_age)),
             "idcard_name": str(overrides.get("idcard_name") or _name(fake))}
            for _ in range(count)]


def _name(fake: _ChineseFaker) -> str:
    """A name mockface accepts (Faker's zh_CN names always are; checked, not assumed)."""
    while True:
        name = fake.name()
        if well_formed_name(name):
            return name


def is_valid(identity: dict[str, str], today: datetime.date | None = None) -> bool:
    """Whether an identity passes mockface's own checks (number checksum, birth date, name)."""
    today = today or datetime.date.today()
    return valid_number(identity["idcard_number"], today) and \
        well_formed_name(identity["idcard_name"])
