"""The per-ledger totals (monthly_totals, daily_totals) that a trigger keeps in every write's
transaction; here, rebuilding them after a bulk load that deferred that upkeep."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import Connection

from ..db.sqlfiles import queries


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
