"""The reports' GROUP BY rows (sql/reports.sql): of one ledger, or of many ledgers in one
statement (each with its own period; rows grouped by ledger id, every ledger given present)."""

from __future__ import annotations

from datetime import date

from psycopg import Connection

from ..db.sqlfiles import queries
from ..domain.periods import Period, totals_ranges
from . import by_ledger

_RANGES = ("month_from", "month_to", "head_from", "head_to", "tail_from", "tail_to")


def summary(conn: Connection, *, ledger_id: int, period: Period) -> list[dict]:
    return queries.reports.summary(conn, ledger_id=ledger_id, **totals_ranges(period))


def category_breakdown(conn: Connection, *, ledger_id: int, period: Period) -> list[dict]:
    return queries.reports.category_breakdown(conn, ledger_id=ledger_id, **totals_ranges(period))


def _month_span(period: Period) -> tuple[date, date]:
    """The first days of the period's first and last months; a period that runs backwards (a
    `from` after today with no `to`) gives a last month before the first: no rows."""
    return period.start.replace(day=1), period.end.replace(day=1)


def trends(conn: Connection, *, ledger_id: int, period: Period) -> list[dict]:
    first_month, last_month = _month_span(period)
    return queries.reports.trends(
        conn,
        ledger_id=ledger_id,
        first_month=first_month,
        last_month=last_month,
        **totals_ranges(period),
    )


def budget_usage(conn: Connection, *, ledger_id: int, year: int, month: int) -> list[dict]:
    return queries.reports.budget_usage(conn, ledger_id=ledger_id, year=year, month=month)


def _ranges(periods: dict[int, Period]) -> dict[str, list]:
    """Each ledger's period as the many-ledger queries' arrays (ledger_ids, month_froms, ...)."""
    ranges = [totals_ranges(period) for period in periods.values()]
    arrays = {f"{name}s": [r[name] for r in ranges] for name in _RANGES}
    return {"ledger_ids": list(periods), **arrays}


def summary_for_ledgers(conn: Connection, *, periods: dict[int, Period]) -> dict[int, list[dict]]:
    rows = queries.reports.summary_for_ledgers(conn, **_ranges(periods))
    return by_ledger(rows, list(periods))


def category_breakdown_for_ledgers(
    conn: Connection, *, periods: dict[int, Period]
) -> dict[int, list[dict]]:
    rows = queries.reports.category_breakdown_for_ledgers(conn, **_ranges(periods))
    return by_ledger(rows, list(periods))


def trends_for_ledgers(conn: Connection, *, periods: dict[int, Period]) -> dict[int, list[dict]]:
    spans = [_month_span(period) for period in periods.values()]
    rows = queries.reports.trends_for_ledgers(
        conn,
        first_months=[first for first, _ in spans],
        last_months=[last for _, last in spans],
        **_ranges(periods),
    )
    return by_ledger(rows, list(periods))


def budget_usage_for_ledgers(
    conn: Connection, *, months: dict[int, tuple[int, int]]
) -> dict[int, list[dict]]:
    """months: {ledger_id: (year, month)}."""
    rows = queries.reports.budget_usage_for_ledgers(
        conn,
        ledger_ids=list(months),
        years=[year for year, _ in months.values()],
        months=[month for _, month in months.values()],
    )
    return by_ledger(rows, list(months))


def cache_states(conn: Connection, *, ledger_ids: list[int]) -> dict[int, dict]:
    """{ledger_id: {generation, wrote, replica}} for each ledger given, in one statement."""
    rows = queries.reports.cache_states(conn, ledger_ids=ledger_ids)
    return {row.pop("ledger_id"): row for row in rows}
