from __future__ import annotations

from uuid import UUID

from psycopg import Connection

from ..db.pool import Batch
from ..db.sqlfiles import queries


def insert_within_cap(
    conn: Connection, *, user_id: int, token_id: UUID, name: str, token_hash: bytes, scope: str,
    expires_in_days: int | None, cap: int,
) -> dict | None:  # fmt: skip
    """The new token's row, or None when the user has `cap` tokens already. The owner's row is
    locked first (one round trip for both), so two concurrent creations cannot both pass."""
    with Batch(conn) as batch:
        queries.personal_access_tokens.lock_owner.later(batch, user_id=user_id)
        inserted = queries.personal_access_tokens.insert_within_cap.later(
            batch, user_id=user_id, id=token_id, name=name, token_hash=token_hash, scope=scope,
            expires_in_days=expires_in_days, cap=cap,
        )  # fmt: skip
    return inserted.value()


def list_for_user(conn: Connection, *, user_id: int) -> list[dict]:
    return queries.personal_access_tokens.list_for_user(conn, user_id=user_id)


def delete(conn: Connection, *, user_id: int, token_id: UUID) -> bool:
    return queries.personal_access_tokens.delete(conn, user_id=user_id, id=token_id) == 1


def delete_all_of_user(conn: Connection, *, user_id: int) -> int:
    return queries.personal_access_tokens.delete_all_of_user(conn, user_id=user_id)


def get_with_user(conn: Connection, *, user_id: int, token_hash: bytes) -> dict | None:
    return queries.personal_access_tokens.get_with_user(
        conn, user_id=user_id, token_hash=token_hash
    )
