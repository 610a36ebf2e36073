"""Reports: summary, category breakdown, budget usage and trends, computed exactly from the
repository's GROUP BY rows over a period (periods.py resolves what a client asked for)."""

from __future__ import annotations

from decimal import Decimal

from psycopg import Connection

from .. import periods
from ..money import percent
from ..repositories import reports

ZERO = Decimal(0)


def summary(conn: Connection, user: dict, query: dict) -> dict:
    """`query`: month + year, from_ + to, or nothing (the current month in the user's zone)."""
    period = periods.resolve(query, user["timezone"])
    by_type = {
        row["type"]: row["amount"]
        for row in reports.summary(conn, user_id=user["id"], period=period)
    }
    income, expense = by_type.get("INCOME", ZERO), by_type.get("EXPENSE", ZERO)
    return {
        "from_": period.start, "to": period.end, "currency": user["currency"],
        "total_income": income, "total_expense": expense, "savings": income - expense,
        "savings_rate": percent(income - expense, income),
    }  # fmt: skip


def category_breakdown(conn: Connection, user: dict, query: dict) -> dict:
    period = periods.resolve(query, user["timezone"])
    rows = reports.category_breakdown(conn, user_id=user["id"], period=period)
    total = sum((row["amount"] for row in rows), ZERO)
    items = [{**row, "share": percent(row["amount"], total)} for row in rows]
    return {"from_": period.start, "to": period.end, "total": total, "items": items}


def budget_usage(conn: Connection, user: dict, query: dict) -> dict:
    """`query`: month + year, or nothing (the current month in the user's zone)."""
    if "month" in query:
        year, month = query["year"], query["month"]
    else:
        current = periods.current_month(user["timezone"]).start
        year, month = current.year, current.month
    rows = reports.budget_usage(conn, user_id=user["id"], year=year, month=month)
    items = [
        {
            **row,
            "remaining": row["budget"] - row["spent"],
            "percent_used": percent(row["spent"], row["budget"]),
        }
        for row in rows
    ]
    return {"month": month, "year": year, "items": items}


def trends(conn: Connection, user: dict, query: dict) -> dict:
    """`query`: from_ + to, or `months` (default 12) up to the current month."""
    if "from_" in query:
        period = periods.Period(query["from_"], query["to"])
    else:
        period = periods.last_months(query.get("months", 12), user["timezone"])
    rows = reports.trends(conn, user_id=user["id"], period=period)
    return {"items": [{**row, "savings": row["income"] - row["expense"]} for row in rows]}
