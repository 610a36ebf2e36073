"""/api/recurring and the worker's step, with an injected clock: rules, their dates (catch-up,
month ends, time zones), budget refusals, pauses, and what PATCH and DELETE leave behind.

The module has a database of its own (the worker acts on every due rule in a database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from expense_api.worker import jobs
from tests import factories
from tests.factories import category, record, recurring, run_worker
from tests.helpers import assert_problem, module_database_fixtures, recurring_metric

NOW = datetime(2030, 2, 20, 12, 0, tzinfo=UTC)


database_url, app, database = module_database_fixtures()


def _occurrences(user, rule_id, **query) -> list[dict]:
    response = user.get(f"/api/recurring/{rule_id}/occurrences", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def _transactions(user, date_from="2000-01-01", date_to="2099-12-31") -> list[dict]:
    query = {"from": date_from, "to": date_to, "limit": 500}
    return user.get("/api/transactions", query_string=query).get_json()["items"]


def _dates(items, key="date") -> list[str]:
    return sorted(item[key] for item in items)


# --- The API ------------------------------------------------------------------------------------


def test_create_get_list_and_preview(alice):
    food = category(alice)
    rule = recurring(alice, food, amount=1200, description="Rent", startDate="2029-01-31", count=24)
    assert rule == {
        "id": rule["id"], "amount": "1200.00", "currency": "USD", "type": "EXPENSE",
        "categoryId": food, "category": "General", "description": "Rent",
        "frequency": "monthly", "interval": 1,
        "byWeekday": None, "byMonthDay": None, "startDate": "2029-01-31", "endDate": None,
        "count": 24, "paused": False, "pausedReason": None, "nextDate": "2029-01-31",
        "failures": 0, "retryAt": None, "lastError": None, "createdAt": rule["createdAt"],
    }  # fmt: skip
    assert alice.get(f"/api/recurring/{rule['id']}").get_json() == rule
    assert alice.get("/api/recurring").get_json() == {"items": [rule]}
    preview = alice.get(f"/api/recurring/{rule['id']}/preview", query_string={"count": 4})
    assert _dates(preview.get_json()["items"]) == [
        "2029-01-31", "2029-02-28", "2029-03-31", "2029-04-30",
    ]  # fmt: skip
    default = alice.get(f"/api/recurring/{rule['id']}/preview").get_json()["items"]
    assert len(default) == 12
    for bad in ("0", "101", "x"):
        response = alice.get(f"/api/recurring/{rule['id']}/preview", query_string={"count": bad})
        assert_problem(response, 422, "validation_error")


def test_the_ledger_path_serves_the_same_rules(alice):
    food = category(alice)
    rule = recurring(
        alice, food, startDate="2029-05-01", path=f"/api/ledgers/{alice.ledger_id}/recurring"
    )
    assert alice.get(f"/api/recurring/{rule['id']}").get_json() == rule


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"interval": 0}, "interval"),
        ({"byMonthDay": 32}, "byMonthDay"),
        ({"byMonthDay": 0}, "byMonthDay"),
        ({"endDate": "2028-12-31"}, "endDate"),
        ({"count": 3, "endDate": "2030-01-01"}, "count"),
        ({"byWeekday": ["MO"]}, "byWeekday"),
        ({"frequency": "weekly", "byMonthDay": 3}, "byMonthDay"),
        ({"frequency": "weekly", "byWeekday": ["XX"]}, "byWeekday.0"),
        ({"frequency": "hourly"}, "frequency"),
        ({"count": 0}, "count"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"categoryId": 999999999}, "categoryId"),
        ({"startDate": "someday"}, "startDate"),
        ({"startDate": "1900-01-01"}, "startDate"),  # more than ten years back
        ({"type": "GIFT"}, "type"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_rules_are_422_and_nothing_is_stored(alice, changes, field):
    body = {"amount": "10", "type": "EXPENSE", "categoryId": category(alice),
            "frequency": "monthly", "startDate": "2029-01-01", **changes}  # fmt: skip
    problem = assert_problem(alice.post("/api/recurring", json=body), 422, "validation_error")
    assert field in problem["errors"], problem
    assert alice.get("/api/recurring").get_json() == {"items": []}


def test_a_start_date_goes_back_ten_years_at_most(alice, conn):
    """Ten years before today in the ledger's time zone (UTC here); a start date kept from
    before is not checked again when something else changes."""
    today = datetime.now(UTC).date()
    try:
        earliest = today.replace(year=today.year - 10)
    except ValueError:
        earliest = today.replace(year=today.year - 10, day=28)
    food = category(alice)
    rule = recurring(alice, food, frequency="yearly", startDate=earliest.isoformat())
    body = {"amount": "10", "type": "EXPENSE", "categoryId": food, "frequency": "yearly",
            "startDate": (earliest - timedelta(days=1)).isoformat()}  # fmt: skip
    problem = assert_problem(alice.post("/api/recurring", json=body), 422, "validation_error")
    assert problem["errors"] == {
        "startDate": [
            f"Must be {earliest} or later: at most 10 years before today in the ledger's time zone."
        ]
    }
    too_early = {"startDate": body["startDate"]}
    response = alice.patch(f"/api/recurring/{rule['id']}", json=too_early)
    assert assert_problem(response, 422, "validation_error")["errors"] == problem["errors"]
    assert alice.get("/api/recurring").get_json()["items"] == [rule]
    conn.execute(
        "UPDATE recurring_rules SET start_date = '1999-01-01' WHERE id = %s", (rule["id"],)
    )
    changed = alice.patch(f"/api/recurring/{rule['id']}", json={"amount": "11"})
    assert changed.status_code == 200, changed.get_json()
    # Far ahead is fine: the rule does nothing until then.
    assert recurring(alice, food, startDate="2999-12-31")["nextDate"] == "2999-12-31"


def test_missing_fields_and_tokens(alice, client):
    problem = assert_problem(alice.post("/api/recurring", json={}), 422)
    assert {"amount", "type", "categoryId", "frequency", "startDate"} <= problem["errors"].keys()
    assert_problem(client.get("/api/recurring"), 401)
    bad = {"Authorization": "Bearer nonsense"}
    assert_problem(client.get("/api/recurring", headers=bad), 401)
    assert_problem(client.post("/api/recurring", json={}), 401)


def test_another_ledgers_rule_is_404(alice, bob):
    rule = recurring(alice, category(alice), startDate="2029-01-01")
    for method, suffix, body in (
        ("GET", "", None), ("PATCH", "", {"amount": 1}), ("DELETE", "", None),
        ("GET", "/occurrences", None), ("GET", "/preview", None),
    ):  # fmt: skip
        response = bob.request(method, f"/api/recurring/{rule['id']}{suffix}", json=body)
        assert_problem(response, 404, "not_found")
    assert bob.get("/api/recurring").get_json() == {"items": []}
    # Nor can a rule point at another ledger's category.
    response = bob.post(
        "/api/recurring",
        json={"amount": 1, "type": "EXPENSE", "categoryId": rule["categoryId"],
              "frequency": "daily", "startDate": "2029-01-01"},
    )  # fmt: skip
    assert assert_problem(response, 422)["errors"] == {"categoryId": ["No such category."]}


def test_a_category_a_rule_uses_cannot_be_deleted(alice):
    food = category(alice)
    recurring(alice, food, startDate="2029-01-01")
    assert_problem(alice.delete(f"/api/categories/{food}"), 409, "category_in_use")


# --- Dates ----------------------------------------------------------------------------------


def test_catch_up_creates_every_missed_month_once_oldest_first(alice, database):
    food = category(alice)
    rule = recurring(alice, food, amount="50", startDate="2029-01-15")
    run_worker(database, NOW)
    expected = [f"2029-{m:02d}-15" for m in range(1, 13)] + ["2030-01-15", "2030-02-15"]
    occurrences = _occurrences(alice, rule["id"], limit=500)
    assert [o["date"] for o in occurrences] == expected[::-1]  # newest first
    assert {o["status"] for o in occurrences} == {"created"}
    created = _transactions(alice)
    assert _dates(created) == expected
    assert {t["amount"] for t in created} == {"50.00"}
    assert {o["transactionId"] for o in occurrences} == {t["id"] for t in created}
    # Created in date order (the catch-up goes oldest first) and by the rule's member.
    by_id = sorted(created, key=lambda t: t["id"])
    assert [t["date"] for t in by_id] == expected
    assert {t["createdBy"]["id"] for t in created} == {alice.id}
    assert alice.get(f"/api/recurring/{rule['id']}").get_json()["nextDate"] == "2030-03-15"
    run_worker(database, NOW)
    assert len(_occurrences(alice, rule["id"])) == len(_transactions(alice)) == 14  # not twice


def test_occurrences_are_paginated(alice, database):
    rule = recurring(alice, category(alice), frequency="daily", startDate="2030-02-01")
    run_worker(database, NOW)
    pages, cursor = [], None
    while True:
        query = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        body = alice.get(f"/api/recurring/{rule['id']}/occurrences", query_string=query)
        body = body.get_json()
        pages.append(body["items"])
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [7, 7, 6]
    flat = [item["date"] for page in pages for item in page]
    assert flat == [f"2030-02-{d:02d}" for d in range(20, 0, -1)]
    other = recurring(alice, category(alice, "Other"), startDate="2030-01-01")
    response = alice.get(
        f"/api/recurring/{other['id']}/occurrences", query_string={"cursor": "garbage"}
    )
    assert_problem(response, 422, "validation_error")


def test_weekly_every_second_week_on_given_weekdays(alice, database):
    rule = recurring(
        alice, category(alice), frequency="weekly", interval=2, byWeekday=["MO", "FR"],
        startDate="2030-01-01",
    )  # fmt: skip
    run_worker(database, NOW)
    # 2030-01-01 is a Tuesday: its week's Friday, then Mondays and Fridays every other week.
    assert _dates(_occurrences(alice, rule["id"])) == [
        "2030-01-04", "2030-01-14", "2030-01-18", "2030-01-28", "2030-02-01", "2030-02-11",
        "2030-02-15",
    ]  # fmt: skip


def test_month_end_days_fall_on_the_last_day_of_shorter_months(alice, database):
    food = category(alice)
    on_31 = recurring(alice, food, startDate="2027-10-31", endDate="2028-06-30")
    on_30 = recurring(alice, food, byMonthDay=30, startDate="2027-12-01", count=4)
    last = recurring(alice, food, byMonthDay=-1, startDate="2029-01-01", count=3)
    run_worker(database, NOW)
    assert _dates(_occurrences(alice, on_31["id"])) == [
        "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31", "2028-02-29", "2028-03-31",
        "2028-04-30", "2028-05-31", "2028-06-30",
    ]  # fmt: skip
    assert _dates(_occurrences(alice, on_30["id"])) == [
        "2027-12-30", "2028-01-30", "2028-02-29", "2028-03-30",
    ]  # fmt: skip
    assert _dates(_occurrences(alice, last["id"])) == ["2029-01-31", "2029-02-28", "2029-03-31"]
    # Ended (count and endDate): no next date, and the preview is empty.
    for rule in (on_31, on_30, last):
        assert alice.get(f"/api/recurring/{rule['id']}").get_json()["nextDate"] is None
        assert alice.get(f"/api/recurring/{rule['id']}/preview").get_json() == {"items": []}


def test_yearly_on_february_29_falls_on_the_28th_in_common_years(alice, database):
    rule = recurring(alice, category(alice), frequency="yearly", startDate="2024-02-29")
    run_worker(database, NOW)
    expected = ["2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29",
                "2029-02-28"]  # fmt: skip
    assert _dates(_occurrences(alice, rule["id"])) == _dates(_transactions(alice)) == expected
    # 2030-02-28 is after NOW (2030-02-20): only dates up to today are created.
    assert alice.get(f"/api/recurring/{rule['id']}").get_json()["nextDate"] == "2030-02-28"


@pytest.mark.parametrize(
    ("timezone", "before", "after"),
    [
        # Auckland is UTC+13 in March (daylight saving until April): 15 March starts at 11:00 UTC.
        ("Pacific/Auckland", "2030-03-14T10:59:00Z", "2030-03-14T11:00:00Z"),
        # Los Angeles is UTC-7 from 10 March 2030 (PDT): 15 March starts at 07:00 UTC.
        ("America/Los_Angeles", "2030-03-15T06:59:00Z", "2030-03-15T07:00:00Z"),
        # ... and UTC-8 before it (PST): 9 March starts at 08:00 UTC.
        ("America/Los_Angeles", "2030-03-09T07:59:00Z", "2030-03-09T08:00:00Z"),
    ],
)
def test_a_date_is_due_when_it_has_come_in_the_ledgers_time_zone(
    accounts, database, timezone, before, after
):
    user = accounts.new_user(timezone=timezone)
    day = after[:10] if timezone != "Pacific/Auckland" else "2030-03-15"
    rule = recurring(user, category(user), frequency="daily", startDate=day)
    run_worker(database, datetime.fromisoformat(before))
    assert _occurrences(user, rule["id"]) == []
    run_worker(database, datetime.fromisoformat(after))
    assert _dates(_occurrences(user, rule["id"])) == [day]
    assert [t["date"] for t in _transactions(user)] == [day]


def test_ledgers_take_turns_so_a_backlog_holds_up_no_other_ledgers_date(
    alice, bob, accounts, database
):
    run_worker(database, NOW)  # what earlier tests left due
    carol = accounts.new_user(name="Carol")
    # 112 dates each to catch up, more than one tick's batch.
    behind = recurring(alice, category(alice), frequency="daily", startDate="2029-11-01")
    also_behind = recurring(bob, category(bob), frequency="daily", startDate="2029-11-01")
    due = recurring(carol, category(carol), startDate="2030-02-20")
    assert jobs.create_due_occurrences(database, lambda: NOW) == jobs.BATCH  # one tick
    assert _dates(_occurrences(carol, due["id"])) == ["2030-02-20"]
    alices, bobs = len(_occurrences(alice, behind["id"])), len(_occurrences(bob, also_behind["id"]))
    assert alices + bobs == jobs.BATCH - 1 and abs(alices - bobs) <= 1
    # Each ledger's own dates still go oldest first, and all of them come.
    run_worker(database, NOW)
    for user, rule in ((alice, behind), (bob, also_behind)):
        dates = [item["date"] for item in _occurrences(user, rule["id"], limit=200)]
        assert dates == sorted(dates, reverse=True) and len(dates) == 112
        assert (dates[-1], dates[0]) == ("2029-11-01", "2030-02-20")


# --- Changes ----------------------------------------------------------------------------------


def test_patch_changes_only_dates_not_yet_created(alice, database):
    food, rent = category(alice), category(alice, "Rent")
    rule = recurring(alice, food, amount="100", startDate="2029-10-05")
    run_worker(database, datetime(2029, 12, 10, tzinfo=UTC))
    changed = alice.patch(
        f"/api/recurring/{rule['id']}",
        json={"amount": "120", "categoryId": rent, "byMonthDay": 20, "description": "new"},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["nextDate"] == "2029-12-20"  # after the last date handled
    run_worker(database, NOW)
    by_date = {t["date"]: t for t in _transactions(alice)}
    assert sorted(by_date) == [
        "2029-10-05", "2029-11-05", "2029-12-05", "2029-12-20", "2030-01-20", "2030-02-20",
    ]  # fmt: skip
    for day in ("2029-10-05", "2029-11-05", "2029-12-05"):
        assert (by_date[day]["amount"], by_date[day]["categoryId"]) == ("100.00", food)
    for day in ("2029-12-20", "2030-01-20", "2030-02-20"):
        assert (by_date[day]["amount"], by_date[day]["category"]) == ("120.00", "Rent")
    # Bad changes are 422, and change nothing.
    for body in ({"endDate": "2029-01-01"}, {"frequency": "daily", "byMonthDay": 3}, {}):
        assert_problem(alice.patch(f"/api/recurring/{rule['id']}", json=body), 422)
    assert alice.get(f"/api/recurring/{rule['id']}").get_json()["amount"] == "120.00"


def test_patch_can_switch_between_count_and_end_date(alice):
    rule = recurring(alice, category(alice), startDate="2031-01-01", count=2)
    ended = alice.patch(f"/api/recurring/{rule['id']}", json={"endDate": "2031-06-30"})
    assert (ended.get_json()["count"], ended.get_json()["endDate"]) == (None, "2031-06-30")
    counted = alice.patch(f"/api/recurring/{rule['id']}", json={"count": 3})
    assert (counted.get_json()["count"], counted.get_json()["endDate"]) == (3, None)
    weekly = alice.patch(f"/api/recurring/{rule['id']}", json={"frequency": "weekly"})
    assert weekly.status_code == 200 and weekly.get_json()["byMonthDay"] is None


def test_delete_stops_the_rule_and_keeps_its_transactions(alice, database):
    rule = recurring(alice, category(alice), startDate="2029-11-01")
    run_worker(database, datetime(2029, 12, 15, tzinfo=UTC))
    assert alice.delete(f"/api/recurring/{rule['id']}").status_code == 204
    assert_problem(alice.get(f"/api/recurring/{rule['id']}"), 404)
    assert_problem(alice.delete(f"/api/recurring/{rule['id']}"), 404)
    run_worker(database, NOW)
    assert _dates(_transactions(alice)) == ["2029-11-01", "2029-12-01"]


def test_a_deleted_transaction_is_not_created_again(alice, database):
    rule = recurring(alice, category(alice), startDate="2030-01-01")
    run_worker(database, datetime(2030, 1, 2, tzinfo=UTC))
    (created,) = _transactions(alice)
    assert alice.delete(f"/api/transactions/{created['id']}").status_code == 204
    run_worker(database, NOW)
    assert _dates(_transactions(alice)) == ["2030-02-01"]
    occurrences = _occurrences(alice, rule["id"])
    assert [(o["date"], o["transactionId"] is None) for o in occurrences] == [
        ("2030-02-01", False), ("2030-01-01", True),
    ]  # fmt: skip


def test_a_hard_budget_skips_the_date_with_an_alert_and_the_rule_goes_on(alice, database):
    food = category(alice)
    budget = factories.save(alice, categoryId=food, amount="100", month=1, year=2030).get_json()
    record(alice, food, amount="80", date="2030-01-03")
    rule = recurring(alice, food, amount="30", startDate="2029-12-10")
    run_worker(database, NOW)
    occurrences = {o["date"]: o for o in _occurrences(alice, rule["id"])}
    assert occurrences["2030-01-10"] == {
        "date": "2030-01-10", "status": "skipped", "reason": "budget_exceeded",
        "transactionId": None, "budgetId": budget["id"],
    }  # fmt: skip
    assert occurrences["2029-12-10"]["status"] == occurrences["2030-02-10"]["status"] == "created"
    alerts = alice.get("/api/notifications").get_json()["items"]
    skipped = [a for a in alerts if a["kind"] == "recurring_skipped"]
    assert len(skipped) == 1
    assert skipped[0]["budgetId"] == budget["id"] and skipped[0]["recurringId"] == rule["id"]
    assert skipped[0]["percentUsed"] == "80.00"
    # The refused write left nothing behind: January spent what it spent before.
    usage = alice.get("/api/budget-usage", query_string={"month": 1, "year": 2030}).get_json()
    assert usage["items"][0]["spent"] == "80.00"
    assert _dates(_transactions(alice)) == ["2029-12-10", "2030-01-03", "2030-02-10"]
    # Not retried silently.
    run_worker(database, NOW)
    assert len(_occurrences(alice, rule["id"])) == 3


def test_a_skipped_date_records_a_recurring_skipped_webhook_event(alice, database):
    alice.post("/api/webhooks", json={"url": "http://127.0.0.1:9/hook",
                                      "events": ["recurring.skipped"]})  # fmt: skip
    food = category(alice)
    factories.save(alice, categoryId=food, amount="10", month=1, year=2030)
    rule = recurring(alice, food, amount="30", startDate="2030-01-10", count=1)
    run_worker(database, NOW)
    [alert] = alice.get("/api/notifications").get_json()["items"]
    assert alert["kind"] == "recurring_skipped" and alert["recurringId"] == rule["id"]
    with database.pool.connection() as conn:
        events = conn.execute(
            "SELECT type, data FROM webhook_events WHERE ledger_id = %s", (alice.ledger_id,)
        ).fetchall()
    assert events == [("recurring.skipped", alert)]


def test_created_and_skipped_dates_are_counted_for_metrics(alice, database):
    created, skipped = (
        recurring_metric("created", "none"),
        recurring_metric("skipped", "budget_exceeded"),
    )
    food = category(alice)
    factories.save(alice, categoryId=food, amount="50", month=3, year=2029)
    recurring(alice, food, amount="30", startDate="2029-03-01", frequency="daily", count=3)
    run_worker(database, NOW)
    assert recurring_metric("created", "none") - created == 1
    assert recurring_metric("skipped", "budget_exceeded") - skipped == 2


def _editors_rule(owner, accounts, conn, start: str) -> tuple[str, object, dict]:
    """A ledger of `owner`'s shared with an editor, who makes a monthly rule in it; returns
    (the ledger's path, the editor, the rule)."""
    editor = accounts.new_user(name="Editor")
    shared = factories.ledger(conn, owner, name="House")
    factories.member(conn, shared, editor, "editor")
    path = f"/api/ledgers/{shared}"
    food = editor.post(f"{path}/categories", json={"name": "Food"}).get_json()["id"]
    return path, editor, recurring(editor, food, startDate=start, path=f"{path}/recurring")


def test_a_rule_pauses_when_its_member_leaves_and_resumes_as_who_resumed_it(
    alice, accounts, conn, database
):
    path, editor, rule = _editors_rule(alice, accounts, conn, "2029-12-01")
    assert editor.delete(f"{path}/members/{editor.id}").status_code == 204
    run_worker(database, NOW)
    paused = alice.get(f"{path}/recurring/{rule['id']}").get_json()
    assert (paused["paused"], paused["pausedReason"]) == (True, "member_left")
    assert alice.get(f"{path}/recurring/{rule['id']}/occurrences").get_json()["items"] == []
    resumed = alice.patch(f"{path}/recurring/{rule['id']}", json={"paused": False})
    assert (resumed.get_json()["paused"], resumed.get_json()["pausedReason"]) == (False, None)
    run_worker(database, NOW)
    created = alice.get(
        f"{path}/transactions", query_string={"from": "2029-01-01", "to": "2030-12-31"}
    ).get_json()["items"]
    assert _dates(created) == ["2029-12-01", "2030-01-01", "2030-02-01"]  # caught up
    assert {t["createdBy"]["id"] for t in created} == {alice.id}


def test_a_rule_pauses_when_its_member_may_no_longer_write(alice, accounts, conn, database):
    path, editor, rule = _editors_rule(alice, accounts, conn, "2030-01-01")
    run_worker(database, datetime(2030, 1, 5, tzinfo=UTC))
    assert alice.patch(f"{path}/members/{editor.id}", json={"role": "viewer"}).status_code == 200
    run_worker(database, NOW)
    paused = alice.get(f"{path}/recurring/{rule['id']}").get_json()
    assert (paused["paused"], paused["pausedReason"]) == (True, "member_cannot_write")
    occurrences = alice.get(f"{path}/recurring/{rule['id']}/occurrences").get_json()["items"]
    assert [o["date"] for o in occurrences] == ["2030-01-01"]


def test_a_paused_rule_handles_no_date(alice, database):
    rule = recurring(alice, category(alice), startDate="2029-01-01", paused=True)
    run_worker(database, NOW)
    assert _occurrences(alice, rule["id"]) == []
    assert date.fromisoformat(rule["nextDate"]) == date(2029, 1, 1)
