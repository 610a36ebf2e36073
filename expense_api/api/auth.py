"""/api/auth: register, login, refresh, logout, me."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from ..services import idempotency_keys
from ..services.auth import accounts as auth
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.tokens import clear_refresh_cookies, issue_pair, refreshing_by_cookie, session_of
from .core.views import (
    authenticated,
    idempotent,
    problem_response,
    request_origin,
    token_claims,
    user,
)
from .schemas.auth import (
    CallerEnvelopeSchema,
    LoginSchema,
    RegisterSchema,
    TokenPairSchema,
    UserEnvelopeSchema,
)

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


def _setup() -> auth.AuthSetup:
    return current_app.extensions["auth"]


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, UserEnvelopeSchema)
    @problem_response(blp, 409, "The email is taken (any case): code `email_taken`")
    def post(self, body):
        """Create an account"""
        return {"user": auth.register(get_conn(), _setup(), **body)}


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenPairSchema)
    @problem_response(
        blp,
        401,
        "Wrong email or password: code `invalid_credentials`. With two-factor sign-in on and the "
        "password right: no `totp`, code `totp_required` (not counted as a failure); a wrong or "
        "already used code, `invalid_totp` (counted toward the throttle)",
    )
    @problem_response(blp, 403, "The right password of a disabled account: code `account_disabled`")
    @problem_response(blp, 429, "Too many failed logins for this email or address; see Retry-After")
    @problem_response(
        blp,
        503,
        "The login throttle's store (Redis, THROTTLE_STORE=redis) cannot be reached: code "
        "`throttle_unavailable`; see Retry-After",
    )
    def post(self, body):
        """Log in: an access token and a refresh token

        With `refreshCookie: true` (browsers) the refresh token is not in the body: it is set
        as the cookie `refresh_token` (HttpOnly; Secure; SameSite=Strict; Path=/api/auth/refresh)
        with its CSRF value in the readable cookie `csrf_refresh_token`, to be sent back as the
        `X-CSRF-Token` header when refreshing by cookie.
        """
        session = auth.login(
            get_conn(),
            _setup(),
            email=body["email"],
            password=body["password"],
            origin=request_origin(),
            totp=body.get("totp"),
        )
        return issue_pair(session, in_cookie=body["refresh_cookie"])


REFRESH_KEY_DESCRIPTION = (
    "To retry a refresh whose answer was lost: the same key with the same refresh token within "
    "5 minutes replays the stored answer, the same new pair (header Idempotent-Replayed: true), "
    "before the token is checked, so the retry neither fails nor ends the session. The key is "
    "bound to that refresh token: with another token (another session's, or the next one of "
    "this session) it is 422 idempotency_key_reused. Answers carrying tokens are kept 5 "
    "minutes only."
)
LOGOUT_KEY_DESCRIPTION = (
    "To retry a logout whose answer was lost: the same key from the same session replays the "
    "stored 204 (header Idempotent-Replayed: true) before the session is checked, although the "
    "first logout revoked it, for as long as the access token itself has not expired (its "
    "signature and expiry are still checked, to find whose key it is). From another session "
    "it is 422 idempotency_key_reused."
)
KEY_REFUSED = "The Idempotency-Key is malformed, or was used for another request or session"


@blp.route("/refresh")
class Refresh(MethodView):
    @authenticated(
        blp,
        refresh=True,
        changes_own_session=True,
        keep_answer=idempotency_keys.KEEP_ANSWERS_WITH_TOKENS,
    )
    @idempotent(blp, REFRESH_KEY_DESCRIPTION)
    @blp.response(200, TokenPairSchema)
    @problem_response(blp, 422, KEY_REFUSED)
    def post(self):
        """Exchange the refresh token (as bearer) for new tokens; the old one stops working

        Cookie mode (a login with `refreshCookie: true`): without an Authorization header the
        refresh token is read from its `refresh_token` cookie, and the request must carry the
        `X-CSRF-Token` header equal to the `csrf_refresh_token` cookie (else 401 `csrf_failed`).
        The answer then sets both cookies anew and has no `refreshToken`. An Idempotency-Key is
        honoured for bearer refreshes only.

        The refresh token that was just rotated away, presented again, is 401 `token_revoked`.
        Within the refresh reuse grace after its rotation (REFRESH_REUSE_GRACE_SECONDS, 30
        seconds unless the operator sets it) that is all and the session lives on; after it, or
        for any older refresh token, the reuse is taken as theft and ends the whole session
        (its newest tokens too). A client retrying a lost answer should send an Idempotency-Key:
        its retry then gets the same new pair.
        """
        session_id, refresh_jti = session_of(token_claims())
        session = auth.refresh(
            get_conn(), _setup(), user=user(), session_id=session_id, refresh_jti=refresh_jti
        )
        return issue_pair(session, in_cookie=refreshing_by_cookie())


@blp.route("/logout")
class Logout(MethodView):
    @authenticated(blp, changes_own_session=True)
    @idempotent(blp, LOGOUT_KEY_DESCRIPTION)
    @blp.response(204)
    @problem_response(blp, 422, KEY_REFUSED)
    def post(self):
        """Revoke this session: its access and refresh tokens stop working"""
        session_id, _ = session_of(token_claims())
        auth.logout(get_conn(), user=user(), session_id=session_id)
        clear_refresh_cookies()


@blp.route("/me")
class Me(MethodView):
    @authenticated(blp)
    @blp.response(200, CallerEnvelopeSchema)
    def get(self):
        """The authenticated user, and whether two-factor sign-in is on"""
        return {"user": user()}
