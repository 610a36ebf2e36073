"""One connection and one transaction per request.

A request borrows at most one connection, lazily, and runs everything in one transaction, which
is committed when the response is a success (< 400) and rolled back otherwise, so an error
answer never leaves half a write behind.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, g
from psycopg import Connection

from ..database import Database

log = logging.getLogger(__name__)


def init_app(app: Flask, database: Database) -> None:
    app.extensions["database"] = database
    app.after_request(_finish_transaction)
    app.teardown_request(_release_connection)


def get_database() -> Database:
    return current_app.extensions["database"]


def get_conn() -> Connection:
    """The request's connection, borrowed from the pool on first use."""
    if "db_conn" not in g:
        g.db_conn = get_database().pool.getconn()
    return g.db_conn


def rollback_at_end() -> None:
    """Make the request roll back even if it succeeds (dry runs)."""
    g.db_force_rollback = True


def start_over() -> None:
    """Rolls the request's transaction back and forgets what it decided (a dry run), so that the
    request can run again from the start (api/retry.py). The connection stays the request's."""
    conn = g.get("db_conn")
    if conn is not None:
        conn.rollback()
    g.pop("db_force_rollback", None)


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
