"""/api/auth/sessions and /api/auth/password: the sessions a person can see and end, and the
password change that ends the others. Session-only: a personal access token gets 403
`session_required` here (api/core/bearer.py)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from ..services.auth import sessions
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.tokens import clear_refresh_cookies, session_of
from .core.views import (
    authenticated,
    idempotent,
    problem_response,
    request_origin,
    token_claims,
    user,
)
from .schemas.sessions import PasswordChangeSchema, SessionListSchema

blp = Blueprint(
    "sessions", __name__, url_prefix="/api/auth", description="Sessions and the password"
)

SESSION_REQUIRED = "A personal access token: code `session_required` (sign in instead)"


def _current_session():
    session_id, _ = session_of(token_claims())
    return session_id


@blp.route("/sessions")
class Sessions(MethodView):
    @authenticated(blp)
    @blp.response(200, SessionListSchema)
    @problem_response(blp, 403, SESSION_REQUIRED)
    def get(self):
        """Your live sessions, newest first (the 100 newest)

        A session is a login: it lives until it is ended (logout, here, a password change) or
        its refresh token's lifetime passes. `current` marks the one making this request;
        `lastUsedAt` is updated at most once a minute.
        """
        items = sessions.list_live(
            get_conn(), user_id=user()["id"], current_session_id=_current_session()
        )
        return {"items": items}


@blp.route("/sessions/<uuid:session_id>")
class Session(MethodView):
    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 403, SESSION_REQUIRED)
    @problem_response(blp, 404, "No such live session of yours")
    def delete(self, session_id):
        """End a session: its access and refresh tokens are refused from now on

        Ending your current session is allowed and works as a logout.
        """
        current = _current_session()
        sessions.end(
            get_conn(), user_id=user()["id"], session_id=session_id, current_session_id=current,
            origin=request_origin(),
        )  # fmt: skip
        if session_id == current:
            clear_refresh_cookies()


@blp.route("/password")
class Password(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    @problem_response(
        blp,
        403,
        "The current password is wrong: code `invalid_password` (it counts as a failed login); "
        "or a personal access token: code `session_required`",
    )
    @problem_response(blp, 429, "Too many failed logins for this account or address: code "
                      "`login_throttled`; see Retry-After")  # fmt: skip
    @problem_response(
        blp,
        503,
        "The login throttle's store (Redis, THROTTLE_STORE=redis) cannot be reached: code "
        "`throttle_unavailable`; see Retry-After",
    )
    def post(self, body):
        """Change your password; every other session ends, every personal access token is
        deleted

        The new password follows registration's rules (8 to 128 characters). This session
        stays signed in. A wrong current password is 403 `invalid_password` (not 401: the token
        is fine) and counts toward login throttling for the account's email: past the limit
        the answer is 429 `login_throttled` before the password is checked.
        """
        sessions.change_password(
            get_conn(),
            current_app.extensions["auth"],
            user=user(),
            current_session_id=_current_session(),
            current_password=body["current_password"],
            new_password=body["new_password"],
            origin=request_origin(),
        )
