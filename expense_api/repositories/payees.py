"""Payees (sql/payees.sql): a ledger's payees in use, with their counts. Their rows are written
with the transactions that name them (repositories/transactions.py)."""

from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries
from . import by_ledger


def list_for_ledger(conn: Connection, *, ledger_id: int, q: str | None, limit: int) -> list[dict]:
    return queries.payees.list_for_ledger(conn, ledger_id=ledger_id, q=q, limit=limit)


def list_for_ledgers(
    conn: Connection, *, ledger_ids: list[int], q: str | None, limit: int
) -> dict[int, list[dict]]:
    rows = queries.payees.list_for_ledgers(conn, ledger_ids=ledger_ids, q=q, limit=limit)
    return by_ledger(rows, ledger_ids)
