"""What the OFX, CAMT.053 and MT940 parsers share: reading a bank's decimal, a currency code,
and the rule that makes a read row `invalid` (no date, no amount, zero, an unknown currency)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from decimal import Decimal, InvalidOperation

import iso4217

from expense_api.domain.bankfiles import Row

# A signed decimal with either mark (`-12.50`, `-12,50`, `.5`); no thousands separator, no
# symbol, no exponent. A file's amount that is not this is not guessed at: the row is invalid.
_DECIMAL = re.compile(r"([+-]?)(\d{0,15})(?:[.,](\d{0,12}))?")
_HAS_SYMBOL = re.compile(r"[^\d\s.,+-]")


def decimal_or_reason(text: str | None) -> Decimal | str:
    """The amount, or why it cannot be read (a str, the row's `invalid` reason)."""
    if text is None or not text.strip():
        return "no amount"
    text = text.strip()
    shown = text[:40]
    match = _DECIMAL.fullmatch(text)
    if match is None or not (match.group(2) or match.group(3)):
        if _HAS_SYMBOL.search(text):
            return f"amount with a currency symbol or other text refused: {shown!r}"
        return f"amount not a plain decimal: {shown!r}"
    sign, whole, fraction = match.groups()
    try:
        return Decimal(f"{sign}{whole or '0'}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return f"amount not a plain decimal: {shown!r}"


def currency_or_none(text: str | None) -> str | None:
    code = (text or "").strip().upper()
    return code or None


def checked(row: Row) -> Row:
    """The row, with `invalid` set when it cannot be imported (the first reason found)."""
    if row.invalid is not None:
        return row
    reason = None
    if row.date is None:
        reason = "no date"
    elif row.amount is None:
        reason = "no amount"
    elif row.amount == 0:
        reason = "zero amount"
    elif row.currency is not None and not known_currency(row.currency):
        reason = f"unknown currency {row.currency[:10]!r}"
    if reason is None:
        return row
    return dataclasses.replace(row, invalid=reason)


def known_currency(code: str) -> bool:
    if not re.fullmatch(r"[A-Z]{3}", code):
        return False
    try:
        iso4217.Currency(code)
    except ValueError:
        return False
    return True


def date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
