"""Reads on a streaming replica (READ_DATABASE_URL), with read-your-writes.

Before a read goes to the replica, the caller takes the primary's current WAL position on its
own primary connection (`primary_position`): every transaction committed before the read
started, the client's own writes included, is at or before it. The replica is used only once
it has replayed up to that position, waited for at most READ_REPLICA_WAIT_MS; otherwise the read
runs on the primary. So a client always sees its own writes (and never goes back in time
between two reads), and a lagging or unreachable replica costs at most the wait, never an
error. No HTTP here: any door can route its reads through `ReadReplica.connection`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator

import psycopg
from psycopg import Connection
from psycopg_pool import ConnectionPool, PoolTimeout

from ..config import Settings
from .pool import connection_kwargs

log = logging.getLogger(__name__)

POLL_SECONDS = 0.005


def primary_position(conn: Connection) -> str:
    """The primary's WAL position now: whatever committed before this call is at or before it."""
    return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]


class ReadReplica:
    def __init__(self, url: str, settings: Settings, clock: Callable[[], float] = time.monotonic):
        self.wait_seconds = settings.read_replica_wait_ms / 1000
        self.clock = clock
        self.served: Counter = Counter()  # "replica" / "primary": where reads went (tests, logs)
        self.pool = ConnectionPool(
            url,
            min_size=0,
            max_size=settings.db_pool_max,
            timeout=min(settings.db_pool_timeout, 1),
            kwargs=connection_kwargs(settings),
            open=False,
            name="expense-api-replica",
        )

    def open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    @contextlib.contextmanager
    def connection(self, position: str) -> Iterator[Connection | None]:
        """A replica connection that has replayed up to `position`, or None (use the primary)."""
        stack, conn = contextlib.ExitStack(), None
        try:
            candidate = stack.enter_context(self.pool.connection())
            if self._caught_up(candidate, position):
                conn = candidate
        except (PoolTimeout, psycopg.OperationalError) as error:
            log.warning("read replica unavailable, reading from the primary: %s", error)
        if conn is None:
            stack.close()  # not held while the primary serves the read
        self.served["primary" if conn is None else "replica"] += 1
        with stack:
            yield conn

    def _caught_up(self, conn: Connection, position: str) -> bool:
        deadline = self.clock() + self.wait_seconds
        while True:
            replayed = conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (position,)
            ).fetchone()[0]
            conn.rollback()  # no snapshot held while waiting: the next check sees new replay
            if replayed:
                return True
            if self.clock() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
