"""Budget enforcement rules, alerts and dry runs (the contract's Enforcement and Alerts; docs/BUDGETS.md)."""

from __future__ import annotations

import pytest

from tests.factories import category, save, spend
from tests.helpers import assert_problem


def spent_in(user, year=2026, month=3) -> list[str]:
    rows = user.get(f"/api/transactions?year={year}&month={month}&type=EXPENSE").get_json()
    return [row["amount"] for row in rows["items"]]


def test_exactly_reaching_the_budget_is_allowed_one_cent_more_is_not(alice):
    food = category(alice)
    budget = save(alice, categoryId=food, amount="100.00").get_json()
    assert spend(alice, food, "60.00").status_code == 201
    assert spend(alice, food, "40.00").status_code == 201
    refused = spend(alice, food, "0.01")
    problem = assert_problem(refused, 409, "budget_exceeded")
    assert problem["budget"] == {
        "id": budget["id"],
        "categoryId": food,
        "year": 2026,
        "month": 3,
        "amount": "100.00",
        "carried": "0.00",
        "available": "100.00",
        "spent": "100.00",
        "remaining": "0.00",
        "wouldExceedBy": "0.01",
    }
    assert sorted(spent_in(alice)) == ["40.00", "60.00"]


def test_the_category_budget_is_reported_before_the_overall_one(alice):
    food = category(alice)
    save(alice, amount="50")  # overall
    category_budget = save(alice, categoryId=food, amount="40").get_json()
    problem = assert_problem(spend(alice, food, "60"), 409, "budget_exceeded")
    assert problem["budget"]["id"] == category_budget["id"]


def test_the_overall_budget_counts_every_category(alice):
    food, rent = category(alice, "Food"), category(alice, "Rent")
    overall = save(alice, amount="100").get_json()
    assert spend(alice, food, "70").status_code == 201
    problem = assert_problem(spend(alice, rent, "31"), 409, "budget_exceeded")
    assert problem["budget"]["id"] == overall["id"]
    assert problem["budget"]["categoryId"] is None
    assert problem["budget"]["remaining"] == "30.00"


def test_budgets_of_other_months_and_income_do_not_count(alice):
    food = category(alice)
    save(alice, categoryId=food, amount="10", month=4)
    assert spend(alice, food, "500", date="2026-03-31").status_code == 201
    save(alice, categoryId=food, amount="10", month=3)
    assert spend(alice, food, "1000", type="INCOME").status_code == 201


def test_soft_budgets_never_block_but_alert(alice):
    food = category(alice)
    budget = save(alice, categoryId=food, amount="100", mode="soft").get_json()
    response = spend(alice, food, "150")
    assert response.status_code == 201
    alerts = response.get_json()["alerts"]
    assert [(a["kind"], a["percentUsed"], a["budgetId"]) for a in alerts] == [
        ("threshold", "150.00", budget["id"]),
        ("limit", "150.00", budget["id"]),
    ]


def test_alerts_fire_once_per_budget_and_kind(alice):
    food = category(alice)
    budget = save(alice, categoryId=food, amount="100", alertThreshold=50).get_json()
    assert spend(alice, food, "49.99").get_json()["alerts"] == []
    first = spend(alice, food, "0.01").get_json()["alerts"]
    assert [(a["kind"], a["percentUsed"]) for a in first] == [("threshold", "50.00")]
    assert first[0]["readAt"] is None and first[0]["createdAt"].endswith("Z")
    assert spend(alice, food, "10").get_json()["alerts"] == []
    limit = spend(alice, food, "40").get_json()["alerts"]
    assert [(a["kind"], a["percentUsed"], a["budgetId"]) for a in limit] == [
        ("limit", "100.00", budget["id"])
    ]
    notes = alice.get("/api/notifications").get_json()["items"]
    assert [n["kind"] for n in notes] == ["limit", "threshold"]  # newest first


def test_the_limit_alert_waits_for_a_real_100_percent(alice):
    food = category(alice)
    save(alice, categoryId=food, amount="10000.00", alertThreshold=100, mode="soft")
    alerts = spend(alice, food, "9999.99").get_json()["alerts"]  # 99.9999%, shown as 100.00
    assert alerts == []


def test_an_overall_and_a_category_budget_alert_together(alice):
    food = category(alice)
    save(alice, amount="100", alertThreshold=50)
    save(alice, categoryId=food, amount="60", alertThreshold=50)
    alerts = spend(alice, food, "55").get_json()["alerts"]
    assert [(a["kind"], a["percentUsed"]) for a in alerts] == [
        ("threshold", "91.67"),
        ("threshold", "55.00"),
    ]


def test_moving_an_expense_into_a_full_month_is_refused(alice):
    food = category(alice)
    save(alice, categoryId=food, amount="100", month=4)
    assert spend(alice, food, "100", date="2026-04-05").status_code == 201
    march = spend(alice, food, "20", date="2026-03-05").get_json()
    moved = alice.patch(f"/api/transactions/{march['id']}", json={"date": "2026-04-20"})
    assert_problem(moved, 409, "budget_exceeded")
    assert alice.get(f"/api/transactions/{march['id']}").get_json()["date"] == "2026-03-05"


def test_moving_within_a_full_budget_counts_the_expense_once(alice):
    food = category(alice)
    save(alice, categoryId=food, amount="100")
    expense = spend(alice, food, "100").get_json()
    changed = alice.patch(f"/api/transactions/{expense['id']}", json={"date": "2026-03-20"})
    assert changed.status_code == 200
    assert (
        alice.patch(f"/api/transactions/{expense['id']}", json={"amount": "99"}).status_code == 200
    )
    assert_problem(
        alice.patch(f"/api/transactions/{expense['id']}", json={"amount": "100.01"}), 409
    )


def test_turning_income_into_an_expense_is_checked(alice):
    food = category(alice)
    save(alice, categoryId=food, amount="100")
    income = spend(alice, food, "150", type="INCOME").get_json()
    response = alice.patch(f"/api/transactions/{income['id']}", json={"type": "EXPENSE"})
    assert_problem(response, 409, "budget_exceeded")
    assert alice.get(f"/api/transactions/{income['id']}").get_json()["type"] == "INCOME"


def test_changing_category_into_a_full_budget_is_refused(alice):
    food, fun = category(alice, "Food"), category(alice, "Fun")
    save(alice, categoryId=fun, amount="10")
    expense = spend(alice, food, "20").get_json()
    assert_problem(alice.patch(f"/api/transactions/{expense['id']}", json={"categoryId": fun}), 409)


def test_lowering_a_budget_below_spending_is_allowed_and_shows_over(alice):
    food = category(alice)
    save(alice, categoryId=food, amount="100")
    expense = spend(alice, food, "80").get_json()
    lowered = save(alice, categoryId=food, amount="50")
    assert lowered.status_code == 200
    # Changes that do not add spending still go through; deleting always does.
    same = alice.patch(f"/api/transactions/{expense['id']}", json={"description": "still fine"})
    assert same.status_code == 200
    assert (
        alice.patch(f"/api/transactions/{expense['id']}", json={"amount": "70"}).status_code == 200
    )
    assert_problem(spend(alice, food, "0.01"), 409, "budget_exceeded")
    assert alice.delete(f"/api/transactions/{expense['id']}").status_code == 204


def test_a_budget_write_that_spending_already_reaches_alerts_once(alice):
    food = category(alice)
    assert spend(alice, food, "90").get_json()["alerts"] == []  # no budget yet
    created = save(alice, categoryId=food, amount="100")  # threshold 80 by default
    assert created.status_code == 201
    budget = created.get_json()
    assert [(a["kind"], a["percentUsed"], a["budgetId"]) for a in budget["alerts"]] == [
        ("threshold", "90.00", budget["id"])
    ]
    lowered = save(alice, categoryId=food, amount="85")
    assert lowered.status_code == 200
    limit = lowered.get_json()["alerts"]
    assert [(a["kind"], a["percentUsed"], a["budgetId"]) for a in limit] == [
        ("limit", "105.88", budget["id"])
    ]
    assert limit[0]["readAt"] is None and limit[0]["createdAt"].endswith("Z")
    assert save(alice, categoryId=food, amount="80").get_json()["alerts"] == []  # fired already
    notes = alice.get("/api/notifications").get_json()["items"]
    assert [(n["id"], n["kind"], n["percentUsed"]) for n in notes] == [
        (limit[0]["id"], "limit", "105.88"),
        (budget["alerts"][0]["id"], "threshold", "90.00"),
    ]


def test_a_budget_write_counts_its_own_scope_and_month(alice):
    food, fun = category(alice, "Food"), category(alice, "Fun")
    spend(alice, food, "30")
    spend(alice, fun, "30")
    spend(alice, food, "500", date="2026-04-02")  # another month
    spend(alice, food, "500", type="INCOME")  # not spending
    assert save(alice, amount="100").get_json()["alerts"] == []  # overall: 60%
    reached = save(alice, amount="75").get_json()["alerts"]  # 60 of 75 is exactly 80%
    assert [(a["kind"], a["percentUsed"]) for a in reached] == [("threshold", "80.00")]
    assert save(alice, categoryId=fun, amount="100").get_json()["alerts"] == []  # fun: 30%
    threshold = save(alice, categoryId=fun, amount="100", alertThreshold=30).get_json()["alerts"]
    assert [(a["kind"], a["percentUsed"]) for a in threshold] == [("threshold", "30.00")]
    soft = save(alice, categoryId=food, amount="30", mode="soft").get_json()["alerts"]
    assert [(a["kind"], a["percentUsed"]) for a in soft] == [
        ("threshold", "100.00"),
        ("limit", "100.00"),
    ]


def test_dry_run_create_writes_nothing(alice, conn):
    food = category(alice)
    save(alice, categoryId=food, amount="100", alertThreshold=50)
    preview = spend(alice, food, "60", dryRun="true")
    assert preview.status_code == 200
    body = preview.get_json()
    assert body["id"] is None and body["amount"] == "60.00"
    assert set(body) == {
        "id",
        "amount",
        "type",
        "categoryId",
        "category",
        "description",
        "date",
        "createdAt",
        "createdBy",
        "payee",
        "tags",
        "splits",
        "currency",
        "rate",
        "ledgerAmount",
        "alerts",
    }
    assert (body["categoryId"], body["date"]) == (food, "2026-03-10")
    assert [(a["id"], a["kind"]) for a in body["alerts"]] == [(None, "threshold")]
    assert spent_in(alice) == []
    assert alice.get("/api/notifications").get_json()["items"] == []
    refused = spend(alice, food, "101", dryRun="true")
    assert_problem(refused, 409, "budget_exceeded")
    totals = conn.execute(
        "SELECT count(*) FROM monthly_totals WHERE ledger_id = %s", (alice.ledger_id,)
    )
    assert totals.fetchone()[0] == 0
    real = spend(alice, food, "60")
    assert real.status_code == 201 and real.get_json()["alerts"][0]["id"] is not None


def test_dry_run_update_changes_nothing(alice):
    food = category(alice)
    save(alice, categoryId=food, amount="100")
    expense = spend(alice, food, "10").get_json()
    path = f"/api/transactions/{expense['id']}"
    preview = alice.patch(path + "?dryRun=true", json={"amount": "20"})
    assert (preview.status_code, preview.get_json()["amount"]) == (200, "20.00")
    assert preview.get_json()["categoryId"] == food and preview.get_json()["date"] == "2026-03-10"
    assert preview.get_json()["id"] == expense["id"]
    assert alice.get(path).get_json()["amount"] == "10.00"
    assert_problem(alice.patch(path + "?dryRun=true", json={"amount": "101"}), 409)
    assert_problem(alice.patch(path + "?dryRun=maybe", json={"amount": "20"}), 422)


def test_dry_run_with_an_idempotency_key_stores_nothing(alice):
    food = category(alice)
    headers = {"Idempotency-Key": "preview-then-real"}
    body = {"amount": "5", "type": "EXPENSE", "categoryId": food, "date": "2026-03-01"}
    preview = alice.post("/api/transactions?dryRun=true", json=body, headers=headers)
    assert preview.status_code == 200
    # The preview rolled back, claim included: the key is still free for the real request.
    real = alice.post("/api/transactions", json=body, headers=headers)
    assert real.status_code == 201


@pytest.mark.parametrize("threshold", [1, 100])
def test_threshold_extremes(alice, threshold):
    food = category(alice)
    save(alice, categoryId=food, amount="100", alertThreshold=threshold, mode="soft")
    kinds = [a["kind"] for a in spend(alice, food, "1").get_json()["alerts"]]
    assert kinds == (["threshold"] if threshold == 1 else [])


def test_notifications_read_and_unread(alice, bob):
    food = category(alice)
    save(alice, categoryId=food, amount="10", mode="soft")
    alerts = spend(alice, food, "20").get_json()["alerts"]
    first = alerts[0]["id"]
    read = alice.post(f"/api/notifications/{first}/read")
    assert read.status_code == 200 and read.get_json()["readAt"].endswith("Z")
    again = alice.post(f"/api/notifications/{first}/read").get_json()
    assert again["readAt"] == read.get_json()["readAt"]
    unread = alice.get("/api/notifications?unread=true").get_json()["items"]
    assert [a["id"] for a in unread] == [alerts[1]["id"]]
    assert_problem(bob.post(f"/api/notifications/{first}/read"), 404, "not_found")
    assert bob.get("/api/notifications").get_json()["items"] == []
    assert_problem(alice.post("/api/notifications/999999999/read"), 404)


def test_notifications_paginate(alice):
    food = category(alice)
    for month in range(1, 6):
        save(alice, categoryId=food, amount="1", mode="soft", month=month, alertThreshold=100)
        spend(alice, food, "1", date=f"2026-0{month}-01")
    ids, cursor = [], None
    while True:
        page = alice.get("/api/notifications?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        body = page.get_json()
        ids += [a["id"] for a in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert len(ids) == 10 and ids == sorted(ids, reverse=True)  # threshold + limit, 5 months
    assert_problem(alice.get("/api/notifications?cursor=bad"), 422)
    assert_problem(alice.get("/api/notifications?unread=perhaps"), 422)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/notifications"), ("POST", "/api/notifications/1/read")]
)
def test_notifications_require_a_token(client, method, path):
    assert_problem(client.open(path, method=method), 401)


def test_a_category_the_ledger_lacks_is_a_422_even_where_a_budget_would_refuse(alice, bob):
    # The overall budget refuses anything, and the database decides that in the same round trip
    # as the insert: the answer is still the 422 naming the field (a wrong category before any
    # 409), for the transaction's category and for a split line's.
    food, theirs = category(alice), category(bob, "Theirs")
    save(alice, amount="1.00")
    refused = spend(alice, theirs, "5.00")
    problem = assert_problem(refused, 422, "validation_error")
    assert problem["errors"] == {"categoryId": ["No such category."]}
    split = alice.post(
        "/api/transactions",
        json={"amount": "5.00", "type": "EXPENSE", "date": "2026-03-15", "splits": [
            {"categoryId": food, "amount": "2.00"}, {"categoryId": theirs, "amount": "3.00"}]},
    )  # fmt: skip
    problem = assert_problem(split, 422, "validation_error")
    assert problem["errors"] == {"splits.1.categoryId": ["No such category."]}
    # A category of the ledger still meets the budget.
    assert_problem(spend(alice, food, "5.00"), 409, "budget_exceeded")
    assert spent_in(alice) == []
