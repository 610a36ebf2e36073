"""A ledger's exchange rates (sql/rates.sql): ledger-currency units per unit of a currency, by
day."""

from __future__ import annotations

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
