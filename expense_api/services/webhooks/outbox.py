"""The webhook outbox: events recorded in the same database transaction as the change that
caused them, so a rolled-back change sends nothing and a committed one is never lost.

Events come from the write hook (services/changes/hook.py) and from nowhere else: a change's
event is written by the same statement as its change-log entry (sql/changes.sql), an alert's
through `record` here. Either writes the event and one delivery per enabled endpoint of the
ledger subscribed to its type; when no endpoint wants it (the common case) nothing is written.
The delivery job (services/webhooks/delivery.py) sends what is recorded.

Payloads are the resource as the REST API answers it (services/changes/shapes.py); a test
compares each payload with the API's own answer.
"""

from __future__ import annotations

from psycopg import Connection

from ...repositories import webhooks

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
    # One event for a committed bank import, not one per transaction it created.
    "import.committed",
)


def record(conn: Connection, ledger_id: int, type: str, data: dict) -> int:
    """Records an event of the ledger for its subscribed endpoints; how many deliveries."""
    assert type in EVENTS, type
    return webhooks.record_event(conn, ledger_id=ledger_id, type=type, data=data)
