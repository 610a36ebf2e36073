"""Every resource route under /api/ledgers/<id>/..., acting in that ledger; v1 paths act in the
caller's default ledger; GET /api/notifications lists the alerts of every ledger the caller
belongs to. (Ledgers are made with the service layer here: the /api/ledgers routes are tested
with them.) Which role may do what on every ledger path: tests/ledgers/test_isolation.py."""

from __future__ import annotations

from expense_api.domain import periods
from tests.factories import ledger, member
from tests.helpers import assert_problem

MONTH = {"month": 3, "year": 2026}


def _world(user, prefix="/api") -> dict:
    """A category, a soft budget of 100 and an expense of 90 (so a threshold alert) in March
    2026, created through `prefix`; returns their ids."""
    category = user.post(f"{prefix}/categories", json={"name": "Food"})
    assert category.status_code == 201, category.get_json()
    category_id = category.get_json()["id"]
    budget = user.post(
        f"{prefix}/budgets",
        json={"categoryId": category_id, "amount": "100", **MONTH, "mode": "soft"},
    )
    assert budget.status_code == 201, budget.get_json()
    expense = user.post(
        f"{prefix}/transactions",
        json={"amount": "90.00", "type": "EXPENSE", "categoryId": category_id,
              "date": "2026-03-10", "description": "groceries"},
    )  # fmt: skip
    assert expense.status_code == 201, expense.get_json()
    body = expense.get_json()
    return {
        "category_id": category_id,
        "budget_id": budget.get_json()["id"],
        "transaction_id": body["id"],
        "alert_id": body["alerts"][0]["id"],
    }


def _reads(ids: dict) -> list[str]:
    """Every read of every resource, relative to /api or /api/ledgers/<id>."""
    return [
        "/categories", f"/categories/{ids['category_id']}",
        "/transactions", "/transactions?month=3&year=2026&limit=1", f"/transactions/{ids['transaction_id']}",
        "/budgets", "/budgets?month=3&year=2026", f"/budgets/{ids['budget_id']}",
        "/summary", "/summary?month=3&year=2026", "/category-breakdown?from=2026-03-01&to=2026-03-31",
        "/budget-usage?month=3&year=2026", "/trends?months=3", "/notifications",
    ]  # fmt: skip


def test_every_read_answers_the_same_on_the_ledger_path_and_on_v1(alice):
    ids = _world(alice)
    prefix = f"/api/ledgers/{alice.ledger_id}"
    for path in _reads(ids):
        v1, scoped = alice.get("/api" + path), alice.get(prefix + path)
        assert v1.status_code == scoped.status_code == 200, (path, scoped.get_json())
        assert scoped.get_json() == v1.get_json(), path
    alert = alice.post(f"{prefix}/notifications/{ids['alert_id']}/read")
    assert alert.status_code == 200
    again = alice.post(f"/api/notifications/{ids['alert_id']}/read")
    assert again.get_json() == alert.get_json()  # the first read time kept


def test_writes_through_the_ledger_path_land_in_the_default_ledger(alice):
    prefix = f"/api/ledgers/{alice.ledger_id}"
    ids = _world(alice, prefix)
    # Written through the ledger path, read through v1: the same rows, the same answers.
    for path in _reads(ids):
        assert alice.get(prefix + path).get_json() == alice.get("/api" + path).get_json(), path
    renamed = alice.patch(f"{prefix}/categories/{ids['category_id']}", json={"name": "Groceries"})
    assert renamed.status_code == 200
    assert alice.get(f"/api/categories/{ids['category_id']}").get_json() == renamed.get_json()
    changed = alice.patch(f"{prefix}/transactions/{ids['transaction_id']}", json={"amount": "95"})
    assert changed.status_code == 200 and changed.get_json()["amount"] == "95.00"
    assert alice.get(f"/api/transactions/{ids['transaction_id']}").get_json()["amount"] == "95.00"
    # Budgets upsert by (month, year, category) whichever path: the same id, updated.
    saved = alice.post(
        f"{prefix}/budgets", json={"categoryId": ids["category_id"], "amount": "120", **MONTH}
    )
    assert saved.status_code == 200 and saved.get_json()["id"] == ids["budget_id"]
    deletions = (
        ("transactions", "transaction_id"), ("budgets", "budget_id"), ("categories", "category_id"),
    )  # fmt: skip
    for kind, key in deletions:
        assert alice.delete(f"{prefix}/{kind}/{ids[key]}").status_code == 204, kind
    for kind, key in (("transactions", "transaction_id"), ("budgets", "budget_id")):
        assert_problem(alice.get(f"/api/{kind}/{ids[key]}"), 404, "not_found")


def test_a_second_ledger_keeps_its_own_rows(alice, conn):
    second = ledger(conn, alice, name="Holiday")
    ours = _world(alice)
    theirs = _world(alice, f"/api/ledgers/{second}")
    first_path, second_path = f"/api/ledgers/{alice.ledger_id}", f"/api/ledgers/{second}"
    for prefix in ("/api", first_path):
        listed = {
            kind: [item["id"] for item in alice.get(f"{prefix}/{kind}{query}").get_json()["items"]]
            for kind, query in (
                ("categories", ""),
                ("transactions", "?month=3&year=2026"),
                ("budgets", ""),
            )
        }
        assert listed == {
            "categories": [ours["category_id"]],
            "transactions": [ours["transaction_id"]],
            "budgets": [ours["budget_id"]],
        }, prefix
        for kind, key in (("categories", "category_id"), ("transactions", "transaction_id"),
                          ("budgets", "budget_id")):  # fmt: skip
            assert_problem(alice.get(f"{prefix}/{kind}/{theirs[key]}"), 404, "not_found")
            assert_problem(alice.delete(f"{prefix}/{kind}/{theirs[key]}"), 404, "not_found")
        assert alice.get(f"{prefix}/summary", query_string=MONTH).get_json()["totalExpense"] == (
            "90.00"
        )
    # Marking read on the first ledger's path finds no alert of the second.
    assert_problem(alice.post(f"{first_path}/notifications/{theirs['alert_id']}/read"), 404)
    in_second = alice.get(f"{second_path}/transactions", query_string=MONTH).get_json()["items"]
    assert [item["id"] for item in in_second] == [theirs["transaction_id"]]
    assert alice.get(f"{second_path}/categories/{theirs['category_id']}").status_code == 200
    assert_problem(alice.get(f"{second_path}/categories/{ours['category_id']}"), 404)
    # A category name is unique per ledger, not per user: both ledgers have a "Food".
    names = [c["name"] for c in alice.get(f"{second_path}/categories").get_json()["items"]]
    assert names == ["Food"]


def test_money_and_default_periods_follow_the_ledgers_currency_and_time_zone(alice, conn):
    yen = ledger(conn, alice, name="Japan", currency="JPY", timezone="Pacific/Kiritimati")
    prefix = f"/api/ledgers/{yen}"
    category = alice.post(f"{prefix}/categories", json={"name": "Ramen"}).get_json()["id"]
    expense = {"type": "EXPENSE", "categoryId": category, "date": "2026-03-10"}
    # The body is read with the path ledger's currency: yen have no minor unit.
    refused = alice.post(f"{prefix}/transactions", json={**expense, "amount": "12.50"})
    problem = assert_problem(refused, 422, "validation_error")
    assert "amount" in problem["errors"]
    recorded = alice.post(f"{prefix}/transactions", json={**expense, "amount": "1250"})
    assert recorded.status_code == 201 and recorded.get_json()["amount"] == "1250"
    summary = alice.get(f"{prefix}/summary", query_string=MONTH).get_json()
    assert (summary["currency"], summary["totalExpense"]) == ("JPY", "1250")
    # v1 stays in the default ledger's dollars.
    v1_category = alice.post("/api/categories", json={"name": "Lunch"}).get_json()["id"]
    cents = alice.post("/api/transactions", json={**expense, "categoryId": v1_category,
                                                  "amount": "12.50"})  # fmt: skip
    assert cents.status_code == 201 and cents.get_json()["amount"] == "12.50"
    assert alice.get("/api/summary", query_string=MONTH).get_json()["currency"] == "USD"
    # The default period is the current month in the ledger's time zone.
    month = periods.current_month("Pacific/Kiritimati")
    default = alice.get(f"{prefix}/summary").get_json()
    assert (default["from"], default["to"]) == (month.start.isoformat(), month.end.isoformat())


def test_an_editor_spends_in_the_owners_ledger_and_the_shared_hard_budget_holds(alice, bob, conn):
    member(conn, alice.ledger_id, bob, "editor")
    prefix = f"/api/ledgers/{alice.ledger_id}"
    food = alice.post("/api/categories", json={"name": "Food"}).get_json()["id"]
    budget = alice.post(
        "/api/budgets", json={"categoryId": food, "amount": "100", **MONTH, "mode": "hard"}
    )
    assert budget.status_code == 201
    expense = {"type": "EXPENSE", "categoryId": food, "date": "2026-03-10"}
    spent = bob.post(f"{prefix}/transactions", json={**expense, "amount": "60"})
    assert spent.status_code == 201, spent.get_json()
    assert spent.get_json()["createdBy"] == {"id": bob.id, "name": "Bob"}
    refused = bob.post(f"{prefix}/transactions", json={**expense, "amount": "50"})
    problem = assert_problem(refused, 409, "budget_exceeded")
    assert problem["budget"]["id"] == budget.get_json()["id"]
    # The owner sees the partner's expense on v1; the partner's own v1 paths are their ledger.
    owners = alice.get("/api/transactions", query_string=MONTH).get_json()["items"]
    assert [(t["amount"], t["createdBy"]["id"]) for t in owners] == [("60.00", bob.id)]
    assert bob.get("/api/transactions", query_string=MONTH).get_json()["items"] == []
    assert_problem(alice.post("/api/transactions", json={**expense, "amount": "41"}), 409)


def test_a_viewer_reads_but_cannot_write(alice, bob, conn):
    member(conn, alice.ledger_id, bob, "viewer")
    ids = _world(alice)
    prefix = f"/api/ledgers/{alice.ledger_id}"
    for path in _reads(ids):
        assert bob.get(prefix + path).get_json() == alice.get(prefix + path).get_json(), path
    before = {path: alice.get(prefix + path).get_json() for path in _reads(ids)}
    writes = [
        ("POST", "/categories", {"name": "Mine"}),
        ("PATCH", f"/categories/{ids['category_id']}", {"name": "Mine"}),
        ("DELETE", f"/categories/{ids['category_id']}", None),
        ("POST", "/transactions",
         {"amount": "1", "type": "EXPENSE", "categoryId": ids["category_id"], "date": "2026-03-10"}),
        ("PATCH", f"/transactions/{ids['transaction_id']}", {"amount": "1"}),
        ("DELETE", f"/transactions/{ids['transaction_id']}", None),
        ("POST", "/budgets", {"categoryId": ids["category_id"], "amount": "1", **MONTH}),
        ("DELETE", f"/budgets/{ids['budget_id']}", None),
    ]  # fmt: skip
    for method, path, body in writes:
        kwargs = {"json": body} if body is not None else {}
        assert_problem(bob.request(method, prefix + path, **kwargs), 403, "forbidden")
    assert {path: alice.get(prefix + path).get_json() for path in _reads(ids)} == before


def test_a_non_member_gets_404_on_every_ledger_path_before_the_body_is_read(alice, bob):
    ids = _world(alice)
    for ledger_id in (alice.ledger_id, 999_999_999):
        prefix = f"/api/ledgers/{ledger_id}"
        for path in _reads(ids):
            assert_problem(bob.get(prefix + path), 404, "not_found")
        # An invalid body is not even looked at: the ledger does not exist for them.
        assert_problem(bob.post(f"{prefix}/transactions", json={"amount": "x"}), 404)
        assert_problem(bob.post(f"{prefix}/notifications/{ids['alert_id']}/read"), 404)
    assert_problem(bob.post(f"/api/notifications/{ids['alert_id']}/read"), 404, "not_found")
    assert bob.get("/api/notifications").get_json()["items"] == []


def test_v1_notifications_list_every_ledger_with_each_members_read_state(alice, bob, conn):
    shared = ledger(conn, alice, name="Flat")
    member(conn, shared, bob, "viewer")
    own = _world(alice)  # alice's default ledger
    flat = _world(alice, f"/api/ledgers/{shared}")  # newer alert, in the shared ledger
    bobs = _world(bob)  # bob's default ledger
    listed = alice.get("/api/notifications").get_json()
    assert [(a["id"], a["ledgerId"]) for a in listed["items"]] == [
        (flat["alert_id"], shared), (own["alert_id"], alice.ledger_id),
    ]  # fmt: skip
    assert listed["nextCursor"] is None
    # Each ledger path lists its own.
    for ledger_id, ids in ((shared, flat), (alice.ledger_id, own)):
        items = alice.get(f"/api/ledgers/{ledger_id}/notifications").get_json()["items"]
        assert [a["id"] for a in items] == [ids["alert_id"]]
    # Keyset pagination runs across ledgers.
    first = alice.get("/api/notifications", query_string={"limit": 1}).get_json()
    assert [a["id"] for a in first["items"]] == [flat["alert_id"]]
    rest = alice.get(
        "/api/notifications", query_string={"limit": 1, "cursor": first["nextCursor"]}
    ).get_json()
    assert [a["id"] for a in rest["items"]] == [own["alert_id"]] and rest["nextCursor"] is None
    # Bob sees the shared ledger's alert and his own, never alice's personal one.
    assert [a["id"] for a in bob.get("/api/notifications").get_json()["items"]] == [
        bobs["alert_id"], flat["alert_id"],
    ]  # fmt: skip
    # Alice reads the shared alert on v1 (it is not in her default ledger): read for her only.
    read = alice.post(f"/api/notifications/{flat['alert_id']}/read")
    assert read.status_code == 200 and read.get_json()["readAt"] is not None
    assert read.get_json()["ledgerId"] == shared
    unread = alice.get("/api/notifications", query_string={"unread": "true"}).get_json()
    assert [a["id"] for a in unread["items"]] == [own["alert_id"]]
    bob_unread = bob.get("/api/notifications", query_string={"unread": "true"}).get_json()
    assert [a["id"] for a in bob_unread["items"]] == [bobs["alert_id"], flat["alert_id"]]
    # Bob, a viewer, marks it read through the ledger path; alice's first read time is kept.
    bob_read = bob.post(f"/api/ledgers/{shared}/notifications/{flat['alert_id']}/read")
    assert bob_read.status_code == 200 and bob_read.get_json()["readAt"] is not None
    again = alice.get(f"/api/ledgers/{shared}/notifications").get_json()["items"][0]
    assert again["readAt"] == read.get_json()["readAt"]
    # Nobody reaches an alert of a ledger they are not in, on any path.
    assert_problem(bob.post(f"/api/notifications/{own['alert_id']}/read"), 404, "not_found")
    assert_problem(alice.post(f"/api/notifications/{bobs['alert_id']}/read"), 404, "not_found")
