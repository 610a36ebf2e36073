"""Every Prometheus metric the service exposes, defined once, and how they are collected.

No HTTP and no Flask here: the REST API, the background worker and the CLI record into the same
families. Under gunicorn, prometheus_client runs in multiprocess mode: each process writes its
values to files in PROMETHEUS_MULTIPROC_DIR and a scrape of any worker sums them all
(`collect()`). The directory is chosen and wiped by the gunicorn master before any worker is
forked (metrics_setup.py, which does not import prometheus_client), so every process the master
starts, gunicorn workers and the background worker alike, inherits it; a dead worker's live
gauges are dropped in gunicorn's `child_exit` (`mark_process_dead`). Without the variable
(tests, one-process tools) the values live in this process's default registry.

The families and their labels are listed in the README ("Operations").
"""

from __future__ import annotations

import hmac
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from .metrics_setup import mark_process_dead, multiprocess_dir

__all__ = ["collect", "mark_process_dead", "serve_metrics", "token_accepted"]
UNMATCHED_ROUTE = "<unmatched>"  # a path no route matches: never the raw path as a label

# --- HTTP (api/core/observability.py) -------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "expense_api_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ("route", "method", "status"),
)
HTTP_LATENCY = Histogram(
    "expense_api_http_request_duration_seconds",
    "Time from receiving a request to its answer, by route template and method.",
    ("route", "method"),
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# --- the connection pool (database.py) --------------------------------------------------------
# livesum: a gunicorn worker that dies takes its figures with it (child_exit marks it dead).
POOL_IN_USE = Gauge(
    "expense_api_db_pool_connections_in_use",
    "Connections borrowed from the pools and not yet returned, over all processes.",
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "expense_api_db_pool_requests_waiting",
    "Callers waiting for a pool connection, over all processes.",
    multiprocess_mode="livesum",
)

# --- the domain (services/) -------------------------------------------------------------------
BUDGET_REFUSALS = Counter(
    "expense_api_budget_refusals_total",
    "Writes refused because a hard budget would be exceeded (409 budget_exceeded); counted when "
    "decided, so dry runs count, and a transaction run again after a deadlock counts again.",
)
ALERTS_FIRED = Counter(
    "expense_api_alerts_fired_total",
    "Budget alerts recorded, by kind (threshold or limit); counted when decided, dry runs "
    "included.",
    ("kind",),
)

# --- the analytics cache (analytics_cache.py) ------------------------------------------------
CACHE_LOOKUPS = Counter(
    "expense_api_analytics_cache_lookups_total",
    "Analytics cache lookups by report and result: hit, miss (computed from PostgreSQL and "
    "stored), or bypass (the cache was unusable; PostgreSQL answered).",
    ("report", "result"),
)
CACHE_ERRORS = Counter(
    "expense_api_analytics_cache_errors_total",
    "Redis failures of the analytics cache (timeouts, refused connections, bad entries), by "
    "operation.",
    ("operation",),
)

# --- rate limits (services/ratelimits.py) -----------------------------------------------------
RATE_LIMITED = Counter(
    "expense_api_rate_limited_total",
    "Requests refused with 429 rate_limited, by the key they were counted on (account or address).",
    ("kind",),
)
RATE_LIMIT_UNCHECKED = Counter(
    "expense_api_rate_limit_unchecked_total",
    "Requests served without a rate-limit check because the counters' store (THROTTLE_STORE) "
    "could not be reached (the limiter fails open; logins still fail closed).",
)

# --- the background worker (fed by expense_api/worker) ----------------------------------------
WEBHOOK_DELIVERIES = Counter(
    "expense_api_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, failed, retried, abandoned, ...).",
    ("outcome",),
)
RECURRING_OCCURRENCES = Counter(
    "expense_api_recurring_occurrences_total",
    "Occurrences of recurring transactions, by result (created or skipped) and the reason a "
    "skip gives (none for created).",
    ("result", "reason"),
)
RECURRING_FAILURES = Counter(
    "expense_api_recurring_rule_failures_total",
    "Recurring rules whose handling raised an unexpected error, by what followed: retried (after "
    "a backoff) or paused (the tenth failure in a row).",
    ("outcome",),
)
WORKER_LAG = Gauge(
    "expense_api_worker_lag_seconds",
    "How far behind the background worker is: age of the oldest due job it has not yet run.",
    multiprocess_mode="mostrecent",
)
WORKER_LAST_RUN = Gauge(
    "expense_api_worker_last_run_timestamp_seconds",
    "Unix time the background worker last finished a pass.",
    multiprocess_mode="mostrecent",
)

# Counted by gunicorn's master, which supervises the worker `expense-api serve` runs: its
# counter file sits in the shared directory beside the others' and is summed in by any scrape.
WORKER_RESTARTS = Counter(
    "expense_api_worker_restarts_total",
    "Background worker processes that `expense-api serve` started again after the previous one "
    "exited while the service was running (a crash, the OOM killer, a SIGKILL).",
)


# --- small recording functions for the other doors --------------------------------------------
def budget_refused() -> None:
    BUDGET_REFUSALS.inc()


def alert_fired(kind: str) -> None:
    ALERTS_FIRED.labels(kind=kind).inc()


def webhook_delivery(outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()


def recurring_occurrence_created(count: int = 1) -> None:
    RECURRING_OCCURRENCES.labels(result="created", reason="none").inc(count)


def recurring_occurrence_skipped(reason: str, count: int = 1) -> None:
    """`reason`: a short fixed word (budget_exceeded, duplicate, ...), never free text."""
    RECURRING_OCCURRENCES.labels(result="skipped", reason=reason).inc(count)


def recurring_rule_failed(outcome: str) -> None:
    """`outcome`: retried or paused."""
    RECURRING_FAILURES.labels(outcome=outcome).inc()


def rate_limited(kind: str) -> None:
    """`kind`: account or address."""
    RATE_LIMITED.labels(kind=kind).inc()


def rate_limit_unchecked() -> None:
    RATE_LIMIT_UNCHECKED.inc()


def worker_lag(seconds: float, now: float) -> None:
    """The worker reports after each pass: its lag and the (injected) clock's time."""
    WORKER_LAG.set(max(0.0, seconds))
    WORKER_LAST_RUN.set(now)


def worker_restarted() -> None:
    WORKER_RESTARTS.inc()


# --- collection and exposition ----------------------------------------------------------------
def collect() -> bytes:
    """The Prometheus text of every family, summed over every process sharing the directory."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)


CONTENT_TYPE = CONTENT_TYPE_LATEST


def token_accepted(expected: str, authorization: str | None) -> bool:
    """An empty METRICS_TOKEN leaves /metrics open; else `Authorization: Bearer <token>`."""
    if not expected:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), expected)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # scrapes every few seconds would drown the worker's own log


def metrics_wsgi_app(token: str = ""):
    """/metrics alone, for a process that is not the web service (the worker running apart)."""

    def app(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if not token_accepted(token, environ.get("HTTP_AUTHORIZATION")):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Bearer realm="metrics"')],
            )
            return [b"unauthorized\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
        return [collect()]

    return app


def serve_metrics(port: int, host: str = "127.0.0.1", token: str = "") -> WSGIServer:
    """Serves /metrics on host:port from a daemon thread (the worker run apart from gunicorn);
    `server.shutdown()` stops it. Port 0 picks a free one (`server.server_port`)."""
    server = make_server(host, port, metrics_wsgi_app(token), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
