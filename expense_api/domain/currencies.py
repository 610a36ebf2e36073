"""Exact conversion between a transaction's currency and its ledger's (../shared/API.md,
"Several currencies").

A rate is ledger-currency units per one unit of the other currency: a positive decimal of at
most 12 significant digits, never a float. A converted amount is the exact product, rounded
half up once, to the ledger currency's digits; a split's lines get shares of that converted
amount by the largest-remainder method, so they sum to it exactly.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext

from .money import MAX_AMOUNT, ExponentDecimal, minor_units

MAX_RATE_DIGITS = 12  # significant digits a rate may have
# Rates above this are refused: no real pair is near it, and it keeps products far inside the
# database's numeric(18,4).
MAX_RATE = Decimal("1000000000")
_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")  # whole string, ASCII digits, no sign
# Products of a 16-digit amount and a 12-digit rate are exact well inside this.
_EXACT = Context(prec=60)
# A rate derived from others: 12 significant digits, half up (one context, shared: its methods
# round as a `localcontext` would, without making one per value; nobody reads its flags).
_RATE = Context(prec=MAX_RATE_DIGITS, rounding=ROUND_HALF_UP)


class RateError(ValueError):
    """The value is not an acceptable rate; the message says why, for the client."""


class ConversionError(ValueError):
    """The converted amount is out of range (zero, or too large); the message says why."""


def parse_rate(value: object) -> Decimal:
    """A JSON number (int or Decimal) or a decimal string, as an exact positive rate of at
    most 12 significant digits (trailing zeros of the fraction not counted)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise RateError('Must be a number or a decimal string such as "1.0842".')
    if isinstance(value, ExponentDecimal):
        raise RateError("Exponent notation is not accepted; write the rate out in full.")
    if isinstance(value, str):
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise RateError('Must be a decimal such as "1.0842" (no exponent, sign or spaces).')
        value = Decimal(value)
    rate = Decimal(value)
    if not rate.is_finite() or rate <= 0:
        raise RateError("Must be greater than zero.")
    if rate >= MAX_RATE:
        raise RateError(f"Must be less than {MAX_RATE:,}.")
    if significant_digits(rate) > MAX_RATE_DIGITS:
        raise RateError(f"At most {MAX_RATE_DIGITS} significant digits.")
    return rate


def significant_digits(value: Decimal) -> int:
    """Digits from the first non-zero one to the last non-zero one (1.50 has 2)."""
    digits = value.normalize().as_tuple().digits
    return len(digits) if any(digits) else 0


def rate_text(rate: Decimal) -> str:
    """A rate as the API shows it: plain decimal notation, no trailing zeros ("0.92", "150")."""
    text = format(Decimal(rate).normalize(), "f")
    return text


def round_rate(value: Decimal) -> Decimal:
    """An exact quotient kept to 12 significant digits, half up (rates derived from a file)."""
    return _RATE.plus(Decimal(value))


def divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator / denominator to 12 significant digits, half up, in one rounding."""
    return _RATE.divide(Decimal(numerator), Decimal(denominator))


def convert(amount: Decimal, rate: Decimal, ledger_currency: str) -> Decimal:
    """amount x rate in the ledger's currency, rounded half up to its digits; ConversionError
    when that is zero or not below the largest amount."""
    quantum = Decimal(1).scaleb(-minor_units(ledger_currency))
    with localcontext(_EXACT):
        converted = (Decimal(amount) * Decimal(rate)).quantize(quantum, rounding=ROUND_HALF_UP)
    if converted <= 0:
        raise ConversionError(
            f"Converts to zero in {ledger_currency} at this rate; record it in "
            f"{ledger_currency} instead."
        )
    if converted >= MAX_AMOUNT:
        raise ConversionError(f"Converts to {MAX_AMOUNT:,} {ledger_currency} or more.")
    return converted


def allocate(total: Decimal, parts: list[Decimal], currency: str) -> list[Decimal]:
    """`total` (in `currency`, with its digits) shared in proportion to `parts` (positive),
    each share a whole number of the currency's minor units, summing exactly to `total`: every
    part gets the floor of its exact share, and the units left over go one each to the parts
    with the largest remainders (the earlier part first on a tie)."""
    if not parts:
        return []
    quantum = Decimal(1).scaleb(-minor_units(currency))
    units = int((Decimal(total) / quantum).to_integral_value())
    whole = sum(parts, Decimal(0))
    if whole <= 0 or any(part <= 0 for part in parts):
        raise ValueError("parts must be positive")
    with localcontext(_EXACT):
        # Exact shares in minor units as fractions part*units/whole: compare remainders as
        # integers (scaled by the common denominator) so no rounding decides anything.
        scale = max(-part.as_tuple().exponent for part in [*parts, whole] if part) or 0
        factor = Decimal(10) ** max(scale, 0)
        weights = [int(part * factor) for part in parts]
        weight_sum = sum(weights)
    floors, remainders = [], []
    for weight in weights:
        share, remainder = divmod(weight * units, weight_sum)
        floors.append(share)
        remainders.append(remainder)
    left = units - sum(floors)
    order = sorted(range(len(parts)), key=lambda index: (-remainders[index], index))
    for index in order[:left]:
        floors[index] += 1
    return [(Decimal(share) * quantum).quantize(quantum, rounding=ROUND_FLOOR) for share in floors]
