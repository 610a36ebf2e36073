"""/api/auth/totp: two-factor sign-in's setup, enabling and disabling (services/auth/two_factor)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from ..services import idempotency_keys
from ..services.auth import two_factor
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import authenticated, idempotent, problem_response, request_origin, user
from .schemas.two_factor import (
    RecoveryCodesSchema,
    TotpDisableSchema,
    TotpEnableSchema,
    TotpSetupSchema,
)

blp = Blueprint(
    "two_factor",
    __name__,
    url_prefix="/api/auth/totp",
    description="Two-factor sign-in (TOTP, RFC 6238: 30-second steps, 6 digits, one step of "
    "drift either way, each code once) and its recovery codes",
)

# The answers of setup and enable carry a secret or the recovery codes: a retry's stored answer
# is kept as briefly as a token pair's.
SECRET_KEY_DESCRIPTION = (
    "Repeating the POST with the same key and body within 5 minutes replays the stored answer "
    "(header Idempotent-Replayed: true) without doing the work again; the answer carries a "
    "secret, so it is kept 5 minutes only. The same key with a different body is 422 "
    "idempotency_key_reused."
)


def _setup():
    return current_app.extensions["auth"]


@blp.route("/setup")
class Setup(MethodView):
    @authenticated(blp, keep_answer=idempotency_keys.KEEP_ANSWERS_WITH_TOKENS)
    @idempotent(blp, SECRET_KEY_DESCRIPTION)
    @blp.response(200, TotpSetupSchema)
    @problem_response(blp, 409, "Two-factor sign-in is already on: code `totp_already_enabled`")
    @problem_response(blp, 422, "The Idempotency-Key is malformed or was used for another body")
    def post(self):
        """Start setting up two-factor sign-in: a new secret for an authenticator app

        The secret stays pending (two-factor is not on yet) until POST /api/auth/totp/enable
        gets a code of it; a new setup replaces a pending one. `qrCode` is the `otpauthUri` as a
        QR code, an SVG data URI to show in an `<img>`."""
        return two_factor.setup(get_conn(), _setup(), user_id=user()["id"])


@blp.route("/enable")
class Enable(MethodView):
    @authenticated(blp, keep_answer=idempotency_keys.KEEP_ANSWERS_WITH_TOKENS)
    @idempotent(blp, SECRET_KEY_DESCRIPTION)
    @blp.arguments(TotpEnableSchema)
    @blp.response(200, RecoveryCodesSchema)
    @problem_response(
        blp,
        409,
        "No setup pending: code `totp_not_set_up`; already on: code `totp_already_enabled`",
    )
    @problem_response(
        blp,
        422,
        "`code` is not a current code of the pending secret (`validation_error` naming `code`), "
        "or the Idempotency-Key is malformed or was used for another body",
    )
    def post(self, body):
        """Turn two-factor sign-in on with a first code: ten recovery codes, shown once

        From now on a login needs `totp` as well. Each recovery code replaces a code once (a
        lost phone); enabling again after disabling makes new ones and ends the old."""
        codes = two_factor.enable(
            get_conn(), _setup(), user_id=user()["id"], code=body["code"], origin=request_origin()
        )
        return {"recovery_codes": codes}


@blp.route("/disable")
class Disable(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(TotpDisableSchema)
    @blp.response(204)
    @problem_response(
        blp,
        403,
        "Wrong password: code `invalid_password`; wrong or already used code: code "
        "`invalid_totp` (both count toward the login throttle of the account's email)",
    )
    @problem_response(blp, 409, "Two-factor sign-in is not on: code `totp_not_enabled`")
    @problem_response(blp, 422, "The Idempotency-Key is malformed or was used for another body")
    @problem_response(blp, 429, "Too many failed logins for this account: code `login_throttled`")
    @problem_response(
        blp,
        503,
        "The login throttle's store cannot be reached: code `throttle_unavailable`",
    )
    def post(self, body):
        """Turn two-factor sign-in off, with the password and a current or recovery code

        The secret and every recovery code are forgotten."""
        me = user()
        two_factor.disable(
            get_conn(),
            _setup(),
            user_id=me["id"],
            email=me["email"],
            password=body["password"],
            code=body["code"],
            origin=request_origin(),
        )
