"""What a request's URL may be: its path matches a route exactly.

Werkzeug is lenient by default: it merges `//` and answers a 308 redirect to the merged path, and
it strips leading slashes before matching (`//healthz` is served as `/healthz`). Flask returns
routing redirects as they are, past every error handler, so a client got an HTML 308 page. Here
`//` anywhere, or a slash the route does not have, is a plain 404 problem; no answer is ever a
redirect.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import NotFound
from werkzeug.routing import RequestRedirect


def init_app(app: Flask) -> None:
    """Call before any route is added: rules take the map's slash merging when they are added,
    and these checks come before every other request hook."""
    app.url_map.merge_slashes = False
    app.before_request(refuse_inexact_paths)


def refuse_inexact_paths() -> None:
    # PATH_INFO, not request.path: werkzeug has already stripped leading slashes from the latter.
    if "//" in request.environ.get("PATH_INFO", "") or isinstance(
        request.routing_exception, RequestRedirect
    ):
        raise NotFound()
