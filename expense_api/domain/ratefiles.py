"""Exchange-rate files in: the European Central Bank's `eurofxref-hist.csv` layout, read and
converted to a ledger's rates, with no database and no HTTP (../shared/API.md "Several
currencies", POST /api/ledgers/{id}/rates/import).

The layout: a header `Date,USD,JPY,...` (one column per ISO 4217 code, a trailing empty column
allowed), then one line per day, `2026-03-02,1.0842,162.47,...`, each value the units of that
currency per 1 EUR, `N/A` or empty where the ECB published none. UTF-8 with or without a BOM,
CRLF or LF line ends, days in any order.

`read(data)` answers the file's values or raises `UnreadableFile` (bankfiles' error: why, and
the 1-based line) for anything else, hostile files included: never another exception.
`convert(file, ledger_currency)` answers the ledger's rates (ledger-currency units per unit):
for an EUR ledger 1 / v(X); for a ledger currency L the file has, v(L) / v(X) for every other
X, and v(L) for EUR; each quotient exact to 12 significant digits, half up, in one rounding
(currencies.divide). A day without v(L) gives no rates. A ledger currency the file lacks is
`MissingCurrency`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import NamedTuple

import iso4217

from .bankfiles import UnreadableFile
from .currencies import MAX_RATE, RateError, divide, parse_rate
from .periods import MAX_DATE, MIN_DATE

MAX_BYTES = 5 * 1024 * 1024  # the upload's limit: the ECB's whole history is about 1.6 MB
MAX_LINE = 4096  # characters in one line (the ECB's widest is about 450)
MAX_COLUMNS = 200  # currency columns (ISO 4217 has fewer than 180 codes)
MAX_DAYS = 40_000  # lines of values (the ECB's history since 1999 has about 7,000)
MAX_VALUES = 300_000  # values in the file (the ECB's history has about 200,000)
BASE = "EUR"

# Withdrawn ISO 4217 codes (list three) whose columns the ECB's history still carries: read and
# skipped, since no ledger or transaction can be in them any more.
WITHDRAWN = frozenset({"BGN", "CYP", "EEK", "HRK", "LTL", "LVL", "MTL", "ROL", "SIT", "SKK", "TRL"})
_CODE = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LINE_END = re.compile(r"\r\n|\r|\n")
_NO_VALUE = {"", "N/A"}
_ONE = Decimal(1)
_DAY = itemgetter(1)


def known_currencies() -> frozenset[str]:
    """The ISO 4217 codes a rate may be of: those with a defined number of minor units (the
    codes a ledger or a transaction may be in; not funds or precious metals)."""
    return _known()


@cache
def _known() -> frozenset[str]:
    return frozenset(code.code for code in iso4217.Currency if code.exponent is not None)


class MissingCurrency(ValueError):
    """The ledger's currency is not a column of the file."""


@dataclass(frozen=True)
class RateFile:
    """What a file holds: its currency columns (file order, withdrawn ones left out), each day's
    values by currency (units per 1 EUR), and the withdrawn columns it skipped."""

    currencies: tuple[str, ...]
    days: dict[date, dict[str, Decimal]]
    skipped: tuple[str, ...] = ()
    lines: dict[date, int] | None = None  # each day's line, for errors of the conversion


class Rate(NamedTuple):
    """A ledger's rate (a tuple: what repositories/rates.upsert takes)."""

    currency: str
    day: date
    rate: Decimal


def read(data: bytes, known: frozenset[str]) -> RateFile:
    """The file's values; `known` are the ISO 4217 codes a column may name (the withdrawn ones
    of WITHDRAWN are skipped)."""
    text = _text(data)
    lines = _LINE_END.split(text)
    header_at = next((n for n, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise UnreadableFile("The file is empty: a header line `Date,USD,...` comes first.", 1)
    columns, skipped = _header(lines[header_at], header_at + 1, known)
    days: dict[date, dict[str, Decimal]] = {}
    where: dict[date, int] = {}
    values = 0
    parsed: dict[str, Decimal] = {}  # each text read once: a history repeats many values
    for index in range(header_at + 1, len(lines)):
        line, number = lines[index], index + 1
        if not line.strip():
            continue
        if len(days) >= MAX_DAYS:
            raise UnreadableFile(f"More than {MAX_DAYS:,} days of rates in one file.", number)
        cells = _cells(line, number)
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if len(cells) > len(columns) + 1:
            raise UnreadableFile(
                f"{len(cells) - 1} values, but the header names {len(columns)} currencies.",
                number,
            )
        day = _day(cells[0], number)
        if day in days:
            raise UnreadableFile(f"{day} again (first at line {where[day]}).", number)
        row = {}
        for code, cell in zip(columns, cells[1:], strict=False):
            if code is None:  # a withdrawn currency's column
                continue
            value = parsed.get(cell)
            if value is None:
                value = _value(cell, code, number)
                if value is None:
                    continue
                parsed[cell] = value
            row[code] = value
        values += len(row)
        if values > MAX_VALUES:
            raise UnreadableFile(f"More than {MAX_VALUES:,} rates in one file.", number)
        days[day], where[day] = row, number
    currencies = tuple(code for code in columns if code is not None)
    return RateFile(currencies, days, skipped, where)


def convert(file: RateFile, ledger_currency: str) -> list[Rate]:
    """The ledger's rates of the file, ordered by currency then day (see the module's text)."""
    if ledger_currency != BASE and ledger_currency not in file.currencies:
        raise MissingCurrency(f"The file has no {ledger_currency} column.")
    by_currency: dict[str, list[Rate]] = {}  # each in file order (an error names the first)
    for day, values in file.days.items():
        if ledger_currency == BASE:
            numerator = _ONE
        elif ledger_currency in values:
            numerator = values[ledger_currency]
            by_currency.setdefault(BASE, []).append(Rate(BASE, day, numerator))
        else:
            continue  # no value of the ledger's currency that day: no rates
        for code, value in values.items():
            if code == ledger_currency:
                continue
            rate = divide(numerator, value)
            if rate >= MAX_RATE:
                line = (file.lines or {}).get(day)
                raise UnreadableFile(
                    f"{code} {value} gives a rate of {MAX_RATE:,} {ledger_currency} or more.",
                    line,
                )
            by_currency.setdefault(code, []).append(Rate(code, day, rate))
    # By day within each currency: a file's days run one way (the ECB's newest first), which
    # sorts in one pass; no sort of the whole list.
    return [rate for code in sorted(by_currency) for rate in sorted(by_currency[code], key=_DAY)]


def _text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UnreadableFile(
            "Not UTF-8 text (an ECB rates file is plain ASCII): is it a CSV?", line
        ) from None
    bad = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if bad:
        line = len(_LINE_END.findall(text, 0, bad.start())) + 1
        raise UnreadableFile("A control character: not a CSV text file.", line)
    return text


def _cells(line: str, number: int) -> list[str]:
    if len(line) > MAX_LINE:
        raise UnreadableFile(f"The line is longer than {MAX_LINE:,} characters.", number)
    try:
        [cells] = list(csv.reader([line], strict=True))
    except (csv.Error, ValueError):
        raise UnreadableFile("Not a line of comma-separated values.", number) from None
    return [cell.strip() for cell in cells]


def _header(
    line: str, number: int, known: frozenset[str]
) -> tuple[list[str | None], tuple[str, ...]]:
    """The currency of each value column (None: a withdrawn one, skipped), and the withdrawn
    ones."""
    cells = _cells(line, number)
    if cells[0].lower() != "date":
        raise UnreadableFile(
            "The first line is the header: `Date`, then one column per currency "
            "(the ECB's eurofxref-hist.csv layout).",
            number,
        )
    codes = cells[1:]
    while codes and not codes[-1]:
        codes.pop()  # a trailing empty column
    if not codes:
        raise UnreadableFile("The header names no currency.", number)
    if len(codes) > MAX_COLUMNS:
        raise UnreadableFile(f"More than {MAX_COLUMNS} currency columns.", number)
    columns: list[str | None] = []
    seen: set[str] = set()
    for position, code in enumerate(codes, start=2):
        shown = code[:20]
        if code in seen:
            raise UnreadableFile(f"The column {shown} appears twice.", number)
        seen.add(code)
        if code == BASE:
            raise UnreadableFile(
                "An EUR column: the file's values are per 1 EUR, so it has none.", number
            )
        if code in WITHDRAWN:
            columns.append(None)
        elif _CODE.fullmatch(code) and code in known:
            columns.append(code)
        else:
            raise UnreadableFile(
                f"Column {position} ({shown!r}) is not an ISO 4217 currency code.", number
            )
    return columns, tuple(code for code in codes if code in WITHDRAWN)


def _day(cell: str, number: int) -> date:
    try:
        if not _DATE.fullmatch(cell):
            raise ValueError
        day = date.fromisoformat(cell)
    except ValueError:
        raise UnreadableFile(f"{cell[:20]!r} is not a date (YYYY-MM-DD).", number) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise UnreadableFile(f"{day} is outside the years 1900-2999.", number)
    return day


def _value(cell: str, code: str, number: int) -> Decimal | None:
    if cell in _NO_VALUE:
        return None
    if "e" in cell.lower():
        raise UnreadableFile(f"{code} {cell[:20]!r}: write the value without an exponent.", number)
    if cell.startswith("-") or cell.startswith("+"):
        raise UnreadableFile(f"{code} {cell[:20]!r}: a value is greater than zero.", number)
    try:
        return parse_rate(cell)
    except RateError as error:
        raise UnreadableFile(f"{code} {cell[:20]!r}: {error}", number) from None
