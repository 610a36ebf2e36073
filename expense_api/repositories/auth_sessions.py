from __future__ import annotations

from uuid import UUID

from psycopg import Connection

from ..db.sqlfiles import queries


def start(
    conn: Connection, *, user_id: int, session_id: UUID, refresh_jti: UUID, days: int,
    user_agent: str | None, address: str | None,
) -> None:  # fmt: skip
    queries.auth_sessions.insert(
        conn, user_id=user_id, session_id=session_id, refresh_jti=refresh_jti, refresh_days=days,
        user_agent=user_agent, address=address,
    )  # fmt: skip


def get_active_with_user(conn: Connection, *, user_id: int, session_id: UUID) -> dict | None:
    return queries.auth_sessions.get_active_with_user(conn, user_id=user_id, session_id=session_id)


def rotate_refresh(
    conn: Connection, *, user_id: int, session_id: UUID, old_jti: UUID, new_jti: UUID, days: int,
    max_days: int,
) -> bool:  # fmt: skip
    rows = queries.auth_sessions.rotate_refresh(
        conn,
        user_id=user_id,
        session_id=session_id,
        old_jti=old_jti,
        new_jti=new_jti,
        refresh_days=days,
        max_days=max_days,
    )
    return rows == 1


def rotated_away_within(
    conn: Connection, *, user_id: int, session_id: UUID, refresh_jti: str, grace_seconds: int
) -> bool:
    recent = queries.auth_sessions.rotated_away_within(
        conn,
        user_id=user_id,
        session_id=session_id,
        refresh_jti=refresh_jti,
        grace_seconds=grace_seconds,
    )
    return bool(recent)


def revoke(conn: Connection, *, user_id: int, session_id: UUID, reason: str) -> None:
    queries.auth_sessions.revoke(conn, user_id=user_id, session_id=session_id, reason=reason)


def delete_expired(conn: Connection) -> int:
    return queries.auth_sessions.delete_expired(conn)


def revoke_all_of_user(conn: Connection, *, user_id: int, reason: str) -> None:
    queries.auth_sessions.revoke_all_of_user(conn, user_id=user_id, reason=reason)


def list_live(conn: Connection, *, user_id: int, limit: int) -> list[dict]:
    return queries.auth_sessions.list_live(conn, user_id=user_id, limit=limit)


def end_live(conn: Connection, *, user_id: int, session_id: UUID, reason: str) -> bool:
    ended = queries.auth_sessions.end_live(
        conn, user_id=user_id, session_id=session_id, reason=reason
    )
    return ended == 1


def revoke_others_of_user(
    conn: Connection, *, user_id: int, keep_session_id: UUID, reason: str
) -> int:
    return queries.auth_sessions.revoke_others_of_user(
        conn, user_id=user_id, keep_session_id=keep_session_id, reason=reason
    )
