"""Dates as banks write them in text files, and the one order (year-month-day, day-month-year,
month-day-year) a file uses, decided over all its dates (`Votes`): `05/03/2024` alone could be
either of two days, a file with `25/03/2024` in it cannot. A date with dots is day-first
(`05.03.2024` is the 5th of March): nobody writes month-first with dots.

The contract's `dateFormat` tokens: `DD`, `MM`, `YYYY`, `YY` and any separator, e.g.
`DD.MM.YYYY`; a day or month of one digit is read too (`5.3.2024`), and whatever follows the
date (a time of day) is ignored. A two-digit year is 2000-2069 for 00-69, 1970-1999 for 70-99.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache, lru_cache

ORDERS = ("YMD", "DMY", "MDY")
FORMAT_OF = {"YMD": "YYYY-MM-DD", "DMY": "DD.MM.YYYY", "MDY": "MM/DD/YYYY"}
_SHAPE = re.compile(r"\s*(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:$|[\sT,;])|\s*(\d{8})(?:$|[\sT])")
_TOKEN = re.compile(r"YYYY|YY|MM|DD")


def year(digits: str) -> int:
    value = int(digits)
    if len(digits) == 2:
        return value + (2000 if value < 70 else 1900)
    return value


def _make(y: str, m: str, d: str) -> date | None:
    if len(y) not in (2, 4):
        return None
    try:
        return date(year(y), int(m), int(d))
    except ValueError:
        return None


def candidates(value: str) -> dict[str, date]:
    """The date this value is in each order that reads it."""
    return _candidates(value[:64])


@lru_cache(maxsize=4096)  # a file's dates repeat: a year has 366 of them
def _candidates(value: str) -> dict[str, date]:
    match = _SHAPE.match(value)
    if not match:
        return {}
    if match[5]:
        compact = match[5]
        found = _make(compact[:4], compact[4:6], compact[6:])
        return {"YMD": found} if found else {}
    a, b, c = match[1], match[3], match[4]
    if len(a) == 4:
        found = _make(a, b, c)
        return {"YMD": found} if found else {}
    if len(a) > 2:
        return {}
    readings = {"DMY": _make(c, b, a), "MDY": _make(c, a, b) if match[2] != "." else None}
    return {order: found for order, found in readings.items() if found}


def read(value: str, order: str) -> date | None:
    return candidates(value).get(order)


@cache
def compile_format(date_format: str) -> re.Pattern[str]:
    """A client's `dateFormat` as a pattern; ValueError when it lacks a day, month or year."""
    tokens = _TOKEN.findall(date_format)
    if sorted(set(tokens)) != sorted(tokens) or not (
        "DD" in tokens and "MM" in tokens and ("YYYY" in tokens or "YY" in tokens)
    ):
        raise ValueError(f"dateFormat {date_format!r} needs DD, MM and YYYY or YY once each")
    parts, end = [], 0
    separated = bool(_TOKEN.sub("", date_format))  # without separators: fixed widths
    for match in _TOKEN.finditer(date_format):
        parts.append(re.escape(date_format[end : match.start()]))
        token = match[0]
        width = {"YYYY": r"\d{4}", "YY": r"\d{2}"}.get(token, r"\d{1,2}" if separated else r"\d{2}")
        parts.append(f"(?P<{token[0]}>{width})")
        end = match.end()
    parts.append(re.escape(date_format[end:]))
    return re.compile(r"\s*" + "".join(parts) + r"(?!\d)")


def read_format(value: str, date_format: str) -> date | None:
    match = compile_format(date_format).match(value[:64])
    if not match:
        return None
    return _make(match["Y"], match["M"], match["D"])


class Votes:
    """Counts, over a file's date values, which orders read them and where two orders read the
    same value as different days."""

    def __init__(self) -> None:
        self.read = dict.fromkeys(ORDERS, 0)
        self.disagree = 0
        self.seen = 0

    def add(self, value: str) -> None:
        self.seen += 1
        found = candidates(value)
        for order in found:
            self.read[order] += 1
        if len(set(found.values())) > 1:
            self.disagree += 1

    def decide(self) -> str | None:
        """The order that reads the most values; None when none reads any. ValueError when two
        orders read as many and tell different days."""
        best = max(self.read.values())
        if best == 0:
            return None
        winners = [order for order in ORDERS if self.read[order] == best]
        if len(winners) > 1 and self.disagree:
            raise ValueError(" or ".join(FORMAT_OF[order] for order in winners))
        return winners[0]
