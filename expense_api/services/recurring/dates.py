"""A recurring rule's dates: RFC 5545 recurrence by python-dateutil's `rrule`, with our
month-end rule.

RFC 5545 skips a month that lacks the day (a rule on the 31st has no date in April). Ours gives
the month's last day instead: a monthly rule on day 29, 30 or 31 (by `byMonthDay` or by its
start date) falls on the 30th of 30-day months and the 28th/29th of February, and a yearly rule
started on 29 February falls on the 28th in common years. That is RFC 5545's own idiom: "the
last of days 28..N that the month has" (BYMONTHDAY=28,...,N;BYSETPOS=-1). `byMonthDay` -1 is
the last day of every month.

Dates only, no clock: whoever asks passes the date after which they want the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import islice

from dateutil import rrule

WEEKDAYS = {
    "MO": rrule.MO,
    "TU": rrule.TU,
    "WE": rrule.WE,
    "TH": rrule.TH,
    "FR": rrule.FR,
    "SA": rrule.SA,
    "SU": rrule.SU,
}
FREQUENCIES = {
    "daily": rrule.DAILY,
    "weekly": rrule.WEEKLY,
    "monthly": rrule.MONTHLY,
    "yearly": rrule.YEARLY,
}
SHORTEST_MONTH = 28


def _day_of_month(day: int) -> dict:
    if day == -1 or day <= SHORTEST_MONTH:
        return {"bymonthday": day}
    return {"bymonthday": tuple(range(SHORTEST_MONTH, day + 1)), "bysetpos": -1}


def _rule(schedule: dict) -> rrule.rrule:
    """The rule's dates from its start date to its end date (not bounded by its count: that
    counts the occurrences the rule has handled, see `next_after`)."""
    start = schedule["start_date"]
    frequency = schedule["frequency"]
    options: dict = {}
    if frequency == "weekly":
        weekdays = schedule.get("by_weekday") or [list(WEEKDAYS)[start.weekday()]]
        options["byweekday"] = [WEEKDAYS[name] for name in weekdays]
    elif frequency == "monthly":
        options.update(_day_of_month(schedule.get("by_month_day") or start.day))
    elif frequency == "yearly":
        options.update(bymonth=start.month, **_day_of_month(start.day))
    end = schedule.get("end_date")
    return rrule.rrule(
        FREQUENCIES[frequency],
        dtstart=datetime.combine(start, time()),
        interval=schedule.get("repeat_interval") or 1,
        until=datetime.combine(end, time()) if end else None,
        cache=False,
        **options,
    )


def dates_after(schedule: dict, after: date | None) -> Iterator[date]:
    """The schedule's dates after `after` (from its start with None), oldest first, up to its
    end date and within what is left of its count."""
    left = schedule.get("max_occurrences")
    if left is not None:
        left -= schedule.get("occurrence_count") or 0
        if left <= 0:
            return iter(())
    rule = _rule(schedule)
    start = rule if after is None else rule.xafter(datetime.combine(after, time()), inc=False)
    days = (moment.date() for moment in start)
    return islice(days, left) if left is not None else days


def next_after(schedule: dict, after: date | None) -> date | None:
    """The first date `dates_after` gives, or None when the schedule has no more."""
    return next(dates_after(schedule, after), None)
