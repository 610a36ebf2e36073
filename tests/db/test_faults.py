"""Database faults: an outage under load answers 503 quickly, the service recovers by itself, and
with Idempotency-Key retries nothing acknowledged is lost or written twice. And a statement
timeout keeps one slow query from holding a worker."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from flask import jsonify

from devtools.servers import LiveServer, call
from expense_api.api.app import create_app
from expense_api.api.core.request_transaction import get_conn
from expense_api.db.migrate import apply_migrations
from tests.helpers import assert_problem, make_settings


class StoppablePostgres:
    """An embedded PostgreSQL of this test's own, which the test may stop and start."""

    def __init__(self, folder: Path):
        from expense_api.db import embedded

        self.pgdata = folder / "postgres"
        self.server, self.url = embedded.start(self.pgdata, "faults")
        self.socket_dir = psycopg.conninfo.conninfo_to_dict(self.url)["host"]

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs postgres as this user
        pg_ctl(list(args), pgdata=self.pgdata, user=user, timeout=30)

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        log = str(self.pgdata / "log")
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")

    def cleanup(self) -> None:
        # pgserver stops only the postmaster it started itself, and a restarted server is a
        # new one: stop whichever is running here first, or it outlives the test run.
        with contextlib.suppress(Exception):
            self.stop()
        self.server.cleanup()


@pytest.fixture
def outage_setup(tmp_path):
    postgres = StoppablePostgres(tmp_path)
    apply_migrations(postgres.url)
    server = LiveServer(
        {"DATABASE_URL": postgres.url, "JWT_SECRET_KEY": "fault-" + "f" * 40, "WEB_CONCURRENCY": "2",
         "WEB_THREADS": "4", "DB_POOL_TIMEOUT": "2", "DB_CONNECT_TIMEOUT": "2", "APP_ENV": "test"}
    )  # fmt: skip
    yield postgres, server
    server.stop()
    postgres.cleanup()
    assert not (postgres.pgdata / "postmaster.pid").exists(), "the test's PostgreSQL still runs"


@pytest.mark.timeout(180)
def test_outage_under_load_then_recovery_loses_and_duplicates_nothing(outage_setup):
    postgres, server = outage_setup
    base = server.base
    email = f"fault-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        call(
            base,
            "POST",
            "/api/auth/register",
            {"name": "F", "email": email, "password": "password123"},
        )[0]
        == 201
    )
    token = call(base, "POST", "/api/auth/login", {"email": email, "password": "password123"})[1][
        "accessToken"
    ]
    category = call(base, "POST", "/api/categories", {"name": "Food"}, token)[1]["id"]

    acknowledged: dict[str, int] = {}
    outage_answers: list[tuple[int, float, str]] = []
    stop_load = threading.Event()
    lock = threading.Lock()

    def client(worker: int) -> None:
        sequence = 0
        while not stop_load.is_set():
            key, sequence = f"w{worker}-{sequence}", sequence + 1
            body = {
                "amount": "1.00",
                "type": "EXPENSE",
                "categoryId": category,
                "date": "2026-05-01",
            }
            for _attempt in range(200):  # retry the same key until it is acknowledged
                started = time.monotonic()
                try:
                    status, payload, headers = call(
                        base, "POST", "/api/transactions", body, token, {"Idempotency-Key": key}
                    )
                except OSError:
                    time.sleep(0.1)
                    continue
                if status == 201:
                    with lock:
                        assert key not in acknowledged or acknowledged[key] == payload["id"]
                        acknowledged[key] = payload["id"]
                    break
                with lock:
                    outage_answers.append(
                        (status, time.monotonic() - started, headers.get("Content-Type", ""))
                    )
                time.sleep(0.1)

    # Daemon threads, stopped in `finally`: a failure half way (PostgreSQL not starting again,
    # say) must fail the test, not leave the load running and the test run unable to exit.
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        before_outage = len(acknowledged)
        postgres.stop()
        time.sleep(3)
        during = [answer for answer in outage_answers]
        postgres.start()
        time.sleep(3)  # the service reconnects by itself: no restart
    finally:
        stop_load.set()
        for thread in threads:
            thread.join(timeout=60)

    assert before_outage > 0
    assert during, "no request was answered during the outage"
    assert {status for status, _, _ in outage_answers} <= {503}, outage_answers[:5]
    assert all(kind.startswith("application/problem+json") for _, _, kind in outage_answers)
    assert max(seconds for _, seconds, _ in outage_answers) < 10  # an answer, not a hang
    assert len(acknowledged) > before_outage  # it served again after the restart
    with psycopg.connect(postgres.url) as conn:
        rows = conn.execute("SELECT id FROM transactions ORDER BY id").fetchall()
    stored = [row[0] for row in rows]
    assert sorted(acknowledged.values()) == stored  # every acknowledged write exactly once


def test_a_slow_statement_is_cancelled_with_503(database_url):
    app = create_app(make_settings(DB_STATEMENT_TIMEOUT_MS=200), database_url)

    @app.get("/slow")
    def slow():
        get_conn().execute("SELECT pg_sleep(5)")
        return jsonify(done=True)

    try:
        assert_problem(app.test_client().get("/slow"), 503, "query_timeout")
        assert app.test_client().get("/readyz").status_code == 200  # the connection is usable again
    finally:
        app.extensions["database"].close()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_during_an_outage_a_503_comes_within_the_pool_timeout_even_after_waiting_for_a_thread(
    tmp_path,
):
    """DB_POOL_TIMEOUT bounds the whole answer, not only the checkout: six clients on one worker
    of two threads, the database down. Each thread's first checkout waits the timeout; the
    requests queued behind them used to wait for a thread and then the whole timeout again (6 s
    with a 3 s timeout); once a checkout has found the database unreachable, the others fail
    at once (database.CountedPool)."""
    postgres = StoppablePostgres(tmp_path)
    apply_migrations(postgres.url)
    server = LiveServer(
        {"DATABASE_URL": postgres.url, "JWT_SECRET_KEY": "fault-" + "f" * 40, "WEB_CONCURRENCY": "1",
         "WEB_THREADS": "2", "DB_POOL_TIMEOUT": "2", "DB_CONNECT_TIMEOUT": "2", "APP_ENV": "test"}
    )  # fmt: skip
    try:
        postgres.stop()
        answers: list[tuple[int, float]] = []

        def client() -> None:
            for _ in range(2):
                started = time.monotonic()
                status = call(
                    server.base, "POST", "/api/auth/login", {"email": "a@b.c", "password": "p" * 10}
                )[0]
                answers.append((status, time.monotonic() - started))

        threads = [threading.Thread(target=client) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.stop()
        postgres.cleanup()
    assert len(answers) == 12
    assert {status for status, _ in answers} == {503}
    assert max(seconds for _, seconds in answers) < 2 + 0.8, sorted(answers)
