"""Income and expenses: recording, listing, changing and deleting them. The category must be
the tenant's own, and every write that can raise spending passes the budget guard in the same
database transaction first."""

from __future__ import annotations

from psycopg import Connection

from .. import periods
from ..errors import found
from ..repositories import transactions
from ..repositories.integrity import category_must_exist, no_such_category
from . import budget_guard, categories

FIELDS = ("category_id", "type", "amount", "description", "occurred_on")


def create(conn: Connection, user: dict, values: dict) -> dict:
    """The new transaction with the alerts it fired."""
    # The category is not looked up first: the insert's foreign key checks it, which saves a
    # round trip on every write. Only when a budget refuses the expense is it looked up, so that
    # a wrong category is still answered with 422 before any 409.
    try:
        alerts = budget_guard.before_write(conn, user, old=None, new=values)
    except budget_guard.BudgetExceeded:
        if not categories.exists(conn, user, values["category_id"]):
            raise no_such_category() from None
        raise
    with category_must_exist():
        row = transactions.insert(conn, user_id=user["id"], values={k: values[k] for k in FIELDS})
    return {**row, "alerts": alerts}


def get(conn: Connection, user: dict, transaction_id: int) -> dict:
    row = transactions.get(conn, user_id=user["id"], transaction_id=transaction_id)
    return found(row, "transaction")


def update(conn: Connection, user: dict, transaction_id: int, changes: dict) -> dict:
    """The changed transaction with the alerts it fired."""
    old = transactions.get_for_update(conn, user_id=user["id"], transaction_id=transaction_id)
    found(old, "transaction")
    moved_to = changes.get("category_id", old["category_id"])
    if moved_to != old["category_id"] and not categories.exists(conn, user, moved_to):
        raise no_such_category()
    new = {**{k: old[k] for k in FIELDS}, **changes}
    alerts = budget_guard.before_write(conn, user, old=old, new=new)
    # Checked above for a clear answer before any 409, and by the foreign key for a category
    # deleted in between.
    with category_must_exist():
        row = transactions.update(
            conn, user_id=user["id"], transaction_id=transaction_id, values=new
        )
    return {**row, "alerts": alerts}


def delete(conn: Connection, user: dict, transaction_id: int) -> None:
    # Deleting only lowers spending: no budget can block it, no alert can fire.
    deleted = transactions.delete(conn, user_id=user["id"], transaction_id=transaction_id)
    found(deleted, "transaction")


def list_page(
    conn: Connection, user: dict, *, period_filter: dict, limit: int, after=None, **filters
) -> list[dict]:
    """Up to `limit` rows of a period (see periods.resolve), newest date first, after a keyset
    position (date, id)."""
    period = periods.resolve(period_filter, user["timezone"])
    return transactions.list_page(
        conn,
        user_id=user["id"],
        date_from=period.start,
        date_to=period.end,
        limit=limit,
        after=after,
        **filters,
    )
