from __future__ import annotations

from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

from ..db.sqlfiles import queries


def insert(
    conn: Connection, *, user_id: int, kind: str, address: str | None, user_agent: str | None,
    session_id: UUID | None, detail: dict,
) -> None:  # fmt: skip
    queries.security_events.insert(
        conn, user_id=user_id, kind=kind, address=address, user_agent=user_agent,
        session_id=session_id, detail=Jsonb(detail),
    )  # fmt: skip


def page(conn: Connection, *, user_id: int, before_id: int | None, limit: int) -> list[dict]:
    return queries.security_events.page(conn, user_id=user_id, before_id=before_id, limit=limit)


def delete_older_than(conn: Connection, *, days: int) -> int:
    return queries.security_events.delete_older_than(conn, days=days)
