"""Reports under `ledgers`: `ledgers { summary categoryBreakdown budgetUsage trends }` answers,
for each listed ledger, exactly what `ledger(id)` answers for it (its own currency, its own time
zone's default month), read in one statement per report for all of them (the statement counts
are in test_graphql_limits.py); a viewer reads them as an owner does."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.factories import graphql, graphql_codes

# Asked in three operations: all of them under `ledgers` at once would cost more than the limit
# (a report's items are priced as lists: 25 ledgers x 120 months of trends...).
REPORTS = [
    """march: summary(month: 3, year: 2026) { from to currency totalIncome totalExpense savings
                                            savingsRate }
    span: summary(from: "2026-02-10", to: "2026-04-05") { from to totalIncome totalExpense
                                                          savings savingsRate }
    now: summary { from to currency totalIncome totalExpense savings savingsRate }
    categoryBreakdown(month: 3, year: 2026) { from to total
                                              items { categoryId category amount share } }""",
    """spanBreakdown: categoryBreakdown(from: "2026-02-10", to: "2026-04-05") { total
                                              items { categoryId category amount share } }
    budgetUsage(month: 3, year: 2026) { month year items { budgetId categoryId category budget
                                        spent remaining percentUsed mode carried available
                                        rollover } }
    thisMonth: budgetUsage { month year items { budgetId spent remaining percentUsed } }""",
    """trends(from: "2026-01-01", to: "2026-04-30") { items { month income expense savings } }
    recent: trends(months: 3) { items { month income expense savings } }""",
]

# (name, currency, time zone): fraction digits 2, 3 and 0; zones 25 hours apart, so that at
# most hours of the day (and of a month's first and last day) their dates and months differ.
LEDGERS = [
    ("Kuwait", "KWD", "Pacific/Kiritimati"),
    ("Tokyo", "JPY", "Pacific/Pago_Pago"),
    ("Berlin", "EUR", "Europe/Berlin"),
]


def _seed(user, name, currency, timezone, scale) -> int:
    ledger = user.post(
        "/api/ledgers", json={"name": name, "currency": currency, "timezone": timezone}
    ).get_json()
    base = f"/api/ledgers/{ledger['id']}"
    ids = [user.post(f"{base}/categories", json={"name": n}).get_json()["id"]
           for n in ("rent", "Food", "travel")]  # fmt: skip
    today = datetime.now(ZoneInfo(timezone)).date()
    dates = ["2026-02-09", "2026-02-10", "2026-03-01", "2026-03-15", "2026-03-31",
             "2026-04-05", "2026-04-06", today.isoformat()]  # fmt: skip
    for n, day in enumerate(dates):
        body = {"amount": str(Decimal(scale) * (n + 1)), "type": "INCOME" if n % 3 == 0 else "EXPENSE",
                "categoryId": ids[n % 3], "date": day}  # fmt: skip
        assert user.post(f"{base}/transactions", json=body).status_code == 201
    for month, year in ((3, 2026), (today.month, today.year)):
        for category_id in (None, ids[1]):
            budget = {"amount": str(Decimal(scale) * 7), "month": month, "year": year,
                      "categoryId": category_id, "mode": "soft"}  # fmt: skip
            assert user.post(f"{base}/budgets", json=budget).status_code in (200, 201)
    return ledger["id"]


@pytest.fixture
def ledgers(alice) -> list[int]:
    scales = ("1.125", "100", "2.5")
    return [alice.ledger_id] + [
        _seed(alice, name, currency, zone, scale)
        for (name, currency, zone), scale in zip(LEDGERS, scales, strict=True)
    ]


def _listed(user) -> dict[int, dict]:
    listed: dict[int, dict] = {}
    for reports in REPORTS:
        answer = graphql(user, f"{{ ledgers {{ id {reports} }} }}")
        assert "errors" not in answer, answer
        for ledger in answer["data"]["ledgers"]:
            listed.setdefault(ledger.pop("id"), {}).update(ledger)
    return listed


def _one(user, ledger_id: int) -> dict:
    one: dict = {}
    for reports in REPORTS:
        answer = graphql(user, f"query($id: Int!) {{ ledger(id: $id) {{ {reports} }} }}",
                         {"id": ledger_id})  # fmt: skip
        assert "errors" not in answer, answer
        one.update(answer["data"]["ledger"])
    return one


def test_each_listed_ledgers_reports_are_its_own(alice, ledgers):
    listed = _listed(alice)
    assert sorted(listed) == sorted(ledgers)
    for ledger_id in ledgers:
        assert listed[ledger_id] == _one(alice, ledger_id), ledger_id
    kuwait, tokyo = listed[ledgers[1]], listed[ledgers[2]]
    # Each in its own currency's digits, with figures of its own.
    assert kuwait["march"]["currency"] == "KWD" and tokyo["march"]["currency"] == "JPY"
    assert kuwait["march"]["totalExpense"] == "9.000" and tokyo["march"]["totalExpense"] == "800"
    assert kuwait["budgetUsage"]["items"][1]["spent"] == "5.625"
    assert len(kuwait["trends"]["items"]) == 4 and kuwait["categoryBreakdown"]["items"]
    # The default month is each ledger's own: "now" and "thisMonth" follow its time zone.
    for ledger_id, (_, _, zone) in zip(ledgers[1:], LEDGERS, strict=True):
        today = datetime.now(ZoneInfo(zone)).date()
        assert listed[ledger_id]["thisMonth"]["month"] == today.month
        assert listed[ledger_id]["now"]["from"] == today.replace(day=1).isoformat()


def test_rest_gives_the_same_figures(alice, ledgers):
    listed = _listed(alice)
    for ledger_id in ledgers[1:]:
        base = f"/api/ledgers/{ledger_id}"
        rest = alice.get(f"{base}/summary?month=3&year=2026").get_json()
        assert rest == listed[ledger_id]["march"]
        rest = alice.get(f"{base}/budget-usage?month=3&year=2026").get_json()
        assert rest == listed[ledger_id]["budgetUsage"]


def test_a_viewer_reads_the_reports_of_the_ledgers_they_belong_to(alice, bob, ledgers):
    for ledger_id in ledgers[1:]:
        invited = alice.post(f"/api/ledgers/{ledger_id}/invitations",
                             json={"email": bob.data["email"], "role": "viewer"})  # fmt: skip
        assert invited.status_code == 201, invited.get_json()
        accepted = bob.post(f"/api/invitations/{invited.get_json()['id']}/accept")
        assert accepted.status_code == 200, accepted.get_json()
    as_bob, as_alice = _listed(bob), _listed(alice)
    assert sorted(as_bob) == sorted([bob.ledger_id, *ledgers[1:]])
    for ledger_id in ledgers[1:]:
        assert as_bob[ledger_id] == as_alice[ledger_id]


def test_a_bad_argument_is_refused_for_each_ledger(alice, ledgers):
    answer = graphql(alice, "{ ledgers { id summary(month: 13, year: 2026) { savings } } }")
    assert set(graphql_codes(answer)) == {"validation_error"} and answer["data"] is None
