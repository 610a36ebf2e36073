"""Exact money: parsing client amounts to Decimal and formatting them with the currency's digits.

The number of fraction digits comes from ISO 4217 (the `iso4217` package's maintained table):
2 for USD, 0 for JPY, 3 for KWD. No float is ever involved.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

import iso4217

# Largest amount accepted for one transaction or budget (the database holds up to 10^14).
MAX_AMOUNT = Decimal("1000000000000")  # exclusive: one trillion
STORED_QUANTUM = Decimal("0.0001")  # numeric(18,4): no currency has more digits
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # whole string (fullmatch), ASCII digits


class ExponentDecimal(Decimal):
    """A Decimal that was written in exponent form (`1e3`): money refuses these. Whoever parses
    JSON numbers (api/core/jsonio.py) makes them, so the rule can live here."""


class AmountError(ValueError):
    """The value is not an acceptable amount; the message says why, for the client."""


@cache
def minor_units(currency: str) -> int:
    exponent = iso4217.Currency(currency).exponent
    if exponent is None:
        raise ValueError(f"{currency} has no minor units")
    return exponent


@cache
def digits_table() -> dict[str, int]:
    """{code: fraction digits} of every ISO 4217 currency that has minor units."""
    return {c.code: c.exponent for c in iso4217.Currency if c.exponent is not None}


def parse_amount(value: object, currency: str | None, *, allow_zero: bool = False) -> Decimal:
    """A JSON number (int or Decimal) or a decimal string, as an exact positive Decimal with at
    most the currency's fraction digits (currency None: the 4 the database keeps; the caller
    checks the digits once it knows the currency, with check_digits)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise AmountError('Must be a number or a decimal string such as "12.34".')
    if isinstance(value, ExponentDecimal):
        raise AmountError("Exponent notation is not accepted; write the amount out in full.")
    if isinstance(value, str):
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise AmountError('Must be a decimal such as "12.34" (no exponent, sign or spaces).')
        try:
            value = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise AmountError("Not a valid decimal.") from None
    amount = Decimal(value)
    if not amount.is_finite():
        raise AmountError("Must be a finite number.")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise AmountError("Must be greater than zero.")
    if amount >= MAX_AMOUNT:
        raise AmountError(f"Must be less than {MAX_AMOUNT:,}.")
    if currency is not None:
        check_digits(amount, currency)
    elif amount != amount.quantize(STORED_QUANTUM):
        raise AmountError("At most 4 fraction digits.")
    return amount


def check_digits(amount: Decimal, currency: str) -> None:
    """AmountError when `amount` has more fraction digits than the currency allows."""
    digits = minor_units(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        raise AmountError(
            f"{currency} allows at most {digits} fraction digit{'s' if digits != 1 else ''}."
        )


def format_amount(amount: Decimal, currency: str) -> str:
    """Exactly the currency's fraction digits: Decimal('500') in USD is "500.00"."""
    digits = minor_units(currency)
    return str(Decimal(amount).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def percent(part: Decimal, whole: Decimal) -> str | None:
    """part/whole as a percent string with 2 decimals, rounded half-up; None when whole is 0."""
    if whole == 0:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP))
