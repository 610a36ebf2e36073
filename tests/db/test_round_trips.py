"""Round trips to PostgreSQL per request, counted from libpq's protocol trace on the request's
connection (devtools.servers.count_pool_round_trips): an enforced write takes two, a split one
too, the session lookup's included: the budget rule is decided by the database in the round trip
that takes its locks, with the insert, its change-log entry and the COMMIT, so the budget row
locks are held only while PostgreSQL works (docs/BENCHMARKS.md). A change that adds one fails
here."""

from __future__ import annotations

import pytest

from devtools.servers import count_pool_round_trips
from tests.factories import category, graphql, record, save
from tests.helpers import assert_problem


@pytest.fixture
def pool(app):
    return app.extensions["database"].pool


def _sent(exchange: list[str]) -> str:
    return " ".join(exchange)


def _work(exchanges: list[list[str]]) -> list[list[str]]:
    """The round trips that run statements: without psycopg preparing one (a Parse alone, once
    per statement and connection, when it has run prepare_threshold times there; a statement
    outside a pipeline is prepared in a round trip of its own, and which of the pool's
    connections reaches its threshold during the counted request depends on the tests before)."""
    return [exchange for exchange in exchanges if exchange != ["Parse", "Sync"]]


def test_an_enforced_expense_takes_two_round_trips(alice, pool, conn):
    food = category(alice, "Food")
    save(alice, categoryId=food, amount="100")
    save(alice, amount="1000")  # the overall budget: two budgets locked and checked
    record(alice, food, "1.00")  # prepared statements and caches warm, as under load
    with count_pool_round_trips(pool) as counted:
        created = record(alice, food, "80.00")  # 81 of 100: the category's threshold alert
    # 1: BEGIN and the session lookup; 2: the new row's id and names, the budget rule (the
    # scope lock, the budget row locks, the spent read, the decision, the alert this expense
    # fires), the insert, its change-log entry and the COMMIT.
    assert counted.count == 2, counted.exchanges
    session, write = map(_sent, counted.exchanges)
    assert session.count("Execute") == 2  # BEGIN, the session
    assert write.count("Execute") == 5  # the COMMIT's included
    assert [alert["kind"] for alert in created["alerts"]] == ["threshold"]
    # Committed by that second round trip: another connection sees it.
    row = conn.execute("SELECT amount FROM transactions WHERE id = %s", (created["id"],))
    assert str(row.fetchone()[0]) == "80.0000"


def test_an_enforced_split_expense_takes_the_same_two_round_trips(alice, pool, conn):
    food, home, gifts = category(alice, "Food"), category(alice, "Home"), category(alice, "Gifts")
    for budgeted in (food, home, gifts):
        save(alice, categoryId=budgeted, amount="100")
    save(alice, amount="1000")  # four budgets locked and checked
    record(alice, food, "1.00")  # prepared statements and caches warm, as under load
    body = {
        "amount": "100.00",
        "type": "EXPENSE",
        "date": "2026-03-15",
        "splits": [
            {"categoryId": food, "amount": "80.00"},  # 81 of 100: Food's threshold alert
            {"categoryId": home, "amount": "15.00"},
            {"categoryId": gifts, "amount": "5.00"},
        ],
    }
    alice.post("/api/transactions", json={**body, "amount": "3", "splits": [
        {"categoryId": home, "amount": "1"}, {"categoryId": gifts, "amount": "2"}]})  # fmt: skip
    with count_pool_round_trips(pool) as counted:
        created = alice.post("/api/transactions", json=body)
    assert created.status_code == 201, created.get_json()
    # As the plain one: 1: BEGIN and the session; 2: the new row's id and names (its lines'
    # too), the budget rule over the four budgets (and Food's alert), the insert, its lines,
    # its change-log entry and the COMMIT.
    assert counted.count == 2, counted.exchanges
    session, write = map(_sent, counted.exchanges)
    assert session.count("Execute") == 2
    assert write.count("Execute") == 6
    assert [alert["kind"] for alert in created.get_json()["alerts"]] == ["threshold"]
    lines = conn.execute(
        "SELECT count(*) FROM transaction_splits WHERE transaction_id = %s",
        (created.get_json()["id"],),
    )
    assert lines.fetchone()[0] == 3


def test_a_refused_expense_commits_nothing_and_locks_in_one_round_trip(alice, pool, conn):
    food = category(alice, "Food")
    save(alice, categoryId=food, amount="10")
    record(alice, food, "8.00")  # 80%: its threshold alert
    counts = {
        table: conn.execute(
            f"SELECT count(*) FROM {table} WHERE ledger_id = %s", (alice.ledger_id,)
        ).fetchone()[0]
        for table in ("transactions", "ledger_changes", "alerts")
    }
    with count_pool_round_trips(pool) as counted:
        assert_problem(
            alice.post(
                "/api/transactions",
                json={"amount": "20", "type": "EXPENSE", "categoryId": food, "date": "2026-03-15"},
            ),
            409,
            "budget_exceeded",
        )
    # The session; the allocation (which checked the category), the budget rule that refused,
    # and the insert, entry and COMMIT after it, which the refusal stopped; then the ROLLBACK.
    _session, refused, rollback, *_ = counted.exchanges
    assert _sent(refused).count("Execute") == 5
    assert rollback == ['Query "ROLLBACK"']
    # The COMMIT queued last was skipped by PostgreSQL (a pipeline stops at its first error):
    # nothing of the write is there, nor an alert.
    for table in ("transactions", "ledger_changes", "alerts"):
        rows = conn.execute(
            f"SELECT count(*) FROM {table} WHERE ledger_id = %s", (alice.ledger_id,)
        )
        assert rows.fetchone()[0] == counts[table], table


def test_with_an_idempotency_key_the_commit_waits_for_the_stored_answer(alice, pool, conn):
    food = category(alice, "Food")
    save(alice, categoryId=food, amount="100")
    body = {"amount": "5", "type": "EXPENSE", "categoryId": food, "date": "2026-03-15"}
    with count_pool_round_trips(pool) as counted:
        first = alice.post("/api/transactions", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    # The insert does not commit: the answer is stored after the view, in the same transaction.
    assert counted.count == 5, counted.exchanges
    again = alice.post("/api/transactions", json=body, headers={"Idempotency-Key": "k-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert conn.execute(
        "SELECT count(*) FROM transactions WHERE category_id = %s AND ledger_id = %s",
        (food, alice.ledger_id),
    ).fetchone() == (1,)


def test_a_dry_run_does_not_commit_with_its_insert(alice, pool, conn):
    food = category(alice, "Food")
    save(alice, categoryId=food, amount="100")
    body = {"amount": "5", "type": "EXPENSE", "categoryId": food, "date": "2026-03-15"}
    response = alice.post("/api/transactions?dryRun=true", json=body)
    assert response.status_code == 200
    assert conn.execute(
        "SELECT count(*) FROM transactions WHERE ledger_id = %s", (alice.ledger_id,)
    ).fetchone() == (0,)


def test_another_ledgers_category_fails_in_the_batch_and_writes_nothing(alice, bob, pool, conn):
    theirs = category(bob, "Theirs")
    save(alice, amount="1000")
    response = alice.post(
        "/api/transactions",
        json={"amount": "5", "type": "EXPENSE", "categoryId": theirs, "date": "2026-03-15"},
    )
    assert_problem(response, 422, "validation_error")
    assert conn.execute(
        "SELECT count(*) FROM transactions WHERE ledger_id = %s", (alice.ledger_id,)
    ).fetchone() == (0,)
    assert conn.execute(
        "SELECT count(*) FROM alerts WHERE ledger_id = %s", (alice.ledger_id,)
    ).fetchone() == (0,)


def test_a_read_takes_the_session_lookup_and_its_query_without_begin_or_commit(alice, pool):
    alice.get("/api/summary?year=2026&month=3")
    with count_pool_round_trips(pool) as counted:
        assert alice.get("/api/summary?year=2026&month=3").status_code == 200
    exchanges = _work(counted.exchanges)
    assert len(exchanges) == 2, counted.exchanges
    # One statement each: the session lookup, then the summary (no BEGIN with the first, no
    # COMMIT after the last; a write's first round trip has two, see above).
    assert [_sent(sent).count("Execute") for sent in exchanges] == [1, 1]


def test_a_ledger_with_webhooks_records_the_events_before_its_commit(alice, pool, conn):
    # The session lookup tells the write path the ledger has an endpoint, so the COMMIT does not
    # ride with the insert: the alerts' events are written after it, in the same transaction.
    alice.post("/api/webhooks", json={"url": "http://127.0.0.1:9/hook",
                                      "events": ["transaction.created", "alert.threshold"]})  # fmt: skip
    food = category(alice, "Food")
    save(alice, categoryId=food, amount="100")
    record(alice, food, "1.00")
    with count_pool_round_trips(pool) as counted:
        created = record(alice, food, "80.00")
    _session, write, *after = map(_sent, counted.exchanges)
    assert "COMMIT" not in write  # the transaction's event went with it, from its entry
    # The threshold alert's event, then the COMMIT on its own.
    assert len(after) == 2 and "COMMIT" in after[-1], counted.exchanges
    events = conn.execute(
        "SELECT type FROM webhook_events WHERE ledger_id = %s ORDER BY id", (alice.ledger_id,)
    ).fetchall()
    assert events[-2:] == [("transaction.created",), ("alert.threshold",)]
    assert [alert["kind"] for alert in created["alerts"]] == ["threshold"]


def test_a_graphql_query_reads_like_a_get_and_a_mutation_keeps_its_transaction(alice, pool, conn):
    summary = "query ($id: Int!) { ledger(id: $id) { summary(year: 2026, month: 3) { savings } } }"
    variables = {"id": alice.ledger_id}
    graphql(alice, summary, variables)  # warm
    with count_pool_round_trips(pool) as counted:
        assert "errors" not in graphql(alice, summary, variables)
    # the session lookup, then the ledger's statements: no BEGIN with the first, no COMMIT
    executes = [_sent(sent).count("Execute") for sent in _work(counted.exchanges)]
    assert executes and all(count == 1 for count in executes), counted.exchanges
    create = 'mutation { createCategory(input: {name: "Rent"}) { id } }'
    with count_pool_round_trips(pool) as counted:
        created = graphql(alice, create)
    assert created["data"]["createCategory"]["id"]
    assert _sent(_work(counted.exchanges)[0]).count("Execute") == 2  # BEGIN, the session
    assert conn.execute(
        "SELECT count(*) FROM categories WHERE ledger_id = %s AND name = 'Rent'",
        (alice.ledger_id,),
    ).fetchone() == (1,)
