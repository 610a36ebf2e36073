"""The one bearer check every door uses (REST's `authenticated`, GraphQL's view).

A bearer token is either an access (or refresh) JWT bound to a session, or a personal access
token (`eat_...`, services/auth/access_tokens.py). JWTs go through flask-jwt-extended exactly
as before (api/core/tokens.py: signature, claims, then the session check). A personal access
token is looked up by its digest in one query that returns the same user row the session check
returns (the default ledger and all), so everything after this check is the same for both.

What a personal access token may do is narrower than a session:
- a `read` token: 403 `insufficient_scope` on any write (REST: any method but GET, HEAD and
  OPTIONS; GraphQL: a mutation);
- neither scope may manage the account's security: every route under /api/auth/ except the
  two reads below, refresh and logout included, and `DELETE /api/me` answer 403
  `session_required`. A token stolen from a script must not mint more tokens, change the
  password or end the owner's sessions. A new route under /api/auth/ is session-only unless
  it is added to OPEN_TO_PERSONAL_TOKENS.
- nor may it change other accounts' security: an admin's token may read /api/admin (a
  report script), but its writes (a role, disabling an account) are session-only too: a
  stolen admin token must not make its thief an admin for good, or lock the admins out.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from flask import g, request
from flask_jwt_extended import get_current_user, verify_jwt_in_request

from ...services.auth import access_tokens
from . import rate_limiting
from .problems import HttpError
from .request_transaction import READ_ONLY_METHODS, get_conn
from .tokens import bearer_token, claims_before_session_check

SESSION_ONLY_PREFIX = "/api/auth/"
OPEN_TO_PERSONAL_TOKENS = frozenset({"/api/auth/me", "/api/auth/events"})
SESSION_ONLY_OPERATIONS = frozenset({("DELETE", "/api/me")})
SESSION_ONLY_WRITES_PREFIX = "/api/admin/"


class PersonalTokenRefused(HttpError):
    """A personal access token that is malformed, unknown, deleted or expired: 401 with RFC
    6750's WWW-Authenticate, as a refused JWT gets (api/core/tokens.py)."""

    status = 401
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class SessionRequired(HttpError):
    status, code = 403, "session_required"


class InsufficientScope(HttpError):
    status, code = 403, "insufficient_scope"
    headers = {"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="write"'}


@dataclass(frozen=True)
class PersonalToken:
    id: UUID
    scope: str


def verify(
    *, refresh: bool = False, locations: list[str] | None = None, writes: bool | None = None
) -> dict:
    """The caller's user row, or a 401/403 raised. `writes` (default: the method is not a safe
    one) says whether the request may write, for a `read` token's refusal; GraphQL says it from
    the operation."""
    token = bearer_token()
    if token is None or not token.startswith(access_tokens.PREFIX):
        verify_jwt_in_request(refresh=refresh, locations=locations)
        user = get_current_user()
        rate_limiting.charge_account(user["id"])  # 429 past the account's limit
        g.bearer = (user, None)
        return user
    return _personal(token, refresh=refresh, writes=writes)


def _personal(token: str, *, refresh: bool, writes: bool | None) -> dict:
    row = access_tokens.authenticate(get_conn(), token)
    if row is None:
        raise PersonalTokenRefused("The token is invalid.", code="invalid_token")
    if row.pop("token_expired"):
        raise PersonalTokenRefused("The token has expired.", code="token_expired")
    personal = PersonalToken(row.pop("token_id"), row.pop("token_scope"))
    rate_limiting.charge_account(row["id"])  # a usable token, even where its scope is refused
    if refresh or session_only():
        raise SessionRequired(
            "A personal access token cannot manage the account's security; sign in instead."
        )
    if writes is None:
        writes = request.method not in READ_ONLY_METHODS
    if writes and personal.scope != "write":
        raise InsufficientScope("This personal access token may only read.")
    g.bearer = (row, personal)
    return row


def session_only() -> bool:
    """Whether this request's operation is refused to personal access tokens."""
    path = request.path
    if path.startswith(SESSION_ONLY_PREFIX) and path not in OPEN_TO_PERSONAL_TOKENS:
        return True
    if path.startswith(SESSION_ONLY_WRITES_PREFIX) and request.method not in READ_ONLY_METHODS:
        return True
    return (request.method, path) in SESSION_ONLY_OPERATIONS


def refuse_unreadable() -> None:
    """Before any database work (GraphQL checks the body only after this): a bearer token that
    cannot be read at all gets its 401 now. A JWT's signature, expiry and type are verified; a
    personal access token's form is checked (its lookup is the session check's equivalent)."""
    token = bearer_token()
    if token is not None and token.startswith(access_tokens.PREFIX):
        if access_tokens.owner_of(token) is None:
            raise PersonalTokenRefused("The token is invalid.", code="invalid_token")
    elif claims_before_session_check(refresh=False) is None:
        verify_jwt_in_request()


def current_user() -> dict:
    """The user row `verify` found for this request."""
    return g.bearer[0]


def personal_token() -> PersonalToken | None:
    """The personal access token this request came with; None for a session's JWT."""
    bearer = g.get("bearer")
    return bearer[1] if bearer is not None else None
