"""Tenant isolation, generated from the app's route map: a new route cannot escape it.

Every route that takes an id is called, with every method it allows, with another user's id:
always 404 problem+json. Every list and report is read by a user while another user's data is
present: none of it shows. The owner's data is unchanged afterwards.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

from .conftest import assert_problem

# A valid body per (method, id parameter), so a request reaches the ownership check instead of
# stopping at validation.
BODIES = {
    ("PATCH", "category_id"): {"name": "Taken over"},
    ("PATCH", "transaction_id"): {"amount": "1.00"},
    ("PATCH", "ledger_id"): {"name": "Taken over"},
    ("PATCH", "user_id"): {"role": "viewer"},  # /api/ledgers/<ledger_id>/members/<user_id>
}
# Path arguments that name nobody's data: the docs page's files (public, the same for everyone).
NOT_IDS = {"asset"}
NOT_LISTS = {"/api/openapi.json", "/api/docs", "/api/docs/", "/healthz", "/readyz", "/api/auth/me"}
SECRET_AMOUNT = "777.77"


def _owner_world(owner) -> dict:
    """One of each resource for the owner, dated this month so default periods include it."""
    secret = f"secret-{uuid.uuid4().hex[:8]}"
    today = datetime.now(UTC).date()
    category = owner.post("/api/categories", json={"name": secret}).get_json()
    budget = owner.post(
        "/api/budgets",
        json={
            "categoryId": category["id"],
            "amount": "100",
            "month": today.month,
            "year": today.year,
            "mode": "soft",
        },
    ).get_json()
    transaction = owner.post(
        "/api/transactions",
        json={"amount": SECRET_AMOUNT, "type": "EXPENSE", "categoryId": category["id"],
              "description": secret, "date": today.isoformat()},
    ).get_json()  # fmt: skip
    alert = transaction["alerts"][0]
    return {
        "secret": secret,
        "ids": {"category_id": category["id"], "budget_id": budget["id"],
                "transaction_id": transaction["id"], "alert_id": alert["id"],
                "ledger_id": owner.ledger_id, "user_id": owner.id},
    }  # fmt: skip


def _snapshot(owner, world) -> dict:
    ids = world["ids"]
    paths = [
        f"/api/categories/{ids['category_id']}", f"/api/budgets/{ids['budget_id']}",
        f"/api/transactions/{ids['transaction_id']}", "/api/notifications", "/api/categories",
        "/api/budgets", "/api/transactions", "/api/summary", "/api/ledgers",
        f"/api/ledgers/{ids['ledger_id']}", f"/api/ledgers/{ids['ledger_id']}/members",
    ]  # fmt: skip
    return {path: owner.get(path).get_json() for path in paths}


def _routes(app):
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        yield rule, methods


def test_every_route_with_an_id_answers_404_for_another_users_id(app, accounts):
    owner, intruder = accounts.new_user(name="Owner"), accounts.new_user(name="Intruder")
    world = _owner_world(owner)
    before = _snapshot(owner, world)
    adapter = app.url_map.bind("localhost")
    checked, failures = 0, []
    for rule, methods in _routes(app):
        if not rule.arguments or rule.arguments <= NOT_IDS:
            continue
        unknown = rule.arguments - world["ids"].keys()
        assert not unknown, f"{rule.rule}: add a resource for {unknown} to _owner_world"
        values = {name: world["ids"][name] for name in rule.arguments}
        for method in methods:
            path = adapter.build(rule.endpoint, values, method=method)
            last = re.findall(r"<(?:\w+:)?(\w+)>", rule.rule)[-1]  # the resource's own id
            body = BODIES.get((method, last))
            response = (
                intruder.request(method, path, json=body)
                if body
                else intruder.request(method, path)
            )
            checked += 1
            if response.status_code != 404 or response.mimetype != "application/problem+json":
                body = response.get_data(as_text=True)[:200]
                failures.append(f"{method} {path}: {response.status_code} {body}")
    assert not failures, "\n".join(failures)
    assert checked >= 8  # get/patch/delete of categories and transactions, budgets, alert read
    assert _snapshot(owner, world) == before


def test_no_list_or_report_shows_another_users_data(app, accounts):
    owner, intruder = accounts.new_user(name="Owner"), accounts.new_user(name="Intruder")
    world = _owner_world(owner)
    before = _snapshot(owner, world)
    listed = 0
    for rule, methods in _routes(app):
        if (
            rule.arguments
            or "GET" not in methods
            or rule.rule in NOT_LISTS
            or "static" in rule.rule
        ):
            continue
        response = intruder.get(rule.rule)
        assert response.status_code == 200, (rule.rule, response.get_json())
        text = json.dumps(response.get_json())
        assert world["secret"] not in text and SECRET_AMOUNT not in text, (rule.rule, text[:300])
        owner_view = json.dumps(owner.get(rule.rule).get_json())
        listed += 1
        # The same route shows the owner their own data (so the check above can fail).
        if rule.rule in ("/api/categories", "/api/transactions", "/api/category-breakdown"):
            assert world["secret"] in owner_view, rule.rule
        if rule.rule in ("/api/summary", "/api/transactions", "/api/category-breakdown"):
            assert SECRET_AMOUNT in owner_view, rule.rule
    assert listed >= 8
    assert _snapshot(owner, world) == before


def test_ids_of_nonexistent_rows_are_404_too(alice):
    for path in (
        "/api/categories/999999999",
        "/api/transactions/999999999",
        "/api/budgets/999999999",
    ):
        assert_problem(alice.get(path), 404, "not_found")
    assert_problem(alice.get("/api/categories/99999999999999999999"), 404)  # beyond bigint
    assert_problem(alice.get("/api/categories/0"), 404)
    assert_problem(alice.get("/api/categories/-1"), 404)
