"""Reports: summary, category breakdown, budget usage and trends, computed exactly from the
repository's GROUP BY rows over a period (periods.py resolves what a client asked for)."""

from __future__ import annotations

from decimal import Decimal

from psycopg import Connection

from .. import periods
from ..money import percent
from ..repositories import reports
from .ledgers import Action, Actor, authorize

ZERO = Decimal(0)


def summary(conn: Connection, actor: Actor, query: dict) -> dict:
    """`query`: month + year, from_ + to, or nothing (the current month in the ledger's zone)."""
    authorize(actor, Action.READ)
    period = periods.resolve(query, actor.timezone)
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


def category_breakdown(conn: Connection, actor: Actor, query: dict) -> dict:
    authorize(actor, Action.READ)
    period = periods.resolve(query, actor.timezone)
    rows = reports.category_breakdown(conn, ledger_id=actor.ledger_id, period=period)
    total = sum((row["amount"] for row in rows), ZERO)
    items = [{**row, "share": percent(row["amount"], total)} for row in rows]
    return {"from_": period.start, "to": period.end, "total": total, "items": items}


def budget_usage(conn: Connection, actor: Actor, query: dict) -> dict:
    """`query`: month + year, or nothing (the current month in the ledger's zone)."""
    authorize(actor, Action.READ)
    if "month" in query:
        year, month = query["year"], query["month"]
    else:
        current = periods.current_month(actor.timezone).start
        year, month = current.year, current.month
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


def trends(conn: Connection, actor: Actor, query: dict) -> dict:
    """`query`: from_ + to, or `months` (default 12) up to the current month."""
    authorize(actor, Action.READ)
    if "from_" in query:
        period = periods.Period(query["from_"], query["to"])
    else:
        period = periods.last_months(query.get("months", 12), actor.timezone)
    rows = reports.trends(conn, ledger_id=actor.ledger_id, period=period)
    return {"items": [{**row, "savings": row["income"] - row["expense"]} for row in rows]}
