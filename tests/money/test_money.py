"""Money: exact decimals in, the currency's exact digits out, no float anywhere."""

from __future__ import annotations

from decimal import Decimal

import pytest

from expense_api.api.core.jsonio import loads
from expense_api.domain.money import AmountError, format_amount, minor_units, parse_amount, percent


@pytest.mark.parametrize(
    ("currency", "digits"), [("USD", 2), ("EUR", 2), ("INR", 2), ("JPY", 0), ("KWD", 3)]
)
def test_minor_units_come_from_iso_4217(currency, digits):
    assert minor_units(currency) == digits


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("500", "500"),
        ('"500.5"', "500.5"),
        ('"12.34"', "12.34"),
        ("12.34", "12.34"),
        ("0.01", "0.01"),
        ('"0.10"', "0.10"),
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_accepted_amounts_in_usd(raw, expected):
    assert parse_amount(loads(raw), "USD") == Decimal(expected)


@pytest.mark.parametrize(
    "raw",
    [
        "0",
        '"0"',
        "0.00",
        "-1",
        '"-1.00"',
        "12.345",
        '"12.345"',
        "1e3",
        "1E3",
        "1.5e1",
        '"1e3"',
        '"NaN"',
        '"Infinity"',
        '"abc"',
        '""',
        '" "',
        "true",
        "null",
        "[1]",
        '"1,000"',
        '"+5"',
        '"0x10"',
        "1000000000000",
        '"99999999999999999999"',
        '" 12.34"',  # the message says "no spaces": none before, after or inside
        '"12.34 "',
        '"12.34\\n"',
        '"\\t12.34"',
        '"12. 34"',
        '"\\u0661\\u0662"',  # Arabic-Indic digits: int() reads them, money does not
    ],
)
def test_refused_amounts_in_usd(raw):
    with pytest.raises(AmountError):
        parse_amount(loads(raw), "USD")


def test_fraction_digits_follow_the_currency():
    assert parse_amount(Decimal("12.345"), "KWD") == Decimal("12.345")
    with pytest.raises(AmountError, match="at most 0"):
        parse_amount(Decimal("1.5"), "JPY")
    assert parse_amount(500, "JPY") == 500


def test_formatting_uses_exactly_the_currencys_digits():
    assert format_amount(Decimal("500"), "USD") == "500.00"
    assert format_amount(Decimal("500.5000"), "USD") == "500.50"
    assert format_amount(Decimal("1500.0000"), "JPY") == "1500"
    assert format_amount(Decimal("1.5"), "KWD") == "1.500"


def test_sums_stay_exact():
    total = sum((parse_amount(loads("0.1"), "USD") for _ in range(10)), Decimal(0))
    assert total == Decimal("1.0")


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        ("1", "3", "33.33"),
        ("2", "3", "66.67"),
        ("1", "8", "12.50"),
        ("0.125", "1", "12.50"),
        ("0.00125", "1", "0.13"),
        ("5", "0", None),
        ("150", "100", "150.00"),
    ],
)
def test_percent_rounds_half_up(part, whole, expected):
    assert percent(Decimal(part), Decimal(whole)) == expected
