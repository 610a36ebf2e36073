"""Categories as the contract says."""

from __future__ import annotations

import pytest

from tests.helpers import assert_problem


def _create(user, name):
    return user.post("/api/categories", json={"name": name})


def test_create_get_list_rename_delete(alice):
    created = _create(alice, "  Groceries  ")
    assert created.status_code == 201
    category = created.get_json()
    assert set(category) == {"id", "name", "createdAt"}
    assert category["name"] == "Groceries"
    assert category["createdAt"].endswith("Z")

    assert alice.get(f"/api/categories/{category['id']}").get_json() == category
    renamed = alice.patch(f"/api/categories/{category['id']}", json={"name": "Food"})
    assert (renamed.status_code, renamed.get_json()["name"]) == (200, "Food")
    assert alice.delete(f"/api/categories/{category['id']}").status_code == 204
    assert_problem(alice.get(f"/api/categories/{category['id']}"), 404, "not_found")


def test_list_is_ordered_by_name_ignoring_case(alice):
    for name in ("rent", "Bills", "apples", "Zoo"):
        _create(alice, name)
    names = [item["name"] for item in alice.get("/api/categories").get_json()["items"]]
    assert names == ["apples", "Bills", "rent", "Zoo"]


@pytest.mark.parametrize("again", ["Travel", "travel", "  TRAVEL "])
def test_duplicate_name_is_409(alice, again):
    _create(alice, "Travel")
    assert_problem(_create(alice, again), 409, "category_exists")


def test_rename_to_a_taken_name_is_409(alice):
    _create(alice, "One")
    two = _create(alice, "Two").get_json()
    assert_problem(alice.patch(f"/api/categories/{two['id']}", json={"name": "one"}), 409)


def test_rename_to_the_same_name_in_another_case_is_allowed(alice):
    one = _create(alice, "one").get_json()
    response = alice.patch(f"/api/categories/{one['id']}", json={"name": "One"})
    assert response.get_json()["name"] == "One"


def test_two_users_may_use_the_same_name(alice, bob):
    assert _create(alice, "Same").status_code == 201
    assert _create(bob, "Same").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 5}, "name"),
        ({"name": "ok", "color": "red"}, "color"),
    ],
)
def test_validation(alice, body, field):
    problem = assert_problem(alice.post("/api/categories", json=body), 422, "validation_error")
    assert field in problem["errors"]


def test_delete_in_use_is_409(alice):
    category = _create(alice, "Used").get_json()
    alice.post(
        "/api/transactions",
        json={"amount": "5", "type": "EXPENSE", "categoryId": category["id"], "date": "2026-01-05"},
    )
    assert_problem(alice.delete(f"/api/categories/{category['id']}"), 409, "category_in_use")
    assert alice.get(f"/api/categories/{category['id']}").status_code == 200


def test_other_users_categories_are_404(alice, bob):
    category = _create(alice, "Private").get_json()
    path = f"/api/categories/{category['id']}"
    assert_problem(bob.get(path), 404, "not_found")
    assert_problem(bob.patch(path, json={"name": "Mine"}), 404, "not_found")
    assert_problem(bob.delete(path), 404, "not_found")
    assert bob.get("/api/categories").get_json()["items"] == []
    assert alice.get(path).get_json()["name"] == "Private"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/categories"),
        ("POST", "/api/categories"),
        ("GET", "/api/categories/1"),
        ("PATCH", "/api/categories/1"),
        ("DELETE", "/api/categories/1"),
    ],
)
def test_requires_a_token(client, method, path):
    assert_problem(client.open(path, method=method, json={"name": "x"}), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(client.open(path, method=method, json={"name": "x"}, headers=bad), 401)
