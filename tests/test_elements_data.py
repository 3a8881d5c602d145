"""The element checks' shared data (core/elements.py): mobile number segments and their
carriers, the Luhn check digit, and the BIN table of the big banks."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockface.core import elements
from mockface.core.elements import (
    BINS,
    ISP_NAMES,
    BinEntry,
    bank_of,
    carrier_of,
    isp_name,
    luhn_digit,
    luhn_ok,
    valid_mobile,
    well_formed_card,
    with_luhn_digit,
)

#: The MIIT allocations of the public mobile segments, as the task states them.
SEGMENTS = {
    "CMCC": "134 135 136 137 138 139 147 150 151 152 157 158 159 172 178 182 183 184 187 188 "
            "195 197 198",
    "CUCC": "130 131 132 145 155 156 166 175 176 185 186 196",
    "CTCC": "133 149 153 173 177 180 181 189 190 191 193 199",
    "CBN": "192",
}


@pytest.mark.parametrize("carrier,segments", SEGMENTS.items())
def test_every_allocated_segment_names_its_carrier(carrier, segments):
    for segment in segments.split():
        assert carrier_of(segment + "12345678") == carrier
        assert valid_mobile(segment + "12345678")
        assert isp_name(segment + "12345678") == ISP_NAMES[carrier]


def test_the_segment_table_is_exactly_the_allocations():
    known = {segment for segments in SEGMENTS.values() for segment in segments.split()}
    assert set(elements.CARRIER_OF_PREFIX) == known
    assert {c: " ".join(p) for c, p in elements.PREFIXES.items()} == SEGMENTS


def test_isp_names_are_tencents():
    assert ISP_NAMES == {"CMCC": "移动", "CTCC": "电信", "CUCC": "联通", "CBN": "广电"}


@pytest.mark.parametrize("phone", [
    "12012345678",   # no such segment
    "17012345678",   # virtual operators' segment: not a carrier's own
    "14012345678",
    "1381234567",    # 10 digits
    "138123456789",  # 12 digits
    "1381234567X",
    "２３８１２３４５６７８",  # full-width digits
    "",
    "+8613812345678",
])
def test_malformed_or_unknown_numbers_are_not_valid_mobiles(phone):
    assert not valid_mobile(phone)


def test_the_carrier_reads_the_prefix_only():
    assert carrier_of("1381234") == "CMCC"
    assert carrier_of("138") == "CMCC"
    assert (carrier_of("13"), carrier_of("120"), carrier_of("abc")) == (None, None, None)
    assert carrier_of("٣٨١٢٣٤٥٦٧٨٩") is None  # Arabic-Indic digits are not ASCII
    assert isp_name("12012345678") == ""


@pytest.mark.parametrize("number,ok", [
    ("79927398713", True),          # the textbook example
    ("79927398710", False),
    ("4111111111111111", True),
    ("6225758888888888", False),
    ("0", False),                   # too short
    ("00", True),
    ("6225 7588 8888 8888", False),  # no spaces
    ("６２２５", False),
    ("", False),
])
def test_luhn(number, ok):
    assert luhn_ok(number) is ok


@given(st.text(alphabet="0123456789", min_size=1, max_size=25))
def test_with_luhn_digit_always_completes_a_valid_number(prefix):
    number = with_luhn_digit(prefix)
    assert number[:-1] == prefix and luhn_ok(number)
    assert sum(luhn_ok(prefix + str(d)) for d in range(10)) == 1  # exactly one digit fits


def test_luhn_digit_refuses_what_is_not_digits():
    with pytest.raises(ValueError, match="not a string of digits"):
        luhn_digit("62257a")


@pytest.mark.parametrize("card,bank,card_type,account_bank", [
    ("622575", "招商银行", 2, "招商银行信用卡"),
    ("439225", "招商银行", 2, "招商银行信用卡"),
    ("622588", "招商银行", 1, "招商银行借记卡"),
    ("622202", "中国工商银行", 1, "中国工商银行借记卡"),
    ("621700", "中国建设银行", 1, "中国建设银行借记卡"),
    ("436728", "中国建设银行", 4, "中国建设银行准贷记卡"),
    ("622848", "中国农业银行", 1, "中国农业银行借记卡"),
    ("621661", "中国银行", 1, "中国银行借记卡"),
    ("621799", "中国邮政储蓄银行", 1, "中国邮政储蓄银行借记卡"),
    ("622260", "交通银行", 1, "交通银行借记卡"),
    ("620520", "招商银行", 3, "招商银行预付费卡"),
])
def test_bank_of_names_the_issuer_and_card_type(card, bank, card_type, account_bank):
    entry = bank_of(with_luhn_digit(card + "000000000"))
    assert entry is not None
    assert (entry.bank, entry.card_type, entry.account_bank) == (bank, card_type, account_bank)


def test_bank_of_an_unknown_or_short_prefix_is_none():
    assert bank_of(with_luhn_digit("999999000000000")) is None
    assert bank_of("62257") is None


def test_the_bin_table_is_well_formed():
    assert len({entry.bin for entry in BINS}) == len(BINS)
    for entry in BINS:
        assert isinstance(entry, BinEntry)
        assert len(entry.bin) == 6 and entry.bin.isdigit()
        assert entry.card_type in elements.CARD_TYPES
        assert 16 <= entry.length <= 19
    big = {"中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "招商银行", "交通银行",
           "中国邮政储蓄银行"}
    assert big <= {entry.bank for entry in BINS}
    assert {entry.card_type for entry in BINS} == {1, 2, 3, 4}


@pytest.mark.parametrize("card,ok", [
    (with_luhn_digit("622575000000000"), True),      # 16
    (with_luhn_digit("622202000000000000"), True),   # 19
    (with_luhn_digit("62257500000000"), False),      # 15
    (with_luhn_digit("6222020000000000000"), False),  # 20
    ("6225750000000001", luhn_ok("6225750000000001")),
])
def test_well_formed_cards(card, ok):
    assert well_formed_card(card) is ok
