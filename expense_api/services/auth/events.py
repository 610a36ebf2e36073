"""An account's security history: what happened to it, for its owner (GET /api/auth/events).

Every rule that changes how someone signs in records its event here, with where the request came
from (`Origin`). Events of a refused request (a failed login, a wrong code) are written in a
transaction of their own: the request's own rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from psycopg import Connection

from ...repositories import security_events

# The kinds there are; the table checks only their shape, so adding one needs no migration.
KINDS = frozenset({
    "login",                # a login started a session
    "login_failed",         # a wrong password, or a wrong second factor, for this account
    "totp_enabled",
    "totp_disabled",
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
