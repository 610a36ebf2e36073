"""Rate-limit counters in PostgreSQL (THROTTLE_STORE=postgres): the UNLOGGED table
rate_limit_counters of migration 0023, one row per key and window.

A lease runs on a connection of the limiter's own, outside the pool, in autocommit: never in
the request's transaction (its row lock would be held through the request, and a hot account's
requests would queue on it), and never waiting for a pool connection that the request's own
threads hold. One connection per process is enough: a lease is taken once per block of
requests (services/ratelimits.py), and a lock keeps its threads from sharing it at once.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime

import psycopg
from psycopg import Connection

from ..config import Settings
from ..db.pool import connection_kwargs
from ..db.sqlfiles import queries

log = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """The shared counters cannot be reached (the limiter then serves, unchecked)."""


class PostgresLeaseStore:
    def __init__(self, settings: Settings, url: str):
        self.url = url
        # A lease should take a millisecond: a store that does not answer within two seconds is
        # treated as down rather than holding the request.
        self.kwargs = {
            **connection_kwargs(settings),
            "connect_timeout": min(2, settings.db_connect_timeout),
            "autocommit": True,
        }
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._pid = os.getpid()

    def lease(self, key: str, window_start: int, amount: int, window_seconds: int) -> int:
        start = datetime.fromtimestamp(window_start, UTC)
        with self._lock:
            try:
                conn = self._connection()
                return queries.rate_limits.lease(conn, key=key, window_start=start, amount=amount)
            except psycopg.Error as error:
                self._discard()
                raise StoreUnavailable(str(error)) from error

    def _connection(self) -> Connection:
        if self._pid != os.getpid():  # forked (gunicorn): the parent's connection is not ours
            self._conn, self._pid = None, os.getpid()
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, **self.kwargs)
        return self._conn

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                log.debug("closing the rate limiter's connection failed", exc_info=True)

    def close(self) -> None:
        with self._lock:
            self._discard()


def delete_stale(conn: Connection, *, window_seconds: int) -> int:
    return queries.rate_limits.delete_stale(conn, window_seconds=window_seconds)
