"""Amounts as banks write them in text files: `-$7,971.39`, `1.234,56 €`, `(12.50)`, `12,50-`,
`EUR -5.00`, `1'234.50`. The decimal mark is decided over the whole file (`vote` per value),
then every value is read with it (`parse`); the other mark, spaces and apostrophes are
thousands separators, and a currency symbol or ISO code around the number is dropped (a code is
reported, a symbol is not: `$` alone does not say which dollar).
"""

from __future__ import annotations

import re
from decimal import Decimal

# Sign, currency (symbol or code) and the number, in any of the orders banks use.
_SYMBOLS = "$€£¥₹₽₩₪₺₴₫฿"
_CURRENCY = rf"(?:[A-Z]{{3}}|[{_SYMBOLS}]|[A-Z]{{1,2}}\$|Fr\.|kr\.?|zł|Kč)"
_SHAPE = re.compile(
    rf"""\s*(?P<open>\()?\s*(?P<sign1>[-+\u2212])?\s*(?P<cur1>{_CURRENCY})?\s*(?P<sign2>[-+\u2212])?\s*
    (?P<number>[0-9][0-9.,' \u00a0\u202f]*)
    \s*(?P<cur2>{_CURRENCY})?\s*(?P<sign3>[-+\u2212])?\s*(?P<close>\))?\s*""",
    re.VERBOSE,
)
MAX_TEXT = 64  # characters: longer is not an amount (and the pattern's work stays small)
MAX_DIGITS = 15  # integer digits: far above any transaction (the service caps at 10^12)


def _number(value: str) -> tuple[str, str | None, bool] | None:
    """(the bare number with its marks, the ISO code if any, negative?) or None."""
    if len(value) > MAX_TEXT:
        return None
    match = _SHAPE.fullmatch(value)
    if not match:
        return None
    signs = [match[name] for name in ("sign1", "sign2", "sign3") if match[name]]
    parens = bool(match["open"]) + bool(match["close"])
    if len(signs) > 1 or parens == 1 or (parens and signs):
        return None
    number = re.sub(r"[ '\u00a0\u202f]", "", match["number"])
    codes = [c for c in (match["cur1"], match["cur2"]) if c and re.fullmatch("[A-Z]{3}", c)]
    code = codes[0] if codes else None
    negative = parens == 2 or (signs and signs[0] in "-\u2212")
    return number, code, bool(negative)


def vote(value: str) -> str | None:
    """Which decimal mark this value shows: "." or ",", "?" when it could be either (`1,234`),
    None when it shows none (`12`) or is not an amount at all."""
    parsed = _number(value)
    if parsed is None:
        return None
    number = parsed[0]
    dots, commas = number.count("."), number.count(",")
    if dots and commas:
        return "." if number.rfind(".") > number.rfind(",") else ","
    if not dots and not commas:
        return None
    mark = "." if dots else ","
    if dots + commas > 1:  # 1,234,567 or 1.234.567: the mark repeated is the thousands one
        return "," if mark == "." else "."
    fraction = number.rsplit(mark, 1)[1]
    if len(fraction) == 3 and not number.startswith(("0" + mark, mark)):
        return "?"
    return mark


def parse(value: str, decimal: str) -> tuple[Decimal, str | None] | None:
    """The signed amount and the ISO code written with it, or None when unreadable."""
    parsed = _number(value)
    if parsed is None:
        return None
    number, code, negative = parsed
    thousands = "," if decimal == "." else "."
    whole, _, fraction = number.partition(decimal)
    if decimal in fraction or thousands in fraction or not whole:
        return None
    groups = whole.split(thousands)
    if len(groups) > 1 and (
        not 1 <= len(groups[0]) <= 3
        or groups[0].startswith("0")
        or any(len(group) != 3 for group in groups[1:])
    ):
        return None
    digits = "".join(groups)
    if not digits.isdigit() or len(digits.lstrip("0")) > MAX_DIGITS:
        return None
    if fraction and (not fraction.isdigit() or len(fraction) > 8):
        return None
    amount = Decimal(f"{digits}.{fraction}" if fraction else digits)
    return (-amount if negative else amount), code
