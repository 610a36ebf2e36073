"""Idempotency keys: a door claims a client's key for one piece of work, replays the stored
answer when the key comes back, and stores the answer in the same transaction as the work.
Keys are per user and live 24 hours (sql/idempotency_keys.sql), or 5 minutes when the answer
carries tokens: a stored token pair is a credential at rest, kept only as long as a client's
retry of a lost answer can take."""

from __future__ import annotations

from datetime import timedelta

from psycopg import Connection

from ..repositories import idempotency_keys

KEEP = timedelta(hours=24)
KEEP_ANSWERS_WITH_TOKENS = timedelta(minutes=5)


def claim(
    conn: Connection, *, user_id: int, key: str, request_hash: bytes, keep: timedelta = KEEP
) -> bool:
    """True when this request now owns the key, kept for `keep` from now; False when a live
    entry exists (a concurrent request with the same key waits inside this call until the first
    one's transaction ends)."""
    return idempotency_keys.claim(
        conn,
        user_id=user_id,
        key=key,
        request_hash=request_hash,
        keep_seconds=int(keep.total_seconds()),
    )


def stored(conn: Connection, *, user_id: int, key: str) -> dict | None:
    return idempotency_keys.get(conn, user_id=user_id, key=key)


def save_response(conn: Connection, *, user_id: int, key: str, status: int, body: str) -> None:
    idempotency_keys.save_response(conn, user_id=user_id, key=key, status=status, body=body)
