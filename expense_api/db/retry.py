"""Transactions that PostgreSQL aborts to keep the data consistent run again, a bounded number of
times, after a short random pause.

A deadlock (one side of the cycle is aborted) or a serialization failure (REPEATABLE READ or
SERIALIZABLE) is SQLSTATE class 40 ("transaction rollback"): the transaction did nothing, and the
same work run again from the start normally succeeds. It is neither an outage nor a bug. So the
unit of work is rolled back and run again, at most ATTEMPTS times in all, after a jittered,
exponentially growing pause (so that the two sides of a conflict do not meet again in lockstep);
when every attempt is aborted, TransactionConflict (503 `transaction_conflict`, with
retry_after) says so.

No HTTP here: the REST API applies `retry_on_conflict` to every request (api/core/retry.py), and a
worker runs its units of work through `run_transaction`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg import Connection
from psycopg.pq import TransactionStatus

from ..domain.errors import Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 5  # runs in all, the first included
FIRST_PAUSE_SECONDS = 0.02  # the pause before the second run; doubles before each next one
LONGEST_PAUSE_SECONDS = 0.32  # so the pauses add up to at most 0.02 + 0.04 + 0.08 + 0.16 s
RETRY_AFTER_SECONDS = 1

ROLLBACK_CLASS = "40"  # SQLSTATE class "transaction rollback": deadlock, serialization failure
# ... except "statement completion unknown": it may have committed, so running it again could
# do the work twice.
COMPLETION_UNKNOWN = psycopg.errors.StatementCompletionUnknown.sqlstate


class TransactionConflict(Unavailable):
    """Every attempt was aborted by PostgreSQL (deadlock or serialization failure)."""

    code = "transaction_conflict"


def conflict() -> TransactionConflict:
    return TransactionConflict(
        "The database aborted this transaction for a conflict with concurrent ones, each time "
        "it was tried; try again shortly.",
        retry_after=RETRY_AFTER_SECONDS,
    )


def is_transaction_conflict(error: BaseException | None) -> bool:
    """True when the error (or what caused it) is PostgreSQL aborting the transaction for a
    deadlock or a serialization failure: running it again is safe and usually succeeds."""
    while error is not None:
        # By SQLSTATE: psycopg 3's SerializationFailure and DeadlockDetected are not subclasses
        # of its TransactionRollback (40000); all of them are OperationalErrors of class 40.
        if isinstance(error, psycopg.Error) and (error.sqlstate or "").startswith(ROLLBACK_CLASS):
            return error.sqlstate != COMPLETION_UNKNOWN
        error = error.__cause__ or getattr(error, "original_exception", None)
    return False


def pause_before(attempt: int) -> float:
    """Seconds to wait before run number `attempt` (2 or more): half of the doubling step for
    sure, the other half at random ("equal jitter")."""
    step = min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** (attempt - 2))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not a secret


def retry_on_conflict(
    work: Callable[[], T],
    *,
    rollback: Callable[[], None],
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Returns work(); when PostgreSQL aborts its transaction, calls rollback() (which must end
    that transaction and forget whatever state it made meaningless), pauses, and runs work()
    again, `attempts` times at most in all; then raises TransactionConflict. Any other error
    propagates at once."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    attempt = 1
    while True:
        try:
            return work()
        except Exception as error:
            if not is_transaction_conflict(error):
                raise
            rollback()
            if attempt == attempts:
                log.warning("transaction aborted %d times, giving up: %s", attempts, error)
                raise conflict() from error
            attempt += 1
            pause = pause_before(attempt)
            log.info(
                "transaction aborted (%s); run %d of %d in %.3f s",
                type(error).__name__,
                attempt,
                attempts,
                pause,
            )
            sleep(pause)


def run_transaction(
    conn: Connection,
    work: Callable[[Connection], T],
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Runs work(conn) as one transaction of its own, committed when it returns and rolled back
    when it raises, and again from the start when PostgreSQL aborts it (see retry_on_conflict).

    `conn` must not be inside a transaction: running again from a savepoint would keep the locks
    taken before it, and with them the conflict."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("run_transaction needs a connection that is not in a transaction")

    def once() -> T:
        with conn.transaction():
            return work(conn)

    return retry_on_conflict(once, rollback=conn.rollback, attempts=attempts, sleep=sleep)
