"""Decorators and helpers shared by the blueprints."""

from __future__ import annotations

from functools import wraps

from flask import request
from flask_jwt_extended import current_user, get_jwt, jwt_required

from ..errors import PROBLEM_MIMETYPE


def authenticated(blp, *, refresh: bool = False):
    """Requires a live bearer token (a refresh token with refresh=True) and documents it."""

    def decorator(view):
        protected = jwt_required(refresh=refresh)(view)
        documented = blp.doc(security=[{"bearerAuth": []}])(protected)
        return blp.alt_response(
            401,
            description="Missing, invalid, expired or revoked token",
            content_type=PROBLEM_MIMETYPE,
            success=False,
        )(documented)

    return decorator


def client_address() -> str:
    # ProxyFix (TRUSTED_PROXY_COUNT) has already replaced remote_addr when proxies are trusted.
    return request.remote_addr or "unknown"


def user() -> dict:
    return current_user


def token_claims() -> dict:
    return get_jwt()


__all__ = ["authenticated", "client_address", "token_claims", "user", "wraps"]
