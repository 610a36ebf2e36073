"""The pool's checkout check: free for connections in steady use, yet a connection the server
closed is never handed to a request."""

from __future__ import annotations

import time

import psycopg

from expense_api.database import Database

from .conftest import make_settings


def _database(url: str) -> Database:
    database = Database(url, make_settings(DB_POOL_MIN="1", DB_POOL_MAX="1"))
    database.open()
    return database


def _borrow_and_return(database: Database) -> int:
    conn = database.pool.getconn()
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    conn.rollback()
    conn.expense_api_returned_at = time.monotonic()  # as a request's teardown marks it
    database.pool.putconn(conn)
    return pid


def test_a_just_used_connection_is_handed_out_again(database_url):
    database = _database(database_url)
    try:
        first = _borrow_and_return(database)
        assert _borrow_and_return(database) == first
    finally:
        database.close()


def test_a_just_used_connection_that_the_server_closed_is_replaced(database_url, conn):
    database = _database(database_url)
    try:
        killed = _borrow_and_return(database)
        conn.execute("SELECT pg_terminate_backend(%s)", (killed,))
        deadline = time.monotonic() + 5
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (killed,)).fetchone():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        replacement = database.pool.getconn()
        try:  # a working connection, not the closed one
            pid = replacement.execute("SELECT pg_backend_pid()").fetchone()[0]
        except psycopg.OperationalError as error:
            raise AssertionError(f"the pool handed out a closed connection: {error}") from None
        assert pid != killed
        database.pool.putconn(replacement)
    finally:
        database.close()
