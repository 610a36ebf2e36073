"""Saving, listing and deleting budgets."""

from __future__ import annotations

from psycopg import Connection

from ..errors import NotFound, ValidationFailed
from ..repositories import budgets, categories


def _not_found() -> NotFound:
    return NotFound("No such budget.")


def save(conn: Connection, *, user_id: int, values: dict) -> tuple[dict, bool]:
    """Creates or updates the budget of (year, month, category); returns it and `created`."""
    if values.get("category_id") is not None:
        try:
            categories.get(conn, user_id=user_id, category_id=values["category_id"])
        except NotFound:
            raise ValidationFailed({"categoryId": ["No such category."]}) from None
    # Expense writes in flight finish first (see ledger.budget_guard), so none misses this budget.
    budgets.lock_scope_exclusive(conn, user_id=user_id)
    row = budgets.upsert(conn, user_id=user_id, values=values)
    created = row.pop("created")
    return row, created


def list_for_user(conn: Connection, *, user_id: int, year=None, month=None) -> list[dict]:
    return budgets.list_for_user(conn, user_id=user_id, year=year, month=month)


def get(conn: Connection, *, user_id: int, budget_id: int) -> dict:
    row = budgets.get(conn, user_id=user_id, budget_id=budget_id)
    if row is None:
        raise _not_found()
    return row


def delete(conn: Connection, *, user_id: int, budget_id: int) -> None:
    if not budgets.delete(conn, user_id=user_id, budget_id=budget_id):
        raise _not_found()
