"""Chinese resident ID numbers (GB 11643-1999) and names, checked as contract §4 decides."""
from __future__ import annotations

import datetime
import re

_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef·]{2,30}")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_DIGITS = "10X98765432"


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
