"""A recurring rule whose handling fails is tried again later, and paused after ten failures.

The worker handles one date of one rule per transaction (services/recurring/runs.py). When that
raises something the step does not expect (a bug the rule's values trigger, a constraint its
write violates, a statement timeout), the rule itself is the likely cause: claimed again at once,
it would fail forever and hold up every rule due after it. So the date's work is rolled back (a
savepoint) and the failure is recorded on the rule in the same transaction, under the claim's
lock (services/recurring/runs.run_next_due; a failure only the COMMIT reveals, in a second
transaction): `failures` (in a row) + 1, `retry_at` (the claim passes the rule over until then)
and `last_error` (the exception's class and the first line of its message: no traceback, and for
a PostgreSQL error no DETAIL, which may quote the row's values). The wait doubles from
FIRST_RETRY up to LONGEST_RETRY, less up to a fifth at random so that rules failing together
spread out. The PAUSE_AFTER-th failure in a row pauses the rule (`failing`) for a human to look
at; resuming it (PATCH `paused: false`) starts again from nothing, and so does any handled date
(sql/recurring.sql, advance).

Not failures of the rule: a transaction conflict (deadlock, serialization failure: run again at
once by retry.run_transaction) and a database outage (the job stops and the worker's loop tries
again next tick), as before.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import psycopg
from psycopg import Connection

from ...db.pool import is_database_outage
from ...db.retry import is_transaction_conflict
from ...repositories import recurring
from ..changes import hook

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
JITTER = 0.2  # up to this fraction of the wait is taken off at random
PAUSE_AFTER = 10  # failures in a row
MESSAGE_CHARS = 300  # of last_error (the column allows 500)

rng = random.Random()  # noqa: S311 - jitter, not a secret; tests may seed it


def is_rule_failure(error: BaseException) -> bool:
    """Whether an error raised while handling a rule counts against the rule."""
    return not (is_transaction_conflict(error) or is_database_outage(error))


def backoff(failures: int) -> timedelta:
    """The wait after the `failures`-th failure in a row: 1, 2, 4 ... minutes, at most an hour,
    each less up to JITTER of it."""
    step = min(LONGEST_RETRY, FIRST_RETRY * 2 ** min(max(failures, 1) - 1, 16))
    return step * rng.uniform(1 - JITTER, 1)


def describe(error: BaseException) -> str:
    """`Class: first line of the message`, short enough for last_error."""
    message = str(error)
    if isinstance(error, psycopg.Error) and error.diag.message_primary:
        message = error.diag.message_primary
    lines = message.strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text[:MESSAGE_CHARS]


def record(conn: Connection, rule: dict, error: BaseException, now: datetime) -> dict | None:
    """Records a failure of `rule` (its ledger_id and id) in the caller's transaction; returns
    what was recorded (failures, retry_at, and whether this failure paused it), or None when
    the rule is gone."""
    keys = {"ledger_id": rule["ledger_id"], "rule_id": rule["id"]}
    current = recurring.lock_for_failure(conn, **keys)
    if current is None:
        return None
    failures = current["failures"] + 1
    pause = failures >= PAUSE_AFTER
    retry_at = None if pause else _whole_second_after(now + backoff(failures))
    recorded = recurring.record_failure(
        conn,
        **keys,
        failures=failures,
        retry_at=retry_at,
        last_error=describe(error),
        pause=pause,
    )
    # The rule's REST shape shows its failures: the service's own change (no member acted).
    hook.record_by_service(
        conn,
        rule["ledger_id"],
        "recurring",
        "updated",
        before=hook.render_in(current["ledger_currency"], "recurring", current),
        after=hook.render_in(current["ledger_currency"], "recurring", recorded),
    )
    return {"failures": failures, "retry_at": retry_at, "paused": pause}


def _whole_second_after(moment: datetime) -> datetime:
    """Rounded up to a whole second: the time the API shows (to the millisecond) is the one
    stored, and a worker at that time finds the rule due."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)
