"""Request ids and request metrics, around the whole Flask app (a WSGI middleware).

For each request: the id (logs.accept_request_id: the caller's valid X-Request-ID or a new one)
is bound to the logging context for the request's duration, echoed as the response's
X-Request-ID and left in the WSGI environ for gunicorn's access log; after the answer, the
request is counted by route template (the Flask rule, `<unmatched>` when none matched: never the
raw path, whose ids would make a series per row), method and status, and its time observed. The
middleware sits outside Flask so that every answer is counted, routing 404s and 500s included.
"""

from __future__ import annotations

import time

from flask import Flask, request

from ...ops import logs, metrics
from ...ops.gunicorn_logging import ENVIRON_REQUEST_ID, ENVIRON_ROUTE
from ...services.changes import door

# Any other method is counted as OTHER: a label value per made-up method would be unbounded.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def init_app(app: Flask) -> None:
    app.wsgi_app = RequestObserver(app.wsgi_app)  # type: ignore[method-assign]
    app.teardown_request(_remember_route)


def _remember_route(exc: BaseException | None) -> None:
    rule = request.url_rule
    request.environ[ENVIRON_ROUTE] = rule.rule if rule is not None else metrics.UNMATCHED_ROUTE


class RequestObserver:
    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        # Labelled children, looked up once: `.labels()` costs more than the increment itself.
        self._counters: dict[tuple[str, str, str], object] = {}
        self._histograms: dict[tuple[str, str], object] = {}

    def __call__(self, environ, start_response):
        request_id = logs.accept_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_REQUEST_ID] = request_id
        context = logs.REQUEST_ID.set(request_id)
        via = door.VIA.set("rest")  # the change log's door (GraphQL's view says `graphql`)
        started = time.perf_counter()
        statuses: list[str] = []

        def start(status, headers, exc_info=None):
            statuses.append(status)
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", request_id))
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, start)
        finally:
            elapsed = time.perf_counter() - started
            route = environ.get(ENVIRON_ROUTE, metrics.UNMATCHED_ROUTE)
            method = environ.get("REQUEST_METHOD", "")
            method = method if method in KNOWN_METHODS else "OTHER"
            status = statuses[-1][:3] if statuses else "500"
            counter = self._counters.get((route, method, status))
            if counter is None:
                counter = metrics.HTTP_REQUESTS.labels(route, method, status)
                self._counters[(route, method, status)] = counter
            counter.inc()
            histogram = self._histograms.get((route, method))
            if histogram is None:
                histogram = metrics.HTTP_LATENCY.labels(route, method)
                self._histograms[(route, method)] = histogram
            histogram.observe(elapsed)
            door.VIA.reset(via)
            logs.REQUEST_ID.reset(context)
