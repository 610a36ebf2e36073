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


def record_created_in_bulk(
    conn: Connection,
    entity: str,
    *,
    ledger_id: int,
    actor_id: int | None,
    via: str,
    request_id: str | None,
    digits: int,
) -> int:
    """`created` entries for the ledger's rows of `entity` that have none (sql/changes.sql:
    take_clock, then record_created_in_bulk, in the caller's transaction); how many."""
    knowledge = queries.changes.take_clock(conn, ledger_id=ledger_id)
    return queries.changes.record_created_in_bulk(
        conn,
        entity=entity,
        ledger_id=ledger_id,
        knowledge=knowledge,
        actor_id=actor_id,
        via=via,
        request_id=request_id,
        digits=digits,
    )
