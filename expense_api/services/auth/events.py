"""An account's security history: what happened to it, for its owner (GET /api/auth/events).

Every rule that changes how someone signs in records its event here, with where the request came
from (`Origin`). Events of a refused request (a failed login, a wrong code) are written in a
transaction of their own: the request's own rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from psycopg import Connection

from ...db.pool import Database
from ...repositories import security_events

# The kinds there are; the table checks only their shape, so adding one needs no migration.
KINDS = frozenset({
    "login",                # a login started a session
    "login_failed",         # a wrong password, or a wrong second factor, for this account
    "totp_enabled",
    "totp_disabled",
    "totp_disable_failed",  # a wrong password or code when turning two-factor off
    "recovery_code_used",   # a login spent one of the recovery codes
    "password_changed",     # every other session and every access token ended with it
    "session_ended",        # a session ended from the sessions list (not a logout)
    "token_created",        # a personal access token
    "token_revoked",
    "account_erase_failed",  # a wrong password or second factor asking to erase the account
})  # fmt: skip


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as events and sessions record it."""

    address: str | None = None
    user_agent: str | None = None

    def clipped(self) -> Origin:
        return Origin(
            self.address[:64] if self.address else None,
            self.user_agent[:512] if self.user_agent else None,
        )


def record(
    conn: Connection, user_id: int, kind: str, origin: Origin = Origin(), *,
    session_id: UUID | None = None, **detail,
) -> None:  # fmt: skip
    if kind not in KINDS:
        raise ValueError(f"unknown security event {kind!r}")
    origin = origin.clipped()
    security_events.insert(
        conn, user_id=user_id, kind=kind, address=origin.address, user_agent=origin.user_agent,
        session_id=session_id, detail=detail,
    )  # fmt: skip


def record_apart(
    database: Database, user_id: int, kind: str, origin: Origin = Origin(), **detail
) -> None:
    """An event of a request that is about to be refused: in a transaction of its own, since
    the request's rolls back."""
    with database.independent_transaction() as own:
        record(own, user_id, kind, origin, **detail)


def page(conn: Connection, *, user_id: int, limit: int, before_id: int | None) -> list[dict]:
    """The account's events, newest first, below the id `before_id` (a keyset cursor); a
    session id only where the event has one."""
    rows = security_events.page(conn, user_id=user_id, before_id=before_id, limit=limit)
    for row in rows:
        if row["session_id"] is None:
            del row["session_id"]
    return rows


def prune(conn: Connection, *, days: int) -> int:
    """Deletes every account's events older than `days` (SECURITY_EVENTS_DAYS); how many."""
    return security_events.delete_older_than(conn, days=days)
