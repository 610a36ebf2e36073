"""POST /api/graphql: queries and mutations over the same services as REST, errors with REST's
codes, the limits, Idempotency-Key, the explorer page."""

from __future__ import annotations

import json

import pytest

from tests.factories import category, graphql, graphql_codes, save
from tests.helpers import assert_problem

CREATE = """
mutation($ledgerId: Int, $input: TransactionInput!) {
  createTransaction(ledgerId: $ledgerId, input: $input) {
    transaction { id amount type categoryId category description date createdAt
                  createdBy { id name } ledger { id currency } }
    alerts { id budgetId kind percentUsed }
  }
}"""


def _expense(category_id, amount="12.50", date="2026-03-10", **extra):
    return {"amount": amount, "type": "EXPENSE", "categoryId": category_id, "date": date, **extra}


def test_me_and_ledgers(alice):
    body = graphql(alice, "{ me { id name email role } ledgers { id name isDefault role } }")
    assert "errors" not in body
    assert body["data"]["me"]["id"] == alice.id
    assert body["data"]["ledgers"] == [
        {"id": alice.ledger_id, "name": body["data"]["ledgers"][0]["name"], "isDefault": True,
         "role": "owner"}
    ]  # fmt: skip


def test_create_transaction_answers_as_rest(alice):
    food = category(alice, "Food")
    body = graphql(alice, CREATE, {"input": _expense(food, amount=12.5, description=" Lunch ")})
    assert "errors" not in body, body
    created = body["data"]["createTransaction"]["transaction"]
    rest = alice.get(f"/api/transactions/{created['id']}").get_json()
    assert created["amount"] == rest["amount"] == "12.50"
    assert created["description"] == rest["description"] == "Lunch"
    assert created["date"] == rest["date"] == "2026-03-10"
    assert created["createdAt"] == rest["createdAt"]
    assert created["createdBy"] == rest["createdBy"]
    assert created["ledger"] == {"id": alice.ledger_id, "currency": "USD"}


def test_validation_error_carries_rest_errors(alice):
    food = category(alice, "Food")
    body = graphql(alice, CREATE, {"input": _expense(food, amount="12.345")})
    assert body["data"] == {"createTransaction": None}
    (error,) = body["errors"]
    rest = alice.post("/api/transactions", json=_expense(food, amount="12.345")).get_json()
    assert error["extensions"]["code"] == rest["code"] == "validation_error"
    assert error["extensions"]["errors"] == rest["errors"]
    assert error["path"] == ["createTransaction"]


def test_budget_exceeded_carries_the_budget(alice):
    food = category(alice, "Food")
    assert save(alice, categoryId=food, amount="20").status_code == 201
    body = graphql(alice, CREATE, {"input": _expense(food, amount="25", date="2026-03-02")})
    rest = alice.post("/api/transactions", json=_expense(food, amount="25", date="2026-03-02"))
    (error,) = body["errors"]
    assert error["extensions"]["code"] == rest.get_json()["code"] == "budget_exceeded"
    assert error["extensions"]["budget"] == rest.get_json()["budget"]
    assert error["message"] == rest.get_json()["detail"]


def test_without_a_token_401(client):
    response = client.post("/api/graphql", json={"query": "{ me { id } }"})
    assert_problem(response, 401, "authentication_required")
    response = client.post(
        "/api/graphql",
        json={"query": "{ me { id } }"},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert_problem(response, 401, "invalid_token")


def test_revoked_token_401(alice):
    assert alice.post("/api/auth/logout").status_code == 204
    assert_problem(alice.post("/api/graphql", json={"query": "{ me { id } }"}), 401)


def test_explorer_page_serves_its_own_files(client):
    page = client.get("/api/graphql")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "//" not in html.split("-->")[-1]
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    for name in ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js",
                 "graphiql.min.css", "init.js"):  # fmt: skip
        assert f'"graphql/{name}"' in html
        asset = client.get(f"/api/graphql/{name}")
        assert asset.status_code == 200, name
        assert len(asset.get_data()) > 100
    assert_problem(client.get("/api/graphql/../setup.cfg"), 404)
    assert_problem(client.get("/api/graphql/other.js"), 404)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ me { id }", "malformed_request"),
        ("{ me { nope } }", "validation_error"),
        ('{ ledger(id: "x") { id } }', "validation_error"),
    ],
)
def test_document_errors_have_codes(alice, query, code):
    body = graphql(alice, query)
    assert set(graphql_codes(body)) == {code}
    assert "data" not in body or body["data"] is None


def test_ledgers_and_invitations_through_mutations(alice, bob):
    created = graphql(alice, 'mutation { createLedger(input: {name: "Home", currency: "JPY"}) '
                             "{ id name currency role isDefault } }")["data"]["createLedger"]  # fmt: skip
    assert created["currency"] == "JPY" and created["role"] == "owner" and not created["isDefault"]
    invite = f"""mutation {{ createInvitation(ledgerId: {created["id"]},
        input: {{email: "{bob.data["email"]}", role: editor}}) {{ id status role }} }}"""
    invitation = graphql(alice, invite)["data"]["createInvitation"]
    assert invitation["status"] == "pending"
    mine = graphql(bob, "{ invitations { id ledgerName invitedBy { name } } }")["data"]
    assert mine["invitations"] == [
        {"id": invitation["id"], "ledgerName": "Home", "invitedBy": {"name": "Alice"}}
    ]
    accepted = graphql(
        bob, f"mutation {{ acceptInvitation(id: {invitation['id']}) {{ id role }} }}"
    )
    assert accepted["data"]["acceptInvitation"] == {"id": created["id"], "role": "editor"}
    again = graphql(bob, f"mutation {{ declineInvitation(id: {invitation['id']}) }}")
    assert graphql_codes(again) == ["invitation_answered"]
    spend = """mutation($l: Int) { createCategory(ledgerId: $l, input: {name: "Food"}) { id } }"""
    food = graphql(bob, spend, {"l": created["id"]})["data"]["createCategory"]["id"]
    record_yen = f"""mutation {{ createTransaction(ledgerId: {created["id"]}, input: {{
        amount: 1500, type: EXPENSE, categoryId: {food}, date: "2026-03-01T23:30:00-05:00"}})
        {{ transaction {{ amount date createdBy {{ name }} ledger {{ name }} }} }} }}"""
    written = graphql(bob, record_yen)["data"]["createTransaction"]["transaction"]
    assert written == {"amount": "1500", "date": "2026-03-01", "createdBy": {"name": "Bob"},
                       "ledger": {"name": "Home"}}  # fmt: skip


@pytest.mark.parametrize(
    ("literal", "expected"),
    [("12.30", "12.30"), ('"7"', "7.00"), ("5", "5.00"), ("1e3", None), ('"1.005"', None)],
)
def test_decimal_literals_are_read_from_their_text(alice, literal, expected):
    food = category(alice, "Food")
    document = f"""mutation {{ createTransaction(input: {{amount: {literal}, type: INCOME,
        categoryId: {food}, date: "2026-03-01"}}) {{ transaction {{ amount }} }} }}"""
    body = graphql(alice, document)
    if expected is None:
        assert graphql_codes(body) == ["validation_error"]
        assert "amount" in body["errors"][0]["extensions"]["errors"]
    else:
        assert body["data"]["createTransaction"]["transaction"]["amount"] == expected


# A Decimal input that is not a string or a number is refused by REST's field, on REST's name for
# it, with REST's message: the scalar refuses nothing itself (api/graphql/schema.py).
NOT_DECIMAL = [True, {}, [], {"a": "1"}]
UPSERT_BUDGET = "mutation($i: BudgetInput!) { upsertBudget(input: $i) { budget { id } } }"
PUT_RATES = (
    'mutation($r: [RateInput!]!) { putRates(currency: "EUR", items: $r) { items { rate } } }'
)
LIST = "query($l: Int!, $v: Decimal) { ledger(id: $l) { transactions(filter: {minAmount: $v}) { nodes { id } } } }"


def _refused_as_rest(body: dict, rest, name: str) -> None:
    assert rest.status_code == 422 and list(rest.get_json()["errors"]) == [name], rest.get_json()
    assert graphql_codes(body) == ["validation_error"], body
    assert body["errors"][0]["extensions"]["errors"] == rest.get_json()["errors"]


@pytest.mark.parametrize("value", NOT_DECIMAL)
def test_a_decimal_variable_of_another_type_is_refused_on_its_field(alice, value):
    food = category(alice, "Food")
    _refused_as_rest(
        graphql(alice, CREATE, {"input": _expense(food, amount=value)}),
        alice.post("/api/transactions", json=_expense(food, amount=value)),
        "amount",
    )
    budget = {"categoryId": food, "amount": value, "month": 3, "year": 2026}
    _refused_as_rest(
        graphql(alice, UPSERT_BUDGET, {"i": budget}),
        alice.post("/api/budgets", json=budget),
        "amount",
    )
    rates = [{"date": "2026-03-02", "rate": value}]
    _refused_as_rest(
        graphql(alice, PUT_RATES, {"r": rates}),
        alice.request("PUT", f"/api/ledgers/{alice.ledger_id}/rates/EUR", json={"items": rates}),
        "items.0.rate",
    )
    listed = graphql(alice, LIST, {"l": alice.ledger_id, "v": value})
    assert graphql_codes(listed) == ["validation_error"], listed
    assert list(listed["errors"][0]["extensions"]["errors"]) == ["minAmount"], listed


@pytest.mark.parametrize("literal", ["true", "FOOD", "{a: 1}", "[1, 2]"])
def test_a_decimal_literal_of_another_type_is_refused_on_its_field_as_its_text(alice, literal):
    food = category(alice, "Food")
    rest = alice.post("/api/transactions", json=_expense(food, amount=literal)).get_json()
    document = f"""mutation {{ createTransaction(input: {{amount: {literal}, type: INCOME,
        categoryId: {food}, date: "2026-03-01"}}) {{ transaction {{ amount }} }} }}"""
    body = graphql(alice, document)
    assert graphql_codes(body) == ["validation_error"] and list(rest["errors"]) == ["amount"]
    assert body["errors"][0]["extensions"]["errors"] == rest["errors"]


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ me { nope } }"},
        {"query": "{ me { id }"},
        {
            "query": "{ ledgers { categories { ledger { categories { ledger { categories { id } } } } } } }"
        },
        [{"query": "{ me { id } }"}] * 6,
        [],
        "{ me { id } }",
    ],
)
def test_a_revoked_token_is_401_whatever_the_document(alice, body):
    assert alice.post("/api/auth/logout").status_code == 204
    assert_problem(alice.post("/api/graphql", json=body), 401, "token_revoked")


@pytest.mark.parametrize(
    "body",
    [
        "{ me { id } }", 42, None, True, [], [1], [{"query": "{ me { id } }"}, "{ me { id } }"],
        {}, {"query": 42}, {"query": "{ me { id } }", "variables": [1]},
        {"query": "{ me { id } }", "operationName": True},
        {"query": "{ me { id } }", "extensions": "x"}, {"query": "{ me { id } }", "extra": 1},
        [{"query": "{ me { id } }"}, {"query": "{ me { id } }", "operationName": True}],
    ],
)  # fmt: skip
def test_a_body_that_is_neither_an_operation_nor_a_batch_is_400(alice, body):
    response = alice.post("/api/graphql", data=json.dumps(body), content_type="application/json")
    problem = assert_problem(response, 400, "malformed_request")
    assert "batch" in problem["detail"]
