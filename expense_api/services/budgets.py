"""Monthly budgets, per category or overall: saved by (year, month, category), listed, deleted.
Enforcement against them is services/budget_guard.py."""

from __future__ import annotations

from psycopg import Connection

from ..errors import found
from ..repositories import budgets
from ..repositories.integrity import category_must_exist, no_such_category
from . import categories


def save(conn: Connection, user: dict, values: dict) -> tuple[dict, bool]:
    """Creates or updates the budget of (year, month, category); returns it and `created`."""
    category_id = values.get("category_id")
    if category_id is not None and not categories.exists(conn, user, category_id):
        raise no_such_category()
    # Expense writes in flight finish first (see budget_guard), so none misses this budget.
    budgets.lock_scope_exclusive(conn, user_id=user["id"])
    with category_must_exist():  # deleted since the check above: the foreign key says so
        row = budgets.upsert(conn, user_id=user["id"], values=values)
    created = row.pop("created")
    return row, created


def list_all(conn: Connection, user: dict, *, year=None, month=None) -> list[dict]:
    return budgets.list_for_user(conn, user_id=user["id"], year=year, month=month)


def get(conn: Connection, user: dict, budget_id: int) -> dict:
    return found(budgets.get(conn, user_id=user["id"], budget_id=budget_id), "budget")


def delete(conn: Connection, user: dict, budget_id: int) -> None:
    if not budgets.delete(conn, user_id=user["id"], budget_id=budget_id):
        found(None, "budget")
