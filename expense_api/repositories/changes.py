"""The ledger change log (sql/changes.sql; the table and its guards: migration 0016)."""

from __future__ import annotations

from psycopg import Connection
from psycopg.types.json import Jsonb

from ..db.pool import Batch, Pending
from ..db.sqlfiles import queries


def _params(entry: dict) -> dict:
    return {
        **entry,
        "before": None if entry["before"] is None else Jsonb(entry["before"]),
        "after": None if entry["after"] is None else Jsonb(entry["after"]),
        "payload": None if entry["payload"] is None else Jsonb(entry["payload"]),
    }


def record(conn: Connection, entry: dict) -> int:
    """Appends an entry (and its webhook event); how many deliveries the event got."""
    return queries.changes.record(conn, **_params(entry))


def record_later(batch: Batch, entry: dict) -> Pending:
    """record(), queued in a batch."""
    return queries.changes.record.later(batch, **_params(entry))
