"""A mutation either commits and answers its data, or answers an error and changes nothing
(issue 25): its whole selection is resolved inside its savepoint, and an error anywhere under it
rolls the savepoint back. The other mutations of the document keep their own outcome."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from expense_api.db.retry import run_transaction
from expense_api.repositories import ledgers as ledger_rows
from expense_api.services.recurring import runs as recurring_runs
from tests.factories import graphql, graphql_codes

HOOK = "http://127.0.0.1:9/hook"  # never called: nothing delivers here
# Every table a write in a ledger can touch, by the ledger's key.
LEDGER_TABLES = ("transactions", "alerts", "budgets", "categories", "monthly_totals",
                 "daily_totals", "recurring_rules", "recurring_occurrences", "webhook_endpoints",
                 "webhook_events", "webhook_deliveries", "ledger_generations")  # fmt: skip
BAD_SELECTION = "ledger { summary(month: 13, year: 2026) { totalExpense } }"
CREATE = """mutation($l: Int, $i: TransactionInput!) { createTransaction(ledgerId: $l, input: $i)
    { transaction { id %s } alerts { id } } }"""


def _stored(conn, ledger: int) -> dict:
    """Every row the ledger holds, table by table."""
    return {
        table: conn.execute(
            sql.SQL("SELECT coalesce(json_agg(t), '[]') FROM {} t WHERE ledger_id = %s").format(
                sql.Identifier(table)
            ),
            (ledger,),
        ).fetchone()[0]
        for table in LEDGER_TABLES
    }


@pytest.fixture
def shared(alice, bob, conn):
    """Alice's ledger, with bob as an editor: a category, a hard budget that a 9.00 expense
    reaches (alerts), and a webhook endpoint (outbox rows on every write)."""
    ledger = alice.post("/api/ledgers", json={"name": "Shared"}).get_json()["id"]
    ledger_rows.add_member(conn, ledger_id=ledger, user_id=bob.id, role="editor")
    base = f"/api/ledgers/{ledger}"
    food = alice.post(f"{base}/categories", json={"name": "Food"}).get_json()["id"]
    budget = {"categoryId": food, "amount": "10", "month": 3, "year": 2026, "mode": "hard"}
    assert alice.post(f"{base}/budgets", json=budget).status_code == 201
    hook = {"url": HOOK, "events": ["transaction.created", "alert.threshold"]}
    assert alice.post(f"{base}/webhooks", json=hook).status_code == 201
    return {"ledger": ledger, "food": food}


def _expense(shared, amount="9"):
    return {"l": shared["ledger"], "i": {"amount": amount, "type": "EXPENSE",
            "categoryId": shared["food"], "date": "2026-03-02"}}  # fmt: skip


def test_the_selection_runs_in_the_savepoint_of_its_mutation(alice, shared, conn):
    """The same write with a valid selection stores a transaction, its alert and outbox rows."""
    before = _stored(conn, shared["ledger"])
    answer = graphql(alice, CREATE % BAD_SELECTION, _expense(shared))
    assert answer["data"] == {"createTransaction": None}
    assert graphql_codes(answer) == ["validation_error"]
    assert answer["errors"][0]["path"][0] == "createTransaction"
    assert _stored(conn, shared["ledger"]) == before

    good = CREATE % "ledger { summary(month: 3, year: 2026) { totalExpense } }"
    written = graphql(alice, good, _expense(shared))
    assert "errors" not in written, written
    result = written["data"]["createTransaction"]
    assert result["transaction"]["ledger"]["summary"]["totalExpense"] == "9.00"
    after = _stored(conn, shared["ledger"])
    assert len(after["transactions"]) == 1 and len(after["alerts"]) == 1
    assert after["webhook_events"] and after["webhook_deliveries"]


def test_a_forbidden_field_under_an_editors_mutation_creates_nothing(
    bob, shared, conn, database_url
):
    """Issue 25: an editor's createRecurring asking for the owner-only webhooks was refused,
    and the rule was created anyway (and the worker made its transactions)."""
    before = _stored(conn, shared["ledger"])
    document = """mutation($l: Int) { createRecurring(ledgerId: $l, input: {amount: "1",
        type: EXPENSE, categoryId: %d, frequency: daily, startDate: "2026-03-01", count: 6})
        { id ledger { webhooks { url } } } }""" % shared["food"]
    answer = graphql(bob, document, {"l": shared["ledger"]})
    assert answer["data"] == {"createRecurring": None}
    assert graphql_codes(answer) == ["forbidden"]
    _run_the_worker(database_url)
    assert _stored(conn, shared["ledger"]) == before
    allowed = graphql(bob, document.replace("webhooks { url }", "name"), {"l": shared["ledger"]})
    assert allowed["data"]["createRecurring"]["ledger"]["name"] == "Shared"
    _run_the_worker(database_url)
    stored = _stored(conn, shared["ledger"])
    assert len(stored["recurring_rules"]) == 1 and len(stored["transactions"]) == 6


def _run_the_worker(database_url: str) -> None:
    """The worker's recurring job, until no rule is due on 2026-03-10."""
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with psycopg.connect(database_url) as own:
        while run_transaction(own, lambda c: recurring_runs.handle_next_due(c, now)):
            pass


def test_each_mutation_of_a_document_keeps_its_own_outcome(alice, shared, conn):
    """As documented (the SDL, docs/GRAPHQL.md): a refused mutation changes nothing, the
    others' writes are kept, whether the refusal came from the write or from its selection."""
    document = (
        """mutation($l: Int, $i: TransactionInput!) {
      kept: createCategory(ledgerId: $l, input: {name: "Kept"}) { id name }
      gone: createTransaction(ledgerId: $l, input: $i) { transaction { id %s } }
      after: createCategory(ledgerId: $l, input: {name: "After"}) { name ledger { name } }
    }"""
        % BAD_SELECTION
    )
    answer = graphql(alice, document, _expense(shared))
    assert answer["data"]["kept"]["name"] == "Kept" and answer["data"]["gone"] is None
    assert answer["data"]["after"] == {"name": "After", "ledger": {"name": "Shared"}}
    assert graphql_codes(answer) == ["validation_error"]
    stored = _stored(conn, shared["ledger"])
    assert sorted(c["name"] for c in stored["categories"]) == ["After", "Food", "Kept"]
    assert stored["transactions"] == [] and stored["alerts"] == []


def test_a_mutation_whose_selection_failed_frees_its_idempotency_key(alice, shared, conn):
    key = {"Idempotency-Key": "gql-atomic"}
    body = {"query": CREATE % BAD_SELECTION, "variables": _expense(shared)}
    refused = alice.post("/api/graphql", json=body, headers=key).get_json()
    assert graphql_codes(refused) == ["validation_error"]
    body = {"query": CREATE % "", "variables": _expense(shared)}
    kept = alice.post("/api/graphql", json=body, headers=key)
    assert "Idempotent-Replayed" not in kept.headers
    assert kept.get_json()["data"]["createTransaction"]["transaction"]["id"]
    assert len(_stored(conn, shared["ledger"])["transactions"]) == 1


def test_what_a_rolled_back_mutation_read_is_not_answered_later(alice, shared):
    """A batch's later operation reads the ledger afresh: the rows a rolled-back mutation's
    selection read (its own category among them) are gone with its savepoint."""
    mutation = """mutation($l: Int) { createCategory(ledgerId: $l, input: {name: "Gone"}) {
        ledger { categories { name } summary(month: 13, year: 2026) { totalExpense } } } }"""
    query = "query($l: Int!) { ledger(id: $l) { categories { name } } }"
    variables = {"l": shared["ledger"]}
    answers = alice.post("/api/graphql", json=[
        {"query": mutation, "variables": variables}, {"query": query, "variables": variables},
    ]).get_json()  # fmt: skip
    assert answers[0]["data"] == {"createCategory": None}
    assert answers[1] == {"data": {"ledger": {"categories": [{"name": "Food"}]}}}
