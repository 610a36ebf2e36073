from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries


def claim(
    conn: Connection, *, user_id: int, key: str, request_hash: bytes, keep_seconds: int
) -> bool:
    claimed = queries.idempotency_keys.claim(
        conn, user_id=user_id, key=key, request_hash=request_hash, keep_seconds=keep_seconds
    )
    return bool(claimed)


def get(conn: Connection, *, user_id: int, key: str) -> dict | None:
    return queries.idempotency_keys.get(conn, user_id=user_id, key=key)


def save_response(conn: Connection, *, user_id: int, key: str, status: int, body: str) -> None:
    queries.idempotency_keys.save_response(conn, user_id=user_id, key=key, status=status, body=body)


def delete_expired(conn: Connection) -> int:
    return queries.idempotency_keys.delete_expired(conn)
