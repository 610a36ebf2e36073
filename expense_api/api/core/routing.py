"""What a request's URL may be: its path matches a route exactly, and its query holds only
parameters the route declares.

Werkzeug is lenient by default: it merges `//` and answers a 308 redirect to the merged path, and
it strips leading slashes before matching (`//healthz` is served as `/healthz`). Flask returns
routing redirects as they are, past every error handler, so a client got an HTML 308 page. Here
`//` anywhere, or a slash the route does not have, is a plain 404 problem; no answer is ever a
redirect.

A query string must be UTF-8 once its percent escapes are decoded (400 `malformed_query`, as a
body that is not UTF-8 is 400 `malformed_json`): werkzeug would put U+FFFD in place of the bad
bytes, and a filter on the mangled value would silently match nothing.

Routes with a query schema refuse parameters it does not declare (blueprint.JsonParser), and
a parameter given twice that the schema does not take as a list. Every other
route takes no query at all: any parameter is a 422 naming it, decided here, once for all routes,
from what flask-smorest recorded when the views were decorated (`@blp.arguments(...,
location="query")`). So a misspelt filter never silently returns unfiltered data, on a route
that has filters or on one that has none.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, request
from werkzeug.exceptions import NotFound
from werkzeug.routing import RequestRedirect

from ...domain.errors import ValidationFailed
from .jsonio import find_bad_text
from .problems import HttpError

QUERY_LOCATIONS = frozenset({"query", "querystring"})
UNKNOWN_FIELD = "Unknown field."  # marshmallow's message, as routes with a query schema answer
_TAKES_QUERY = "expense_api.takes_query"


def init_app(app: Flask) -> None:
    """Call before any route is added: rules take the map's slash merging when they are added,
    and these checks come before every other request hook."""
    app.url_map.merge_slashes = False
    app.extensions[_TAKES_QUERY] = {}
    app.before_request(refuse_inexact_paths)
    app.before_request(refuse_undecodable_query)
    app.before_request(refuse_undeclared_query)


def refuse_inexact_paths() -> None:
    # PATH_INFO, not request.path: werkzeug has already stripped leading slashes from the latter.
    if "//" in request.environ.get("PATH_INFO", "") or isinstance(
        request.routing_exception, RequestRedirect
    ):
        raise NotFound()


class MalformedQuery(HttpError):
    status, code = 400, "malformed_query"


def refuse_undecodable_query() -> None:
    """400 when a parameter's name or value is not UTF-8 (see the module's text). OPTIONS is
    left alone, as below."""
    raw: bytes = request.query_string
    if not raw or request.method == "OPTIONS" or (raw.isascii() and b"%" not in raw):
        return  # ASCII without escapes is UTF-8: the common case costs two scans
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            name_text = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedQuery("A query parameter's name is not valid UTF-8.") from None
        try:
            unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            shown = name_text if find_bad_text(name_text) is None else "_query"
            raise MalformedQuery(
                f"The value of query parameter {shown!r} is not valid UTF-8."
            ) from None


def refuse_undeclared_query() -> None:
    """A query on a route that declares none is 422. OPTIONS is left alone: a browser's CORS
    preflight carries the query of the request it asks about, and must not fail for it."""
    if not request.args or request.url_rule is None or request.method == "OPTIONS":
        return  # no query, or no route (the 404 or 405 follows)
    if takes_query(request.url_rule.endpoint, request.method):
        return  # its schema refuses what it does not declare
    # A name PostgreSQL could not store (NUL, a lone surrogate) is not echoed back as a key.
    names = {name if name and find_bad_text(name) is None else "_query" for name in request.args}
    raise ValidationFailed({name: [UNKNOWN_FIELD] for name in sorted(names)})


def takes_query(endpoint: str, method: str) -> bool:
    """Whether the view of this endpoint and method declares query arguments."""
    known: dict[tuple[str, str], bool] = current_app.extensions[_TAKES_QUERY]
    answer = known.get((endpoint, method))
    if answer is None:
        answer = known.setdefault(
            (endpoint, method), _declares_query(current_app.view_functions[endpoint], method)
        )
    return answer


def _declares_query(view, method: str) -> bool:
    view_class = getattr(view, "view_class", None)  # a MethodView: one function per method
    if view_class is not None:
        view = getattr(view_class, method.lower(), None)
        if view is None and method == "HEAD":
            view = getattr(view_class, "get", None)
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(parameter.get("in") in QUERY_LOCATIONS for parameter in parameters)
