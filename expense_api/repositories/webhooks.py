"""Webhook endpoints, the outbox of events, and their deliveries (sql/webhooks.sql)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from psycopg import Connection
from psycopg.types.json import Jsonb

from ..db.sqlfiles import queries


def count_for_ledger(conn: Connection, *, ledger_id: int) -> int:
    return queries.webhooks.count_for_ledger(conn, ledger_id=ledger_id)


def insert(
    conn: Connection,
    *,
    ledger_id: int,
    url: str,
    events: list[str],
    description: str,
    secret: bytes,
) -> dict:
    return queries.webhooks.insert(
        conn, ledger_id=ledger_id, url=url, events=events, description=description, secret=secret
    )


def list_for_ledger(conn: Connection, *, ledger_id: int) -> list[dict]:
    return queries.webhooks.list_for_ledger(conn, ledger_id=ledger_id)


def get(conn: Connection, *, ledger_id: int, id: int) -> dict | None:
    return queries.webhooks.get(conn, ledger_id=ledger_id, id=id)


def update(conn: Connection, *, ledger_id: int, id: int, changes: dict) -> dict | None:
    """Changes the given fields (url, events, description, enabled); the others stay."""
    values = {key: changes.get(key) for key in ("url", "events", "description", "enabled")}
    return queries.webhooks.update(conn, ledger_id=ledger_id, id=id, **values)


def get_for_update(conn: Connection, *, ledger_id: int, id: int) -> dict | None:
    return queries.webhooks.get_for_update(conn, ledger_id=ledger_id, id=id)


def delete(conn: Connection, *, ledger_id: int, id: int) -> dict | None:
    """The deleted endpoint; None when there was none."""
    return queries.webhooks.delete(conn, ledger_id=ledger_id, id=id)


def rotate_secret(
    conn: Connection, *, ledger_id: int, id: int, secret: bytes, until: datetime
) -> dict | None:
    return queries.webhooks.rotate_secret(
        conn, ledger_id=ledger_id, id=id, secret=secret, until=until
    )


def record_event(conn: Connection, *, ledger_id: int, type: str, data: dict) -> int:
    """How many deliveries the event got (0: no enabled endpoint wants it; nothing written)."""
    return queries.webhooks.record_event(conn, ledger_id=ledger_id, type=type, data=Jsonb(data))


def claim_due(
    conn: Connection,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    busy: Iterable[tuple[int, int]] = (),
    per_ledger: int | None = None,
) -> list[dict]:
    """Up to `limit` deliveries, the most overdue one of each endpoint with one due, except the
    `busy` endpoints ((ledger_id, endpoint_id) pairs), at most `per_ledger` lanes a ledger with
    its busy ones (None: `limit`), ledgers taking turns; claimed until `lease_until`."""
    busy = list(busy)
    return queries.webhooks.claim_due(
        conn,
        now=now,
        lease_until=lease_until,
        limit=limit,
        per_ledger=limit + len(busy) if per_ledger is None else per_ledger,
        busy_ledger_ids=[ledger_id for ledger_id, _ in busy],
        busy_endpoint_ids=[endpoint_id for _, endpoint_id in busy],
    )


def claim_next(
    conn: Connection, *, ledger_id: int, endpoint_id: int, now: datetime, lease_until: datetime
) -> dict | None:
    """The endpoint's most overdue due delivery, claimed until `lease_until`."""
    return queries.webhooks.claim_next(
        conn, ledger_id=ledger_id, endpoint_id=endpoint_id, now=now, lease_until=lease_until
    )


def finish_attempt(
    conn: Connection,
    *,
    ledger_id: int,
    id: int,
    now: datetime,
    status: str,
    next_attempt_at: datetime | None,
    response_status: int | None,
    last_error: str | None,
) -> bool:
    return (
        queries.webhooks.finish_attempt(
            conn,
            ledger_id=ledger_id,
            id=id,
            now=now,
            status=status,
            next_attempt_at=next_attempt_at,
            response_status=response_status,
            last_error=last_error,
        )
        == 1
    )


def note_success(conn: Connection, *, ledger_id: int, id: int) -> None:
    queries.webhooks.note_success(conn, ledger_id=ledger_id, id=id)


def note_failure(
    conn: Connection, *, ledger_id: int, id: int, now: datetime, disable_after: timedelta
) -> dict | None:
    """The endpoint after the failure is noted (disabled once it has failed for
    `disable_after`), with its disabled columns before (`disabled_at_before`,
    `disabled_reason_before`) and the ledger's currency; None when it is gone."""
    return queries.webhooks.note_failure(
        conn, ledger_id=ledger_id, id=id, now=now, disable_after=disable_after
    )


def list_deliveries(
    conn: Connection, *, ledger_id: int, endpoint_id: int, limit: int, before_id: int | None
) -> list[dict]:
    return queries.webhooks.list_deliveries(
        conn, ledger_id=ledger_id, endpoint_id=endpoint_id, limit=limit, before_id=before_id
    )


def redeliver(
    conn: Connection, *, ledger_id: int, endpoint_id: int, id: int, now: datetime
) -> dict | None:
    return queries.webhooks.redeliver(
        conn, ledger_id=ledger_id, endpoint_id=endpoint_id, id=id, now=now
    )


def delete_expired_events(conn: Connection, *, days: int) -> int:
    return queries.webhooks.delete_expired_events(conn, days=days)
