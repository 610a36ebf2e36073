"""expense_api.db.pipeline: a Batch's statements leave in one write, with psycopg's results and errors.

psycopg's own pipeline sends each statement as execute() queues it; ours keeps them until the
results are needed. What leaves when is observed from the server (an advisory lock taken by a
queued statement is not held until the batch ends) and, where strace can run, by counting the
process's writes to the socket.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time

import psycopg
import pytest

from expense_api.db.pipeline import send_once_pipeline
from expense_api.db.pool import (
    Batch,
    begin_with_first_statement,
    commit_with_last_write,
    committed_with_last_write,
)
from expense_api.db.sqlfiles import Query, QueryError

LOCK_KEY = 740_421


def _lock_held(observer, key: int = LOCK_KEY) -> bool:
    return (
        observer.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
            (key,),
        ).fetchone()[0]
        > 0
    )


def _held_within(observer, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _lock_held(observer):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def worker(database_url):
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def test_psycopgs_own_pipeline_sends_a_statement_as_soon_as_it_is_queued(worker, conn):
    """The control: what the test below would see if Batch used psycopg's pipeline."""
    with worker.pipeline():
        worker.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        assert _held_within(conn, 5)
    worker.execute("SELECT pg_advisory_unlock_all()")


def test_a_queued_statement_leaves_only_when_the_batch_ends(worker, conn):
    """Seen failing with Batch on psycopg's own pipeline (the control above)."""
    with send_once_pipeline(worker):
        cur = worker.cursor()
        cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        assert not _held_within(conn, 0.3)
    assert _lock_held(conn)
    assert cur.fetchone() == ("",)
    worker.execute("SELECT pg_advisory_unlock_all()")


def test_a_fetch_inside_the_block_sends_what_is_queued_first(worker):
    with send_once_pipeline(worker):
        first = worker.cursor()
        first.execute("SELECT %s::int", (1,))
        second = worker.cursor()
        second.execute("SELECT %s::int + 1", (1,))
        assert second.fetchone() == (2,)  # would wait forever if the statements stayed queued
        third = worker.cursor()
        third.execute("SELECT 3")
    assert (first.fetchone(), third.fetchone()) == ((1,), (3,))


def test_results_come_back_in_order_and_a_failure_stops_the_batch(worker):
    worker.execute("CREATE TEMPORARY TABLE marks (n int)")

    def failing_batch():
        with send_once_pipeline(worker):
            worker.cursor().execute("INSERT INTO marks VALUES (1)")
            worker.cursor().execute("SELECT 1 / 0")
            worker.cursor().execute("INSERT INTO marks VALUES (2)")

    with pytest.raises(psycopg.errors.DivisionByZero):
        failing_batch()
    # autocommit: each statement ran in the Sync's implicit transaction, which the error aborted
    assert worker.execute("SELECT count(*) FROM marks").fetchone() == (0,)
    # the connection is usable again, outside and inside a pipeline
    with send_once_pipeline(worker):
        cursors = [worker.cursor() for _ in range(3)]
        for n, cur in enumerate(cursors):
            cur.execute("SELECT %s::int * 10", (n,))
    assert [cur.fetchone()[0] for cur in cursors] == [0, 10, 20]


def test_a_batch_larger_than_libpqs_buffer_goes_through(worker):
    text = "x" * 4000
    with send_once_pipeline(worker):
        cursors = [worker.cursor() for _ in range(100)]  # about 400 kB in one go
        for n, cur in enumerate(cursors):
            cur.execute("SELECT %s::int, length(%s)", (n, text))
    assert [cur.fetchone() for cur in cursors] == [(n, 4000) for n in range(100)]


@pytest.mark.timeout(60)
def test_a_batch_larger_than_the_socket_takes_at_once_is_sent_whole(worker):
    """8 MB of statements with answers too small for PostgreSQL to send before the Sync: the
    part the first write could not send must follow before the wait for answers (this hung
    until it did)."""
    text = "x" * 200_000
    with send_once_pipeline(worker):
        cursors = [worker.cursor() for _ in range(40)]
        for cur in cursors:
            cur.execute("SELECT length(%s)", (text,))
    assert [cur.fetchone() for cur in cursors] == [(200_000,)] * 40


def test_a_batch_opens_its_transaction_with_its_first_statement(worker):
    begin_with_first_statement(worker)
    with Batch(worker) as batch:
        fresh = batch.cursor()
        fresh.execute("SELECT txid_current_if_assigned() IS NULL AS fresh")
    assert worker.pgconn.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert fresh.fetchone() == {"fresh": True}
    worker.rollback()


def _count_marks(conn) -> int:
    return conn.execute("SELECT count(*) FROM pipeline_marks").fetchone()[0]


@pytest.fixture
def marks(worker, conn):
    conn.execute("CREATE TABLE IF NOT EXISTS pipeline_marks (n int)")
    conn.execute("TRUNCATE pipeline_marks")
    begin_with_first_statement(worker)
    yield
    commit_with_last_write(worker, allowed=False)
    worker.rollback()
    begin_with_first_statement(worker, enabled=False)
    conn.execute("DROP TABLE pipeline_marks")


def test_a_batch_that_ends_the_work_commits_only_with_the_doors_consent(worker, conn, marks):
    with Batch(worker, ends_work=True) as batch:
        batch.cursor().execute("INSERT INTO pipeline_marks VALUES (1)")
    assert worker.pgconn.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert _count_marks(conn) == 0  # no consent: the door's commit is still to come
    worker.rollback()
    commit_with_last_write(worker)  # the door's consent
    with Batch(worker) as batch:  # not the last: no COMMIT
        batch.cursor().execute("INSERT INTO pipeline_marks VALUES (2)")
    assert _count_marks(conn) == 0
    with Batch(worker, ends_work=True) as batch:
        batch.cursor().execute("INSERT INTO pipeline_marks VALUES (3)")
    assert worker.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert _count_marks(conn) == 2  # the COMMIT went with the batch
    assert committed_with_last_write(worker)


def test_a_failing_batch_that_ends_the_work_leaves_its_transaction_to_the_door(worker, conn, marks):
    commit_with_last_write(worker)

    def failing_batch():
        with Batch(worker, ends_work=True) as batch:
            batch.cursor().execute("INSERT INTO pipeline_marks VALUES (1)")
            batch.cursor().execute("SELECT 1 / 0")

    with pytest.raises(psycopg.errors.DivisionByZero):
        failing_batch()
    assert worker.pgconn.transaction_status == psycopg.pq.TransactionStatus.INERROR
    assert not committed_with_last_write(worker)
    worker.rollback()
    assert _count_marks(conn) == 0


def test_a_write_after_the_work_committed_is_refused_before_it_is_sent(worker, conn, marks):
    commit_with_last_write(worker)
    with Batch(worker, ends_work=True) as batch:
        batch.cursor().execute("INSERT INTO pipeline_marks VALUES (1)")
    write = Query(
        name="test.w", returns="rowcount", sql="INSERT INTO pipeline_marks VALUES (2)", doc=""
    )
    with pytest.raises(QueryError, match="after the batch that ended the work committed"):
        write(worker)
    with Batch(worker) as batch, pytest.raises(QueryError):
        write.later(batch)
    assert _count_marks(conn) == 1
    read = Query(name="test.r", returns="scalar", sql="SELECT count(*) FROM pipeline_marks", doc="")
    assert read(worker) == 1  # reading is still allowed


def test_a_nested_pipeline_is_refused(worker):
    with send_once_pipeline(worker):
        nested = send_once_pipeline(worker)
        with pytest.raises(RuntimeError, match="already in a pipeline"):
            nested.__enter__()


WRITES = textwrap.dedent(
    """
    import sys, psycopg
    from expense_api.db.pipeline import send_once_pipeline
    conn = psycopg.connect(sys.argv[1], autocommit=True)
    opener = send_once_pipeline if sys.argv[2] == "ours" else lambda c: c.pipeline()
    for i in range(50):
        with opener(conn):
            cursors = [conn.cursor() for _ in range(4)]
            for cur in cursors:
                cur.execute("SELECT %s::int", (i,))
        assert [cur.fetchone()[0] for cur in cursors] == [i] * 4
    """
)


def _socket_writes(database_url: str, which: str) -> int:
    """sendto/write calls of a process that runs 50 batches of 4 statements."""
    traced = subprocess.run(
        ["strace", "-f", "-qq", "-c", "-e", "trace=sendto,sendmsg", sys.executable, "-c",
         WRITES, database_url, which],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if traced.returncode != 0:
        if "ptrace" in traced.stderr or "Operation not permitted" in traced.stderr:
            pytest.skip(f"strace cannot trace here: {traced.stderr.strip()[:200]}")
        raise AssertionError(traced.stderr)
    calls = 0
    for line in traced.stderr.splitlines():
        fields = line.split()
        if fields and fields[-1] in ("sendto", "sendmsg"):
            calls += int(fields[3])
    return calls


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_each_batch_is_one_write(database_url):
    ours = _socket_writes(database_url, "ours")
    theirs = _socket_writes(database_url, "psycopg")
    # 50 batches: one write each, plus the connection's start-up (a few writes)
    assert 50 <= ours <= 50 + 5, ours
    assert theirs >= 5 * 50, theirs  # a statement per write, and the Sync
