from __future__ import annotations

from psycopg import Connection

from ..sqlfiles import queries


def list_page(
    conn: Connection, *, user_id: int, unread_only: bool, limit: int, before_id: int | None
) -> list[dict]:
    return queries.alerts.list_page(
        conn, user_id=user_id, unread_only=unread_only, limit=limit, before_id=before_id
    )


def mark_read(conn: Connection, *, user_id: int, alert_id: int) -> dict | None:
    return queries.alerts.mark_read(conn, user_id=user_id, id=alert_id)
