"""The budget race through GraphQL mutations: many members' createTransaction mutations on one
hard budget, on real parallel connections through the live service, never overspend it; the
refused ones are budget_exceeded with the budget's details, and nothing else goes wrong."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from devtools.servers import call
from tests.factories import race

CREATE = """mutation($i: TransactionInput!, $l: Int) {
  createTransaction(ledgerId: $l, input: $i) { transaction { id amount } } }"""


def _member(base: str) -> str:
    email = f"gql-race-{uuid.uuid4().hex[:12]}@example.com"
    body = {"name": "Racer", "email": email, "password": "password123"}
    assert call(base, "POST", "/api/auth/register", body)[0] == 201
    status, tokens, _ = call(base, "POST", "/api/auth/login", {"email": email, "password": "password123"})  # fmt: skip
    assert status == 200
    return tokens["accessToken"]


@pytest.mark.parametrize("round_", range(2))
def test_graphql_writers_on_one_shared_hard_budget_never_overspend(live_server, conn, round_):
    base = live_server.base
    owner, partner = _member(base), _member(base)
    _, ledger, _ = call(base, "POST", "/api/ledgers", {"name": "Household"}, owner)
    path = f"/api/ledgers/{ledger['id']}"
    partner_id = call(base, "GET", "/api/auth/me", token=partner)[1]["user"]["id"]
    conn.execute(
        "INSERT INTO ledger_members (ledger_id, user_id, role) VALUES (%s, %s, 'editor')",
        (ledger["id"], partner_id),
    )
    _, food, _ = call(base, "POST", f"{path}/categories", {"name": "Food"}, owner)
    budget = {"categoryId": food["id"], "amount": "100.00", "month": 3, "year": 2026}
    assert call(base, "POST", f"{path}/budgets", budget, owner)[0] == 201
    expense = {"amount": "7", "type": "EXPENSE", "categoryId": food["id"], "date": "2026-03-09"}
    request = {"query": CREATE, "variables": {"i": expense, "l": ledger["id"]}}

    def write(index):
        return call(base, "POST", "/api/graphql", request, (owner, partner)[index % 2])

    answers = race(32, write)
    assert {status for status, _, _ in answers} == {200}
    codes = [
        body.get("errors", [{}])[0].get("extensions", {}).get("code") for _, body, _ in answers
    ]
    assert codes.count(None) == 14  # 14 * 7 = 98 <= 100 < 105
    assert codes.count("budget_exceeded") == 18
    refused = next(body for _, body, _ in answers if body.get("errors"))
    assert refused["errors"][0]["extensions"]["budget"]["amount"] == "100.00"
    spent = conn.execute(
        "SELECT sum(amount) FROM transactions WHERE ledger_id = %s", (ledger["id"],)
    ).fetchone()[0]
    assert spent == Decimal("98.00")
