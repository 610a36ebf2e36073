"""The webhook outbox: events recorded in the same database transaction as the change that
caused them, so a rolled-back change sends nothing and a committed one is never lost.

`record` is the one way in. It writes the event, and one delivery per enabled endpoint of the
ledger subscribed to its type, in one statement; when no endpoint wants it (the common case)
nothing is written and the write path pays one indexed read of the ledger's few endpoints.
The delivery job (services/webhooks/delivery.py) sends what is recorded.

Payloads are the resource as the REST API answers it (camelCase, money as exact strings in the
ledger's currency, timestamps in UTC with a `Z`), rendered here without HTTP so every door that
changes a transaction, a budget or an alert records the same event; a test compares each payload
with the API's own answer.
"""

from __future__ import annotations

from psycopg import Connection

from ...domain.money import format_amount
from ...domain.periods import utc_timestamp
from ...repositories import webhooks
from ..ledgers import Actor

# The event an alert fires, by its kind: a new kind of alert is one line here.
ALERT_EVENTS = {
    "threshold": "alert.threshold",
    "limit": "alert.limit",
    "recurring_skipped": "recurring.skipped",
}
EVENTS = (
    *ALERT_EVENTS.values(),
    "transaction.created",
    "transaction.updated",
    "transaction.deleted",
    "budget.updated",
)


def record(conn: Connection, ledger_id: int, type: str, data: dict) -> int:
    """Records an event of the ledger for its subscribed endpoints; how many deliveries."""
    assert type in EVENTS, type
    return webhooks.record_event(conn, ledger_id=ledger_id, type=type, data=data)


def wanted(actor: Actor) -> bool:
    """Whether the actor's writes must go through the outbox: False when the ledger had no
    enabled endpoint as the actor was found, so the hot write path renders and sends nothing
    (and its insert ends its work: the door's COMMIT may go with it)."""
    return actor.has_webhooks


def alert_fired(conn: Connection, actor: Actor, alert: dict) -> None:
    if not wanted(actor):
        return
    record(conn, actor.ledger_id, ALERT_EVENTS[alert["kind"]], _alert(alert))


def transaction_written(conn: Connection, actor: Actor, type: str, row: dict) -> None:
    """`transaction.created` or `transaction.updated`, with the transaction as answered."""
    if not wanted(actor):
        return
    record(conn, actor.ledger_id, type, _transaction(actor, row))


def transaction_deleted(conn: Connection, actor: Actor, transaction_id: int) -> None:
    if not wanted(actor):
        return
    data = {"id": transaction_id, "ledgerId": actor.ledger_id}
    record(conn, actor.ledger_id, "transaction.deleted", data)


def budget_saved(conn: Connection, actor: Actor, row: dict) -> None:
    if not wanted(actor):
        return
    record(conn, actor.ledger_id, "budget.updated", _budget(actor, row))


def _alert(row: dict) -> dict:
    return {
        "id": row["id"],
        "ledgerId": row["ledger_id"],
        "budgetId": row["budget_id"],
        "kind": row["kind"],
        "percentUsed": str(row["percent_used"]),
        "recurringId": row["recurring_id"],
        "createdAt": utc_timestamp(row["created_at"]),
        "readAt": None,  # a new alert: nobody has read it yet
    }


def _transaction(actor: Actor, row: dict) -> dict:
    return {
        "id": row["id"],
        "amount": format_amount(row["amount"], actor.currency),
        "type": row["type"],
        "categoryId": row["category_id"],
        "category": row["category"],
        "description": row["description"],
        "date": row["occurred_on"].isoformat(),
        "createdAt": utc_timestamp(row["created_at"]),
        "createdBy": row["created_by"],
    }


def _budget(actor: Actor, row: dict) -> dict:
    return {
        "id": row["id"],
        "categoryId": row["category_id"],
        "category": row["category"],
        "amount": format_amount(row["amount"], actor.currency),
        "month": row["month"],
        "year": row["year"],
        "mode": row["mode"],
        "alertThreshold": row["alert_threshold"],
        "createdAt": utc_timestamp(row["created_at"]),
    }
