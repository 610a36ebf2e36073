"""The figures of each report, computed exactly from the repository's GROUP BY rows."""

from __future__ import annotations

from decimal import Decimal

from psycopg import Connection

from ..money import percent
from ..periods import Period
from ..repositories import analytics

ZERO = Decimal(0)


def summary(conn: Connection, *, user_id: int, currency: str, period: Period) -> dict:
    by_type = {
        row["type"]: row["amount"]
        for row in analytics.summary(conn, user_id=user_id, period=period)
    }
    income, expense = by_type.get("INCOME", ZERO), by_type.get("EXPENSE", ZERO)
    return {
        "from_": period.start, "to": period.end, "currency": currency,
        "total_income": income, "total_expense": expense, "savings": income - expense,
        "savings_rate": percent(income - expense, income),
    }  # fmt: skip


def category_breakdown(conn: Connection, *, user_id: int, period: Period) -> dict:
    rows = analytics.category_breakdown(conn, user_id=user_id, period=period)
    total = sum((row["amount"] for row in rows), ZERO)
    items = [{**row, "share": percent(row["amount"], total)} for row in rows]
    return {"from_": period.start, "to": period.end, "total": total, "items": items}


def budget_usage(conn: Connection, *, user_id: int, year: int, month: int) -> dict:
    rows = analytics.budget_usage(conn, user_id=user_id, year=year, month=month)
    items = [
        {
            **row,
            "remaining": row["budget"] - row["spent"],
            "percent_used": percent(row["spent"], row["budget"]),
        }
        for row in rows
    ]
    return {"month": month, "year": year, "items": items}


def trends(conn: Connection, *, user_id: int, period: Period) -> dict:
    rows = analytics.trends(conn, user_id=user_id, period=period)
    return {"items": [{**row, "savings": row["income"] - row["expense"]} for row in rows]}
