"""GraphQL's limits and loaders: refused documents do no database work but the session check
(statements counted), nested lists load in one statement per level whatever the number of
ledgers, introspection follows its setting, and Idempotency-Key works on mutations."""

from __future__ import annotations

import json
import re

import pytest
from cryptography.fernet import Fernet
from graphql import parse, validate

from bench.graphql import DASHBOARD
from expense_api.api.app import create_app
from expense_api.api.graphql import limits
from expense_api.api.graphql.schema import executable_schema
from expense_api.config import PROJECT_ROOT
from expense_api.db import sqlfiles
from expense_api.services.webhooks import endpoints as webhooks
from tests.factories import category, graphql, graphql_codes
from tests.helpers import Accounts, assert_problem, make_settings

SESSION_CHECK = "auth_sessions.get_active_with_user"
POSTMAN = PROJECT_ROOT / "clients/postman/expense-api.postman_collection.json"


@pytest.fixture
def statements(monkeypatch):
    """The names of the SQL statements run (every query comes from sql/*.sql), but the rate
    limiter's lease: once per block of an account's requests, on a connection of its own, it is
    the count of the request, not its work (docs/SECURITY.md, "Rate limits")."""
    names: list[str] = []
    run = sqlfiles.Query.__call__

    def counted(self, conn, **params):
        if self.name != "rate_limits.lease":
            names.append(self.name)
        return run(self, conn, **params)

    monkeypatch.setattr(sqlfiles.Query, "__call__", counted)
    return names


def _nested(depth: int, ledger: int, category: int) -> str:
    """{ ledger(id) { category(id) { ledger { category(id) { ... id } } } } }, `depth` fields
    deep: objects, no list, so it costs about `depth`."""
    fields = [f"ledger(id: {ledger})"] + [f"category(id: {category})", "ledger"] * depth
    inner = "id"
    for name in reversed(fields[: depth - 1]):
        inner = f"{name} {{ {inner} }}"
    return "{ " + inner + " }"


def _refused_without_database_work(user, statements, body, code):
    statements.clear()
    response = user.post("/api/graphql", json=body)
    assert response.status_code == 200
    answer = response.get_json()
    answers = answer if isinstance(answer, list) else [answer]
    codes = [c for a in answers for c in graphql_codes(a)]
    assert code in codes, answer
    assert all(a.get("data") is None for a in answers)
    assert statements == [SESSION_CHECK], statements  # the 401 comes first; nothing else runs
    return answer


def test_depth_ten_runs_eleven_is_refused(alice, statements):
    food = category(alice, "Food")
    assert "errors" not in graphql(alice, _nested(10, alice.ledger_id, food))
    error = _refused_without_database_work(
        alice, statements, {"query": _nested(11, alice.ledger_id, food)}, "query_too_deep"
    )
    assert "10" in error["errors"][0]["message"]


def test_introspection_fields_do_not_count_towards_depth(alice):
    deep_introspection = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }"
    assert "errors" not in graphql(alice, deep_introspection)


def test_a_fragment_counts_where_it_is_spread(alice, statements):
    food = category(alice, "Food")
    five = "query($l: Int!, $c: Int!) { ledger(id: $l) { category(id: $c) { ledger { category(id: $c) { ledger { ...F } } } } } }"
    six = "fragment F on Ledger { category(id: $c) { ledger { category(id: $c) { ledger { category(id: $c) { id } } } } } }"
    variables = {"l": alice.ledger_id, "c": food}
    body = {"query": five + six, "variables": variables}
    _refused_without_database_work(alice, statements, body, "query_too_deep")
    cut = six.replace("{ category(id: $c) { id } }", "{ id }")
    assert "errors" not in graphql(alice, five + cut, variables)


def test_cost_above_the_limit_is_refused(alice, statements):
    inner = "transactions(first: 500) { nodes { id } }"
    query = f"{{ ledgers {{ transactions(first: 500) {{ nodes {{ ledger {{ {inner} }} }} }} }} }}"
    answer = _refused_without_database_work(
        alice, statements, {"query": query}, "query_too_complex"
    )
    assert answer["errors"][0]["extensions"]["limit"] == limits.MAX_COST
    one_page = "{ ledger(id: %d) { transactions(first: 500) { nodes { id amount date } } } }"
    assert "errors" not in graphql(alice, one_page % alice.ledger_id)
    every_ledger = "{ ledgers { transactions(first: 500) { nodes { id amount date } } } }"
    assert _cost(every_ledger) == 25 + 25 * 500 * 2  # 25 ledgers assumed: refused


BACK_LINKS = """query($l: Int!) { ledger(id: $l) { categories { ledger { categories { ledger {
    categories { ledger { categories { name } } } } } } } } }"""


def test_a_list_multiplies_the_cost_of_what_is_below_it(alice, statements):
    """Issue 25: 30 categories through their `ledger` back-links answered 810,000 objects."""
    for n in range(30):
        category(alice, f"Category {n}")
    body = {"query": BACK_LINKS, "variables": {"l": alice.ledger_id}}
    answer = _refused_without_database_work(alice, statements, body, "query_too_complex")
    assert answer["errors"][0]["extensions"]["cost"] > limits.MAX_COST
    one_level = "query($l: Int!) { ledger(id: $l) { categories { id name ledger { id } } } }"
    listed = graphql(alice, one_level, {"l": alice.ledger_id})["data"]["ledger"]["categories"]
    assert len(listed) == 30  # a list is priced at its assumed size, never cut to it


def _cost(query: str, variables: dict | None = None) -> int:
    schema = executable_schema()
    rule = limits.cost_rule(schema, variables)
    document = parse(query)
    assert validate(schema, document) == []
    costs = []

    class Measured(rule):
        def leave_operation_definition(self, *args):
            costs.append(self.cost)
            super().leave_operation_definition(*args)

    validate(schema, document, [Measured])
    return sum(costs)


def test_every_documented_query_passes_the_cost_limit():
    """The documented queries (docs/GRAPHQL.md, the Postman collection, bench/graphql.py) and the nested
    lists of ledgers cost what docs/GRAPHQL.md says, well below the limit."""
    collection = json.loads(POSTMAN.read_text())
    documented = [
        (item["request"]["body"]["raw"], item["name"])
        for item in _requests(collection["item"])
        if item["request"]["url"]["raw"].endswith("/api/graphql")
        and item["request"].get("body", {}).get("raw")
    ]
    queries = [json.loads(re.sub(r"\{\{\w+\}\}", "1", raw))["query"] for raw, _ in documented]
    assert len(queries) >= 6
    guide = (PROJECT_ROOT / "docs" / "GRAPHQL.md").read_text()
    assert "notifications(unread: true, first: 5) { nodes { id kind percentUsed } }" in guide
    queries += [
        DASHBOARD,
        "{ ledgers { id name } notifications(unread: true, first: 5) { nodes { id kind percentUsed } } }",
        NESTED_LISTS,
    ]
    variables = {"ledger": 1, "month": 3, "year": 2026, "input": {}, "id": 1}
    costs = {query: _cost(query, variables) for query in queries}
    assert all(cost <= limits.MAX_COST for cost in costs.values()), costs
    assert _cost(DASHBOARD, variables) == 213
    assert _cost(BACK_LINKS, {"l": 1}) > 100 * 100 * 100


def test_a_list_costs_its_maximum_where_the_service_has_one():
    assert limits.LIST_SIZES[("Ledger", "webhooks")] == webhooks.MAX_PER_LEDGER == 10
    assert _cost("{ ledger(id: 1) { webhooks { id } } }") == 1 + 10
    assert _cost("{ ledger(id: 1) { categories { id } } }") == 1 + 100


def _requests(items):
    for item in items:
        yield from _requests(item["item"]) if "item" in item else [item]


def test_cost_counts_variables(alice, statements):
    query = """query($l: Int!, $n: Int) { ledger(id: $l) { transactions(first: $n) { nodes {
        ledger { transactions(first: $n) { nodes { id } } } } } } }"""
    assert "errors" not in graphql(alice, query, {"l": alice.ledger_id, "n": 50})
    body = {"query": query, "variables": {"l": alice.ledger_id, "n": 500}}
    _refused_without_database_work(alice, statements, body, "query_too_complex")


def test_a_document_over_10_kb_is_refused(alice, statements):
    padded = "{ me { id } }" + " " * (limits.MAX_DOCUMENT_BYTES - 12)
    assert len(padded.encode()) > limits.MAX_DOCUMENT_BYTES
    _refused_without_database_work(alice, statements, {"query": padded}, "query_too_large")
    assert "errors" not in graphql(alice, padded[: limits.MAX_DOCUMENT_BYTES])


def test_batches_of_five_run_six_are_refused(alice, statements):
    one = {"query": "{ me { id } }"}
    response = alice.post("/api/graphql", json=[one] * 5)
    assert [a["data"]["me"]["id"] for a in response.get_json()] == [alice.id] * 5
    _refused_without_database_work(alice, statements, [one] * 6, "batch_too_large")


def test_a_batch_answers_each_operation(alice):
    food = category(alice, "Food")
    body = [
        {"query": "{ me { id } }"},
        {"query": "{ me { nope } }"},
        {"query": "query($id: Int!) { ledger(id: $id) { category(id: $id) { id } } }",
         "variables": {"id": food}},
    ]  # fmt: skip
    answers = alice.post("/api/graphql", json=body).get_json()
    assert answers[0] == {"data": {"me": {"id": alice.id}}}
    assert graphql_codes(answers[1]) == ["validation_error"]
    assert graphql_codes(answers[2]) == ["not_found"]


NESTED_LISTS = """{ ledgers { id categories { id ledger { id } } budgets { id }
    transactions(first: 5) { nodes { id ledger { name } } } members { userId } } }"""


def test_nested_lists_take_one_statement_per_level(alice, statements):
    query = NESTED_LISTS
    graphql(alice, query)  # one ledger
    with_one = sorted(statements)
    for n in range(4):
        created = alice.post("/api/ledgers", json={"name": f"Extra {n}"}).get_json()
        base = f"/api/ledgers/{created['id']}"
        food = alice.post(f"{base}/categories", json={"name": "Food"}).get_json()["id"]
        for day in (1, 2):
            alice.post(f"{base}/transactions", json={
                "amount": "1", "type": "EXPENSE", "categoryId": food, "date": "2026-11-0%d" % day
            })  # fmt: skip
    statements.clear()
    answer = graphql(alice, query)
    assert len(answer["data"]["ledgers"]) == 5 and "errors" not in answer
    assert sorted(statements) == with_one
    assert statements.count("transactions.pages_for_ledgers") == 1


def test_introspection_off_in_production_unless_turned_on(database_url):
    def schema_query(**env):
        key = Fernet.generate_key().decode()  # production needs one to start
        settings = make_settings(APP_ENV="production", WEBHOOK_SECRETS_KEY=key, **env)
        client = create_app(settings, database_url).test_client()
        user = Accounts(client).new_user()
        return graphql(user, "{ __schema { queryType { name } } }")

    assert set(graphql_codes(schema_query())) == {"validation_error"}
    assert "errors" not in schema_query(GRAPHQL_INTROSPECTION="on")


@pytest.mark.parametrize("key", ["", "x" * 256, "two words", "caf\u00e9"])
@pytest.mark.parametrize(
    "query", ["{ me { id } }", 'mutation { createCategory(input: {name: "A"}) { id } }']
)
def test_an_idempotency_key_of_the_wrong_form_is_422_whatever_the_operation(alice, key, query):
    """The header's form is checked as on REST POSTs, also when no mutation would claim it."""
    response = alice.post(
        "/api/graphql",
        json={"query": query},
        headers={"Idempotency-Key": key.encode().decode("latin-1")},
    )
    problem = assert_problem(response, 422, "validation_error")
    assert "Idempotency-Key" in problem["errors"]
    assert alice.get("/api/categories").get_json()["items"] == []


def test_idempotency_key_replays_a_mutation(alice):
    food = category(alice, "Food")
    document = """mutation($i: TransactionInput!) { createTransaction(input: $i) {
        transaction { id amount } } }"""
    variables = {"i": {"amount": "3", "type": "EXPENSE", "categoryId": food, "date": "2026-03-01"}}
    key = {"Idempotency-Key": "gql-1"}
    first = alice.post(
        "/api/graphql", json={"query": document, "variables": variables}, headers=key
    )
    again = alice.post(
        "/api/graphql", json={"query": document, "variables": variables}, headers=key
    )
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = alice.get("/api/transactions?month=3&year=2026").get_json()["items"]
    assert len(listed) == 1
    other = {**variables, "i": {**variables["i"], "amount": "4"}}
    reused = alice.post("/api/graphql", json={"query": document, "variables": other}, headers=key)
    assert reused.status_code == 422 and reused.get_json()["code"] == "idempotency_key_reused"


def test_a_refused_mutation_frees_its_key_and_writes_nothing(alice):
    food = category(alice, "Food")
    document = """mutation($i: TransactionInput!) { createTransaction(input: $i) {
        transaction { id } } }"""
    bad = {"i": {"amount": "0", "type": "EXPENSE", "categoryId": food, "date": "2026-03-01"}}
    key = {"Idempotency-Key": "gql-2"}
    refused = alice.post("/api/graphql", json={"query": document, "variables": bad}, headers=key)
    assert graphql_codes(refused.get_json()) == ["validation_error"]
    good = {"i": {**bad["i"], "amount": "1"}}
    kept = alice.post("/api/graphql", json={"query": document, "variables": good}, headers=key)
    assert "errors" not in kept.get_json()


def test_one_refused_mutation_leaves_the_others_written(alice):
    food = category(alice, "Food")
    document = """mutation($f: Int!) {
      ok: createTransaction(input: {amount: "2", type: EXPENSE, categoryId: $f, date: "2026-03-01"})
        { transaction { id } }
      gone: deleteCategory(id: $f)
      after: createCategory(input: {name: "Rent"}) { id name }
    }"""
    answer = graphql(alice, document, {"f": food})
    assert graphql_codes(answer) == ["category_in_use"]
    assert answer["data"]["ok"]["transaction"]["id"] and answer["data"]["after"]["name"] == "Rent"
    names = [c["name"] for c in alice.get("/api/categories").get_json()["items"]]
    assert names == ["Food", "Rent"]
    assert len(alice.get("/api/transactions?month=3&year=2026").get_json()["items"]) == 1


@pytest.mark.parametrize(
    "selection",
    [
        "budget(id: 1) { id }",
        "invitations { id }",
        "category(id: 1) { id }",
        "categories { ledger { transaction(id: 1) { id } } }",
        "...F",
        "ROOT",
        "recurring { id }",
        "webhooks { id }",
        "recurringRule(id: 1) { id }",
        "changes { nodes { seq } }",
    ],
)
def test_one_ledger_at_a_time_fields_are_refused_below_ledgers(alice, statements, selection):
    fragment = " fragment F on Ledger { webhook(id: 1) { id } }" if selection == "...F" else ""
    query = f"{{ ledgers {{ id {selection} }} }}{fragment}"
    if selection == "ROOT":  # `ledgers` itself inside a fragment on Query
        query = "{ ... on Query { ...Q } } fragment Q on Query { ledgers { recurring { id } } }"
    answer = _refused_without_database_work(alice, statements, {"query": query}, "validation_error")
    assert "ledger(id" in answer["errors"][0]["message"]


def test_a_ledger_read_below_a_page_is_read_once(alice, statements):
    food = category(alice, "Food")
    for day in range(1, 6):
        alice.post("/api/transactions", json={
            "amount": "1", "type": "EXPENSE", "categoryId": food, "date": f"2026-03-0{day}"})  # fmt: skip
    query = """query($id: Int!) { ledger(id: $id) { transactions(filter: {month: 3, year: 2026}) {
        nodes { ledger { summary(month: 3, year: 2026) { totalExpense } category(id: %d) { id } } } } } }"""
    statements.clear()
    answer = graphql(alice, query % food, {"id": alice.ledger_id})
    nodes = answer["data"]["ledger"]["transactions"]["nodes"]
    assert len(nodes) == 5 and {n["ledger"]["summary"]["totalExpense"] for n in nodes} == {"5.00"}
    assert (
        statements.count("reports.summary") == 1 and statements.count("categories.get_by_id") == 1
    )


@pytest.mark.parametrize(
    ("selection", "read_by_id"),
    [
        ("recurring { preview }", "recurringRule(id"),
        ("recurring { ...R }", "recurringRule(id"),
        ("webhooks { deliveries { nodes { id } } }", "webhook(id"),
        ("recurring { ledger { recurring { preview } } }", "recurringRule(id"),
    ],
)
def test_per_item_fields_are_refused_below_their_lists(alice, statements, selection, read_by_id):
    fragment = " fragment R on RecurringRule { occurrences { nodes { date } } }"
    query = "{ ledger(id: 1) { %s } }%s" % (selection, fragment if "...R" in selection else "")
    answer = _refused_without_database_work(alice, statements, {"query": query}, "validation_error")
    assert read_by_id in answer["errors"][0]["message"]


def test_a_ledgers_rules_and_webhooks_are_read_once_per_request(alice, statements):
    food = category(alice, "Food")
    for day in (1, 2, 3):
        rule = {"amount": "1", "type": "EXPENSE", "categoryId": food, "frequency": "monthly",
                "startDate": f"2029-01-0{day}"}  # fmt: skip
        assert alice.post("/api/recurring", json=rule).status_code == 201
        hook = {"url": "http://127.0.0.1:9/hook", "events": ["budget.updated"]}
        assert alice.post("/api/webhooks", json=hook).status_code == 201
    query = """query($id: Int!) { ledger(id: $id) {
        recurring { id ledger { webhooks { id } } } again: recurring { id }
        webhooks { id } } }"""  # (a list inside a list of rules would cost 100 x 100)
    statements.clear()
    answer = graphql(alice, query, {"id": alice.ledger_id})
    rules = answer["data"]["ledger"]["recurring"]
    assert len(rules) == 3 and all(len(r["ledger"]["webhooks"]) == 3 for r in rules)
    assert statements.count("recurring.list_for_ledger") == 1
    assert statements.count("webhooks.list_for_ledger") == 1


def test_a_rules_occurrences_cost_their_first(alice, statements):
    query = """{ ledger(id: 1) { transactions(first: 500) { nodes { ledger {
        recurringRule(id: 1) { occurrences(first: 200) { nodes { date } } } } } } } }"""
    answer = _refused_without_database_work(
        alice, statements, {"query": query}, "query_too_complex"
    )
    assert answer["errors"][0]["extensions"]["cost"] > 500 * 200


def test_a_change_log_page_costs_its_first(alice, statements):
    page = "changes(first: 200) { nodes { seq actor { id } } pageInfo { hasNextPage } }"
    twin = "transactions(first: 200) { nodes { id createdBy { id } } pageInfo { hasNextPage } }"
    assert _cost(f"{{ ledger(id: 1) {{ {page} }} }}") == _cost(f"{{ ledger(id: 1) {{ {twin} }} }}")
    assert _cost(f"{{ ledger(id: 1) {{ {page} }} }}") > 200 * 2
    query = """{ ledger(id: 1) { transactions(first: 500) { nodes { ledger {
        changes(first: 500) { nodes { seq } } } } } } }"""
    answer = _refused_without_database_work(
        alice, statements, {"query": query}, "query_too_complex"
    )
    assert answer["errors"][0]["extensions"]["cost"] > 500 * 500


def test_every_list_of_the_schema_has_a_size(monkeypatch):
    """A list field added without a size in LIST_SIZES fails the cost map, not silently at 1."""
    schema = executable_schema()
    sized = limits.cost_map(schema)
    assert sized["Ledger"]["categories"] == {"complexity": 1, "size": 100}
    assert sized["TransactionConnection"]["nodes"] == {"complexity": 1}  # counted by `first`
    monkeypatch.delitem(limits.LIST_SIZES, ("Ledger", "members"))
    with pytest.raises(LookupError, match=r"Ledger\.members"):
        limits.cost_map(schema)


LEDGER_REPORTS = """{ ledgers { id summary { savings } categoryBreakdown(month: 3, year: 2026) {
    total } budgetUsage { items { spent } } trends(months: 2) { items { month } } } }"""


def test_reports_under_ledgers_take_one_statement_each_whatever_the_number(alice, statements):
    """Each report is one statement for all the listed ledgers (the one-ledger query when the
    list holds one), and costs what a list of reports costs."""
    graphql(alice, LEDGER_REPORTS)
    with_one = list(statements)
    for n in range(3):
        created = alice.post("/api/ledgers", json={"name": f"Extra {n}"}).get_json()
        base = f"/api/ledgers/{created['id']}"
        food = alice.post(f"{base}/categories", json={"name": "Food"}).get_json()["id"]
        alice.post(f"{base}/transactions", json={
            "amount": "1", "type": "EXPENSE", "categoryId": food, "date": "2026-03-02"})  # fmt: skip
    statements.clear()
    answer = graphql(alice, LEDGER_REPORTS)
    assert len(answer["data"]["ledgers"]) == 4 and "errors" not in answer
    assert len(statements) == len(with_one)
    for report in ("summary", "category_breakdown", "budget_usage", "trends"):
        assert report in "".join(with_one)
        assert statements.count(f"reports.{report}_for_ledgers") == 1, statements
    # A ledger costs 1, its reports 1 each, their items their list's size (120 months of trends,
    # 100 budgets), all times the 25 ledgers a list is priced at.
    assert _cost(LEDGER_REPORTS) == 25 * (1 + 1 + 1 + (1 + 100) + (1 + 120))


def test_a_to_alone_under_ledgers_reads_the_first_dates_once(alice, statements):
    """A `to` alone starts at each ledger's own first transaction: read for all the listed
    ledgers in one statement per field (not one per ledger)."""
    days = {}
    for n, day in enumerate(("2026-01-05", "2026-02-10", "2026-03-20")):
        created = alice.post("/api/ledgers", json={"name": f"Extra {n}"}).get_json()
        base = f"/api/ledgers/{created['id']}"
        food = alice.post(f"{base}/categories", json={"name": "Food"}).get_json()["id"]
        alice.post(f"{base}/transactions", json={
            "amount": "1", "type": "EXPENSE", "categoryId": food, "date": day})  # fmt: skip
        days[created["id"]] = day
    query = """{ ledgers { id summary(to: "2026-03-31") { from totalExpense }
        transactions(filter: {to: "2026-03-31"}) { nodes { date } } } }"""
    statements.clear()
    answer = graphql(alice, query)
    assert "errors" not in answer, answer
    for ledger in answer["data"]["ledgers"]:
        if ledger["id"] in days:
            assert ledger["summary"] == {"from": days[ledger["id"]], "totalExpense": "1.00"}
            assert [node["date"] for node in ledger["transactions"]["nodes"]] == [
                days[ledger["id"]]
            ]
    assert statements.count("transactions.first_dates") == 2  # one per field, not per ledger
    assert "transactions.first_date" not in statements
    assert statements.count("reports.summary_for_ledgers") == 1


def test_payees_and_tags_below_ledgers_take_one_statement_each(alice, statements):
    query = "{ ledgers { id payees(limit: 10) { name } tags { name } } }"
    graphql(alice, query)
    with_one = sorted(statements)
    for n in range(3):
        created = alice.post("/api/ledgers", json={"name": f"Extra {n}"}).get_json()
        base = f"/api/ledgers/{created['id']}"
        food = alice.post(f"{base}/categories", json={"name": "Food"}).get_json()["id"]
        made = alice.post(f"{base}/transactions", json={
            "amount": "1", "type": "EXPENSE", "categoryId": food, "date": "2026-11-01",
            "payee": f"Shop {n}", "tags": ["a", f"t{n}"]})  # fmt: skip
        assert made.status_code == 201, made.get_json()
    statements.clear()
    answer = graphql(alice, query)
    assert "errors" not in answer and len(answer["data"]["ledgers"]) == 4
    assert sorted(statements) == with_one
    assert statements.count("payees.list_for_ledgers") == statements.count("tags.list_for_ledgers")
    assert statements.count("payees.list_for_ledgers") == 1
    assert [len(ledger["payees"]) for ledger in answer["data"]["ledgers"]] == [0, 1, 1, 1]


def test_a_payee_list_costs_its_limit():
    schema = executable_schema()
    costs = limits.cost_map(schema)
    assert costs["Ledger"]["payees"] == {"complexity": 1, "multipliers": ["limit"]}
    cheap = "{ ledgers { payees { name } } }"  # 25 ledgers x the default 50
    dear = "{ ledgers { payees(limit: 200) { name } tags { name } } }"  # 25 x (200 + 100)
    rule = limits.cost_rule(schema, {})
    assert not validate(schema, parse(cheap), [rule])
    assert not validate(schema, parse(dear), [rule])
    deeper = "{ ledgers { payees(limit: 200) { name } tags { name } categories { id } members { userId } } }"
    assert [e.extensions["code"] for e in validate(schema, parse(deeper), [rule])] == [
        "query_too_complex"
    ]
