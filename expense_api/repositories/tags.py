"""Tags (sql/tags.sql): a ledger's tags in use, with their counts. Their rows are written with
the transactions that carry them (repositories/transactions.py)."""

from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries
from . import by_ledger


def list_for_ledger(conn: Connection, *, ledger_id: int) -> list[dict]:
    return queries.tags.list_for_ledger(conn, ledger_id=ledger_id)


def list_for_ledgers(conn: Connection, *, ledger_ids: list[int]) -> dict[int, list[dict]]:
    rows = queries.tags.list_for_ledgers(conn, ledger_ids=ledger_ids)
    return by_ledger(rows, ledger_ids)
