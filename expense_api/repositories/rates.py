"""A ledger's exchange rates (sql/rates.sql): ledger-currency units per unit of a currency, by
day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from psycopg import Connection

from ..db.pool import Batch, Pending
from ..db.sqlfiles import queries


def rate_on(conn: Connection, *, ledger_id: int, currency: str, day: date) -> Decimal | None:
    """The latest rate on or before `day` (None: the ledger has none)."""
    return queries.rates.rate_on(conn, ledger_id=ledger_id, currency=currency, day=day)


def rate_on_later(batch: Batch, *, ledger_id: int, currency: str, day: date) -> Pending:
    """rate_on, queued in a batch."""
    return queries.rates.rate_on.later(batch, ledger_id=ledger_id, currency=currency, day=day)


def page(
    conn: Connection,
    *,
    ledger_id: int,
    limit: int,
    currency: str | None = None,
    from_day: date | None = None,
    to_day: date | None = None,
    after: tuple[str, date] | None = None,
) -> list[dict]:
    """Up to `limit` rates by currency then day, after the keyset position `after`
    (currency, day) when given."""
    after_currency, after_day = after if after is not None else (None, None)
    return queries.rates.page(
        conn,
        ledger_id=ledger_id,
        limit=limit,
        currency=currency,
        from_day=from_day,
        to_day=to_day,
        after_currency=after_currency,
        after_day=after_day,
    )


def lock_ledger(conn: Connection, *, ledger_id: int) -> None:
    """Serializes the writes to the ledger's rates until the transaction ends."""
    queries.rates.lock_ledger(conn, ledger_id=ledger_id)


def upsert(
    conn: Connection, *, ledger_id: int, rates: Sequence[tuple[str, date, Decimal]]
) -> list[dict]:
    """Writes (currency, day, rate) triples in one statement (no (currency, day) twice); the
    rows created or changed, each with `old_rate` (None: created), by currency then day."""
    if not rates:
        return []
    currencies, days, values = (list(column) for column in zip(*rates, strict=True))
    return queries.rates.upsert(
        conn, ledger_id=ledger_id, currencies=currencies, days=days, rates=values
    )
