"""Transactions that PostgreSQL aborts (deadlock, serialization failure) are run again, bounded,
with jitter (the contract's general rules): never a 500, never a false 503 "database unavailable".
Real aborts from real parallel connections; see expense_api/db/retry.py and api/core/retry.py."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from flask import jsonify

from expense_api.api.app import create_app
from expense_api.api.core import retry as api_retry
from expense_api.api.core.request_transaction import get_conn
from expense_api.db import retry
from expense_api.db.pool import is_database_outage
from tests.factories import category, repository_ledger, save
from tests.helpers import assert_problem, make_settings, wait_until_blocked_by

SCOPE_LOCK = (
    "SELECT pg_advisory_xact_lock(1001, (%s::bigint %% 2147483647)::int)"  # see budgets.sql
)


def _aborted_runs(caplog, kind: str) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "expense_api.db.retry" and kind in record.getMessage()
    ]


def test_a_deadlocked_expense_is_run_again_and_recorded(alice, database_url, conn, caplog):
    """The request holds the user's budget scope lock (shared) and waits for a budget row that
    another transaction has locked; that one then asks for the scope lock exclusively. PostgreSQL
    aborts the request's transaction (the one that waited first, after deadlock_timeout); the
    service runs it again once the other commits, and answers 201."""
    caplog.set_level(logging.INFO, logger="expense_api.db.retry")
    food = category(alice, "Food")
    budget = save(alice, categoryId=food, amount="100").get_json()
    body = {"amount": "10", "type": "EXPENSE", "categoryId": food, "date": "2026-03-10"}
    key = {"Idempotency-Key": f"deadlock-{uuid.uuid4().hex}"}
    with ThreadPoolExecutor(max_workers=1) as pool, psycopg.connect(database_url) as other:
        other.execute(
            "SELECT id FROM budgets WHERE ledger_id = %s AND id = %s FOR UPDATE",
            (alice.ledger_id, budget["id"]),
        )
        answer = pool.submit(alice.post, "/api/transactions", json=body, headers=key)
        # The request has the scope lock in shared mode and waits for the budget row.
        wait_until_blocked_by(conn, other.info.backend_pid)
        other.execute(SCOPE_LOCK, (alice.ledger_id,))  # waits for the request: a deadlock
        other.commit()
        response = answer.result(timeout=30)

    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert (created["amount"], created["categoryId"]) == ("10.00", food)
    assert len(_aborted_runs(caplog, "DeadlockDetected")) == 1
    rows = conn.execute(
        "SELECT id FROM transactions WHERE ledger_id = %s", (alice.ledger_id,)
    ).fetchall()
    assert rows == [(created["id"],)]  # once: the aborted run left nothing behind
    # Its Idempotency-Key was claimed again by the run that succeeded, and stores its answer.
    replay = alice.post("/api/transactions", json=body, headers=key)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == created
    assert conn.execute(
        "SELECT count(*) FROM transactions WHERE ledger_id = %s", (alice.ledger_id,)
    ).fetchone() == (1,)


def _rename_in_repeatable_read(conn, category_id: int, runs: list, interfere) -> str:
    """One unit of work: reads the category's name (its snapshot is taken there), lets
    `interfere` run, then renames it. Returns the name it read."""
    runs.append(conn.execute("SELECT txid_current()").fetchone()[0])
    name = conn.execute("SELECT name FROM categories WHERE id = %s", (category_id,)).fetchone()[0]
    interfere(len(runs))
    conn.execute(
        "UPDATE categories SET name = %s WHERE id = %s", (f"worker run {len(runs)}", category_id)
    )
    return name


def _rename_from_another_transaction(database_url, category_id: int, name: str) -> None:
    """Another REPEATABLE READ transaction renames the category and commits."""
    with psycopg.connect(database_url) as other:
        other.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        other.execute("UPDATE categories SET name = %s WHERE id = %s", (name, category_id))
        other.commit()


def _category_name(conn, category_id: int) -> str:
    return conn.execute("SELECT name FROM categories WHERE id = %s", (category_id,)).fetchone()[0]


def test_a_serialization_failure_is_run_again_until_it_succeeds(database_url, conn, caplog):
    caplog.set_level(logging.INFO, logger="expense_api.db.retry")
    _, category_id = repository_ledger(conn)
    runs, pauses = [], []

    def interfere(run: int) -> None:
        if run == 1:  # the first run's snapshot is now stale for this row
            _rename_from_another_transaction(database_url, category_id, "renamed by another")

    with psycopg.connect(database_url) as worker:
        worker.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        name = retry.run_transaction(
            worker,
            lambda c: _rename_in_repeatable_read(c, category_id, runs, interfere),
            sleep=pauses.append,
        )
        assert worker.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    assert len(runs) == 2 and runs[0] != runs[1]  # a new transaction each time
    assert name == "renamed by another"  # the second run saw what the first one could not
    assert _category_name(conn, category_id) == "worker run 2"  # and its change committed
    assert len(pauses) == 1
    assert retry.FIRST_PAUSE_SECONDS / 2 <= pauses[0] <= retry.FIRST_PAUSE_SECONDS
    assert len(_aborted_runs(caplog, "SerializationFailure")) == 1


def test_a_transaction_aborted_every_time_ends_in_transaction_conflict(database_url, conn):
    _, category_id = repository_ledger(conn)
    runs, pauses = [], []

    def interfere(run: int) -> None:
        _rename_from_another_transaction(database_url, category_id, f"another {run}")

    with psycopg.connect(database_url) as worker:
        worker.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
        with pytest.raises(retry.TransactionConflict) as raised:
            retry.run_transaction(
                worker,
                lambda c: _rename_in_repeatable_read(c, category_id, runs, interfere),
                attempts=4,
                sleep=pauses.append,
            )
        assert worker.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    error = raised.value
    assert (error.code, error.retry_after) == ("transaction_conflict", retry.RETRY_AFTER_SECONDS)
    assert isinstance(error.__cause__, psycopg.errors.SerializationFailure)
    assert len(runs) == 4 and len(set(runs)) == 4
    assert _category_name(conn, category_id) == "another 4"  # none of the worker's runs stayed
    # Jittered and growing: each pause between half and all of its doubling step.
    steps = [retry.FIRST_PAUSE_SECONDS * 2**n for n in range(3)]
    assert all(step / 2 <= pause <= step for pause, step in zip(pauses, steps, strict=True))


def test_the_pauses_are_bounded():
    longest = [max(retry.pause_before(attempt) for _ in range(200)) for attempt in range(2, 12)]
    assert max(longest) <= retry.LONGEST_PAUSE_SECONDS
    worst_total = sum(
        min(retry.LONGEST_PAUSE_SECONDS, retry.FIRST_PAUSE_SECONDS * 2 ** (n - 2))
        for n in range(2, retry.ATTEMPTS + 1)
    )
    assert worst_total < 1  # a request never waits long for the retries themselves


def test_other_errors_are_not_retried(database_url):
    runs = []

    def work(conn):
        runs.append(1)
        conn.execute("SELECT 1 / 0")

    with psycopg.connect(database_url) as worker, pytest.raises(psycopg.errors.DivisionByZero):
        retry.run_transaction(worker, work, sleep=lambda _: None)
    assert runs == [1]


def test_a_conflict_is_not_an_outage():
    assert not is_database_outage(psycopg.errors.DeadlockDetected())
    assert not is_database_outage(psycopg.errors.SerializationFailure())
    assert is_database_outage(psycopg.OperationalError("connection refused"))
    assert retry.is_transaction_conflict(psycopg.errors.DeadlockDetected())
    assert not retry.is_transaction_conflict(psycopg.errors.StatementCompletionUnknown())


@pytest.fixture
def own_app(database_url):
    application = create_app(make_settings(), database_url)
    yield application
    application.extensions["database"].close()


def test_a_request_aborted_every_time_is_503_transaction_conflict(own_app, database_url, conn):
    """Every run of the view meets a real serialization failure; after ATTEMPTS runs the answer
    is 503 transaction_conflict with Retry-After, and none of the runs left anything behind."""
    _, category_id = repository_ledger(conn)
    runs = []

    @own_app.post("/test/always-aborted")
    def always_aborted():
        work = get_conn()
        # Raw SQL, not through sqlfiles: it opens the request's transaction itself (the request
        # connection sends BEGIN with the first sqlfiles query; database.py).
        work.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        _rename_in_repeatable_read(
            work,
            category_id,
            runs,
            lambda run: _rename_from_another_transaction(database_url, category_id, f"other {run}"),
        )
        return jsonify(done=True)

    api_retry.init_app(own_app)  # wraps the route added after create_app, and only that one
    response = own_app.test_client().post("/test/always-aborted")
    problem = assert_problem(response, 503, "transaction_conflict")
    assert response.headers["Retry-After"] == str(retry.RETRY_AFTER_SECONDS)
    assert "unavailable" not in problem["detail"]
    assert len(runs) == retry.ATTEMPTS and len(set(runs)) == retry.ATTEMPTS
    assert _category_name(conn, category_id) == f"other {retry.ATTEMPTS}"


def test_an_abort_outside_the_retried_views_is_not_an_outage(own_app, database_url, conn):
    """A conflict that escapes the retry (here a route it does not wrap) is still 503
    transaction_conflict, never 500 nor database_unavailable."""
    _, category_id = repository_ledger(conn)

    @own_app.post("/test/not-retried")
    def not_retried():
        work = get_conn()
        # Raw SQL, not through sqlfiles: it opens the request's transaction itself (the request
        # connection sends BEGIN with the first sqlfiles query; database.py).
        work.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        _rename_in_repeatable_read(
            work,
            category_id,
            [],
            lambda run: _rename_from_another_transaction(database_url, category_id, "other"),
        )
        return jsonify(done=True)

    response = own_app.test_client().post("/test/not-retried")
    assert_problem(response, 503, "transaction_conflict")
    assert response.headers["Retry-After"] == str(retry.RETRY_AFTER_SECONDS)
