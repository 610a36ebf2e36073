"""GET /api/ledgers/{id}/tags: the ledger's tags that transactions carry, with counts."""

from __future__ import annotations

from tests.factories import category, ledger, member, record
from tests.helpers import assert_problem


def tags(user, ledger_id=None):
    response = user.get(f"/api/ledgers/{ledger_id or user.ledger_id}/tags")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_each_tag_in_use_with_its_count_by_name_ignoring_case(alice):
    food = category(alice)
    record(alice, food, tags=["trip", "Work"])
    record(alice, food, tags=["TRIP"])  # the same tag
    record(alice, food, tags=["beach", "trip"])
    record(alice, food)  # none
    items = tags(alice)
    assert [(t["name"], t["count"]) for t in items] == [("beach", 1), ("trip", 3), ("Work", 1)]
    assert all(set(t) == {"id", "name", "count"} for t in items)


def test_counts_follow_changes_and_deletions_and_an_unused_tag_leaves_the_list(alice):
    food = category(alice)
    prefix = f"/api/ledgers/{alice.ledger_id}/transactions"
    first = record(alice, food, tags=["a", "b"])
    second = record(alice, food, tags=["b"])
    assert [(t["name"], t["count"]) for t in tags(alice)] == [("a", 1), ("b", 2)]
    assert alice.delete(f"{prefix}/{first['id']}").status_code == 204
    assert [(t["name"], t["count"]) for t in tags(alice)] == [("b", 1)]
    changed = alice.patch(f"{prefix}/{second['id']}", json={"tags": ["c"]})
    assert changed.status_code == 200, changed.get_json()
    assert [(t["name"], t["count"]) for t in tags(alice)] == [("c", 1)]
    cleared = alice.patch(f"{prefix}/{second['id']}", json={"tags": []})
    assert cleared.status_code == 200, cleared.get_json()
    assert tags(alice) == []


def test_a_viewer_reads_them_and_another_ledgers_tags_never_show(alice, bob, conn):
    shared = ledger(conn, alice)
    member(conn, shared, bob, "viewer")
    food = alice.post(f"/api/ledgers/{shared}/categories", json={"name": "Food"}).get_json()
    made = alice.post(
        f"/api/ledgers/{shared}/transactions",
        json={"amount": "5.00", "type": "EXPENSE", "categoryId": food["id"],
              "date": "2026-03-01", "tags": ["shared"]},
    )  # fmt: skip
    assert made.status_code == 201, made.get_json()
    record(alice, category(alice), tags=["private"])
    assert [t["name"] for t in tags(bob, shared)] == ["shared"]
    assert [t["name"] for t in tags(alice)] == ["private"]
    assert tags(bob) == []


def test_a_query_parameter_is_422(alice):
    response = alice.get(f"/api/ledgers/{alice.ledger_id}/tags?q=a")
    assert list(assert_problem(response, 422, "validation_error")["errors"]) == ["q"]


def test_another_users_ledger_is_404(alice, bob):
    record(alice, category(alice), tags=["secret"])
    assert_problem(bob.get(f"/api/ledgers/{alice.ledger_id}/tags"), 404, "not_found")


def test_without_a_valid_token_it_is_401(client, alice):
    path = f"/api/ledgers/{alice.ledger_id}/tags"
    assert_problem(client.get(path), 401)
    assert_problem(client.get(path, headers={"Authorization": "Bearer nope"}), 401)


def test_there_is_no_default_ledger_alias(alice):
    assert_problem(alice.get("/api/tags"), 404)
