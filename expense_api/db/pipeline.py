"""psycopg's pipeline mode, sending a batch of statements in one write instead of one per statement.

psycopg's `Pipeline` hands each statement to libpq as `execute()` queues it and flushes it to
the socket at once: a batch of four statements is five `send()` calls (one per statement and
the Sync), five wake-ups of the PostgreSQL backend (each to parse one statement and wait for the
next) and twice as many `poll()` calls, then, after the Sync, one more write for a Flush message
that the Sync has made needless. Under load on two cores those wake-ups are what a pipelined
write costs beyond its SQL: the backend is scheduled once per message instead of once per batch,
and the thread that writes holds the GIL through each `send()`.

`SendOncePipeline` keeps what `execute()` queues until the batch's results are needed (the
Sync at the end of the block, or a `fetch*()` inside it), then hands every statement to libpq
at once and lets the Sync flush them in one write; the backend reads the whole batch in one
wake-up. The statements, their order and their results are exactly psycopg's: only when the
bytes leave changes. It overrides three generators of psycopg's pipeline (a private interface,
pinned by `tests/db/test_pipeline.py`, which counts the writes and checks results and errors).
Kept because it is measured to pay (`python -m bench.overrides`; docs/BENCHMARKS.md, "Framework
overrides, measured"): 5.6 fewer socket writes per 4-statement batch, 12 per enforced write and
list read, whatever the load; it saves the client under 0.3% of its instructions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from psycopg import Connection, Pipeline
from psycopg.generators import send


class SendOncePipeline(Pipeline):
    _sending = False  # True while the queued statements are being handed to libpq and sent

    def _communicate_gen(self):
        if not self._sending:
            return  # an execute() inside the block: its statement waits in command_queue
            yield  # pragma: no cover  (makes this a generator)
        queue = self.command_queue
        while queue:  # into libpq's output buffer; the Sync, last, flushes them all at once
            queue.popleft()()
        yield from super()._communicate_gen()  # reads the results that have come back

    def _send_queued_gen(self):
        self._sending = True
        try:
            yield from self._communicate_gen()
        finally:
            self._sending = False
        # A batch larger than the socket takes at once is partly still in libpq's buffer: send
        # the rest (reading meanwhile) before anyone waits for its answers, which PostgreSQL
        # gives only once the Sync has arrived. Nothing left: no system call.
        yield from send(self.pgconn)

    def _sync_gen(self):
        self._enqueue_sync()
        yield from self._send_queued_gen()

    def _exit_gen(self):
        sent = False
        try:
            self._enqueue_sync()
            yield from self._send_queued_gen()
            sent = True
        finally:
            # After a Sync the server has flushed every answer: no Flush message is needed,
            # unless sending failed part way.
            yield from super()._fetch_gen(flush=not sent)

    def _fetch_gen(self, *, flush: bool):
        if self.command_queue:  # a fetch inside the block: what is queued must go first
            yield from self._send_queued_gen()
        yield from super()._fetch_gen(flush=flush)


@contextlib.contextmanager
def send_once_pipeline(conn: Connection) -> Iterator[SendOncePipeline]:
    """`conn.pipeline()`, with a SendOncePipeline. Not nestable in another pipeline block."""
    with conn.lock:
        if conn._pipeline is not None:
            raise RuntimeError("the connection is already in a pipeline block")
        pipeline = conn._pipeline = SendOncePipeline(conn)
    try:
        with pipeline:
            yield pipeline
    finally:
        with conn.lock:
            conn._pipeline = None
