"""Decorators and helpers shared by the blueprints."""

from __future__ import annotations

import inspect
from datetime import timedelta
from functools import wraps

from flask import current_app, g, request
from flask_jwt_extended import get_jwt
from marshmallow.experimental.context import Context

from ...services import idempotency_keys, ledgers
from ...services.auth.events import Origin
from ...services.ledgers import Actor
from ..schemas.base import ProblemSchema
from . import bearer, idempotency
from .problems import PROBLEM_MIMETYPE
from .request_transaction import get_conn
from .tokens import claims_before_session_check


def authenticated(
    blp,
    *,
    refresh: bool = False,
    changes_own_session: bool = False,
    keep_answer: timedelta = idempotency_keys.KEEP,
):
    """Requires a live bearer token (a refresh token with refresh=True), and documents it.

    Put it above the other decorators: the token is checked before the body is parsed (401
    before 422), the user's currency is in the schemas' context while they load and dump money,
    and an authenticated POST gets Idempotency-Key handling, its answer kept for `keep_answer`.

    `changes_own_session` (refresh, logout): the operation rotates or ends the session of its
    own token, so its retry would fail the token check. The key is claimed, and a stored answer
    replayed, before that check instead (see idempotency.begin_for_session).
    """

    def decorator(view):
        # Views of the ledger paths take no `ledger_id` (they ask `actor()`); a view that
        # declares it (the ledger's own routes) gets it as well.
        wants_ledger_arg = LEDGER_ARG in inspect.signature(view).parameters

        @wraps(view)
        def wrapper(*args, **kwargs):
            if changes_own_session:
                claims = claims_before_session_check(refresh=refresh)
                if claims is not None:
                    replay = idempotency.begin_for_session(*claims, keep=keep_answer)
                    if replay is not None:
                        return replay
            # A refresh token may also come in the dashboard's cookie (CSRF-checked there); a
            # personal access token in the header (api/core/bearer.py).
            user = bearer.verify(refresh=refresh, locations=REFRESH_LOCATIONS if refresh else None)
            # A ledger path acts in its ledger (404 for a non-member, before the body is read);
            # every other path in the caller's default ledger.
            ledger_id = kwargs.get(LEDGER_ARG) if wants_ledger_arg else kwargs.pop(LEDGER_ARG, None)
            acting = _resolve_actor(user, ledger_id)
            # Money in and out follows the currency of the ledger the request acts in.
            with Context({"currency": acting.currency, "user": user}):
                if not changes_own_session:
                    replay = idempotency.begin(user["id"], keep=keep_answer)
                    if replay is not None:
                        return replay
                return view(*args, **kwargs)

        documented = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        return problem_response(blp, 401, "Missing, invalid, expired or revoked token")(documented)

    return decorator


def problem_response(blp, status: int, description: str):
    """Documents an error answer of an operation: problem+json with the given meaning."""
    return blp.alt_response(
        status,
        schema=ProblemSchema,
        description=description,
        content_type=PROBLEM_MIMETYPE,
        success=False,
    )


IDEMPOTENCY_KEY_DESCRIPTION = (
    "Repeating a POST with the same key and body within 24 hours replays the stored response "
    "(header Idempotent-Replayed: true) without doing the work again; the same key with a "
    "different body is 422 idempotency_key_reused."
)


def idempotent(blp, description: str = IDEMPOTENCY_KEY_DESCRIPTION):
    """Documents the Idempotency-Key header on a POST (the handling itself is in authenticated)."""
    return blp.doc(
        parameters=[
            {
                "in": "header",
                "name": idempotency.HEADER,
                "required": False,
                "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN},
                "description": description,
            }
        ]
    )


def client_address() -> str:
    # ProxyFix (TRUSTED_PROXY_COUNT) has already replaced remote_addr when proxies are trusted.
    return request.remote_addr or "unknown"


def request_origin() -> Origin:
    """Where this request came from, as sessions and security events record it."""
    return Origin(client_address(), request.headers.get("User-Agent"))


def user() -> dict:
    return bearer.current_user()


def default_actor(row: dict | None = None) -> Actor:
    """The caller acting in their default ledger, where v1 paths act: found by the same query
    that checked their session, so it costs no round trip."""
    row = row if row is not None else bearer.current_user()
    return Actor(
        user_id=row["id"],
        ledger_id=row["default_ledger_id"],
        role=row["default_ledger_role"],
        currency=row["default_ledger_currency"],
        timezone=row["default_ledger_timezone"],
        has_webhooks=row["default_ledger_has_webhooks"],
    )


REFRESH_LOCATIONS = ["headers", "cookies"]
LEDGER_ARG = "ledger_id"  # the path argument of /api/ledgers/<id:ledger_id>/...


def _resolve_actor(user: dict, ledger_id: int | None) -> Actor:
    """Resolves the request's actor once; `actor()` then returns it."""
    if ledger_id is None:
        g.pop("ledger_path_actor", None)
        g.request_actor = default_actor(user)
    else:
        g.ledger_path_actor = ledgers.actor_in(get_conn(), user_id=user["id"], ledger_id=ledger_id)
        g.request_actor = g.ledger_path_actor
    return g.request_actor


def on_ledger_path() -> bool:
    """Whether the request came through /api/ledgers/<id>/... (and so acts in that ledger)."""
    return g.get("ledger_path_actor") is not None


def actor() -> Actor:
    """Who the request acts as, and in which ledger: on /api/ledgers/<id>/... the caller in that
    ledger (resolved by `authenticated`), on v1 paths the caller in their default ledger."""
    resolved = g.get("request_actor")
    return resolved if resolved is not None else default_actor()


def analytics_cache():
    """The app's analytics cache (ANALYTICS_CACHE_URL), or None: what every door's reports read
    through (REST's report views, GraphQL's report fields)."""
    return current_app.extensions.get("analytics_cache")


def token_claims() -> dict:
    return get_jwt()
