"""Monthly budgets, per category or overall: saved by (year, month, category), listed, deleted.
Enforcement against them is services/budget_guard.py.

Saving a budget fires those of its alerts that its month's spending already reaches (say, the
amount or the threshold lowered below what is spent), each once, as an expense does: a budget's
threshold alert and its limit alert are unique (services/alerts.py)."""

from __future__ import annotations

from psycopg import Connection

from ..errors import found
from ..repositories import budgets
from ..repositories.integrity import category_must_exist, no_such_category
from . import alerts, categories
from .budget_guard import Scope


def save(conn: Connection, user: dict, values: dict) -> tuple[dict, bool]:
    """Creates or updates the budget of (year, month, category); returns it, with the alerts
    the write fired in `alerts`, and `created`."""
    category_id = values.get("category_id")
    if category_id is not None and not categories.exists(conn, user, category_id):
        raise no_such_category()
    # Expense writes in flight finish first (see budget_guard), so none misses this budget, and
    # what the scope has spent (read below) cannot rise until this write commits.
    budgets.lock_scope_exclusive(conn, user_id=user["id"])
    with category_must_exist():  # deleted since the check above: the foreign key says so
        row = budgets.upsert(conn, user_id=user["id"], values=values)
    created = row.pop("created")
    return {**row, "alerts": _fire_reached(conn, user, row)}, created


def _fire_reached(conn: Connection, user: dict, budget: dict) -> list[dict]:
    """The alerts of the budget that its scope's spending reaches now and that had not fired."""
    scope = Scope(budget["year"], budget["month"], budget["category_id"])
    [spent] = budgets.spent(conn, user_id=user["id"], scopes=[scope])
    return alerts.fire_reached(conn, user, budget, spent["spent"])


def list_all(conn: Connection, user: dict, *, year=None, month=None) -> list[dict]:
    return budgets.list_for_user(conn, user_id=user["id"], year=year, month=month)


def get(conn: Connection, user: dict, budget_id: int) -> dict:
    return found(budgets.get(conn, user_id=user["id"], budget_id=budget_id), "budget")


def delete(conn: Connection, user: dict, budget_id: int) -> None:
    if not budgets.delete(conn, user_id=user["id"], budget_id=budget_id):
        found(None, "budget")
