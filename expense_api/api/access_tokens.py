"""/api/auth/tokens: personal access tokens for scripts (services/auth/access_tokens.py).
Session-only: a personal access token cannot manage tokens (403 `session_required`)."""

from __future__ import annotations

from flask.views import MethodView

from ..services import idempotency_keys
from ..services.auth import access_tokens
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import authenticated, idempotent, problem_response, request_origin, user
from .schemas.access_tokens import (
    AccessTokenInputSchema,
    AccessTokenListSchema,
    NewAccessTokenSchema,
)

blp = Blueprint(
    "access_tokens",
    __name__,
    url_prefix="/api/auth/tokens",
    description="Personal access tokens for scripts",
)

SESSION_REQUIRED = "A personal access token: code `session_required` (sign in instead)"
CREATE_KEY_DESCRIPTION = (
    "Repeating the POST with the same key and body within 5 minutes replays the stored answer, "
    "the same token (header Idempotent-Replayed: true), without making another; the same key "
    "with a different body is 422 idempotency_key_reused. Answers carrying tokens are kept 5 "
    "minutes only."
)


@blp.route("")
class AccessTokens(MethodView):
    @authenticated(blp, keep_answer=idempotency_keys.KEEP_ANSWERS_WITH_TOKENS)
    @idempotent(blp, CREATE_KEY_DESCRIPTION)
    @blp.arguments(AccessTokenInputSchema)
    @blp.response(201, NewAccessTokenSchema)
    @problem_response(blp, 403, SESSION_REQUIRED)
    @problem_response(
        blp, 409, f"You have {access_tokens.MAX_PER_USER} tokens already: `too_many_tokens`"
    )
    def post(self, body):
        """Create a personal access token (shown once)

        Use it as `Authorization: Bearer eat_...` wherever an access token works, REST and
        GraphQL. A `read` token gets 403 `insufficient_scope` on any write (any method but GET,
        HEAD and OPTIONS; a GraphQL mutation). Neither scope may manage the account's security
        (sessions, tokens, password, two-factor, refresh, logout, deleting the account): 403
        `session_required`. An expired token is 401 `token_expired`; changing the password
        deletes every token.
        """
        return access_tokens.create(
            get_conn(), user_id=user()["id"], name=body["name"], scope=body["scope"],
            expires_in_days=body["expires_in_days"], origin=request_origin(),
        )  # fmt: skip

    @authenticated(blp)
    @blp.response(200, AccessTokenListSchema)
    @problem_response(blp, 403, SESSION_REQUIRED)
    def get(self):
        """Your personal access tokens, newest first (expired ones too; never the token)"""
        return {"items": access_tokens.list_all(get_conn(), user_id=user()["id"])}


@blp.route("/<uuid:token_id>")
class AccessToken(MethodView):
    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 403, SESSION_REQUIRED)
    @problem_response(blp, 404, "No such token of yours")
    def delete(self, token_id):
        """Delete a personal access token: it is refused from now on"""
        access_tokens.delete(
            get_conn(), user_id=user()["id"], token_id=token_id, origin=request_origin()
        )
