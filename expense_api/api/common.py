"""Decorators and helpers shared by the blueprints."""

from __future__ import annotations

from functools import wraps

from flask import request
from flask_jwt_extended import current_user, get_jwt, verify_jwt_in_request
from marshmallow.experimental.context import Context

from . import idempotency
from .problems import PROBLEM_MIMETYPE
from .schemas.common import ProblemSchema


def authenticated(blp, *, refresh: bool = False):
    """Requires a live bearer token (a refresh token with refresh=True), and documents it.

    Put it above the other decorators: the token is checked before the body is parsed (401
    before 422), the user's currency is in the schemas' context while they load and dump money,
    and an authenticated POST gets Idempotency-Key handling.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            user = current_user
            with Context({"currency": user["currency"], "user": user}):
                if not refresh:
                    replay = idempotency.begin(user["id"])
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


def idempotent(blp):
    """Documents the Idempotency-Key header on a POST (the handling itself is in authenticated)."""
    return blp.doc(
        parameters=[
            {
                "in": "header",
                "name": idempotency.HEADER,
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "Repeating a POST with the same key and body within 24 hours "
                "replays the stored response (header Idempotent-Replayed: true) without doing "
                "the work again; the same key with a different body is 422 "
                "idempotency_key_reused.",
            }
        ]
    )


def client_address() -> str:
    # ProxyFix (TRUSTED_PROXY_COUNT) has already replaced remote_addr when proxies are trusted.
    return request.remote_addr or "unknown"


def user() -> dict:
    return current_user


def token_claims() -> dict:
    return get_jwt()
