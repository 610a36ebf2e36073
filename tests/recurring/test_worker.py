"""The worker: exactly once with several workers at once and across SIGKILLs of the real worker
process, a clean stop on SIGTERM, the worker that `expense-api serve` starts, and its jobs.

The module has a database of its own (a worker acts on every due rule in its database)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from devtools.servers import LiveServer, call, free_port
from expense_api.config import PROJECT_ROOT
from expense_api.db.pool import Database
from expense_api.db.retry import run_transaction
from expense_api.services.changes import door
from expense_api.services.recurring import (
    dates as recurrence,
)
from expense_api.services.recurring import (
    rules as recurring,
)
from expense_api.services.recurring import (
    runs as recurring_runs,
)
from expense_api.worker import jobs
from expense_api.worker import process as worker_process
from expense_api.worker.jobs import Every, Job
from tests import factories
from tests.helpers import TEST_SECRET, make_settings

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def database_url(own_database_url):
    return own_database_url


@pytest.fixture
def database(database_url):
    db = Database(database_url, make_settings(DB_POOL_MAX="8"))
    db.pool.open(wait=True)
    yield db
    db.close()


def _rules(conn, *, count: int, start: date, end: date, amount="1.00") -> tuple[int, list[int]]:
    """A ledger with `count` daily rules from `start` to `end`; returns (ledger id, rule ids)."""
    ledger_id, category_id = factories.repository_ledger(conn)
    actor = factories.acting(conn, ledger_id)
    body = {"category_id": category_id, "type": "EXPENSE", "amount": Decimal(amount),
            "description": "", "frequency": "daily", "repeat_interval": 1, "by_weekday": None,
            "by_month_day": None, "start_date": start, "end_date": end, "max_occurrences": None,
            "paused": False}  # fmt: skip
    rules = [recurring.create(conn, actor, body)["id"] for _ in range(count)]
    return ledger_id, rules


def _expected(conn, rule_ids) -> set[tuple[int, date]]:
    rows = conn.execute(
        "SELECT id, frequency, start_date, end_date FROM recurring_rules WHERE id = ANY(%s)",
        (rule_ids,),
    ).fetchall()
    schedule = {"repeat_interval": 1, "max_occurrences": None}
    return {
        (rule_id, day)
        for rule_id, frequency, start, end in rows
        for day in recurrence.dates_after(
            {**schedule, "frequency": frequency, "start_date": start, "end_date": end}, None
        )
    }


def _assert_exactly_once(conn, ledger_id, rule_ids, expected) -> None:
    """Every expected date has one occurrence, each created one its own transaction, and the
    rules' progress agrees with their occurrences."""
    rows = conn.execute(
        "SELECT rule_id, occurrence_date, status, transaction_id FROM recurring_occurrences"
        " WHERE ledger_id = %s",
        (ledger_id,),
    ).fetchall()
    assert {(rule_id, day) for rule_id, day, _, _ in rows} == expected
    assert len(rows) == len(expected)
    created = [transaction for _, _, status, transaction in rows if status == "created"]
    transactions = conn.execute(
        "SELECT id FROM transactions WHERE ledger_id = %s", (ledger_id,)
    ).fetchall()
    assert sorted(created) == sorted(row[0] for row in transactions)
    progress = conn.execute(
        "SELECT sum(occurrence_count) FROM recurring_rules WHERE id = ANY(%s)", (rule_ids,)
    ).fetchone()[0]
    assert progress == len(expected)


def _handled(conn, ledger_id) -> int:
    return conn.execute(
        "SELECT count(*) FROM recurring_occurrences WHERE ledger_id = %s", (ledger_id,)
    ).fetchone()[0]


def test_several_workers_at_once_handle_each_date_once_and_keep_budgets(conn, database):
    ledger_id, rules = _rules(
        conn, count=6, start=date(2031, 1, 1), end=date(2031, 2, 28), amount="5.00"
    )
    # A hard overall budget for January that the rules' 6 x 31 x 5.00 = 930.00 would exceed.
    conn.execute(
        "INSERT INTO budgets (ledger_id, year, month, amount, mode) VALUES (%s, 2031, 1, 600, 'hard')",
        (ledger_id,),
    )
    expected = _expected(conn, rules)
    handled_by = []

    def worker():
        count = 0
        with door.through("worker"), psycopg.connect(database.url) as own:
            while run_transaction(own, lambda c: recurring_runs.handle_next_due(c, NOW)):
                count += 1
        handled_by.append(count)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    factories.run_worker(database, NOW)  # whatever a worker that gave up early left
    _assert_exactly_once(conn, ledger_id, rules, expected)
    spent = conn.execute(
        "SELECT coalesce(sum(amount), 0) FROM transactions WHERE ledger_id = %s"
        " AND occurred_on BETWEEN '2031-01-01' AND '2031-01-31'",
        (ledger_id,),
    ).fetchone()[0]
    assert spent == Decimal("600.00")  # up to the budget, not a cent over
    skipped, alerts = conn.execute(
        "SELECT (SELECT count(*) FROM recurring_occurrences WHERE ledger_id = %(l)s"
        "        AND status = 'skipped'),"
        "       (SELECT count(*) FROM alerts WHERE ledger_id = %(l)s"
        "        AND kind = 'recurring_skipped')",
        {"l": ledger_id},
    ).fetchone()
    assert skipped == alerts == 6 * 31 - 120
    assert sum(handled_by) > 0


def test_a_rule_another_worker_holds_is_passed_over(conn, database):
    ledger_id, _ = _rules(conn, count=2, start=date(2031, 2, 27), end=date(2031, 2, 27))
    with psycopg.connect(database.url) as holder:
        held = recurring_runs.recurring.claim_due(holder, now=NOW)  # locks one, until rollback
        assert held is not None
        with psycopg.connect(database.url) as other:
            while run_transaction(other, lambda c: recurring_runs.handle_next_due(c, NOW)):
                pass
            handled = other.execute(
                "SELECT rule_id FROM recurring_occurrences WHERE ledger_id = %s", (ledger_id,)
            ).fetchall()
        holder.rollback()
    assert held["id"] not in [row[0] for row in handled]


def _start_worker(database_url: str, log) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "test",
           "JWT_SECRET_KEY": TEST_SECRET, "WORKER_TICK_SECONDS": "1"}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "expense_api.cli", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_for_progress(conn, ledger_id, beyond: int, process, timeout=60.0) -> int:
    """Waits until the worker has handled more than `beyond` dates (or finished)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = _handled(conn, ledger_id)
        if done > beyond or process.poll() is not None:
            return done
        time.sleep(0.05)
    raise AssertionError("the worker made no progress")


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_doubles_nothing(conn, database_url, tmp_path):
    """Two real worker processes share a catch-up of 1,200 dates; one of them is killed with
    SIGKILL at a random point, again and again, and restarted: every date exactly once."""
    today = datetime.now(UTC).date()
    ledger_id, rules = _rules(
        conn, count=30, start=today - timedelta(days=45), end=today - timedelta(days=6)
    )
    expected = _expected(conn, rules)
    rng = random.Random(15)
    with open(tmp_path / "worker.log", "w+") as log:
        workers = [_start_worker(database_url, log) for _ in range(2)]
        try:
            done = 0
            for _ in range(5):
                done = _wait_for_progress(conn, ledger_id, done, workers[0])
                time.sleep(rng.uniform(0, 0.3))  # a random point in the work, not a wait for it
                victim = rng.randrange(2)
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = _start_worker(database_url, log)
            deadline = time.monotonic() + 120
            while _handled(conn, ledger_id) < len(expected) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=30)
        log.seek(0)
        output = log.read()
    assert done < len(expected), "the kills came after the work was done: nothing was tested"
    _assert_exactly_once(conn, ledger_id, rules, expected)
    assert "Traceback" not in output, output[-3000:]


def test_sigterm_stops_the_worker_cleanly(conn, database_url, tmp_path):
    today = datetime.now(UTC).date()
    ledger_id, rules = _rules(
        conn, count=20, start=today - timedelta(days=60), end=today - timedelta(days=1)
    )
    with open(tmp_path / "worker.log", "w+") as log:
        worker = _start_worker(database_url, log)
        _wait_for_progress(conn, ledger_id, 0, worker)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        log.seek(0)
        output = log.read()
    assert "SIGTERM received" in output and "worker stopped" in output, output[-2000:]
    assert "Traceback" not in output, output[-3000:]
    # What it handled is whole: each date with its transaction and the rule's progress.
    handled = _handled(conn, ledger_id)
    progress = conn.execute(
        "SELECT sum(occurrence_count) FROM recurring_rules WHERE id = ANY(%s)", (rules,)
    ).fetchone()[0]
    transactions = conn.execute(
        "SELECT count(*) FROM transactions WHERE ledger_id = %s", (ledger_id,)
    ).fetchone()[0]
    assert handled == progress == transactions > 0
    # Its backlog would hold up the next test's worker: out of the way.
    conn.execute("DELETE FROM recurring_rules WHERE id = ANY(%s)", (rules,))


@pytest.mark.slow
def test_the_worker_started_by_serve_creates_a_due_date_within_seconds(database_url):
    server = LiveServer(
        {
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": TEST_SECRET,
            "APP_ENV": "test",
            "WEB_CONCURRENCY": "1",
            "WORKER": "on",
            "WORKER_TICK_SECONDS": "1",
        }
    )
    try:
        base, email = server.base, f"serve-{time.monotonic_ns()}@example.com"
        body = {"name": "Serve", "email": email, "password": "correct horse battery"}
        assert call(base, "POST", "/api/auth/register", body)[0] == 201
        login = {"email": email, "password": body["password"]}
        token = call(base, "POST", "/api/auth/login", login)[1]["accessToken"]
        category = call(base, "POST", "/api/categories", {"name": "Rent"}, token)[1]
        today = datetime.now(UTC).date().isoformat()
        rule = call(
            base, "POST", "/api/recurring",
            {"amount": "10", "type": "EXPENSE", "categoryId": category["id"],
             "frequency": "daily", "startDate": today},
            token,
        )[1]  # fmt: skip
        path = f"/api/recurring/{rule['id']}/occurrences"
        deadline = time.monotonic() + 60  # "within seconds"; generous for a loaded machine
        items = []
        while not items and time.monotonic() < deadline:
            items = call(base, "GET", path, token=token)[1]["items"]
            time.sleep(0.2)
        assert [(item["date"], item["status"]) for item in items] == [(today, "created")]
    finally:
        output = server.stop()
    assert "background worker started" in output and "worker stopped" in output, output[-3000:]


def test_the_jobs_the_worker_runs():
    assert [job.name for job in jobs.JOBS] == ["recurring", "webhooks", "prune"]
    assert all(isinstance(job, Job) for job in jobs.JOBS)


def test_a_slow_job_runs_at_most_once_per_period():
    runs = []
    job = Every(timedelta(hours=1), lambda database: runs.append(database) or 3)
    start = datetime(2031, 1, 1, tzinfo=UTC)
    assert job("db", lambda: start) == 3
    assert job("db", lambda: start + timedelta(minutes=59)) == 0
    assert job("db", lambda: start + timedelta(hours=1)) == 3
    assert runs == ["db", "db"]


def test_the_prune_job_deletes_expired_idempotency_keys(conn, database):
    user_id = conn.execute(
        "INSERT INTO users (name, email, password_hash) VALUES ('P', %s, 'x') RETURNING id",
        (f"prune-{time.monotonic_ns()}@example.com",),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, expires_at)"
        " VALUES (%s, 'k', 'h', now() - interval '2 minutes', now() - interval '1 minute')",
        (user_id,),
    )
    assert jobs.prune_expired(database) >= 1
    left = conn.execute(
        "SELECT count(*) FROM idempotency_keys WHERE user_id = %s", (user_id,)
    ).fetchone()[0]
    assert left == 0


def test_serve_starts_no_worker_with_worker_off():
    assert worker_process.start(make_settings(WORKER="off")) is None
    worker_process.stop(None)  # nothing to stop


def test_a_worker_run_apart_serves_its_own_metrics(database_url, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "test",
           "JWT_SECRET_KEY": TEST_SECRET, "WORKER_TICK_SECONDS": "1",
           "WORKER_METRICS_PORT": str(port), "METRICS_TOKEN": "scrape-me"}  # fmt: skip
    with open(tmp_path / "worker.log", "w+") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "expense_api.cli", "worker"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline, text = time.monotonic() + 60, ""
            # Until its loop has made a pass (the gauge starts at 0 before it).
            while "expense_api_worker_last_run_timestamp_seconds 1" not in text:
                assert time.monotonic() < deadline and worker.poll() is None, log.read()
                time.sleep(0.2)
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/metrics",
                    headers={"Authorization": "Bearer scrape-me"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=5) as response:
                        text = response.read().decode()
                except OSError:
                    continue  # not listening yet
            assert "expense_api_worker_lag_seconds 0.0" in text  # nothing due: not behind
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0


# --- supervision: `expense-api serve` starts its worker again when it dies --------------------


def test_the_backoff_doubles_from_one_second_to_a_minute():
    backoff = worker_process.Backoff()
    delays = [backoff.after_exit(0.1) for _ in range(9)]
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_the_backoff_starts_again_after_a_worker_that_lived_a_minute():
    backoff = worker_process.Backoff()
    assert [backoff.after_exit(5) for _ in range(4)] == [1, 2, 4, 8]
    assert backoff.after_exit(59.9) == 16  # not yet healthy
    assert backoff.after_exit(60) == 1  # lived a minute: from the start
    assert backoff.after_exit(0) == 2


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, message, *args):
        self.lines.append(message % args)

    error = info

    def exception(self, message, *args):
        self.lines.append(message % args)


SLEEPER = (sys.executable, "-c", "import time; time.sleep(120)")


def _supervisor(log, dead, restarted, command=SLEEPER):
    return worker_process.Supervisor(
        make_settings(WORKER="on"),
        log,
        on_dead=dead.append,
        on_restart=lambda: restarted.append(1),
        backoff=worker_process.Backoff(first=0.2, most=0.4),
        poll_seconds=0.05,
        command=command,
    )


def _alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie is not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_the_supervisor_starts_a_killed_worker_again_and_says_how_it_died():
    log, dead, restarted = _Log(), [], []
    supervisor = _supervisor(log, dead, restarted)
    first = supervisor.start()
    try:
        os.kill(first.pid, signal.SIGKILL)
        assert _wait_for(lambda: supervisor.current is not first and supervisor.current.pid)
        second = supervisor.current
        assert second.pid != first.pid and _alive(second.pid)
        assert dead == [first.pid] and restarted == [1] and supervisor.restarts == 1
        assert f"background worker (pid {first.pid}) exited (killed by SIGKILL)" in log.lines[0]
        assert f"background worker restarted (pid {second.pid})" in log.lines
    finally:
        supervisor.stop()
    assert not _alive(second.pid)
    assert dead == [first.pid, second.pid]


def test_the_supervisor_copes_with_the_arbiter_reaping_its_worker():
    """gunicorn's arbiter reaps every child (os.waitpid(-1)): the status is gone, not the
    restart."""
    log, dead, restarted = _Log(), [], []
    supervisor = _supervisor(log, dead, restarted)
    first = supervisor.start()
    try:
        with supervisor._lock:  # the thread cannot look while the "arbiter" reaps
            os.kill(first.pid, signal.SIGKILL)
            assert os.waitpid(first.pid, 0)[0] == first.pid
        assert _wait_for(lambda: restarted)
        assert "exit status unknown: gunicorn's arbiter reaped it" in log.lines[0]
        assert supervisor.current.pid != first.pid
    finally:
        supervisor.stop()


def test_a_stopped_supervisor_starts_nothing_even_while_backing_off():
    log, dead, restarted = _Log(), [], []
    supervisor = _supervisor(log, dead, restarted, command=(sys.executable, "-c", "exit(3)"))
    supervisor.backoff = worker_process.Backoff(first=1.0)
    first = supervisor.start()
    assert _wait_for(lambda: dead)  # it died, and the thread waits a second before a new one
    assert "exited (exit code 3); starting a new one in 1 s" in log.lines[0]
    supervisor.stop()
    time.sleep(1.5)
    assert restarted == [] and supervisor.current is first
    assert not supervisor._thread.is_alive()


def _serve_workers(port: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of each live `expense_api.cli worker` process whose environment says
    PORT=`port`: the workers of one live server, whoever their parent is by now."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if b"expense_api.cli\0worker" not in cmdline.read():
                    continue
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if f"PORT={port}".encode() not in environ.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if fields[0] != "Z":
            found.append((int(entry), int(fields[1])))
    return found


def _recurring_rule_due_today(base: str) -> tuple[str, str, str]:
    """A user and a daily rule starting today through the API: (token, occurrences path, today)."""
    email = f"serve-{time.monotonic_ns()}@example.com"
    body = {"name": "Serve", "email": email, "password": "correct horse battery"}
    assert call(base, "POST", "/api/auth/register", body)[0] == 201
    login = {"email": email, "password": body["password"]}
    token = call(base, "POST", "/api/auth/login", login)[1]["accessToken"]
    category = call(base, "POST", "/api/categories", {"name": "Rent"}, token)[1]
    today = datetime.now(UTC).date().isoformat()
    rule = call(
        base, "POST", "/api/recurring",
        {"amount": "10", "type": "EXPENSE", "categoryId": category["id"],
         "frequency": "daily", "startDate": today},
        token,
    )[1]  # fmt: skip
    return token, f"/api/recurring/{rule['id']}/occurrences", today


@pytest.mark.slow
def test_serve_starts_a_killed_worker_again_and_stops_it_for_good(database_url):
    server = LiveServer(
        {
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": TEST_SECRET,
            "APP_ENV": "test",
            "WEB_CONCURRENCY": "1",
            "WORKER": "on",
            "WORKER_TICK_SECONDS": "1",
        }
    )
    master = server.process.pid  # the entry script and the CLI exec: gunicorn's master
    try:
        assert _wait_for(lambda: _serve_workers(server.port), 30), server.output()[-3000:]
        [(first, parent)] = _serve_workers(server.port)
        assert parent == master
        os.kill(first, signal.SIGKILL)
        # A new one within seconds (the first backoff is 1 s; the check runs every second).
        assert _wait_for(
            lambda: [pid for pid, _ in _serve_workers(server.port) if pid != first], 20
        ), server.output()[-3000:]
        [(second, parent)] = _serve_workers(server.port)
        assert second != first and parent == master
        # And it works: a date due today is created.
        token, path, today = _recurring_rule_due_today(server.base)
        deadline, items = time.monotonic() + 60, []
        while not items and time.monotonic() < deadline:
            items = call(server.base, "GET", path, token=token)[1]["items"]
            time.sleep(0.2)
        assert [(item["date"], item["status"]) for item in items] == [(today, "created")]
        with urllib.request.urlopen(f"{server.base}/metrics", timeout=10) as response:
            assert "expense_api_worker_restarts_total 1.0" in response.read().decode()
    finally:
        output = server.stop()
    # Stopped with the service, and not started again by it.
    time.sleep(2.5)  # longer than a check and the first backoff
    left = _serve_workers(server.port)
    for pid, _ in left:  # a failure leaves no orphan running behind the suite
        os.kill(pid, signal.SIGKILL)
    assert left == []
    assert not _alive(second)
    assert f"background worker (pid {first}) exited" in output, output[-3000:]
    assert output.count("background worker restarted") == 1, output[-3000:]
    assert output.count("worker stopped") == 1, output[-3000:]  # the second, on SIGTERM


def test_without_pidfds_the_supervisor_watches_the_pid(monkeypatch):
    """macOS has no os.pidfd_open: the worker is watched through Popen.poll() instead."""
    monkeypatch.delattr(os, "pidfd_open")
    log, dead, restarted = _Log(), [], []
    supervisor = _supervisor(log, dead, restarted)
    first = supervisor.start()
    try:
        os.kill(first.pid, signal.SIGKILL)
        assert _wait_for(lambda: restarted)
        assert f"background worker (pid {first.pid}) exited (killed by SIGKILL)" in log.lines[0]
        second = supervisor.current
        assert second.pid != first.pid and _alive(second.pid)
    finally:
        supervisor.stop()
    assert not _alive(second.pid)
