"""The ledger change log (sql/changes.sql; the table and its guards: migration 0016)."""

from __future__ import annotations

from datetime import date

from psycopg import Connection
from psycopg.types.json import Jsonb

from ..db.pool import Batch, Pending
from ..db.sqlfiles import queries
from ..domain.money import digits_table


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


def record_new_transaction_later(
    batch: Batch,
    *,
    ledger_id: int,
    actor_id: int,
    via: str,
    request_id: str | None,
    digits: int,
    currency: str,
    digits_of: dict[str, int],
    event: str | None,
) -> Pending:
    """The `created` entry of the transaction inserted earlier in the batch, its image rendered
    by the database (sql/changes.sql, record_new_transaction), queued in the batch."""
    return queries.changes.record_new_transaction.later(
        batch,
        ledger_id=ledger_id,
        actor_id=actor_id,
        via=via,
        request_id=request_id,
        digits=digits,
        currency=currency,
        digits_of=Jsonb(digits_of),
        event=event,
    )


def page(
    conn: Connection,
    *,
    ledger_id: int,
    timezone: str,
    hidden: tuple[str, ...],
    limit: int,
    before_seq: int | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    actor_id: int | None = None,
    from_day: date | None = None,
    to_day: date | None = None,
) -> list[dict]:
    """Up to `limit` committed entries, newest first, before `before_seq` when given; entities
    in `hidden` left out; from_day..to_day are the ledger's days (in `timezone`), inclusive."""
    return queries.changes.page(
        conn,
        ledger_id=ledger_id,
        timezone=timezone,
        hidden=list(hidden),
        limit=limit,
        before_seq=before_seq,
        entity=entity,
        entity_id=entity_id,
        actor_id=actor_id,
        from_day=from_day,
        to_day=to_day,
    )


def record_in_bulk(
    conn: Connection,
    entity: str,
    *,
    ledger_id: int,
    actor_id: int | None,
    via: str,
    request_id: str | None,
    digits: int,
    currency: str,
    renamed_category: int | None = None,
    old_name: str | None = None,
    op: str | None = None,
    ids: list[int] | None = None,
) -> int:
    """Entries written by the database for many rows of `entity` (sql/changes.sql,
    record_in_bulk, in the caller's transaction): `created` for the ledger's rows that have
    none, or, given `renamed_category`, `updated` for the rows of that category (renamed from
    `old_name`); how many."""
    return queries.changes.record_in_bulk(
        conn,
        entity=entity,
        ledger_id=ledger_id,
        actor_id=actor_id,
        via=via,
        request_id=request_id,
        digits=digits,
        currency=currency,
        digits_of=Jsonb(digits_table()),
        renamed_category=renamed_category,
        old_name=old_name,
        op=op,
        ids=ids,
    )


def record_rates(
    conn: Connection,
    *,
    ledger_id: int,
    actor_id: int | None,
    via: str,
    request_id: str | None,
    rows: list[dict],
) -> int:
    """One entry per rate row written (sql/changes.sql, record_rates): `created` where
    `old_rate` is None, else `updated`; how many."""
    return queries.changes.record_rates(
        conn,
        ledger_id=ledger_id,
        actor_id=actor_id,
        via=via,
        request_id=request_id,
        ids=[row["id"] for row in rows],
        currencies=[row["currency"] for row in rows],
        days=[row["day"] for row in rows],
        rates=[row["rate"] for row in rows],
        old_rates=[row["old_rate"] for row in rows],
    )
