"""The per-ledger totals (monthly_totals, daily_totals) that a trigger keeps in every write's
transaction; here, rebuilding them after a bulk load that deferred that upkeep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from psycopg import Connection

from ..db.pool import Batch
from ..db.sqlfiles import queries


def defer_for_transaction(conn: Connection) -> None:
    """For bulk loads only: the totals triggers skip what this transaction writes from now on;
    rebuild_for_ledgers must then run for every ledger it wrote before the commit."""
    queries.totals.defer_for_transaction(conn)


def rebuild_for_ledgers(conn: Connection, ledger_ids: Sequence[int]) -> None:
    """Recomputes both totals tables of these ledgers from their transactions.

    For a transaction that called queries.totals.defer_for_transaction: the trigger skipped its
    rows, so the totals are wrong until this runs, and it must run in that same transaction
    before the commit. Rows from earlier writes are deleted first, since the rebuild inserts
    every (ledger, period, category, type) afresh.
    """
    ledger_ids = list(ledger_ids)  # psycopg adapts a list, not any sequence, to bigint[]
    queries.totals.delete_monthly_for_ledgers(conn, ledger_ids=ledger_ids)
    queries.totals.delete_daily_for_ledgers(conn, ledger_ids=ledger_ids)
    queries.totals.rebuild_monthly_for_ledgers(conn, ledger_ids=ledger_ids)
    queries.totals.rebuild_daily_for_ledgers(conn, ledger_ids=ledger_ids)


def lock_later(batch: Batch, *, ledger_id: int, keys: list[tuple[date, int, str]]) -> None:
    """Locks the totals rows of `keys` (day, category id, type), monthly then daily, each in key
    order, queued in a batch: for a write that changes them in more than one statement (see
    sql/totals.sql, lock_monthly)."""
    days, category_ids, types = (list(column) for column in zip(*keys, strict=True))
    params = {"ledger_id": ledger_id, "days": days, "category_ids": category_ids, "types": types}
    queries.totals.lock_monthly.later(batch, **params)
    queries.totals.lock_daily.later(batch, **params)
