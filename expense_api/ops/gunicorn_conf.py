"""gunicorn settings and hooks: `gunicorn -c python:expense_api.ops.gunicorn_conf wsgi:app`.

The master process (not each worker) starts the embedded PostgreSQL when no DATABASE_URL is set,
applies migrations once, and stops the embedded server when gunicorn exits. Workers inherit the
URL through the environment and each opens its own connection pool after the fork. Once ready,
the master also starts the background worker process (unless WORKER=off), starts it again
whenever it dies (with a backoff; expense_api/worker/process.py), and stops it on exit.
"""

from __future__ import annotations

import os

from expense_api.config import load_settings
from expense_api.db.location import start_embedded
from expense_api.db.migrate import apply_migrations
from expense_api.ops import logs, metrics_setup
from expense_api.ops.gunicorn_logging import ACCESS_LOG_FORMAT
from expense_api.ops.gunicorn_worker import ConnectionBoard
from expense_api.worker import process as worker_process

_settings = load_settings()  # also creates the development JWT secret once, before any fork
# Before any fork and before prometheus_client is imported: every child sums into one directory.
metrics_setup.prepare_multiprocess_dir()

bind = f"{_settings.host}:{_settings.port}"
workers = _settings.web_concurrency
threads = _settings.web_threads
# gthread is gunicorn's, balanced: a worker accepts only while no sibling holds fewer
# connections, so keep-alive clients split evenly (expense_api/ops/gunicorn_worker.py). Both
# classes answer gunicorn's own refusals as problem+json (expense_api/ops/gunicorn_refusals.py).
worker_class = {
    "gthread": "expense_api.ops.gunicorn_worker.BalancedThreadWorker",
    "sync": "expense_api.ops.gunicorn_worker.ProblemSyncWorker",
}[_settings.web_worker_class]
accesslog = "-"
access_log_format = ACCESS_LOG_FORMAT  # console; JSON lines come from the logger class
logger_class = (
    "expense_api.ops.gunicorn_logging.JsonGunicornLogger"
    if _settings.log_format == "json"
    else "expense_api.ops.gunicorn_logging.ConsoleGunicornLogger"
)
timeout = 30
graceful_timeout = 10
keepalive = 5
proc_name = "expense-api"

_embedded = None
_supervisor = None  # runs the background worker (WORKER=on), from once the database is up
_board = ConnectionBoard(slots=2 * workers)  # room for a reload's new workers beside the old


def pre_fork(server, worker):
    _board.assign(worker, server.WORKERS.values())


def child_exit(server, worker):
    _board.release(worker)
    metrics_setup.mark_process_dead(worker.pid)  # its live gauges (pool in use) stop counting


def on_starting(server):
    global _embedded
    logs.configure(_settings.log_format, _settings.log_level)  # the master's own lines too
    url = _settings.database_url
    if not url:
        _embedded, url = start_embedded(_settings)
        os.environ["DATABASE_URL"] = url
        server.log.info("embedded PostgreSQL running with data in %s", _settings.data_dir)
    applied = apply_migrations(url)
    server.log.info("migrations applied: %s", ", ".join(applied) if applied else "none pending")


def _worker_restarted():
    # Imported here, long after prepare_multiprocess_dir(): the master's count goes to a file in
    # the shared directory like every other process's, and any /metrics scrape sums it in.
    from expense_api.ops import metrics

    metrics.worker_restarted()


def when_ready(server):
    global _supervisor
    _supervisor = worker_process.Supervisor(
        _settings,
        server.log,
        on_dead=metrics_setup.mark_process_dead,  # its live gauges stop counting
        on_restart=_worker_restarted,
    )
    worker = _supervisor.start()
    if worker is not None:
        server.log.info("background worker started (pid %s)", worker.pid)


def on_exit(server):
    # Supervision stops first, so a stopping service never starts its worker again; then the
    # worker stops (SIGTERM, wait, kill), before the embedded database it uses stops.
    if _supervisor is not None:
        _supervisor.stop()
    metrics_setup.remove_temporary_dirs()
    if _embedded is not None:
        server.log.info("stopping embedded PostgreSQL")
        _embedded.cleanup()


control_socket_disable = True  # gunicorn 27's control socket is not used; no stray socket file
