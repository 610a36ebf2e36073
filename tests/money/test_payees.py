"""GET /api/ledgers/{id}/payees: the ledger's payees that transactions name, with counts."""

from __future__ import annotations

import pytest

from tests.factories import category, ledger, member, record
from tests.helpers import assert_problem


def payees(user, ledger_id=None, **query):
    path = f"/api/ledgers/{ledger_id or user.ledger_id}/payees"
    response = user.get(path, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_each_payee_in_use_with_its_count_and_last_date_most_used_first(alice):
    food = category(alice)
    record(alice, food, payee="Corner Shop", date="2026-03-02")
    record(alice, food, payee="corner shop", date="2026-03-09")  # the same payee
    record(alice, food, payee="CORNER SHOP", date="2026-02-20")
    record(alice, food, payee="Bakery", date="2026-01-05")
    record(alice, food, payee="apple store", date="2026-03-01")
    record(alice, food, payee="Apple Store", date="2026-03-04")
    record(alice, food, payee="Zoo", date="2026-03-03")
    record(alice, food)  # no payee
    items = payees(alice)
    assert [(p["name"], p["count"], p["lastUsedOn"]) for p in items] == [
        ("Corner Shop", 3, "2026-03-09"),  # the case first written
        ("apple store", 2, "2026-03-04"),
        ("Bakery", 1, "2026-01-05"),  # then by name, ignoring case
        ("Zoo", 1, "2026-03-03"),
    ]
    assert all(set(p) == {"id", "name", "count", "lastUsedOn"} for p in items)
    assert len({p["id"] for p in items}) == 4


def test_counts_follow_changes_and_deletions_and_an_unused_payee_leaves_the_list(alice):
    food = category(alice)
    prefix = f"/api/ledgers/{alice.ledger_id}/transactions"
    first = record(alice, food, payee="Shop", date="2026-03-10")
    second = record(alice, food, payee="Shop", date="2026-03-01")
    other = record(alice, food, payee="Cafe")
    assert [(p["name"], p["count"]) for p in payees(alice)] == [("Shop", 2), ("Cafe", 1)]

    assert alice.delete(f"{prefix}/{first['id']}").status_code == 204
    assert [(p["name"], p["count"], p["lastUsedOn"]) for p in payees(alice)] == [
        ("Cafe", 1, "2026-03-15"),
        ("Shop", 1, "2026-03-01"),  # the last date follows too
    ]
    moved = alice.patch(f"{prefix}/{second['id']}", json={"payee": "Cafe"})
    assert moved.status_code == 200, moved.get_json()
    assert [(p["name"], p["count"]) for p in payees(alice)] == [("Cafe", 2)]
    cleared = alice.patch(f"{prefix}/{other['id']}", json={"payee": None})
    assert cleared.status_code == 200, cleared.get_json()
    assert [(p["name"], p["count"]) for p in payees(alice)] == [("Cafe", 1)]
    assert alice.delete(f"{prefix}/{second['id']}").status_code == 204
    assert payees(alice) == []
    # Used again: the same payee, with its first case.
    record(alice, food, payee="SHOP")
    assert [p["name"] for p in payees(alice)] == ["Shop"]


def test_q_matches_text_anywhere_in_the_name_ignoring_case_with_wildcards_literal(alice):
    food = category(alice)
    for name in ("Corner Shop", "Shopify", "Bakery", "50% Off", "500 Off", "A_B", "AxB"):
        record(alice, food, payee=name)
    assert {p["name"] for p in payees(alice, q="shop")} == {"Corner Shop", "Shopify"}
    assert [p["name"] for p in payees(alice, q="0%")] == ["50% Off"]
    assert [p["name"] for p in payees(alice, q="a_b")] == ["A_B"]
    assert payees(alice, q="nothing") == []


def test_limit_cuts_the_list_after_the_most_used(alice):
    food = category(alice)
    for name, times in (("One", 1), ("Three", 3), ("Two", 2)):
        for _ in range(times):
            record(alice, food, payee=name)
    assert [p["name"] for p in payees(alice, limit=2)] == ["Three", "Two"]
    assert [p["name"] for p in payees(alice, limit=200)] == ["Three", "Two", "One"]


@pytest.mark.parametrize(
    "query", [{"limit": 0}, {"limit": 201}, {"limit": "x"}, {"q": ""}, {"q": "x" * 101},
              {"cursor": "abc"}, {"name": "x"}]
)  # fmt: skip
def test_a_bad_or_unknown_query_parameter_is_422(alice, query):
    response = alice.get(f"/api/ledgers/{alice.ledger_id}/payees", query_string=query)
    body = assert_problem(response, 422, "validation_error")
    assert list(body["errors"]) == list(query)


def test_a_viewer_reads_them_and_another_ledgers_payees_never_show(alice, bob, conn):
    shared = ledger(conn, alice)
    member(conn, shared, bob, "viewer")
    food = alice.post(f"/api/ledgers/{shared}/categories", json={"name": "Food"}).get_json()
    made = alice.post(
        f"/api/ledgers/{shared}/transactions",
        json={"amount": "5.00", "type": "EXPENSE", "categoryId": food["id"],
              "date": "2026-03-01", "payee": "Shared Shop"},
    )  # fmt: skip
    assert made.status_code == 201, made.get_json()
    record(alice, category(alice), payee="Private Shop")  # alice's own ledger
    assert [p["name"] for p in payees(bob, shared)] == ["Shared Shop"]
    assert [p["name"] for p in payees(alice)] == ["Private Shop"]
    assert payees(bob) == []


def test_another_users_ledger_is_404(alice, bob):
    record(alice, category(alice), payee="Secret")
    assert_problem(bob.get(f"/api/ledgers/{alice.ledger_id}/payees"), 404, "not_found")
    assert_problem(bob.get("/api/ledgers/999999999/payees"), 404, "not_found")


def test_without_a_valid_token_it_is_401(client, alice):
    path = f"/api/ledgers/{alice.ledger_id}/payees"
    assert_problem(client.get(path), 401)
    assert_problem(client.get(path, headers={"Authorization": "Bearer nope"}), 401)


def test_there_is_no_default_ledger_alias(alice):
    assert_problem(alice.get("/api/payees"), 404)
