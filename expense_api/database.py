"""The one door to PostgreSQL: a psycopg_pool pool shared by whoever serves requests or runs jobs.

Callers borrow a connection for one unit of work and own its transaction (the REST API's is one
per request, see api/request_transaction.py). Work that must survive the caller's rollback (a
failed-login counter, say) uses `independent_transaction()`. No HTTP here: a worker process uses
this module as it is.
"""

from __future__ import annotations

import contextlib
import logging
import select
import time
from collections.abc import Iterator

import psycopg
from psycopg import Connection
from psycopg_pool import ConnectionPool, PoolTimeout

from .config import ConfigError, Settings
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
