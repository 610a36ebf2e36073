"""Copying a month's budgets (POST /api/ledgers/{id}/budgets/copy): created and skipped lists,
idempotent, every field copied, validation, roles and another user's ledger, GraphQL parity."""

from __future__ import annotations

import pytest

from tests.factories import budget, category, graphql, ledger, member
from tests.helpers import assert_problem


def copy(user, body, ledger_id=None):
    return user.post(f"/api/ledgers/{ledger_id or user.ledger_id}/budgets/copy", json=body)


MARCH_TO_APRIL = {"from": {"month": 3, "year": 2026}, "to": {"month": 4, "year": 2026}}


def test_a_copy_makes_what_the_target_lacks_and_keeps_what_it_has(alice, conn):
    food, home = category(alice, "Food"), category(alice, "Home")
    overall = budget(alice, 3, "900", mode="soft", alertThreshold=70, rollover="both")
    food_march = budget(alice, 3, "200", category_id=food, rollover="surplus")
    budget(alice, 3, "100", category_id=home)
    kept = budget(alice, 4, "150", category_id=home, mode="soft")
    response = copy(alice, MARCH_TO_APRIL)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    made = {row["category"]: row for row in body["created"]}
    assert set(made) == {None, "Food"}
    assert {key: made[None][key] for key in ("amount", "mode", "alertThreshold", "rollover",
                                             "month", "year")} == {
        "amount": "900.00", "mode": "soft", "alertThreshold": 70, "rollover": "both",
        "month": 4, "year": 2026,
    }  # fmt: skip
    assert (made["Food"]["amount"], made["Food"]["rollover"]) == ("200.00", "surplus")
    assert made["Food"]["id"] not in (food_march["id"], overall["id"])
    assert [row["id"] for row in body["skipped"]] == [kept["id"]]
    assert body["skipped"][0]["amount"] == "150.00"  # kept as it was
    again = copy(alice, MARCH_TO_APRIL).get_json()
    assert again["created"] == []
    assert sorted(row["id"] for row in again["skipped"]) == sorted(
        [kept["id"], *(row["id"] for row in body["created"])]
    )
    entries = conn.execute(
        "SELECT count(*) FROM ledger_changes WHERE ledger_id = %s AND entity = 'budget'"
        " AND op = 'created' AND (after ->> 'month')::int = 4",
        (alice.ledger_id,),
    ).fetchone()[0]
    assert entries == 3  # the two copies and the one made by hand


def test_an_empty_month_copies_nothing(alice):
    assert copy(alice, MARCH_TO_APRIL).get_json() == {"created": [], "skipped": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": {"month": 3, "year": 2026}}, "to"),
        ({"to": {"month": 3, "year": 2026}}, "from"),
        ({"from": {"month": 13, "year": 2026}, "to": {"month": 1, "year": 2026}}, "from.month"),
        ({"from": {"month": 3}, "to": {"month": 1, "year": 2026}}, "from.year"),
        ({"from": {"month": 3, "year": 1800}, "to": {"month": 1, "year": 2026}}, "from.year"),
        ({"from": {"month": "3", "year": 2026}, "to": {"month": 1, "year": 2026}}, "from.month"),
        ({"from": {"month": 3, "year": 2026}, "to": {"month": 3, "year": 2026}}, "to"),
        ({**MARCH_TO_APRIL, "overwrite": True}, "overwrite"),
    ],
)
def test_validation(alice, body, field):
    budget(alice, 3, "100")
    problem = assert_problem(copy(alice, body), 422, "validation_error")
    assert field in problem["errors"], problem
    assert alice.get("/api/budgets?month=4&year=2026").get_json()["items"] == []


def test_auth_roles_and_other_ledgers(alice, bob, conn):
    budget(alice, 3, "100")
    assert_problem(alice.client.post(f"/api/ledgers/{alice.ledger_id}/budgets/copy",
                                     json=MARCH_TO_APRIL), 401)  # fmt: skip
    assert_problem(copy(bob, MARCH_TO_APRIL, alice.ledger_id), 404)
    shared = ledger(conn, alice)
    member(conn, shared, bob, "viewer")
    assert_problem(copy(bob, MARCH_TO_APRIL, shared), 403, "forbidden")
    assert copy(alice, MARCH_TO_APRIL, shared).status_code == 200


def test_graphql_copies_as_rest_does(alice, bob):
    budget(alice, 3, "100", rollover="surplus")
    document = (
        "mutation($i: BudgetCopyInput!) { copyBudgets(input: $i) {"
        " created { id amount month rollover } skipped { id } } }"
    )
    made = graphql(alice, document, {"i": MARCH_TO_APRIL})
    assert "errors" not in made, made
    [created] = made["data"]["copyBudgets"]["created"]
    assert (created["amount"], created["month"], created["rollover"]) == ("100.00", 4, "surplus")
    again = graphql(alice, document, {"i": MARCH_TO_APRIL})["data"]["copyBudgets"]
    assert again == {"created": [], "skipped": [{"id": created["id"]}]}
    same = {"from": {"month": 3, "year": 2026}, "to": {"month": 3, "year": 2026}}
    refused = graphql(alice, document, {"i": same})
    rest = copy(alice, same).get_json()
    assert refused["errors"][0]["extensions"]["errors"] == rest["errors"]
