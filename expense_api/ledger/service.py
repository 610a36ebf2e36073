"""Create, change and delete transactions: the category must be the user's own, and every write
that can raise spending passes the budget guard in the same database transaction first."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from psycopg import Connection
from psycopg.errors import ForeignKeyViolation

from ..errors import NotFound, ValidationFailed
from ..repositories import categories, transactions
from . import budget_guard

FIELDS = ("category_id", "type", "amount", "description", "occurred_on")


def _not_found() -> NotFound:
    return NotFound("No such transaction.")


def _no_such_category() -> ValidationFailed:
    # A 422 on the field, not a 404: the body is wrong, the resource path is fine.
    return ValidationFailed({"categoryId": ["No such category."]})


def _require_own_category(conn: Connection, user_id: int, category_id: int) -> None:
    try:
        categories.get(conn, user_id=user_id, category_id=category_id)
    except NotFound:
        raise _no_such_category() from None


@contextlib.contextmanager
def _category_checked_by_the_database() -> Iterator[None]:
    """The foreign key (user_id, category_id) refuses another user's or a missing category."""
    try:
        yield
    except ForeignKeyViolation as error:
        if (error.diag.constraint_name or "").endswith("_user_id_category_id_fkey"):
            raise _no_such_category() from None
        raise


def create(conn: Connection, *, user_id: int, currency: str, values: dict) -> dict:
    # The category is not looked up first: the insert's foreign key checks it, which saves a
    # round trip on every write. Only when a budget refuses the expense is it looked up, so that
    # a wrong category is still answered with 422 before any 409.
    try:
        alerts = budget_guard.before_write(
            conn, user_id=user_id, currency=currency, old=None, new=values
        )
    except budget_guard.BudgetExceeded:
        _require_own_category(conn, user_id, values["category_id"])
        raise
    with _category_checked_by_the_database():
        row = transactions.insert(conn, user_id=user_id, values={k: values[k] for k in FIELDS})
    return {**row, "alerts": alerts}


def get(conn: Connection, *, user_id: int, transaction_id: int) -> dict:
    row = transactions.get(conn, user_id=user_id, transaction_id=transaction_id)
    if row is None:
        raise _not_found()
    return row


def update(
    conn: Connection, *, user_id: int, currency: str, transaction_id: int, changes: dict
) -> dict:
    old = transactions.get_for_update(conn, user_id=user_id, transaction_id=transaction_id)
    if old is None:
        raise _not_found()
    if "category_id" in changes and changes["category_id"] != old["category_id"]:
        _require_own_category(conn, user_id, changes["category_id"])
    new = {**{k: old[k] for k in FIELDS}, **changes}
    alerts = budget_guard.before_write(conn, user_id=user_id, currency=currency, old=old, new=new)
    row = transactions.update(conn, user_id=user_id, transaction_id=transaction_id, values=new)
    return {**row, "alerts": alerts}


def delete(conn: Connection, *, user_id: int, transaction_id: int) -> None:
    old = transactions.get_for_update(conn, user_id=user_id, transaction_id=transaction_id)
    if old is None:
        raise _not_found()
    # Deleting only lowers spending: no budget can block it, no alert can fire.
    transactions.delete(conn, user_id=user_id, transaction_id=transaction_id)


def list_page(conn: Connection, *, user_id: int, **filters) -> list[dict]:
    return transactions.list_page(conn, user_id=user_id, **filters)
