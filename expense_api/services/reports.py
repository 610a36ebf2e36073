"""Reports: summary, category breakdown, budget usage and trends, computed exactly from the
repository's GROUP BY rows over a period (periods.py resolves what a client asked for).

With an analytics cache (passed by the door; None: none), each report is looked up under the
ledger's generation, read first, and computed and stored on a miss; see `_through_cache`."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from psycopg import Connection

from .. import metrics, periods
from ..analytics_cache import AnalyticsCache, key
from ..money import percent
from ..repositories import reports
from .ledgers import Action, Actor, authorize
from .transactions import resolve_period

ZERO = Decimal(0)


def _through_cache(
    conn: Connection,
    actor: Actor,
    cache: AnalyticsCache | None,
    report: str,
    params: tuple,
    compute: Callable[[], dict],
) -> dict:
    """The report from the cache when it holds it for the ledger's current generation, else
    computed (and stored). The generation is read BEFORE the report, on the same connection, so
    whatever is stored under it is at least as new as it (docs/ARCHITECTURE.md). Bypassed when
    this transaction has written (its uncommitted rows would be stored under a generation that
    does not include them), on a replica (fill and read from the primary only), for a ledger
    with no generation yet, and while Redis is failing."""
    if cache is None:
        return compute()
    if not cache.usable():
        metrics.CACHE_LOOKUPS.labels(report=report, result="bypass").inc()
        return compute()
    state = reports.cache_state(conn, ledger_id=actor.ledger_id)
    if state["generation"] is None or state["wrote"] or state["replica"]:
        metrics.CACHE_LOOKUPS.labels(report=report, result="bypass").inc()
        return compute()
    name = key(actor.ledger_id, state["generation"], report, params)
    found = cache.get(name, report)
    if found is not None:
        metrics.CACHE_LOOKUPS.labels(report=report, result="hit").inc()
        return found
    if not cache.usable():  # the lookup itself failed
        metrics.CACHE_LOOKUPS.labels(report=report, result="bypass").inc()
        return compute()
    value = compute()
    cache.set(name, value)
    metrics.CACHE_LOOKUPS.labels(report=report, result="miss").inc()
    return value


def summary(
    conn: Connection, actor: Actor, query: dict, *, cache: AnalyticsCache | None = None
) -> dict:
    """`query`: a period, or a part of one, or nothing (the current month in the ledger's zone):
    see periods.resolve."""
    authorize(actor, Action.READ)
    period = resolve_period(conn, actor, query)
    return _through_cache(
        conn, actor, cache, "summary", (period.start, period.end),
        lambda: _summary(conn, actor, period),
    )  # fmt: skip


def _summary(conn: Connection, actor: Actor, period: periods.Period) -> dict:
    by_type = {
        row["type"]: row["amount"]
        for row in reports.summary(conn, ledger_id=actor.ledger_id, period=period)
    }
    income, expense = by_type.get("INCOME", ZERO), by_type.get("EXPENSE", ZERO)
    return {
        "from_": period.start, "to": period.end, "currency": actor.currency,
        "total_income": income, "total_expense": expense, "savings": income - expense,
        "savings_rate": percent(income - expense, income),
    }  # fmt: skip


def category_breakdown(
    conn: Connection, actor: Actor, query: dict, *, cache: AnalyticsCache | None = None
) -> dict:
    authorize(actor, Action.READ)
    period = resolve_period(conn, actor, query)
    return _through_cache(
        conn, actor, cache, "category-breakdown", (period.start, period.end),
        lambda: _category_breakdown(conn, actor, period),
    )  # fmt: skip


def _category_breakdown(conn: Connection, actor: Actor, period: periods.Period) -> dict:
    rows = reports.category_breakdown(conn, ledger_id=actor.ledger_id, period=period)
    total = sum((row["amount"] for row in rows), ZERO)
    items = [{**row, "share": percent(row["amount"], total)} for row in rows]
    return {"from_": period.start, "to": period.end, "total": total, "items": items}


def budget_usage(
    conn: Connection, actor: Actor, query: dict, *, cache: AnalyticsCache | None = None
) -> dict:
    """`query`: month + year, month alone (of the current year), or nothing (the current
    month), "current" in the ledger's time zone."""
    authorize(actor, Action.READ)
    current = periods.current_month(actor.timezone).start
    year, month = query.get("year", current.year), query.get("month", current.month)
    return _through_cache(
        conn, actor, cache, "budget-usage", (year, month),
        lambda: _budget_usage(conn, actor, year, month),
    )  # fmt: skip


def _budget_usage(conn: Connection, actor: Actor, year: int, month: int) -> dict:
    rows = reports.budget_usage(conn, ledger_id=actor.ledger_id, year=year, month=month)
    items = [
        {
            **row,
            "remaining": row["budget"] - row["spent"],
            "percent_used": percent(row["spent"], row["budget"]),
        }
        for row in rows
    ]
    return {"month": month, "year": year, "items": items}


def trends(
    conn: Connection, actor: Actor, query: dict, *, cache: AnalyticsCache | None = None
) -> dict:
    """`query`: from_ + to, from_ alone (to today), to alone (from the ledger's first
    transaction), or `months` (default 12) up to the current month."""
    authorize(actor, Action.READ)
    if "from_" in query or "to" in query:
        period = resolve_period(conn, actor, query)
    else:
        period = periods.last_months(query.get("months", 12), actor.timezone)
    return _through_cache(
        conn, actor, cache, "trends", (period.start, period.end),
        lambda: _trends(conn, actor, period),
    )  # fmt: skip


def _trends(conn: Connection, actor: Actor, period: periods.Period) -> dict:
    rows = reports.trends(conn, ledger_id=actor.ledger_id, period=period)
    return {"items": [{**row, "savings": row["income"] - row["expense"]} for row in rows]}
