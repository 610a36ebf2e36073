"""JWT glue: access and refresh tokens, bound to a server-side session so they can be revoked.

Each login starts a session (services/auth/accounts.py). Both of its tokens carry the session id
(`sid`); the refresh token's `jti` must equal the session's current refresh id. Every authenticated
request asks the auth service whether the session is live (one indexed query that also loads the
user), so logout, a deleted user or a reused refresh token take effect at once, not when the
access token expires. This module only turns tokens into claims and answers into 401s.

Signing keys rotate (SigningKeys below): each token's header names its key by `kid`; the newest
configured key signs, every configured key verifies.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from flask import Flask, after_this_request, current_app, g, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
    set_refresh_cookies,
    unset_refresh_cookies,
)
from flask_jwt_extended import view_decorators as _view_decorators
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import InvalidTokenError, PyJWTError

from ...services.auth import accounts as auth
from .problems import problem
from .request_transaction import get_conn


class CachingJWTManager(JWTManager):
    """Verifies a token's signature once per worker, not on every request.

    flask-jwt-extended decodes each bearer token three times per request (claims, header, then
    the verified decode): a third of the per-request CPU on small endpoints. A verified token's
    claims are kept per application (so a token verified under one secret never counts for an app
    with another), keyed by the exact token text (any change to it is a different key and is
    verified afresh); expiry is checked again on every use, and revocation is still looked up on
    every request by the blocklist loader below. An application's signing keys are read once, at
    start, and never change while it runs, so whatever it has cached it would verify again; a
    key removed from the settings takes its tokens with it at the restart that reads them.
    """

    CACHE_SIZE = 4096
    EXTENSION = "expense_api.verified_tokens"

    def init_app(self, app: Flask, add_context_processor: bool = False) -> None:
        super().init_app(app, add_context_processor)
        app.extensions[self.EXTENSION] = {}

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value=None, allow_expired: bool = False
    ) -> dict:
        if allow_expired or csrf_value is not None:  # paths the cache is not meant for
            return _typed(super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired))
        verified: dict[str, dict] = current_app.extensions[self.EXTENSION]
        claims = verified.get(encoded_token)
        if claims is not None:
            if time.time() < claims["exp"]:
                return dict(claims)
            verified.pop(encoded_token, None)
        claims = _typed(super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired))
        if len(verified) >= self.CACHE_SIZE:
            # Start afresh rather than evict one by one: iterating a dict that other
            # threads change is not safe, and a refill costs one verification per token.
            verified.clear()
        verified[encoded_token] = dict(claims)
        return claims


def _is_number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)  # bool is not a number here


_USER_ID = re.compile(r"[1-9][0-9]{0,18}")

# The claims this service reads, each with the JSON type it must have. PyJWT checks only that
# exp/iat/nbf convert with int() (so "9999999999" passes) and accepts a token without exp;
# flask-jwt-extended fills in a missing type. A token signed with our key but shaped otherwise
# was not made by this service: it is invalid (401), on every use.
_CLAIM_TYPES = {
    "exp": (True, _is_number),
    "iat": (False, _is_number),
    "nbf": (False, _is_number),
    "sub": (True, lambda v: isinstance(v, str) and _USER_ID.fullmatch(v) is not None),
    "sid": (True, lambda v: isinstance(v, str)),
    "jti": (False, lambda v: v is None or isinstance(v, str)),
    "type": (True, lambda v: v in ("access", "refresh")),
    "fresh": (False, lambda v: isinstance(v, bool) or _is_number(v)),
    "csrf": (False, lambda v: isinstance(v, str)),
}


def _typed(claims: dict) -> dict:
    """The decoded claims, if every claim this service reads has its JSON type; else
    InvalidTokenError, which flask-jwt-extended answers through _invalid_token (401)."""
    for name, (required, valid) in _CLAIM_TYPES.items():
        if name not in claims:
            if required:
                raise InvalidTokenError(f"Missing claim: {name}")
        elif not valid(claims[name]):
            raise InvalidTokenError(f"Claim {name} has the wrong type")
    return claims


jwt = CachingJWTManager()

# flask-jwt-extended also parses each bearer token's header on every request, unverified, only to
# hand it to the callbacks (`_decode_jwt_from_request` -> `get_unverified_jwt_headers`), and
# PyJWT checks that header's base64 character by character: about 30 us per request. The header
# of a token whose signature this worker has verified (it is in the verified-claims cache) is
# kept beside its claims; any other token is parsed as before. The name is looked up where
# flask-jwt-extended calls it, so a release that moves it fails here at import, not silently.
# Kept for its measured gain (`python -m bench.overrides`, docs/BENCHMARKS.md "Framework
# overrides, measured"): 4.1% of the instructions of an enforced write plus a list read.
_parse_unverified_headers = _view_decorators.get_unverified_jwt_headers
HEADERS_EXTENSION = "expense_api.verified_token_headers"


def _headers_of_verified_token(encoded_token: str) -> dict:
    verified = current_app.extensions.get(CachingJWTManager.EXTENSION)
    known = current_app.extensions.setdefault(HEADERS_EXTENSION, {})
    headers = known.get(encoded_token)
    if headers is None:
        headers = _parse_unverified_headers(encoded_token)
        if verified is not None and encoded_token in verified:
            if len(known) >= CachingJWTManager.CACHE_SIZE:
                known.clear()
            known[encoded_token] = headers
    return dict(headers)


_view_decorators.get_unverified_jwt_headers = _headers_of_verified_token


def key_id(key: str) -> str:
    """A key's `kid`, derived from the key so that an operator never names keys: 16 hex digits
    (64 bits) of its SHA-256. It tells nothing the token's own HMAC does not already: guessing
    the key from either takes the same search."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKeys:
    """The keys of settings.jwt_secret_keys (newest first), by kid."""

    newest_kid: str
    newest: str
    oldest: str  # verifies the tokens signed before tokens carried a kid
    by_kid: dict[str, str]

    EXTENSION = "expense_api.signing_keys"

    @classmethod
    def of(cls, keys: tuple[str, ...]) -> SigningKeys:
        by_kid = {key_id(key): key for key in keys}
        if len(by_kid) != len(keys):  # config refuses a key listed twice; 64-bit kids differ
            raise ValueError("two signing keys share a kid")
        return cls(key_id(keys[0]), keys[0], keys[-1], by_kid)

    def verifying(self, header: dict) -> str:
        """The key that must have signed a token with this (unverified) header."""
        if "kid" not in header:
            # Issued before tokens carried a kid, so signed with the key configured then: the
            # oldest still listed. Adding a key in front signs nobody out; removing it ends them.
            return self.oldest
        kid = header["kid"]
        key = self.by_kid.get(kid) if isinstance(kid, str) else None
        if key is None:  # a removed key, or one this service never had: 401 invalid_token
            raise InvalidTokenError("Unknown signing key")
        return key


def _signing_keys() -> SigningKeys:
    return current_app.extensions[SigningKeys.EXTENSION]


@jwt.encode_key_loader
def _encode_key(identity) -> str:
    return _signing_keys().newest


@jwt.additional_headers_loader
def _kid_header(identity) -> dict:
    return {"kid": _signing_keys().newest_kid}


@jwt.decode_key_loader
def _decode_key(header: dict, payload: dict) -> str:
    # Every decode goes through here: bearer and cookie tokens, and decode_token (so
    # claims_before_session_check picks its key the same way).
    return _signing_keys().verifying(header)


REFRESH_PATH = "/api/auth/refresh"
REFRESH_COOKIE = "refresh_token"
CSRF_HEADER = "X-CSRF-Token"


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    app.extensions[SigningKeys.EXTENSION] = SigningKeys.of(settings.jwt_secret_keys)
    app.config.update(
        # No JWT_SECRET_KEY: the key loaders above choose the key of each token, and a path
        # that bypassed them would fail (flask-jwt-extended requires the setting) rather than
        # sign or verify with a single key.
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],  # never "none", never an algorithm the token picks
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.jwt_access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.jwt_refresh_token_days),
        JWT_DECODE_LEEWAY=0,
        # Cookie mode (the dashboard, login with "refreshCookie": true): only the refresh
        # token travels in a cookie, HttpOnly, Secure, SameSite=Strict and sent to the refresh
        # path alone. flask-jwt-extended's double submit guards it against CSRF: the token
        # carries a `csrf` claim, a readable Secure cookie gives it to the page, and a refresh
        # by cookie must echo it in X-CSRF-Token. Every other route reads the header only.
        JWT_REFRESH_COOKIE_NAME=REFRESH_COOKIE,
        JWT_REFRESH_COOKIE_PATH=REFRESH_PATH,
        JWT_REFRESH_CSRF_COOKIE_NAME="csrf_refresh_token",
        JWT_REFRESH_CSRF_COOKIE_PATH="/",
        JWT_REFRESH_CSRF_HEADER_NAME=CSRF_HEADER,
        JWT_COOKIE_SECURE=True,
        JWT_COOKIE_SAMESITE="Strict",
        JWT_SESSION_COOKIE=False,  # kept for the refresh token's lifetime, not the tab's
        JWT_COOKIE_CSRF_PROTECT=True,
        JWT_CSRF_IN_COOKIES=True,
        JWT_CSRF_CHECK_FORM=False,
    )
    jwt.init_app(app)


def _unauthorized(code: str, detail: str):
    return problem(
        401, code, detail, headers={"WWW-Authenticate": f'Bearer error="{_rfc6750_error(code)}"'}
    )


def _rfc6750_error(code: str) -> str:
    return "invalid_request" if code == "authentication_required" else "invalid_token"


@jwt.unauthorized_loader
def _missing_token(reason: str):
    if "CSRF" in reason:  # a refresh by cookie without (or with a wrong) X-CSRF-Token
        return _unauthorized("csrf_failed", f"A refresh by cookie needs the {CSRF_HEADER} header.")
    return _unauthorized("authentication_required", "A bearer token is required.")


@jwt.invalid_token_loader
def _invalid_token(reason: str):
    return _unauthorized("invalid_token", "The token is invalid.")


@jwt.expired_token_loader
def _expired_token(header: dict, payload: dict):
    try:
        _typed(payload)  # exp: true converts to 1 and so looks expired, but is not ours
    except InvalidTokenError:
        return _invalid_token("wrong claim types")
    return _unauthorized("token_expired", "The token has expired.")


@jwt.revoked_token_loader
def _revoked_token(header: dict, payload: dict):
    return _unauthorized("token_revoked", "The token has been revoked.")


@jwt.user_lookup_error_loader
def _user_missing(header: dict, payload: dict):
    return _unauthorized("token_revoked", "The token has been revoked.")


@jwt.needs_fresh_token_loader
def _needs_fresh(header: dict, payload: dict):
    return _unauthorized("fresh_token_required", "A fresh login is required.")


@jwt.token_verification_failed_loader
def _claims_failed(header: dict, payload: dict):
    return _unauthorized("invalid_token", "The token is invalid.")


def _parse_claims(payload: dict) -> tuple[int, UUID] | None:
    try:
        return int(payload["sub"]), UUID(payload["sid"])
    except (KeyError, ValueError, TypeError):
        return None


@jwt.token_in_blocklist_loader
def _is_revoked(header: dict, payload: dict) -> bool:
    """Called on every authenticated request; loads the user when the session is live."""
    claims = _parse_claims(payload)
    if claims is None:
        return True
    user_id, session_id = claims
    row = auth.authenticate(
        get_conn(),
        current_app.extensions["auth"],
        user_id=user_id,
        session_id=session_id,
        refresh_jti=str(payload.get("jti")) if payload.get("type") == "refresh" else None,
    )
    if row is None:
        return True
    g.current_user_row = row
    return False


@jwt.user_lookup_loader
def _load_user(header: dict, payload: dict) -> dict | None:
    return g.get("current_user_row")


def claims_before_session_check(*, refresh: bool) -> tuple[int, UUID, str | None] | None:
    """The user, session and (for a refresh token) refresh id the bearer token carries, with its
    signature, expiry and type verified but NOT its session.

    Only for finding the stored answer of a retried refresh or logout, which must be found even
    though that first request has since rotated or ended the session (decode_token does not ask
    the blocklist loader); never for doing work. None when the token cannot be read this way:
    the full check that follows then gives the 401.
    """
    token = bearer_token()
    if token is None:
        return None
    try:
        payload = decode_token(token)
    except (PyJWTError, JWTExtendedException):
        return None
    if payload.get("type") != ("refresh" if refresh else "access"):
        return None
    claims = _parse_claims(payload)
    if claims is None:
        return None
    user_id, session_id = claims
    return user_id, session_id, str(payload.get("jti")) if refresh else None


def bearer_token() -> str | None:
    """The token of the Authorization header, read as flask-jwt-extended reads it (credentials
    may be comma-separated; exactly one must be "Bearer <token>"), so that both see one token."""
    header = request.headers.get("Authorization", "").strip().strip(",")
    bearers = [
        parts for parts in (c.split() for c in re.split(r",\s*", header)) if parts[:1] == ["Bearer"]
    ]
    if len(bearers) != 1 or len(bearers[0]) != 2:
        return None
    return bearers[0][1]


def issue_pair(session: auth.Session, *, in_cookie: bool = False) -> dict:
    """The token pair of a session (a login or a refresh), with its user. With in_cookie the
    refresh token goes into the HttpOnly cookie (and its CSRF value into the readable one)
    instead of the body."""
    settings = current_app.config["SETTINGS"]
    identity = str(session.user["id"])
    claims = {"sid": str(session.session_id)}
    refresh_token = create_refresh_token(
        identity, additional_claims={**claims, "jti": str(session.refresh_jti)}
    )
    if in_cookie:
        after_this_request(lambda response: _set_refresh_cookies(response, refresh_token))
    return {
        "access_token": create_access_token(identity, additional_claims=claims),
        **({} if in_cookie else {"refresh_token": refresh_token}),
        "token_type": "Bearer",
        "expires_in": settings.jwt_access_token_minutes * 60,
        "user": session.user,
    }


def _set_refresh_cookies(response, refresh_token: str):
    if response.status_code < 400:  # a refused request leaves the cookies as they were
        set_refresh_cookies(response, refresh_token)
    return response


def refreshing_by_cookie() -> bool:
    """Whether this refresh presents the cookie (no Authorization header): its answer then
    renews the cookie rather than putting the new refresh token in the body."""
    return "Authorization" not in request.headers and REFRESH_COOKIE in request.cookies


def clear_refresh_cookies() -> None:
    """After a logout the cookie's token is dead anyway; the browser forgets it too."""

    def clear(response):
        unset_refresh_cookies(response)
        return response

    after_this_request(clear)


def session_of(claims: dict) -> tuple[UUID, UUID | None]:
    """The session id and (for a refresh token) the refresh id of verified claims."""
    jti = claims.get("jti") if claims.get("type") == "refresh" else None
    return UUID(claims["sid"]), UUID(jti) if jti else None
