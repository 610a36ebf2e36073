"""Two-factor sign-in's storage: the TOTP columns of users and totp_recovery_codes
(sql/two_factor.sql). Secrets arrive here already encrypted, codes as digests."""

from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries


def lock_state(conn: Connection, user_id: int) -> dict | None:
    return queries.two_factor.lock_state(conn, user_id=user_id)


def set_pending(conn: Connection, user_id: int, secret: str) -> None:
    queries.two_factor.set_pending(conn, user_id=user_id, secret=secret)


def enable(conn: Connection, user_id: int, *, pending: str, step: int) -> bool:
    return queries.two_factor.enable(conn, user_id=user_id, pending=pending, step=step) == 1


def disable(conn: Connection, user_id: int) -> None:
    queries.two_factor.disable(conn, user_id=user_id)
    queries.two_factor.delete_recovery_codes(conn, user_id=user_id)


def claim_step(conn: Connection, user_id: int, step: int) -> bool:
    return queries.two_factor.claim_step(conn, user_id=user_id, step=step) == 1


def replace_recovery_codes(conn: Connection, user_id: int, hashes: list[bytes]) -> None:
    queries.two_factor.delete_recovery_codes(conn, user_id=user_id)
    queries.two_factor.insert_recovery_codes(conn, user_id=user_id, hashes=hashes)


def unused_recovery_codes(conn: Connection, user_id: int) -> list[bytes]:
    rows = queries.two_factor.unused_recovery_codes(conn, user_id=user_id)
    return [bytes(row["code_hash"]) for row in rows]


def spend_recovery_code(conn: Connection, user_id: int, code_hash: bytes) -> int | None:
    """How many unused codes are left once this one is spent; None when it was not there to
    spend (used already, by a concurrent request too)."""
    row = queries.two_factor.spend_recovery_code(conn, user_id=user_id, code_hash=code_hash)
    return row["left"] if row["spent"] else None


def code_failures_today(conn: Connection, user_id: int, limit: int) -> dict:
    return queries.two_factor.code_failures_today(conn, user_id=user_id, limit=limit)
