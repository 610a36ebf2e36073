from __future__ import annotations

from psycopg import Connection

from ..periods import Period, months_between, totals_ranges
from ..sqlfiles import queries


def summary(conn: Connection, *, ledger_id: int, period: Period) -> list[dict]:
    return queries.reports.summary(conn, ledger_id=ledger_id, **totals_ranges(period))


def category_breakdown(conn: Connection, *, ledger_id: int, period: Period) -> list[dict]:
    return queries.reports.category_breakdown(conn, ledger_id=ledger_id, **totals_ranges(period))


def trends(conn: Connection, *, ledger_id: int, period: Period) -> list[dict]:
    months = months_between(period.start, period.end)
    return queries.reports.trends(
        conn,
        ledger_id=ledger_id,
        first_month=months[0],
        last_month=months[-1],
        **totals_ranges(period),
    )


def budget_usage(conn: Connection, *, ledger_id: int, year: int, month: int) -> list[dict]:
    return queries.reports.budget_usage(conn, ledger_id=ledger_id, year=year, month=month)


def cache_state(conn: Connection, *, ledger_id: int) -> dict:
    return queries.reports.cache_state(conn, ledger_id=ledger_id)
