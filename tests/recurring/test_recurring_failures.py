"""A recurring rule whose handling keeps failing: recorded, passed over until its retry time, the
rules due after it handled in the same run, paused at the tenth failure in a row; resuming it and
a handled date clear the record; a deadlock or an outage is not a failure of the rule.

The failure is injected in `transactions.create` for rules described "poison" in the test's own
ledger. The module has a database of its own (the worker acts on every due rule in it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from expense_api.db.retry import TransactionConflict
from expense_api.ops import metrics
from expense_api.services import transactions
from expense_api.services.recurring import failures as recurring_failures
from tests.factories import category, recurring, run_worker
from tests.helpers import module_database_fixtures

NOW = datetime(2030, 2, 20, 12, 0, tzinfo=UTC)
POISON = "poison"


database_url, app, database = module_database_fixtures()


def _boom(conn):
    raise RuntimeError("boom\nand a second line nobody needs")


@pytest.fixture
def poison(alice, monkeypatch):
    """While `active`, handling a date of a rule described POISON in alice's ledger calls
    `fail(conn)` first (which raises, unless it lets this try through); `tries` counts them."""
    state = {"active": True, "fail": _boom, "tries": 0}
    ledger_id = alice.ledger_id
    create = transactions.create

    def create_or_fail(conn, actor, values):
        if state["active"] and actor.ledger_id == ledger_id and values["description"] == POISON:
            state["tries"] += 1
            state["fail"](conn)
        return create(conn, actor, values)

    monkeypatch.setattr(transactions, "create", create_or_fail)
    return state


def _rule(user, rule_id) -> dict:
    response = user.get(f"/api/recurring/{rule_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _dates(user, rule_id) -> list[str]:
    body = user.get(f"/api/recurring/{rule_id}/occurrences").get_json()
    return sorted(item["date"] for item in body["items"])


def _at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


def _failures_metric(outcome: str) -> float:
    line = f'expense_api_recurring_rule_failures_total{{outcome="{outcome}"}}'
    found = [row for row in metrics.collect().decode().splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


def test_a_failing_rule_does_not_stall_the_rules_due_after_it(alice, database, poison, caplog):
    food = category(alice)
    bad = recurring(alice, food, description=POISON, startDate="2030-01-01")
    good = recurring(alice, food, description="Rent", startDate="2030-01-05")
    counted = _failures_metric("retried")
    with caplog.at_level(logging.WARNING, logger="expense_api.services.recurring.runs"):
        run_worker(database, NOW)
    # The failing rule is claimed first (its date is older), once; the other one catches up.
    assert poison["tries"] == 1
    assert _dates(alice, good["id"]) == ["2030-01-05", "2030-02-05"]
    assert _dates(alice, bad["id"]) == []
    failing = _rule(alice, bad["id"])
    assert (failing["failures"], failing["lastError"]) == (1, "RuntimeError: boom")
    assert (failing["paused"], failing["pausedReason"]) == (False, None)
    assert failing["nextDate"] == "2030-01-01"  # nothing of the date was kept
    assert NOW + timedelta(seconds=48) <= _at(failing["retryAt"]) <= NOW + timedelta(minutes=1)
    assert _failures_metric("retried") - counted == 1
    [logged] = [r for r in caplog.records if f"recurring rule {bad['id']} " in r.getMessage()]
    assert logged.levelno == logging.WARNING and logged.exc_info is not None


def test_a_failing_rule_waits_for_its_retry_time_and_the_wait_doubles(alice, database, poison):
    bad = recurring(alice, category(alice), description=POISON, startDate="2030-02-01")
    run_worker(database, NOW)
    first = _rule(alice, bad["id"])
    retry_at = _at(first["retryAt"])
    run_worker(database, retry_at - timedelta(seconds=1))
    assert poison["tries"] == 1
    assert _rule(alice, bad["id"]) == first
    run_worker(database, retry_at)
    assert poison["tries"] == 2
    second = _rule(alice, bad["id"])
    assert second["failures"] == 2
    wait = _at(second["retryAt"]) - retry_at
    assert timedelta(seconds=96) <= wait <= timedelta(minutes=2)


def test_the_tenth_failure_in_a_row_pauses_the_rule_and_resuming_clears_it(alice, database, poison):
    bad = recurring(alice, category(alice), description=POISON, startDate="2030-02-01")
    paused_before = _failures_metric("paused")
    now = NOW
    for failures in range(1, 11):
        run_worker(database, now)
        state = _rule(alice, bad["id"])
        assert state["failures"] == failures
        if failures < 10:
            assert not state["paused"]
            now = _at(state["retryAt"])
    assert poison["tries"] == 10
    assert (state["paused"], state["pausedReason"], state["retryAt"]) == (True, "failing", None)
    assert state["lastError"] == "RuntimeError: boom"
    assert _failures_metric("paused") - paused_before == 1
    run_worker(database, now + timedelta(days=1))
    assert poison["tries"] == 10  # paused: not tried again
    resumed = alice.patch(f"/api/recurring/{bad['id']}", json={"paused": False})
    assert resumed.status_code == 200, resumed.get_json()
    body = resumed.get_json()
    assert (body["paused"], body["pausedReason"]) == (False, None)
    assert (body["failures"], body["retryAt"], body["lastError"]) == (0, None, None)
    poison["active"] = False  # fixed
    run_worker(database, now)  # tried at once, not at the last retry time
    assert _dates(alice, bad["id"]) == ["2030-02-01"]


def test_a_handled_date_clears_the_failure_record(alice, database, poison):
    bad = recurring(alice, category(alice), description=POISON, startDate="2030-01-10")
    run_worker(database, NOW)
    assert _rule(alice, bad["id"])["failures"] == 1
    poison["active"] = False
    run_worker(database, _at(_rule(alice, bad["id"])["retryAt"]))
    state = _rule(alice, bad["id"])
    assert (state["failures"], state["retryAt"], state["lastError"]) == (0, None, None)
    assert _dates(alice, bad["id"]) == ["2030-01-10", "2030-02-10"]


def test_a_postgresql_error_is_recorded_without_its_detail(alice, database, poison):
    def raise_in_postgresql(conn):
        conn.execute(
            "DO $$ BEGIN RAISE EXCEPTION 'the rule broke' USING DETAIL = 'card 4111'; END $$"
        )

    poison["fail"] = raise_in_postgresql
    bad = recurring(alice, category(alice), description=POISON, startDate="2030-02-10")
    good = recurring(alice, category(alice, "Other"), startDate="2030-02-15")
    run_worker(database, NOW)
    assert _rule(alice, bad["id"])["lastError"] == "RaiseException: the rule broke"
    assert _dates(alice, good["id"]) == ["2030-02-15"]


def _deadlock(conn):
    raise psycopg.errors.DeadlockDetected("deadlock detected")


def test_a_deadlock_is_run_again_and_not_counted(alice, database, poison):
    poison["fail"] = lambda conn: _deadlock(conn) if poison["tries"] == 1 else None
    rule = recurring(alice, category(alice), description=POISON, startDate="2030-02-05")
    run_worker(database, NOW)
    assert poison["tries"] == 2
    assert _dates(alice, rule["id"]) == ["2030-02-05"]
    assert _rule(alice, rule["id"])["failures"] == 0


def test_a_conflict_every_time_or_an_outage_stops_the_pass_and_is_not_counted(
    alice, database, poison
):
    rule = recurring(alice, category(alice), description=POISON, startDate="2030-02-05")
    poison["fail"] = _deadlock
    with pytest.raises(TransactionConflict):
        run_worker(database, NOW)

    def outage(conn):
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    poison["fail"] = outage
    with pytest.raises(psycopg.OperationalError):
        run_worker(database, NOW)
    state = _rule(alice, rule["id"])
    assert (state["failures"], state["retryAt"], state["lastError"]) == (0, None, None)
    assert _dates(alice, rule["id"]) == []
    poison["active"] = False
    run_worker(database, NOW)  # tried again at once
    assert _dates(alice, rule["id"]) == ["2030-02-05"]


def test_the_wait_doubles_from_a_minute_up_to_an_hour_less_some_jitter():
    for failures, step in ((1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (500, 3600)):
        for _ in range(20):
            wait = recurring_failures.backoff(failures).total_seconds()
            assert step * 0.8 <= wait <= step, (failures, wait)


def test_the_recorded_error_is_short():
    text = recurring_failures.describe(ValueError("x" * 1000))
    assert text.startswith("ValueError: x") and len(text) == recurring_failures.MESSAGE_CHARS
    assert recurring_failures.describe(KeyError()) == "KeyError"


def test_the_failure_is_recorded_while_the_claim_still_locks_the_rule(
    alice, database, poison, monkeypatch, database_url
):
    """Another worker cannot claim the rule between its failure and the record of it, so a
    failure is counted once (seen failing when the record came in a second transaction)."""
    bad = recurring(alice, category(alice), description=POISON, startDate="2030-02-01")
    record = recurring_failures.record
    claimable_while_recording = []

    def record_and_look(conn, rule, error, now):
        with psycopg.connect(database_url, autocommit=True) as other:
            row = other.execute(
                "SELECT id FROM recurring_rules WHERE id = %s FOR UPDATE SKIP LOCKED", (rule["id"],)
            ).fetchone()
        claimable_while_recording.append(row is not None)
        return record(conn, rule, error, now)

    monkeypatch.setattr(recurring_failures, "record", record_and_look)
    run_worker(database, NOW)
    assert claimable_while_recording == [False]
    assert _rule(alice, bad["id"])["failures"] == 1


def test_a_failure_only_the_commit_reveals_is_recorded_too(alice, database, poison):
    def violate_at_commit(conn):
        conn.execute("CREATE TEMPORARY TABLE parents (id int PRIMARY KEY)")
        conn.execute(
            "CREATE TEMPORARY TABLE children"
            " (parent int REFERENCES parents DEFERRABLE INITIALLY DEFERRED)"
        )
        conn.execute("INSERT INTO children VALUES (1)")  # checked at COMMIT only

    poison["fail"] = violate_at_commit
    bad = recurring(alice, category(alice), description=POISON, startDate="2030-02-01")
    run_worker(database, NOW)
    state = _rule(alice, bad["id"])
    assert state["failures"] == 1 and state["lastError"].startswith("ForeignKeyViolation")
    assert _dates(alice, bad["id"]) == []


def test_a_ledger_whose_time_zone_the_database_does_not_know_fails_alone(
    alice, bob, database, conn
):
    """A zone stored before the API asked the database (or dropped by a PostgreSQL upgrade), put
    in place here by SQL: `AT TIME ZONE` would raise in the claim, for every ledger."""
    lost = recurring(alice, category(alice), startDate="2030-02-01")
    kept = recurring(bob, category(bob), frequency="daily", startDate="2030-02-18")
    conn.execute("UPDATE ledgers SET timezone = 'Mars/Olympus' WHERE id = %s", (alice.ledger_id,))
    try:
        run_worker(database, NOW)
        assert _dates(bob, kept["id"]) == ["2030-02-18", "2030-02-19", "2030-02-20"]
        state = _rule(alice, lost["id"])
        assert state["lastError"] == (
            "UnknownTimeZone: The ledger's time zone 'Mars/Olympus' is not known to the database."
        )
        assert (state["failures"], state["paused"], state["nextDate"]) == (1, False, "2030-02-01")
        assert _dates(alice, lost["id"]) == []
    finally:
        conn.execute("UPDATE ledgers SET timezone = 'UTC' WHERE id = %s", (alice.ledger_id,))
    run_worker(database, _at(state["retryAt"]))  # the zone fixed: the rule goes on
    assert _dates(alice, lost["id"]) == ["2030-02-01"]
