"""Calendar dates: the date as written; the server's time zone never matters."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import pytest

from expense_api.domain.periods import (
    DateError,
    Period,
    current_month,
    parse_calendar_date,
    resolve,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-01", date(2026, 2, 1)),
        ("2026-02-01T00:30:00+05:30", date(2026, 2, 1)),
        ("2026-01-31T23:30:00-08:00", date(2026, 1, 31)),
        ("2026-02-01T00:00:00Z", date(2026, 2, 1)),
        ("2026-02-01T23:59:59.999+14:00", date(2026, 2, 1)),
        ("2026-02-01T10:00", date(2026, 2, 1)),
        ("2024-02-29", date(2024, 2, 29)),
    ],
)
def test_the_date_is_the_one_written(text, expected):
    assert parse_calendar_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30",
        "2025-02-29",
        "26-02-01",
        "2026/02/01",
        "yesterday",
        "",
        "2026-02-01T25:00",
        "1899-12-31",
        "3000-01-01",
        "20260201",
        20260201,
        None,
    ],
)
def test_refused_dates(text):
    with pytest.raises(DateError):
        parse_calendar_date(text)


def test_current_month_is_the_users_month():
    just_before_midnight_utc = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    assert current_month("UTC", just_before_midnight_utc) == Period.month_of(2026, 1)
    assert current_month("Asia/Kolkata", just_before_midnight_utc) == Period.month_of(2026, 2)
    assert current_month("America/Los_Angeles", just_before_midnight_utc).start == date(2026, 1, 1)


def test_resolve_periods():
    assert resolve({"month": 2, "year": 2024}, "UTC") == Period(date(2024, 2, 1), date(2024, 2, 29))
    explicit = resolve({"from_": date(2026, 1, 5), "to": date(2026, 1, 5)}, "UTC")
    assert explicit == Period(date(2026, 1, 5), date(2026, 1, 5))


def test_parsing_does_not_depend_on_the_process_time_zone():
    code = (
        "from expense_api.domain.periods import parse_calendar_date as p;"
        "print(p('2026-02-01T00:30:00+05:30'), p('2026-01-31T23:30:00-08:00'))"
    )
    outputs = set()
    for zone in ("UTC", "Pacific/Kiritimati", "America/Adak"):
        env = {**os.environ, "TZ": zone}
        outputs.add(subprocess.check_output([sys.executable, "-c", code], env=env, text=True))
    assert outputs == {"2026-02-01 2026-01-31\n"}


def test_in_process_time_zone_change_does_not_matter(monkeypatch):
    before = parse_calendar_date("2026-02-01T00:30:00+05:30")
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        assert parse_calendar_date("2026-02-01T00:30:00+05:30") == before
    finally:
        monkeypatch.undo()
        time.tzset()
