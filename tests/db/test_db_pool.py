"""The pool's checkout check: free for connections in steady use, yet a connection the server
closed is never handed to a request."""

from __future__ import annotations

import time

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from expense_api.db.pool import Database
from tests.helpers import make_settings


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


def _unreachable_database(pool_timeout: str) -> Database:
    # Nothing listens on port 1: every connection attempt is refused at once.
    settings = make_settings(DB_POOL_MIN="1", DB_POOL_MAX="2", DB_POOL_TIMEOUT=pool_timeout)
    database = Database("postgresql://postgres@127.0.0.1:1/none", settings)
    database.open()
    return database


def _timed_checkout(pool) -> float:
    started = time.monotonic()
    with pytest.raises(PoolTimeout):
        pool.getconn()
    return time.monotonic() - started


def test_checkouts_fail_fast_once_the_database_is_known_unreachable(database_url):
    """The first checkout waits the pool timeout; the next ones, while the database stays
    unreachable, fail at once instead of each waiting it out again (requests queued behind
    them for a thread would otherwise wait a multiple of it)."""
    database = _unreachable_database("1")
    try:
        assert _timed_checkout(database.pool) >= 0.9
        assert database.pool.unreachable
        assert _timed_checkout(database.pool) < 0.5
    finally:
        database.close()


def test_a_busy_pool_is_not_taken_for_an_unreachable_one(database_url):
    database = Database(
        database_url, make_settings(DB_POOL_MIN="1", DB_POOL_MAX="1", DB_POOL_TIMEOUT="1")
    )
    database.open()
    try:
        held = database.pool.getconn()
        assert _timed_checkout(database.pool) >= 0.9  # every connection is lent: contention
        assert not database.pool.unreachable
        assert _timed_checkout(database.pool) >= 0.9  # so the next checkout waits in full
        database.pool.putconn(held)
        database.pool.putconn(database.pool.getconn())  # and a free connection is handed out
    finally:
        database.close()


def test_a_successful_checkout_ends_the_fast_failures(database_url):
    database = _database(database_url)
    try:
        database.pool.unreachable = True  # as after an outage
        _borrow_and_return(database)
        assert not database.pool.unreachable
    finally:
        database.close()
