"""gunicorn's gthread worker, taking a new connection only while no sibling holds fewer; both
worker classes answer gunicorn's own refusals as problem+json (`ProblemRefusals`).

gunicorn's workers share one listening socket and whichever polls it first accepts. Keep-alive
clients that connect at once (a dashboard's connection pool, a load balancer, wrk) can then land
mostly on one worker, which serves most of the load on one core while the other idles: a run of
`bench.write_path` split its CPU 100% / 0% between two workers, and the split changed from run
to run (docs/BENCHMARKS.md). gunicorn's `worker_connections` caps a worker, but a cap small
enough to force a split refuses clients beyond it; `reuse_port` hashes connections to workers,
which is even only on average (16 connections on 2 workers split 11/5 or worse one time in five).

So each worker publishes how many connections it holds, in shared memory the master allocates
before forking (`ConnectionBoard`), and accepts only while it holds no more than the least
loaded live sibling: N keep-alive clients split N/workers, give or take one, whatever the order
in which the workers wake. The least loaded worker always accepts, so no client waits for one.
"""

from __future__ import annotations

import ctypes
import multiprocessing

from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from . import gunicorn_refusals, logs

VACANT = -1  # a slot no live worker holds


class ConnectionBoard:
    """Open connections per worker slot, shared by the master and the workers it forks."""

    def __init__(self, slots: int):
        self.counts = multiprocessing.RawArray(ctypes.c_long, [VACANT] * slots)

    def assign(self, worker, live_workers) -> None:
        """In the master, before the fork: a slot no live worker holds (none when all are
        taken, as during a reload with many workers: that worker then simply always accepts).
        It counts as holding nothing from now on, so that while it boots its siblings leave
        new connections to it (they wait in the listen backlog for the few seconds that takes,
        rather than all going to the worker that happened to boot first)."""
        taken = {getattr(other, "board_slot", None) for other in live_workers}
        free = [slot for slot in range(len(self.counts)) if slot not in taken]
        worker.board_slot = free[0] if free else None
        worker.board = self
        if worker.board_slot is not None:
            self.counts[worker.board_slot] = 0

    def release(self, worker) -> None:
        """In the master, once the worker has exited."""
        slot = getattr(worker, "board_slot", None)
        if slot is not None:
            self.counts[slot] = VACANT

    def may_accept(self, slot: int, holding: int) -> bool:
        """Publishes `holding` for `slot`; True unless a live sibling holds fewer."""
        self.counts[slot] = holding
        siblings = [
            count for index, count in enumerate(self.counts) if index != slot and count != VACANT
        ]
        return not siblings or holding <= min(siblings)


class ProblemRefusals:
    """Worker mixin: gunicorn's own answers (a request it cannot parse or that is over its
    limits) are problem+json with a request id, and a refused large body closes its connection
    honestly (expense_api/ops/gunicorn_refusals.py)."""

    def load_wsgi(self) -> None:
        super().load_wsgi()  # type: ignore[misc]
        config = getattr(self.wsgi, "config", None) or {}
        settings = config.get("SETTINGS")
        gunicorn_refusals.install(production=bool(settings and settings.is_production))
        self.wsgi = gunicorn_refusals.CloseAfterUnreadBody(self.wsgi)

    def handle_error(self, req, client, addr, exc) -> None:
        # One id for gunicorn's log line about the refusal and the answer's X-Request-ID.
        context = logs.REQUEST_ID.set(logs.new_request_id())
        try:
            super().handle_error(req, client, addr, exc)  # type: ignore[misc]
        finally:
            logs.REQUEST_ID.reset(context)


class ProblemSyncWorker(ProblemRefusals, SyncWorker):
    """gunicorn's sync worker (WEB_WORKER_CLASS=sync), with problem+json refusals."""


class BalancedThreadWorker(ProblemRefusals, ThreadWorker):
    """ThreadWorker whose accept limit is also "no more connections than the least loaded
    sibling" (ThreadWorker.run compares its connections with `worker_connections` before
    each round of its event loop, and stops or resumes accepting accordingly)."""

    board: ConnectionBoard | None = None
    board_slot: int | None = None

    @property
    def worker_connections(self) -> int:
        limit = self.cfg.worker_connections
        if self.board is None or self.board_slot is None:
            return limit
        if self.board.may_accept(self.board_slot, self.nr_conns):
            return limit
        return self.nr_conns  # full for now: stop accepting until a sibling catches up

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        pass  # ThreadWorker.__init__ sets it from the configuration, read above instead
