"""Register, log in, refresh, log out: the rules, independent of HTTP."""

from __future__ import annotations

from flask import current_app

from ..db import get_conn
from ..errors import Unauthorized
from ..repositories import auth_sessions, users
from . import throttle, tokens
from .passwords import PasswordHasher


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


def _hasher() -> PasswordHasher:
    return current_app.extensions["password_hasher"]


def register(*, name: str, email: str, password: str, currency: str, timezone: str) -> dict:
    return users.create(
        get_conn(),
        name=name,
        email=email,
        password_hash=_hasher().hash(password),
        currency=currency,
        timezone=timezone,
    )


def login(*, email: str, password: str, address: str) -> dict:
    settings = current_app.config["SETTINGS"]
    throttle.check(settings, email, address)
    conn = get_conn()
    user = users.get_for_login(conn, email)
    # verify() spends one bcrypt computation whether or not the user exists.
    if not _hasher().verify(password, user["password_hash"] if user else None):
        throttle.record_failure(settings, email, address)
        raise InvalidCredentials("The email or password is incorrect.")
    del user["password_hash"]
    throttle.record_success(email, address)
    session_id, refresh_jti = tokens.new_id(), tokens.new_id()
    auth_sessions.start(
        conn,
        user_id=user["id"],
        session_id=session_id,
        refresh_jti=refresh_jti,
        days=settings.jwt_refresh_token_days,
    )
    return {**tokens.issue_pair(user["id"], session_id, refresh_jti), "user": user}


def refresh(*, user: dict, claims: dict) -> dict:
    settings = current_app.config["SETTINGS"]
    session_id, new_jti = tokens.UUID(claims["sid"]), tokens.new_id()
    rotated = auth_sessions.rotate_refresh(
        get_conn(),
        user_id=user["id"],
        session_id=session_id,
        old_jti=tokens.UUID(claims["jti"]),
        new_jti=new_jti,
        days=settings.jwt_refresh_token_days,
    )
    if not rotated:  # another request rotated this token first
        raise Unauthorized("The token has been revoked.", code="token_revoked")
    return {**tokens.issue_pair(user["id"], session_id, new_jti), "user": user}


def logout(*, user: dict, claims: dict) -> None:
    auth_sessions.revoke(
        get_conn(), user_id=user["id"], session_id=tokens.UUID(claims["sid"]), reason="logout"
    )
