"""The sessions a person can see and end, and the password change that ends all but theirs.

A session is a login (services/auth/accounts.py starts it); its tokens live as long as it does.
Listing shows the live ones with where they started and when they were last used (the session
check touches `last_used_at` at most once a minute). Ending one is a logout from elsewhere: its
access and refresh tokens are refused from the next request on. Changing the password ends
every other session and deletes every personal access token, so whoever held the old password
or a token made with it is out at once.
"""

from __future__ import annotations

from uuid import UUID

from psycopg import Connection

from ...domain.errors import NotFound
from ...repositories import auth_sessions, personal_access_tokens, users
from . import events
from . import throttle as login_throttle
from .accounts import AuthSetup
from .events import Origin
from .passwords import InvalidPassword

# The newest this many are listed: a script that logs in every few minutes keeps thousands of
# sessions live for the refresh token's 30 days.
MAX_LISTED = 100


def list_live(conn: Connection, *, user_id: int, current_session_id: UUID | None) -> list[dict]:
    """The user's live sessions, newest first, the caller's own marked `current`."""
    rows = auth_sessions.list_live(conn, user_id=user_id, limit=MAX_LISTED)
    return [{**row, "current": row["id"] == current_session_id} for row in rows]


def end(
    conn: Connection, *, user_id: int, session_id: UUID, current_session_id: UUID | None,
    origin: Origin,
) -> None:  # fmt: skip
    """Ends one of the user's live sessions (the caller's own too: a logout). NotFound for an
    unknown, ended or another user's session: the two are never told apart."""
    if not auth_sessions.end_live(conn, user_id=user_id, session_id=session_id, reason="ended"):
        raise NotFound("No such session.")
    by = str(current_session_id) if current_session_id is not None else None
    events.record(conn, user_id, "session_ended", origin, session_id=session_id, by_session=by)


def change_password(
    conn: Connection, auth: AuthSetup, *, user: dict, current_session_id: UUID,
    current_password: str, new_password: str, origin: Origin,
) -> None:  # fmt: skip
    """Replaces the password after checking the current one; ends every other session and
    deletes every personal access token. A wrong current password counts as a failed login for
    the account's email (and the client's address), checked first, as login does: someone with
    a stolen access token cannot guess the password at will."""
    address = origin.address or "unknown"
    throttle = login_throttle.LoginThrottle(auth.settings, auth.throttle_store)
    throttle.check(conn, user["email"], address)
    old_hash = users.get_password_hash(conn, user["id"])
    if not auth.hasher.verify(current_password, old_hash):
        throttle.record_failure(user["email"], address)
        # The request rolls back: its event goes in a transaction of its own.
        with auth.database.independent_transaction() as own:
            events.record(
                own, user["id"], "login_failed", origin, session_id=current_session_id,
                reason="password_change",
            )  # fmt: skip
        raise InvalidPassword("The current password is incorrect.")
    new_hash = auth.hasher.hash(new_password)
    if not users.change_password(conn, user_id=user["id"], old_hash=old_hash, new_hash=new_hash):
        # Another change committed after the check: this current password is no longer current.
        raise InvalidPassword("The password was changed meanwhile; the current one is not this.")
    throttle.record_success(conn, user["email"], address)
    ended = auth_sessions.revoke_others_of_user(
        conn, user_id=user["id"], keep_session_id=current_session_id, reason="password_changed"
    )
    deleted = personal_access_tokens.delete_all_of_user(conn, user_id=user["id"])
    events.record(
        conn, user["id"], "password_changed", origin, session_id=current_session_id,
        sessions_ended=ended, tokens_deleted=deleted,
    )  # fmt: skip
