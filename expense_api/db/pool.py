"""The one door to PostgreSQL: a psycopg_pool pool shared by whoever serves requests or runs jobs.

Callers borrow a connection for one unit of work and own its transaction (the REST API's is one
per request, see api/core/request_transaction.py). Work that must survive the caller's rollback (a
failed-login counter, say) uses `independent_transaction()`. No HTTP here: a worker process uses
this module as it is.
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg import Connection, Cursor, Pipeline
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from ..config import ConfigError, Settings
from ..ops import metrics
from .pipeline import send_once_pipeline
from .retry import is_transaction_conflict

log = logging.getLogger(__name__)


def connection_kwargs(settings: Settings) -> dict:
    kwargs = {"connect_timeout": settings.db_connect_timeout}
    if settings.db_pool_mode == "transaction":
        # Behind PgBouncer's transaction pooling a server connection serves many clients, so
        # start-up options would not follow ours (role-level settings do: see
        # check_pooled_session_settings), and PgBouncer before 1.21 cannot carry prepared
        # statements, so psycopg must never prepare one.
        return {**kwargs, "prepare_threshold": None}
    # UTC and the statement timeout are set at connect time so that no result depends on the
    # server's time zone and one slow query cannot hold a worker for long.
    options = f"-c TimeZone=UTC -c statement_timeout={settings.db_statement_timeout_ms}"
    return {**kwargs, "options": options}


def role_settings_sql(role: str, settings: Settings) -> list[str]:
    """What an operator runs once (as a superuser or the role's owner) before using
    DB_POOL_MODE=transaction: the settings every session of `role` then starts with."""
    quoted = '"' + role.replace('"', '""') + '"'
    return [
        f"ALTER ROLE {quoted} SET TimeZone = 'UTC'",
        f"ALTER ROLE {quoted} SET statement_timeout = {settings.db_statement_timeout_ms}",
    ]


def check_pooled_session_settings(url: str, settings: Settings) -> None:
    """In DB_POOL_MODE=transaction, refuses to start (ConfigError) unless the sessions the
    pooler hands out already run in UTC with our statement timeout."""
    if settings.db_pool_mode != "transaction":
        return
    with psycopg.connect(url, **connection_kwargs(settings)) as conn:
        row = conn.execute(
            "SELECT current_user, current_setting('TimeZone'),"
            " (extract(epoch FROM current_setting('statement_timeout')::interval) * 1000)::bigint"
        ).fetchone()
    role, time_zone, timeout_ms = row
    if time_zone != "UTC" or timeout_ms != settings.db_statement_timeout_ms:
        raise ConfigError(
            f"DB_POOL_MODE=transaction needs role-level settings: sessions of {role!r} run with "
            f"TimeZone={time_zone!r} and statement_timeout={timeout_ms}ms, expected UTC and "
            f"{settings.db_statement_timeout_ms}ms; run: "
            + "; ".join(role_settings_sql(role, settings))
        )


class Database:
    def __init__(self, url: str, settings: Settings):
        self.url = url
        self.settings = settings
        self.pool = CountedPool(
            url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            timeout=settings.db_pool_timeout,
            kwargs=connection_kwargs(settings),
            check=_check_unless_just_used,
            open=False,
            name="expense-api",
        )
        # What else holds a connection of its own to this database and ends with it (the rate
        # limiter's lease connection).
        self.closing: list[Callable[[], None]] = []

    def open(self) -> None:
        # wait=False: the service starts even while the database is down, answers 503, and
        # recovers by itself once the pool manages to connect.
        self.pool.open(wait=False)

    def close(self) -> None:
        for close in self.closing:
            close()
        self.pool.close()

    @contextlib.contextmanager
    def own_connection(self, timeout_seconds: int = 2) -> Iterator[Connection]:
        """A short connection outside the pool, so that a busy pool never delays the caller
        (a readiness probe must tell "database down" from "all connections in use")."""
        kwargs = {**connection_kwargs(self.settings), "connect_timeout": timeout_seconds}
        with psycopg.connect(self.url, **kwargs) as conn:
            yield conn

    @contextlib.contextmanager
    def independent_transaction(self) -> Iterator[Connection]:
        """A short transaction of its own, committed on exit whatever the request does."""
        with self.pool.connection() as conn:
            yield conn


class Pending:
    """A statement queued in a Batch: `value()` is its result, once the batch has been sent
    (read from the cursor once, then kept: asking again gives the same answer)."""

    _UNREAD = object()

    def __init__(self, cur: Cursor, read: Callable[[Cursor], Any]):
        self._cur, self._read = cur, read
        self._value = self._UNREAD

    def value(self) -> Any:
        if self._value is self._UNREAD:
            self._value = self._read(self._cur)
        return self._value


class Batch:
    """Statements sent to PostgreSQL together, as one round trip (psycopg's pipeline mode):

        with Batch(conn) as batch:
            locked = queries.budgets.lock_chains.later(batch, ...)  # a Pending
            months = queries.budgets.chains.later(batch, ...)
        locked.value(), months.value()

    They run one after the other, exactly as if sent one by one; the first that fails raises
    when the block ends, and those after it are not run. Without pipeline support in libpq
    (older than 14) each statement is simply its own round trip.
    """

    def __init__(self, conn: Connection, *, ends_work: bool = False):
        """ends_work: the caller writes nothing after this batch in the unit of work (a fact
        about its own statements, not a decision to commit). When the door that owns the
        transaction has consented (`commit_with_last_write`), the batch ends with the
        transaction's COMMIT, in the same round trip; otherwise it is a batch like any other."""
        self.conn = conn
        self.ends_work = ends_work
        self._pipeline: contextlib.AbstractContextManager | None = None

    def __enter__(self) -> Batch:
        opens = opens_transaction(self.conn)
        if Pipeline.is_supported():
            self._pipeline = send_once_pipeline(self.conn)  # the batch leaves in one write
            self._pipeline.__enter__()
        if opens:
            self.cursor().execute("BEGIN")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # The door's COMMIT, queued after the batch's statements: when one of them fails, it
        # does not run and the transaction stays open (failed) for the door to roll back.
        commits = exc_type is None and self.ends_work and commits_with_last_write(self.conn)
        if commits:
            self.cursor().execute("COMMIT")
        if self._pipeline is not None:
            self._pipeline.__exit__(exc_type, exc, tb)  # the Sync: sends all, reads every result
        if commits:
            setattr(self.conn, _COMMIT_WITH_LAST_WRITE, _COMMITTED)

    def cursor(self) -> Cursor:
        return self.conn.cursor(row_factory=dict_row)


# A connection that sends the BEGIN of its transactions itself, with their first statement.
_BEGINS_WITH_FIRST_STATEMENT = "expense_api_begins_with_first_statement"


def begin_with_first_statement(conn: Connection, enabled: bool = True) -> None:
    """Switches an idle connection to opening its transactions with their first statement.

    psycopg sends the BEGIN of a transaction as a round trip of its own, even in pipeline
    mode. A connection switched here runs in psycopg's autocommit mode (so psycopg sends no
    BEGIN) and every query of sqlfiles, and every Batch, sends BEGIN itself, in the same round
    trip as the first statement, whenever no transaction is open. The owner of the connection
    ends the transaction as before, with commit() or rollback(); all the service's SQL goes
    through sqlfiles, so none runs outside it. enabled=False (on an idle connection) switches
    back, before the connection goes to someone else.
    """
    conn.autocommit = enabled
    setattr(conn, _BEGINS_WITH_FIRST_STATEMENT, enabled)


# A connection whose statements each run as their own transaction, for work that only reads.
_READS_STATEMENT_BY_STATEMENT = "expense_api_reads_statement_by_statement"


def read_statement_by_statement(conn: Connection, enabled: bool = True) -> None:
    """Switches an idle connection to running each statement as a transaction of its own
    (psycopg's autocommit, no BEGIN, no COMMIT), for a unit of work that only reads: the REST
    API's GET and HEAD requests. enabled=False switches back, before the connection goes to
    someone else.

    Under READ COMMITTED (the service's isolation level) every statement takes its own snapshot,
    inside a transaction or not, so a read gains nothing from BEGIN and COMMIT but a round trip:
    a read request takes two (the session lookup, then its query) instead of three. What it gives
    up is the rollback of a write, so sqlfiles refuses, before sending it, any query that writes
    or locks on such a connection (`reads_statement_by_statement`): a read that writes is a bug
    that fails at once, never a write left behind by an error answer.
    """
    conn.autocommit = enabled
    setattr(conn, _READS_STATEMENT_BY_STATEMENT, enabled)


def reads_statement_by_statement(conn: Connection) -> bool:
    return getattr(conn, _READS_STATEMENT_BY_STATEMENT, False)


def opens_transaction(conn: Connection) -> bool:
    """Whether the next statement on `conn` must be preceded by our own BEGIN."""
    return (
        getattr(conn, _BEGINS_WITH_FIRST_STATEMENT, False)
        and conn.pgconn.transaction_status == TransactionStatus.IDLE
    )


# Whether a unit of work's COMMIT may go with its last write (the Batch its service marks
# `ends_work`), saving the round trip a separate COMMIT costs. The door that owns the transaction
# decides, before the work starts: only when it will commit on success anyway and has nothing
# left to write after the work (the REST API: no Idempotency-Key answer to store, no dry run).
# Services never commit, nor ask: the Batch (this layer) reads the consent.
_COMMIT_WITH_LAST_WRITE = "expense_api_commit_with_last_write"
_COMMITTED = "committed"  # the consent, used: the transaction is committed


def commit_with_last_write(conn: Connection, allowed: bool = True) -> None:
    """The door's consent (or, allowed=False, its withdrawal) for the current unit of work."""
    setattr(conn, _COMMIT_WITH_LAST_WRITE, allowed)


def commits_with_last_write(conn: Connection) -> bool:
    """Whether a batch that ends the work sends the COMMIT (the door consented, not yet used)."""
    return getattr(conn, _COMMIT_WITH_LAST_WRITE, False) is True


def committed_with_last_write(conn: Connection) -> bool:
    """Whether the unit of work's COMMIT has gone with its last write: a write after it would
    run outside the work's transaction, so sqlfiles refuses it before sending it."""
    return getattr(conn, _COMMIT_WITH_LAST_WRITE, False) == _COMMITTED


# While the database is unreachable, a checkout waits this long at most (see CountedPool).
UNREACHABLE_WAIT_SECONDS = 0.1


class CountedPool(ConnectionPool):
    """The pool, counting for /metrics the connections borrowed and the callers waiting for
    one (every borrow goes through getconn and putconn, `pool.connection()` included); and
    failing fast while the database is unreachable.

    A checkout waits up to the pool's timeout (DB_POOL_TIMEOUT) for a connection. During an
    outage every checkout waits that long, and a request that first waited for a free worker
    thread (each one busy waiting out its own checkout) was answered after twice the timeout
    or more: 6 s with a 3 s timeout. So a checkout that times out while no connection is
    lent at all (the pool had nothing to give for the whole timeout, and not because others
    hold its connections: it cannot connect) marks the database unreachable, and from then
    on checkouts wait UNREACHABLE_WAIT_SECONDS at most, until one succeeds (the pool keeps
    reconnecting in the background; a waiting checkout gets the first new connection). A
    request is then answered 503 within the pool timeout of its arrival, give or take the
    fraction of a second that takes, even when it had to wait for a thread. A timeout while
    connections are lent is contention, not an outage: the next checkout waits in full.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._lent = 0
        self._lent_lock = threading.Lock()
        self.unreachable = False

    def getconn(self, timeout: float | None = None) -> Connection:
        if timeout is None:
            timeout = self.timeout
        if self.unreachable:
            timeout = min(timeout, UNREACHABLE_WAIT_SECONDS)
        metrics.POOL_WAITING.inc()
        try:
            conn = super().getconn(timeout)
        except PoolTimeout:
            with self._lent_lock:
                if self._lent == 0:
                    self.unreachable = True
            raise
        finally:
            metrics.POOL_WAITING.dec()
        with self._lent_lock:
            self._lent += 1
        self.unreachable = False
        metrics.POOL_IN_USE.inc()
        return conn

    def putconn(self, conn: Connection) -> None:
        with self._lent_lock:
            self._lent -= 1
        metrics.POOL_IN_USE.dec()
        super().putconn(conn)


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


def is_database_outage(error: BaseException | None) -> bool:
    """True when the error (or what caused it) says the database cannot be reached or used now,
    as opposed to a statement being refused or timing out, or a transaction being aborted for a
    deadlock or a serialization failure (an OperationalError too, but one to run again: see
    retry.py)."""
    while error is not None:
        if isinstance(error, PoolTimeout | psycopg.OperationalError):
            if is_transaction_conflict(error):
                return False
            return not isinstance(error, psycopg.errors.QueryCanceled)
        error = error.__cause__ or getattr(error, "original_exception", None)
    return False
