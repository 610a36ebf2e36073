"""One connection and one transaction per request.

A request borrows at most one connection, lazily, and runs everything in one transaction, which
is committed when the response is a success (< 400) and rolled back otherwise, so an error
answer never leaves half a write behind.

A GET or HEAD request only reads (as does a GraphQL request without a mutation, which says so
with `reads_only`): its statements run each as its own transaction, without BEGIN and COMMIT
(`database.read_statement_by_statement`: under READ COMMITTED each statement has its own
snapshot either way), which saves the COMMIT's round trip; a query that writes or locks is
refused there before it is sent.

A view whose work ends with a write may let the request's COMMIT go with that write, in the
same round trip (`commit_with_last_write`): only when nothing is left to write after the view
(no Idempotency-Key answer to store: `expect_work_after_view`) and it is not a dry run. The
service only marks its last batch (`database.Batch`'s `ends_work`); the database layer sends
this door's COMMIT with it, and the commit below then finds the transaction committed and does
nothing.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, g, request
from psycopg import Connection

from ...db import pool as database
from ...db.pool import Database

log = logging.getLogger(__name__)

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # RFC 9110's safe methods


def init_app(app: Flask, database: Database) -> None:
    app.extensions["database"] = database
    app.after_request(_finish_transaction)
    app.teardown_request(_release_connection)


def get_database() -> Database:
    return current_app.extensions["database"]


def get_conn() -> Connection:
    """The request's connection, borrowed from the pool on first use."""
    if "db_conn" not in g:
        conn = get_database().pool.getconn()
        if request.method in READ_ONLY_METHODS or g.get("db_reads_only"):
            database.read_statement_by_statement(conn)
        else:
            database.begin_with_first_statement(conn)  # BEGIN goes with the first statement
        g.db_conn = conn
    return g.db_conn


def reads_only() -> None:
    """Declares, before the request's first query, that it only reads (a GraphQL request without
    a mutation): its statements then run as a GET's do, each as its own transaction."""
    if g.get("db_reads_only"):
        return  # said before: the request is running again after a conflict (api/core/retry.py)
    if "db_conn" in g:
        raise RuntimeError("reads_only() must come before the request's first query")
    g.db_reads_only = True


def rollback_at_end() -> None:
    """Make the request roll back even if it succeeds (dry runs)."""
    g.db_force_rollback = True
    _withdraw_commit_consent()


def expect_work_after_view() -> None:
    """Something writes in the request's transaction after the view (an idempotency record)."""
    g.db_work_after_view = True
    _withdraw_commit_consent()


def commit_with_last_write() -> None:
    """Lets the request's COMMIT go with the last write of the view's work (the batch its
    service marks `ends_work`), when the request allows."""
    if not g.get("db_work_after_view") and not g.get("db_force_rollback"):
        database.commit_with_last_write(get_conn())


def _withdraw_commit_consent() -> None:
    conn = g.get("db_conn")
    if conn is not None:
        database.commit_with_last_write(conn, allowed=False)


def start_over() -> None:
    """Rolls the request's transaction back and forgets what it decided (a dry run), so that the
    request can run again from the start (api/core/retry.py). The connection stays the request's."""
    conn = g.get("db_conn")
    if conn is not None:
        conn.rollback()
        database.commit_with_last_write(conn, allowed=False)
    g.pop("db_force_rollback", None)
    g.pop("db_work_after_view", None)


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
    database.commit_with_last_write(conn, allowed=False)
    try:
        if exc is not None or conn.info.transaction_status != 0:  # not idle: roll back
            conn.rollback()
        database.begin_with_first_statement(conn, enabled=False)
        database.read_statement_by_statement(conn, enabled=False)
    except Exception:  # the connection is broken (or in an unknown state): the pool discards it
        log.debug("rollback on a broken connection failed", exc_info=True)
        conn.close()
    else:
        conn.expense_api_returned_at = time.monotonic()
    finally:
        get_database().pool.putconn(conn)
