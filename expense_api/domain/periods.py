"""Calendar dates and reporting periods, independent of the server's time zone.

A transaction's date is a calendar date. A date-time counts as the date written in its own
offset (`2026-02-01T00:30:00+05:30` is 2026-02-01), so nothing is converted. A period is a
month (month + year) or an inclusive from..to range; with neither, the current month in the
ledger's time zone. A part of one means what a person would mean (see `resolve`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
MIN_YEAR, MAX_YEAR = MIN_DATE.year, MAX_DATE.year
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def utc_timestamp(value: datetime) -> str:
    """A timestamp as answers show it: ISO 8601 in UTC with a `Z`, `2026-11-25T10:43:57.123Z`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class DateError(ValueError):
    """The text is not an acceptable calendar date; the message says why."""


def parse_calendar_date(text: object) -> date:
    if not isinstance(text, str):
        raise DateError("Must be a date (YYYY-MM-DD) or an ISO 8601 date-time.")
    text = text.strip()
    try:
        if _DATE_ONLY.match(text):
            value = date.fromisoformat(text)
        elif _DATE_TIME.match(text):
            # The date as written in the value's own offset: no conversion to any other zone.
            value = datetime.fromisoformat(text).date()
        else:
            raise ValueError
    except ValueError:
        raise DateError("Must be a date (YYYY-MM-DD) or an ISO 8601 date-time.") from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise DateError(f"Must be between {MIN_DATE} and {MAX_DATE}.")
    return value


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # inclusive

    @classmethod
    def month_of(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def today_in(timezone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def current_month(timezone: str, now: datetime | None = None) -> Period:
    today = today_in(timezone, now)
    return Period.month_of(today.year, today.month)


def resolve(
    args: dict,
    timezone: str,
    now: datetime | None = None,
    *,
    first_date: Callable[[], date | None] = lambda: None,
) -> Period:
    """The period a validated query asks for (see PeriodQuerySchema), "today" and "this year"
    in the ledger's time zone:

    - `month` + `year`: that month; `month` alone: that month of the current year; `year`
      alone: the whole year (January 1 to December 31);
    - `from` + `to`: that range; `from` alone: from it to today (empty, `to` before `from`, when
      `from` is after today); `to` alone: from the ledger's first transaction's date
      (`first_date()`, asked only then) to it, or from `to` itself when the ledger has no
      transaction on or before `to` (nothing to count before it);
    - none: the current month.
    """
    month, year = args.get("month"), args.get("year")
    start, end = args.get("from_"), args.get("to")
    if month is not None:
        return Period.month_of(year if year is not None else today_in(timezone, now).year, month)
    if year is not None:
        return Period(date(year, 1, 1), date(year, 12, 31))
    if start is not None:
        return Period(start, end if end is not None else today_in(timezone, now))
    if end is not None:
        first = first_date()
        return Period(end if first is None or first > end else first, end)
    return current_month(timezone, now)


def months_between(start: date, end: date) -> list[date]:
    """First days of every month from start's month to end's month, inclusive."""
    months, cursor = [], date(start.year, start.month, 1)
    while cursor <= end:
        months.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month_start(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def totals_ranges(period: Period) -> dict[str, date | None]:
    """Splits a period for the totals tables: the whole months inside it (month_from <= month <
    month_to) and the days before and after them (head, tail; inclusive). Absent parts are None.
    """
    start, end = period.start, period.end
    first_whole = start if start.day == 1 else _next_month_start(start)
    after_last_whole = (
        end + timedelta(days=1) if (end + timedelta(days=1)).day == 1 else _month_start(end)
    )
    parts: dict[str, date | None] = dict.fromkeys(
        ("month_from", "month_to", "head_from", "head_to", "tail_from", "tail_to")
    )
    if first_whole >= after_last_whole:  # no whole month inside: all days
        parts.update(head_from=start, head_to=end)
        return parts
    parts.update(month_from=first_whole, month_to=after_last_whole)
    if start < first_whole:
        parts.update(head_from=start, head_to=first_whole - timedelta(days=1))
    if after_last_whole <= end:
        parts.update(tail_from=after_last_whole, tail_to=end)
    return parts


def last_months(count: int, timezone: str, now: datetime | None = None) -> Period:
    """The `count` months up to and including the current one in the user's time zone."""
    current = current_month(timezone, now)
    first = current.start
    for _ in range(count - 1):
        first = _month_start(first - timedelta(days=1))
    return Period(first, current.end)
