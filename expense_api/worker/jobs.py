"""What the worker does each tick: every job in JOBS, in order.

A job's `run(database, clock)` handles a bounded batch, each item in its own database
transaction (committed before the next begins), and returns how many items it handled; the loop
ticks again at once while any job had work. `Clock` returns the current time as an aware UTC
datetime; tests pass their own, so nothing waits for a date to come.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from ..db.pool import Database
from ..services import housekeeping
from ..services.changes import door
from ..services.recurring import runs as recurring_runs
from ..services.webhooks.delivery import Dispatcher

Clock = Callable[[], datetime]


class Job(NamedTuple):
    name: str
    run: Callable[[Database, Clock], int]
    # Called when the loop ends, before the database closes: a job with work in other threads
    # waits for it there (the webhook lanes finish and record the attempts in hand).
    close: Callable[[], None] | None = None


BATCH = 50  # items per job per tick at most, so every job gets its turn
# Set by the loop on SIGTERM/SIGINT: a batch stops before its next item (the one in hand
# finishes and commits, or rolls back if the process is killed).
stopping = threading.Event()


class DueOccurrences:
    """Recurring rules: one due date per transaction, the ledgers in turn (each date goes to the
    first ledger after the one served last, this process's `after_ledger`, kept across ticks), a
    rule that fails recorded and passed over until its retry time (services/recurring/runs.py)."""

    def __init__(self):
        self.after_ledger = 0

    def __call__(self, database: Database, clock: Clock) -> int:
        handled = 0
        while handled < BATCH and not stopping.is_set():
            # Each unit of work gets a request id of its own: its change-log entries share it.
            with door.unit_of_work("worker"), database.pool.connection() as conn:
                ledger_id = recurring_runs.run_next_due(conn, clock(), self.after_ledger)
            if ledger_id is None:
                self.after_ledger = 0
                break
            self.after_ledger = ledger_id
            handled += 1
        return handled


create_due_occurrences = DueOccurrences()


class Every:
    """Runs `work` at most once per `period` in this process (the first time at once)."""

    def __init__(self, period: timedelta, work: Callable[[Database], int]):
        self.period, self.work = period, work
        self.last_run: datetime | None = None

    def __call__(self, database: Database, clock: Clock) -> int:
        now = clock()
        if self.last_run is not None and now - self.last_run < self.period:
            return 0
        self.last_run = now
        return self.work(database)


def prune_expired(database: Database) -> int:
    """Expired sessions, login counters and idempotency keys (as `expense-api prune`), so that
    stored answers carrying tokens do not outlive their minutes."""
    with database.pool.connection() as conn:
        return sum(housekeeping.prune(conn, database.settings).values())


PRUNE_PERIOD = timedelta(hours=1)

# Webhook deliveries run in lanes, a thread per endpoint (services/webhooks/delivery.py): the job
# starts lanes and returns, so a slow receiver holds neither the other endpoints nor the other jobs.
webhook_lanes = Dispatcher(stopping=stopping)

JOBS: tuple[Job, ...] = (
    Job("recurring", create_due_occurrences),
    Job("webhooks", webhook_lanes, webhook_lanes.close),
    Job("prune", Every(PRUNE_PERIOD, prune_expired)),
)
