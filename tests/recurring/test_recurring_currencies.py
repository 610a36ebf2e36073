"""Recurring rules in a currency other than their ledger's (../shared/API.md "Recurring
transactions" and "Several currencies"): the amount's digits follow the rule's currency, each
occurrence takes the ledger's rate of its date, a date without one is skipped as `rate_unknown`
(the rule goes on, no failure), and the REST, GraphQL and change-log shapes carry `currency`.

The module has a database of its own (the worker acts on every due rule in a database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.factories import category, graphql, recurring, run_worker
from tests.helpers import assert_problem, module_database_fixtures, recurring_metric

NOW = datetime(2030, 2, 20, 12, 0, tzinfo=UTC)

database_url, app, database = module_database_fixtures()


def add_rate(conn, user, currency: str, day: str, rate: str) -> None:
    conn.execute(
        "INSERT INTO ledger_rates (ledger_id, currency, day, rate) VALUES (%s, %s, %s, %s)",
        (user.ledger_id, currency, day, Decimal(rate)),
    )


def _occurrences(user, rule_id) -> dict[str, dict]:
    response = user.get(f"/api/recurring/{rule_id}/occurrences", query_string={"limit": 500})
    assert response.status_code == 200, response.get_json()
    return {o["date"]: o for o in response.get_json()["items"]}


def _transactions(user) -> list[dict]:
    query = {"from": "2000-01-01", "to": "2099-12-31", "limit": 500}
    items = user.get("/api/transactions", query_string=query).get_json()["items"]
    return sorted(items, key=lambda t: t["date"])


def _rule_entries(user, rule_id) -> list[dict]:
    query = {"entity": "recurring", "entityId": rule_id}
    response = user.get(f"/api/ledgers/{user.ledger_id}/changes", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]  # newest first


def test_a_rule_in_euros_creates_each_date_at_that_dates_rate(alice, conn, database):
    food = category(alice)
    add_rate(conn, alice, "EUR", "2029-12-01", "1.1")
    add_rate(conn, alice, "EUR", "2030-02-01", "1.0842")
    rule = recurring(alice, food, amount="12.34", currency="EUR", startDate="2030-01-05")
    assert (rule["amount"], rule["currency"]) == ("12.34", "EUR")
    assert "rate" not in rule
    assert alice.get(f"/api/recurring/{rule['id']}").get_json() == rule
    assert run_worker(database, NOW) == 2
    created = _transactions(alice)
    assert [
        (t["date"], t["amount"], t["currency"], t["rate"], t["ledgerAmount"]) for t in created
    ] == [
        ("2030-01-05", "12.34", "EUR", "1.1", "13.57"),  # 13.574: half up once
        ("2030-02-05", "12.34", "EUR", "1.0842", "13.38"),  # 13.379028
    ]
    occurrences = _occurrences(alice, rule["id"])
    assert {o["status"] for o in occurrences.values()} == {"created"}
    assert {o["transactionId"] for o in occurrences.values()} == {t["id"] for t in created}
    summary = alice.get("/api/summary?month=2&year=2030").get_json()
    assert summary["totalExpense"] == "13.38"
    # The worker's change-log entry shows the rule as GET does, in its own currency.
    after = alice.get(f"/api/recurring/{rule['id']}").get_json()
    assert _rule_entries(alice, rule["id"])[0]["after"] == after
    assert after["currency"] == "EUR" and after["nextDate"] == "2030-03-05"


def test_dates_without_a_rate_are_skipped_and_later_dates_still_run(alice, conn, database):
    skipped_before = recurring_metric("skipped", "rate_unknown")
    food = category(alice)
    add_rate(conn, alice, "JPY", "2030-01-01", "0.0067")
    rule = recurring(alice, food, amount="1500", currency="JPY", startDate="2029-11-10")
    run_worker(database, NOW)
    occurrences = _occurrences(alice, rule["id"])
    assert occurrences["2029-11-10"] == occurrences["2029-12-10"] | {"date": "2029-11-10"}
    assert occurrences["2029-12-10"] == {
        "date": "2029-12-10", "status": "skipped", "reason": "rate_unknown",
        "transactionId": None, "budgetId": None,
    }  # fmt: skip
    assert [occurrences[d]["status"] for d in ("2030-01-10", "2030-02-10")] == ["created"] * 2
    assert [(t["date"], t["amount"], t["ledgerAmount"]) for t in _transactions(alice)] == [
        ("2030-01-10", "1500", "10.05"),
        ("2030-02-10", "1500", "10.05"),
    ]
    # Never a failure of the rule: it runs on, unpaused, with nothing to retry.
    shown = alice.get(f"/api/recurring/{rule['id']}").get_json()
    assert (shown["paused"], shown["failures"], shown["lastError"], shown["nextDate"]) == (
        False, 0, None, "2030-03-10")  # fmt: skip
    assert recurring_metric("skipped", "rate_unknown") - skipped_before == 2
    # No alert (alerts name a budget), and a skipped date is not tried again once a rate exists.
    assert alice.get("/api/notifications").get_json()["items"] == []
    add_rate(conn, alice, "JPY", "2029-01-01", "0.007")
    run_worker(database, NOW)
    assert len(_occurrences(alice, rule["id"])) == 4
    assert len(_transactions(alice)) == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"currency": "JPY", "amount": "10.5"}, "amount"),
        ({"currency": "EUR", "amount": "10.125"}, "amount"),
        ({"currency": "KWD", "amount": "1.2345"}, "amount"),
        ({"amount": "10.125"}, "amount"),  # the ledger's (USD)
        ({"currency": "EURO"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EUR", "rate": "1.1"}, "rate"),  # a rule takes no rate
    ],
)
def test_digits_follow_the_rules_currency_and_bad_input_is_422(alice, changes, field):
    body = {"amount": "10", "type": "EXPENSE", "categoryId": category(alice),
            "frequency": "monthly", "startDate": "2031-01-01", **changes}  # fmt: skip
    problem = assert_problem(alice.post("/api/recurring", json=body), 422, "validation_error")
    assert list(problem["errors"]) == [field], problem
    assert alice.get("/api/recurring").get_json() == {"items": []}


def test_digits_of_each_currency_are_accepted(alice):
    food = category(alice)
    kwd = recurring(alice, food, amount="1.234", currency="KWD", startDate="2031-01-01")
    assert (kwd["amount"], kwd["currency"]) == ("1.234", "KWD")
    yen = recurring(alice, food, amount=1500, currency="JPY", startDate="2031-01-01")
    assert (yen["amount"], yen["currency"]) == ("1500", "JPY")
    # The ledger's own currency given, or null, is the ledger's: stored as no currency.
    usd = recurring(alice, food, amount="2.5", currency="USD", startDate="2031-01-01")
    none = recurring(alice, food, amount="2.5", currency=None, startDate="2031-01-01")
    assert {(r["amount"], r["currency"]) for r in (usd, none)} == {("2.50", "USD")}


def test_patch_changes_the_currency_with_digits_checked_against_it(alice, conn):
    rule = recurring(alice, category(alice), amount="10.50", startDate="2031-01-01")
    path = f"/api/recurring/{rule['id']}"
    problem = assert_problem(alice.patch(path, json={"currency": "JPY"}), 422, "validation_error")
    assert problem["errors"] == {"amount": ["JPY allows at most 0 fraction digits."]}
    assert alice.get(path).get_json() == rule
    assert_problem(alice.patch(path, json={"rate": "2"}), 422, "validation_error")
    changed = alice.patch(path, json={"currency": "JPY", "amount": 1000})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["amount"], changed.get_json()["currency"]) == ("1000", "JPY")
    assert conn.execute(
        "SELECT amount, currency FROM recurring_rules WHERE id = %s", (rule["id"],)
    ).fetchone() == (Decimal("1000"), "JPY")
    # Changing the amount alone keeps the currency; its digits are still the rule's currency's.
    refused = assert_problem(alice.patch(path, json={"amount": "5.5"}), 422, "validation_error")
    assert list(refused["errors"]) == ["amount"]
    back = alice.patch(path, json={"currency": None}).get_json()
    assert (back["amount"], back["currency"]) == ("1000.00", "USD")
    entries = _rule_entries(alice, rule["id"])
    assert [e["op"] for e in entries] == ["updated", "updated", "created"]
    assert entries[1]["after"] == changed.get_json()
    assert entries[0]["before"] == changed.get_json() and entries[0]["after"] == back


RULE_FIELDS = "id amount currency type categoryId description nextDate"


def test_graphql_takes_and_shows_the_currency_as_rest_does(alice):
    food = category(alice)
    body = graphql(
        alice,
        f"""mutation($input: RecurringInput!) {{
              createRecurring(input: $input) {{ {RULE_FIELDS} }} }}""",
        {"input": {"amount": "7.125", "currency": "KWD", "type": "EXPENSE", "categoryId": food,
                   "frequency": "monthly", "startDate": "2031-01-01"}},
    )  # fmt: skip
    assert "errors" not in body, body
    created = body["data"]["createRecurring"]
    rest = alice.get(f"/api/recurring/{created['id']}").get_json()
    assert created == {key: rest[key] for key in created}
    assert (created["amount"], created["currency"]) == ("7.125", "KWD")
    update = f"""mutation($id: Int!, $input: RecurringPatch!) {{
                   updateRecurring(id: $id, input: $input) {{ {RULE_FIELDS} }} }}"""
    # 7.125 is not a yen amount, nor a dollar one (null: the ledger's currency).
    for refused in ({"currency": "JPY"}, {"currency": None}):
        body = graphql(alice, update, {"id": created["id"], "input": refused})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["validation_error"], body
    body = graphql(alice, update, {"id": created["id"], "input": {"currency": None,
                                                                   "amount": "7.13"}})  # fmt: skip
    assert "errors" not in body, body
    changed = body["data"]["updateRecurring"]
    assert (changed["amount"], changed["currency"]) == ("7.13", "USD")
    assert changed == {key: value for key, value in
                       alice.get(f"/api/recurring/{created['id']}").get_json().items()
                       if key in changed}  # fmt: skip
