from __future__ import annotations

from psycopg import Connection

from ..sqlfiles import queries


def insert(conn: Connection, *, name: str, currency: str, timezone: str) -> dict:
    return queries.ledgers.insert(conn, name=name, currency=currency, timezone=timezone)


def add_member(
    conn: Connection, *, ledger_id: int, user_id: int, role: str, is_default: bool = False
) -> None:
    queries.ledgers.add_member(
        conn, ledger_id=ledger_id, user_id=user_id, role=role, is_default=is_default
    )


def membership(conn: Connection, *, ledger_id: int, user_id: int) -> dict | None:
    return queries.ledgers.membership(conn, ledger_id=ledger_id, user_id=user_id)
