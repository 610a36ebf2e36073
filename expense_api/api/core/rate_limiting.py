"""Rate limits over HTTP: which key a request is counted on, when, and the headers of its answer
(the limiter itself: services/ratelimits.py).

Every request under /api is counted once, except the documentation (/api/docs, the OpenAPI
document, GraphiQL's page and files); health, metrics and the dashboard's files are outside /api.

- A request to an operation that authenticates (one documented with the bearer scheme, and
  POST /api/graphql) and carrying credentials is counted on its ACCOUNT, once its token has
  identified it (`charge_account`, called by api/core/bearer.py, the bearer check of both
  doors, after a JWT's session check or a personal access token's lookup): only a token this
  service issued can spend an account's allowance.
- Every other request (register, login, a request without a token, an unknown path) is counted
  on its client ADDRESS before the view runs, so a made-up Authorization header on a login does
  not escape the count.
- A request that carried credentials but never passed the session check (a 401, or a retried
  refresh answered from its stored answer) did no work; it is counted on its address when its
  answer is ready, and that answer becomes the 429 if the address is past its limit.

Every counted answer carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds
until the window resets); a 429 `rate_limited` also carries Retry-After.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request

from ...config import Settings
from ...db.pool import Database
from ...services import ratelimits
from ...services.ratelimits import Decision, RateLimiter
from .problems import render
from .tokens import REFRESH_COOKIE

EXTENSION = "rate_limiter"
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
# Documentation is not limited: the same for everyone, and no work.
NOT_LIMITED = frozenset(
    {
        "docs.page",
        "docs.asset_file",
        "api-docs.openapi_json",
        "graphql.explorer_page",
        "graphql.explorer_asset",
    }
)
# Operations that authenticate without flask-smorest's documentation on their view function.
AUTHENTICATING = frozenset({("graphql.graphql", "POST")})
_AUTHENTICATES = "expense_api.authenticates"
_PENDING = "counted on the account by the session check"


def init_app(app: Flask, settings: Settings, database: Database) -> None:
    """Call before any other request hook but routing's: the count comes before other checks."""
    limiter = RateLimiter(settings, ratelimits.make_store(settings, database.url))
    database.closing.append(limiter.close)
    app.extensions[EXTENSION] = limiter
    app.extensions[_AUTHENTICATES] = {}
    app.before_request(_count_before_the_view)
    app.after_request(_count_unchecked_and_add_headers)


def limiter() -> RateLimiter:
    return current_app.extensions[EXTENSION]


def charge_account(user_id: int) -> None:
    """Counts this request on the caller's account, once its token has passed the session
    check; RateLimited (429) past the limit. Once per request: a view run again after a
    transaction conflict is not counted again."""
    if g.get("rate_limit") is not _PENDING:
        return  # counted already, or not limited
    _charge("account", ratelimits.account_key(user_id))


def _count_before_the_view() -> None:
    if not _limited():
        return
    if _has_credentials() and _authenticates():
        g.rate_limit = _PENDING
        return
    _charge("address", _address_key())


def _count_unchecked_and_add_headers(response):
    if not _limited():
        return response
    if not isinstance(g.get("rate_limit"), Decision):
        # A 401, an earlier check's refusal, a stored answer replayed: no work was done.
        try:
            _charge("address", _address_key())
        except ratelimits.RateLimited as refused:
            _become(response, render(refused))
    decision: Decision = g.rate_limit
    response.headers["RateLimit-Limit"] = str(decision.limit)
    response.headers["RateLimit-Remaining"] = str(decision.remaining)
    response.headers["RateLimit-Reset"] = str(decision.reset)
    return response


def _charge(kind: str, key: str) -> None:
    g.rate_limit = decision = limiter().charge(kind, key)
    if not decision.allowed:
        raise ratelimits.refusal(decision)


def _become(response, refused) -> None:
    """Turns an answer into the 429 in place: what other hooks added (CORS, say) stays."""
    response.status_code = refused.status_code
    response.set_data(refused.get_data())
    response.content_type = refused.content_type
    response.headers["Retry-After"] = refused.headers["Retry-After"]
    for name in ("WWW-Authenticate", "Idempotent-Replayed"):
        response.headers.pop(name, None)


def _address_key() -> str:
    from .views import client_address  # views imports this module

    return ratelimits.address_key(client_address())


def _limited() -> bool:
    path = request.path
    return (path == "/api" or path.startswith("/api/")) and request.endpoint not in NOT_LIMITED


def _has_credentials() -> bool:
    return "Authorization" in request.headers or REFRESH_COOKIE in request.cookies


def _authenticates() -> bool:
    """Whether the operation checks a token (its documentation names the bearer scheme, as
    `authenticated` writes it); kept per endpoint and method."""
    rule = request.url_rule
    if rule is None:
        return False  # no operation: the 404 or 405 follows
    known: dict[tuple[str, str], bool] = current_app.extensions[_AUTHENTICATES]
    asked = (rule.endpoint, request.method)
    answer = known.get(asked)
    if answer is None:
        answer = known.setdefault(asked, asked in AUTHENTICATING or _documents_bearer(*asked))
    return answer


def _documents_bearer(endpoint: str, method: str) -> bool:
    view = current_app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)  # a MethodView: one function per method
    if view_class is not None:
        view = getattr(view_class, method.lower(), None)
        if view is None and method == "HEAD":
            view = getattr(view_class, "get", None)
    security = getattr(view, "_apidoc", {}).get("manual_doc", {}).get("security") or []
    return any("bearerAuth" in requirement for requirement in security)
