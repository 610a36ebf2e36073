"""The worker's loop: run every job, again at once while there is work, else wait a tick.

SIGTERM and SIGINT stop it cleanly: the item in hand finishes (its transaction commits) and no
other starts. A job that fails (the database is down, say) is logged and tried again next tick;
its transaction has rolled back.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable
from datetime import UTC, datetime

from ..config import Settings
from ..db.pool import Database
from ..ops import metrics
from . import jobs as job_list
from .jobs import Clock, Job

log = logging.getLogger("expense_api.worker")


def utc_now() -> datetime:
    return datetime.now(UTC)


def tick(database: Database, clock: Clock, jobs: Iterable[Job]) -> int:
    """Runs each job once; returns how many items they handled in all."""
    handled = 0
    for job in jobs:
        if job_list.stopping.is_set():
            break
        try:
            handled += job.run(database, clock)
        except Exception:
            log.exception("worker job %r failed; it runs again next tick", job.name)
    return handled


def run(
    database: Database,
    *,
    tick_seconds: float,
    clock: Clock = utc_now,
    jobs: Iterable[Job] | None = None,
    stop: threading.Event = job_list.stopping,
) -> None:
    """Ticks until `stop` is set (by the signal handlers `main` installs)."""
    jobs = tuple(job_list.JOBS if jobs is None else jobs)
    try:
        _ticks(database, tick_seconds, clock, jobs, stop)
    finally:
        for job in jobs:
            if job.close is not None:
                job.close()


def _ticks(
    database: Database,
    tick_seconds: float,
    clock: Clock,
    jobs: tuple[Job, ...],
    stop: threading.Event,
) -> None:
    behind_since = None  # when the current run of ticks with work began
    while not stop.is_set():
        started = clock()
        handled = tick(database, clock, jobs)
        # The worker's lag for /metrics: 0 once a tick finds nothing to do; while it keeps
        # finding work (a catch-up, a burst of deliveries), how long it has been at it.
        behind_since = None if handled == 0 else (behind_since or started)
        now = clock()
        lag = 0.0 if behind_since is None else (now - behind_since).total_seconds()
        metrics.worker_lag(lag, now.timestamp())
        if handled == 0:
            stop.wait(tick_seconds)


def main(url: str, settings: Settings) -> None:
    def request_stop(signum, frame):
        log.info(
            "worker: %s received, stopping after the item in hand", signal.Signals(signum).name
        )
        job_list.stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    database = Database(url, settings)
    database.open()
    log.info("worker running, ticking every %s s", settings.worker_tick_seconds)
    try:
        run(database, tick_seconds=settings.worker_tick_seconds)
    finally:
        database.close()
        log.info("worker stopped")
