"""Accounts and sessions: register, log in, check a session, refresh, log out.

Tokens themselves are the door's business (the REST API signs JWTs in api/jwt.py); the rules
here deal in sessions: a login starts one, every authenticated call checks it is live, a refresh
rotates its refresh-token id, a logout ends it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from psycopg import Connection

from ...config import Settings
from ...db.pool import Database
from ...domain.errors import Forbidden, Unauthorized
from ...repositories import auth_sessions, users
from .. import ledgers
from . import events, two_factor
from . import throttle as login_throttle
from .events import Origin
from .passwords import PasswordHasher


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class TokenRevoked(Unauthorized):
    code = "token_revoked"


class AccountDisabled(Forbidden):
    code = "account_disabled"


class TotpRequired(Unauthorized):
    """The password was right and the account has two-factor on: ask for the code. Not a
    failed login (nothing is counted)."""

    code = "totp_required"


class InvalidTotp(Unauthorized):
    code = "invalid_totp"


@dataclass(frozen=True)
class AuthSetup:
    """What the rules need besides a connection, built once per process."""

    settings: Settings
    database: Database  # for writes that must outlive the caller's rollback
    hasher: PasswordHasher
    throttle_store: login_throttle.Store


@dataclass(frozen=True)
class Session:
    """A live session as a door needs it to issue tokens."""

    user: dict
    session_id: UUID
    refresh_jti: UUID


def new_id() -> UUID:
    return uuid.uuid4()


def register(
    conn: Connection, auth: AuthSetup, *, name: str, email: str, password: str, currency: str,
    timezone: str,
) -> dict:  # fmt: skip
    ledgers.check_time_zone(conn, timezone)  # before anything is written
    user = users.create(
        conn,
        name=name,
        email=email,
        password_hash=auth.hasher.hash(password),
        currency=currency,
        timezone=timezone,
    )
    ledgers.create_default(conn, user)  # where v1 paths act: every user has one
    return user


def login(
    conn: Connection, auth: AuthSetup, *, email: str, password: str, origin: Origin,
    totp: str | None = None,
) -> Session:  # fmt: skip
    """A new session for the right email and password, and with two-factor on the right
    `totp` (a current code or a recovery code)."""
    address = origin.address or "unknown"
    throttle = login_throttle.LoginThrottle(auth.settings, auth.throttle_store)
    throttle.check(conn, email, address)
    user = users.get_for_login(conn, email)
    # verify() spends one bcrypt computation whether or not the user exists.
    if not auth.hasher.verify(password, user["password_hash"] if user else None):
        throttle.record_failure(email, address)
        if user is not None:
            _record_refused(auth, user["id"], "login_failed", origin, reason="password")
        raise InvalidCredentials("The email or password is incorrect.")
    password_hash = user.pop("password_hash")
    # Whether two-factor is on is told only to whoever knows the password (401 above).
    secret, last_step = user.pop("totp_secret"), user.pop("totp_last_step")
    if secret is not None:
        if totp is None:
            raise TotpRequired("Two-factor sign-in is on: give `totp`, a current code.")
        two_factor.check_daily_limit(conn, auth, user["id"])
        throttle.count_code_attempt(conn, email, address)  # before the code is checked
        if not two_factor.verify(
            conn, auth, user_id=user["id"], encrypted_secret=secret, last_step=last_step,
            code=totp, origin=origin,
        ):  # fmt: skip
            throttle.record_code_failure(email, address)
            _record_refused(auth, user["id"], "login_failed", origin, reason="totp")
            raise InvalidTotp("The code is wrong, or was used already.")
    # Told only to whoever has every factor: a wrong one is 401 above, disabled or not.
    if user.pop("disabled_at") is not None:
        raise AccountDisabled("This account is disabled; ask an administrator.")
    throttle.record_success(conn, email, address)
    return start_session(conn, auth, user, origin, password_hash=password_hash)


def start_session(
    conn: Connection, auth: AuthSetup, user: dict, origin: Origin, *, password_hash: str
) -> Session:
    """A new session for a user whose credentials were checked against `password_hash`, with
    its login event. Refused (401) when the password changed meanwhile: a password change ends
    every other session, and a login with the old password that was already past its check
    must not start one after it (sql/users.sql record_login)."""
    if not users.record_login(conn, user["id"], password_hash):
        raise InvalidCredentials("The email or password is incorrect.")
    session_id, refresh_jti = new_id(), new_id()
    origin = origin.clipped()
    auth_sessions.start(
        conn,
        user_id=user["id"],
        session_id=session_id,
        refresh_jti=refresh_jti,
        days=auth.settings.jwt_refresh_token_days,
        user_agent=origin.user_agent,
        address=origin.address,
    )
    events.record(conn, user["id"], "login", origin, session_id=session_id)
    return Session(user, session_id, refresh_jti)


def _record_refused(auth: AuthSetup, user_id: int, kind: str, origin: Origin, **detail) -> None:
    events.record_apart(auth.database, user_id, kind, origin, **detail)


def authenticate(
    conn: Connection, auth: AuthSetup, *, user_id: int, session_id: UUID, refresh_jti: str | None
) -> dict | None:
    """The user of a live session, or None when its tokens must be refused.

    `refresh_jti` is given for refresh tokens. One that was already rotated away is refused.
    If it is the one rotated away last, within REFRESH_REUSE_GRACE_SECONDS, that is all: a
    client that sent a refresh, lost the answer and sent it again is no thief. Otherwise whoever
    holds it may be an attacker, so the whole session ends (in a transaction of its own: the
    caller's request fails and rolls back)."""
    row = auth_sessions.get_active_with_user(conn, user_id=user_id, session_id=session_id)
    if row is None:
        return None
    current_jti = row.pop("refresh_jti")
    if refresh_jti is not None and str(current_jti) != refresh_jti:
        if not _reused_within_grace(conn, auth, user_id, session_id, refresh_jti):
            with auth.database.independent_transaction() as own:
                auth_sessions.revoke(
                    own, user_id=user_id, session_id=session_id, reason="refresh_reuse"
                )
        return None
    return row


def _reused_within_grace(
    conn: Connection, auth: AuthSetup, user_id: int, session_id: UUID, refresh_jti: str
) -> bool:
    return auth_sessions.rotated_away_within(
        conn,
        user_id=user_id,
        session_id=session_id,
        refresh_jti=refresh_jti,
        grace_seconds=auth.settings.refresh_reuse_grace_seconds,
    )


def refresh(
    conn: Connection, auth: AuthSetup, *, user: dict, session_id: UUID, refresh_jti: UUID
) -> Session:
    new_jti = new_id()
    rotated = auth_sessions.rotate_refresh(
        conn,
        user_id=user["id"],
        session_id=session_id,
        old_jti=refresh_jti,
        new_jti=new_jti,
        days=auth.settings.jwt_refresh_token_days,
        max_days=auth.settings.session_max_days,
    )
    if not rotated:  # another request rotated this token first, or the session is too old
        raise TokenRevoked("The token has been revoked.")
    return Session(user, session_id, new_jti)


def logout(conn: Connection, *, user: dict, session_id: UUID) -> None:
    auth_sessions.revoke(conn, user_id=user["id"], session_id=session_id, reason="logout")
