"""The one door to PostgreSQL: a psycopg_pool pool, and the request's connection and transaction.

A request borrows at most one connection, lazily, and runs everything in one transaction, which
is committed when the response is a success (< 400) and rolled back otherwise, so an error
answer never leaves half a write behind. Work that must survive the request's rollback (a
failed-login counter, say) uses `independent_transaction()`.
"""

from __future__ import annotations

import contextlib
import logging
import select
import time
from collections.abc import Iterator

from flask import Flask, g
from psycopg import Connection
from psycopg_pool import ConnectionPool

from .config import Settings

log = logging.getLogger(__name__)


def connection_kwargs(settings: Settings) -> dict:
    # UTC and the statement timeout are set at connect time so that no result depends on the
    # server's time zone and one slow query cannot hold a worker for long.
    options = f"-c TimeZone=UTC -c statement_timeout={settings.db_statement_timeout_ms}"
    return {"connect_timeout": settings.db_connect_timeout, "options": options}


class Database:
    def __init__(self, url: str, settings: Settings):
        self.pool = ConnectionPool(
            url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            timeout=settings.db_pool_timeout,
            kwargs=connection_kwargs(settings),
            check=_check_unless_just_used,
            open=False,
            name="expense-api",
        )

    def open(self) -> None:
        # wait=False: the service starts even while the database is down, answers 503, and
        # recovers by itself once the pool manages to connect.
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    @contextlib.contextmanager
    def independent_transaction(self) -> Iterator[Connection]:
        """A short transaction of its own, committed on exit whatever the request does."""
        with self.pool.connection() as conn:
            yield conn


# A connection that came back from a request this recently, and has nothing to read, is taken as
# good without a round trip.
RECHECK_AFTER_IDLE_SECONDS = 1.0


def _check_unless_just_used(conn: Connection) -> None:
    """The pool's liveness check on checkout, without a round trip for connections in steady use.

    After a database restart the check replaces a stale connection instead of failing a request
    with it. But it is a round trip of its own, and under load (where connections come back
    within milliseconds) it would add one to every request. So a connection returned less than
    a second ago is checked for free instead: an idle connection has nothing to read unless the
    server closed it (a restart, pg_terminate_backend) or sent a notice, and either way it gets
    the real check.
    """
    returned_at = getattr(conn, "expense_api_returned_at", None)
    recent = returned_at is not None and time.monotonic() - returned_at < RECHECK_AFTER_IDLE_SECONDS
    if recent and not _has_input(conn):
        return
    ConnectionPool.check_connection(conn)


def _has_input(conn: Connection) -> bool:
    poller = select.poll()  # poll, not select: no limit on the descriptor's number
    poller.register(conn.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def init_app(app: Flask, database: Database) -> None:
    app.extensions["database"] = database
    app.after_request(_finish_transaction)
    app.teardown_request(_release_connection)


def get_database() -> Database:
    from flask import current_app

    return current_app.extensions["database"]


def get_conn() -> Connection:
    """The request's connection, borrowed from the pool on first use."""
    if "db_conn" not in g:
        g.db_conn = get_database().pool.getconn()
    return g.db_conn


def rollback_at_end() -> None:
    """Make the request roll back even if it succeeds (dry runs)."""
    g.db_force_rollback = True


def _finish_transaction(response):
    conn = g.get("db_conn")
    if conn is not None:
        if response.status_code < 400 and not g.get("db_force_rollback"):
            conn.commit()  # a failure here propagates and becomes a problem response
        else:
            conn.rollback()
    return response


def _release_connection(exc: BaseException | None) -> None:
    conn = g.pop("db_conn", None)
    if conn is None:
        return
    try:
        if exc is not None or conn.info.transaction_status != 0:  # not idle: roll back
            conn.rollback()
    except Exception:  # the connection is broken; the pool will discard it
        log.debug("rollback on a broken connection failed", exc_info=True)
    else:
        conn.expense_api_returned_at = time.monotonic()
    finally:
        get_database().pool.putconn(conn)
