"""Budgets API as the contract says: create-or-update, list, get, delete."""

from __future__ import annotations

import pytest

from tests.factories import category, save
from tests.helpers import assert_problem


def test_create_then_update_keeps_the_id(alice):
    food = category(alice, "Food")
    created = save(alice, categoryId=food, amount=500)
    assert created.status_code == 201
    budget = created.get_json()
    assert set(budget) == {
        "id",
        "categoryId",
        "category",
        "amount",
        "month",
        "year",
        "mode",
        "alertThreshold",
        "rollover",
        "createdAt",
        "alerts",  # what this write fired: nothing spent, nothing fired
    }
    assert budget.pop("alerts") == []
    assert (budget["amount"], budget["category"], budget["mode"], budget["alertThreshold"]) == (
        "500.00",
        "Food",
        "hard",
        80,
    )
    assert budget["rollover"] == "none"
    updated = save(alice, categoryId=food, amount="650.5", mode="soft", alertThreshold=90)
    assert updated.status_code == 200
    assert updated.get_json()["id"] == budget["id"]
    assert (updated.get_json()["amount"], updated.get_json()["mode"]) == ("650.50", "soft")
    # Fields left out of an update keep their values.
    rolled = save(alice, categoryId=food, amount=700, rollover="both").get_json()
    assert (rolled["rollover"], rolled["mode"]) == ("both", "soft")
    again = save(alice, categoryId=food, amount=700).get_json()
    assert (again["mode"], again["alertThreshold"], again["rollover"]) == ("soft", 90, "both")


def test_overall_budget_is_one_row_per_month(alice):
    first = save(alice, amount=1000)
    second = save(alice, categoryId=None, amount=1200)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert (second.get_json()["categoryId"], second.get_json()["category"]) == (None, None)


def test_list_filters_and_order(alice):
    food, bills = category(alice, "food"), category(alice, "Bills")
    save(alice, categoryId=food, month=3)
    save(alice, categoryId=bills, month=3)
    save(alice, month=3)
    save(alice, month=4)
    save(alice, month=3, year=2027)
    march = alice.get("/api/budgets?month=3&year=2026").get_json()["items"]
    assert [b["category"] for b in march] == [None, "Bills", "food"]
    assert len(alice.get("/api/budgets").get_json()["items"]) == 5
    assert len(alice.get("/api/budgets?year=2026").get_json()["items"]) == 4
    assert len(alice.get("/api/budgets?month=3").get_json()["items"]) == 4


def test_get_and_delete(alice):
    budget = save(alice).get_json()
    assert budget.pop("alerts") == []  # only the write's answer tells what it fired
    assert alice.get(f"/api/budgets/{budget['id']}").get_json() == budget
    assert alice.delete(f"/api/budgets/{budget['id']}").status_code == 204
    assert_problem(alice.get(f"/api/budgets/{budget['id']}"), 404, "not_found")
    assert_problem(alice.delete(f"/api/budgets/{budget['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "1e3"}, "amount"),
        ({"month": 0}, "month"),
        ({"month": 13}, "month"),
        ({"month": "3"}, "month"),
        ({"year": 1899}, "year"),
        ({"year": 3000}, "year"),
        ({"mode": "strict"}, "mode"),
        ({"rollover": "all"}, "rollover"),
        ({"rollover": "SURPLUS"}, "rollover"),
        ({"alertThreshold": 0}, "alertThreshold"),
        ({"alertThreshold": 101}, "alertThreshold"),
        ({"alertThreshold": 50.5}, "alertThreshold"),
        ({"categoryId": "1"}, "categoryId"),
        ({"categoryId": 999999999}, "categoryId"),
        ({"extra": True}, "extra"),
    ],
)
def test_validation(alice, body, field):
    response = save(alice, **body)
    assert field in assert_problem(response, 422, "validation_error")["errors"]
    assert alice.get("/api/budgets").get_json()["items"] == []


@pytest.mark.parametrize("missing", ["amount", "month", "year"])
def test_required_fields(alice, missing):
    body = {"amount": "1", "month": 1, "year": 2026}
    del body[missing]
    assert missing in assert_problem(alice.post("/api/budgets", json=body), 422)["errors"]


def test_another_users_category_is_422(alice, bob):
    response = save(alice, categoryId=category(bob))
    assert assert_problem(response, 422)["errors"] == {"categoryId": ["No such category."]}


def test_other_users_budgets_are_404_and_invisible(alice, bob):
    budget = save(alice).get_json()
    assert_problem(bob.get(f"/api/budgets/{budget['id']}"), 404)
    assert_problem(bob.delete(f"/api/budgets/{budget['id']}"), 404)
    assert bob.get("/api/budgets").get_json()["items"] == []
    assert alice.get(f"/api/budgets/{budget['id']}").status_code == 200


def test_a_category_with_a_budget_is_in_use(alice):
    food = category(alice)
    save(alice, categoryId=food)
    assert_problem(alice.delete(f"/api/categories/{food}"), 409, "category_in_use")


def test_amount_uses_the_users_currency(accounts):
    yen = accounts.new_user(currency="JPY")
    assert save(yen, amount=50000).get_json()["amount"] == "50000"
    assert "amount" in assert_problem(save(yen, amount="1.5"), 422)["errors"]


def test_list_validation(alice):
    for query in ("month=13", "year=abc", "other=1"):
        assert_problem(alice.get(f"/api/budgets?{query}"), 422)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/budgets"),
        ("POST", "/api/budgets"),
        ("GET", "/api/budgets/1"),
        ("DELETE", "/api/budgets/1"),
    ],
)
def test_requires_a_token(client, method, path):
    assert_problem(client.open(path, method=method, json={}), 401)
    bad = {"Authorization": "Bearer nope"}
    assert_problem(client.open(path, method=method, json={}, headers=bad), 401)
