"""Create, change and delete transactions: the category must be the user's own, and every write
that can raise spending passes the budget guard in the same database transaction first."""

from __future__ import annotations

from psycopg import Connection

from ..errors import NotFound, ValidationFailed
from ..repositories import categories, transactions
from . import budget_guard

FIELDS = ("category_id", "type", "amount", "description", "occurred_on")


def _not_found() -> NotFound:
    return NotFound("No such transaction.")


def _require_own_category(conn: Connection, user_id: int, category_id: int) -> None:
    # A 422 on the field, not a 404: the body is wrong, the resource path is fine. The foreign
    # key (user_id, category_id) would refuse it anyway; this gives the client a clear message.
    try:
        categories.get(conn, user_id=user_id, category_id=category_id)
    except NotFound:
        raise ValidationFailed({"categoryId": ["No such category."]}) from None


def create(conn: Connection, *, user_id: int, currency: str, values: dict) -> dict:
    _require_own_category(conn, user_id, values["category_id"])
    alerts = budget_guard.before_write(
        conn, user_id=user_id, currency=currency, old=None, new=values
    )
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
