"""A part of a period (../shared/API.md, General, v3): `month` alone is that month of the current
year, `year` alone the whole year, `from` alone runs to today, `to` alone starts at the ledger's
first transaction, all in the ledger's time zone; month/year with from/to stays 422.

The ledgers here live in Pacific/Kiritimati (UTC+14), where the date is already tomorrow for most
of the UTC day, and their transactions sit on both sides of a new year and of a month's end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from expense_api.domain.periods import Period, resolve, today_in
from tests.factories import category, graphql, record
from tests.helpers import assert_problem

ZONE = "Pacific/Kiritimati"  # UTC+14
# 2026-12-31 11:30 UTC is already 2027-01-01 01:30 in the ledger's zone.
NEW_YEAR_IN_ZONE = datetime(2026, 12, 31, 11, 30, tzinfo=UTC)


def test_month_alone_is_that_month_of_the_zones_current_year():
    assert resolve({"month": 2}, ZONE, NEW_YEAR_IN_ZONE) == Period(
        date(2027, 2, 1), date(2027, 2, 28)
    )
    assert resolve({"month": 2}, "UTC", NEW_YEAR_IN_ZONE) == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )


def test_year_alone_is_the_whole_year():
    assert resolve({"year": 2024}, ZONE, NEW_YEAR_IN_ZONE) == Period(
        date(2024, 1, 1), date(2024, 12, 31)
    )


def test_from_alone_runs_to_the_zones_today():
    start = date(2026, 12, 1)
    assert resolve({"from_": start}, ZONE, NEW_YEAR_IN_ZONE) == Period(start, date(2027, 1, 1))
    assert resolve({"from_": start}, "UTC", NEW_YEAR_IN_ZONE) == Period(start, date(2026, 12, 31))


def test_from_alone_after_today_is_an_empty_period():
    period = resolve({"from_": date(2027, 3, 1)}, ZONE, NEW_YEAR_IN_ZONE)
    assert period == Period(date(2027, 3, 1), date(2027, 1, 1))  # `to` before `from`: nothing


def test_to_alone_starts_at_the_first_transaction_asked_only_then():
    asked = []

    def first():
        asked.append(True)
        return date(2025, 12, 31)

    end = date(2026, 1, 31)
    assert resolve({"to": end}, ZONE, NEW_YEAR_IN_ZONE, first_date=first) == Period(
        date(2025, 12, 31), end
    )
    assert len(asked) == 1
    for other in ({"month": 1}, {"year": 2026}, {"from_": end}, {"from_": end, "to": end}, {}):
        resolve(other, ZONE, NEW_YEAR_IN_ZONE, first_date=first)
    assert len(asked) == 1


@pytest.mark.parametrize("first", [None, date(2026, 3, 1)])
def test_to_alone_without_a_transaction_up_to_it_is_just_that_day(first):
    end = date(2026, 1, 31)
    assert resolve({"to": end}, ZONE, first_date=lambda: first) == Period(end, end)


@pytest.fixture
def ledger(accounts):
    """A ledger in UTC+14 with an expense on each side of the 2025/2026 new year and of the end
    of January 2026, and income in February."""
    user = accounts.new_user(timezone=ZONE)
    food, job = category(user, "Food"), category(user, "Job")
    record(user, food, "1.00", date="2025-12-31")
    record(user, food, "10.00", date="2026-01-01")
    record(user, food, "100.00", date="2026-01-31")
    record(user, food, "1000.00", date="2026-02-01")
    record(user, job, "5000.00", type="INCOME", date="2026-02-01")
    return user


def test_summary_of_each_part(ledger):
    def summary(query):
        body = ledger.get(f"/api/summary?{query}").get_json()
        return body["from"], body["to"], body["totalExpense"]

    this_year = today_in(ZONE).year
    january = "110.00" if this_year == 2026 else "0.00"
    assert summary("month=1") == (f"{this_year}-01-01", f"{this_year}-01-31", january)
    assert summary("year=2026") == ("2026-01-01", "2026-12-31", "1110.00")
    assert summary("year=2025") == ("2025-01-01", "2025-12-31", "1.00")
    start, end, spent = summary("from=2026-01-01")
    assert (start, spent) == ("2026-01-01", "1110.00")
    assert end == today_in(ZONE).isoformat()
    assert summary("to=2026-01-31") == ("2025-12-31", "2026-01-31", "111.00")
    assert summary("to=2025-06-30") == ("2025-06-30", "2025-06-30", "0.00")


def test_category_breakdown_of_each_part(ledger):
    def breakdown(query):
        body = ledger.get(f"/api/category-breakdown?{query}").get_json()
        return body["from"], body["to"], body["total"]

    assert breakdown("year=2026") == ("2026-01-01", "2026-12-31", "1110.00")
    assert breakdown("to=2026-01-01") == ("2025-12-31", "2026-01-01", "11.00")
    start, end, total = breakdown("from=2026-01-31")
    assert (start, total, end) == ("2026-01-31", "1100.00", today_in(ZONE).isoformat())


def test_trends_from_alone_and_to_alone(ledger):
    def months(query):
        response = ledger.get(f"/api/trends?{query}")
        assert response.status_code == 200, response.get_json()
        return [(row["month"], row["expense"]) for row in response.get_json()["items"]]

    assert months("to=2026-02-28") == [
        ("2025-12", "1.00"), ("2026-01", "110.00"), ("2026-02", "1000.00")
    ]  # fmt: skip
    rows = months("from=2026-01-15")
    today = today_in(ZONE)
    assert rows[0] == ("2026-01", "100.00")
    assert rows[-1][0] == f"{today.year}-{today.month:02d}"


def test_budget_usage_month_alone_is_of_the_current_year(ledger):
    this_year = today_in(ZONE).year
    body = ledger.get("/api/budget-usage?month=2").get_json()
    assert (body["month"], body["year"]) == (2, this_year)
    assert_problem(ledger.get("/api/budget-usage?year=2026"), 422, "validation_error")


def test_transaction_list_of_each_part(ledger):
    def dates(query):
        response = ledger.get(f"/api/transactions?{query}")
        assert response.status_code == 200, response.get_json()
        return sorted({row["date"] for row in response.get_json()["items"]})

    assert dates("year=2025") == ["2025-12-31"]
    assert dates("year=2026") == ["2026-01-01", "2026-01-31", "2026-02-01"]
    assert dates("to=2026-01-01") == ["2025-12-31", "2026-01-01"]
    assert dates("from=2026-01-31") == ["2026-01-31", "2026-02-01"]
    expected_january = ["2026-01-01", "2026-01-31"] if today_in(ZONE).year == 2026 else []
    assert dates("month=1") == expected_january
    # The ledger path lists the same.
    path = f"/api/ledgers/{ledger.ledger_id}/transactions?to=2026-01-01"
    assert len(ledger.get(path).get_json()["items"]) == 2


def test_graphql_takes_the_same_parts(ledger):
    body = graphql(
        ledger,
        """query ($id: Int!) {
          ledger(id: $id) {
            summary(year: 2026) { from to totalExpense }
            tail: summary(to: "2026-01-31") { from to totalExpense }
            trends(to: "2026-01-31") { items { month expense } }
          }
          ledgers { transactions(filter: {to: "2026-01-01"}) { edges { node { date } } } }
        }""",
        {"id": ledger.ledger_id},
    )
    assert "errors" not in body, body
    node = {**body["data"]["ledger"], **body["data"]["ledgers"][0]}
    assert node["summary"] == {"from": "2026-01-01", "to": "2026-12-31", "totalExpense": "1110.00"}
    assert node["tail"] == {"from": "2025-12-31", "to": "2026-01-31", "totalExpense": "111.00"}
    assert [row["month"] for row in node["trends"]["items"]] == ["2025-12", "2026-01"]
    dates = [edge["node"]["date"] for edge in node["transactions"]["edges"]]
    assert dates == ["2026-01-01", "2025-12-31"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("summary", "month=1&from=2026-01-01"),
        ("summary", "year=2026&to=2026-01-31"),
        ("category-breakdown", "month=1&to=2026-01-31"),
        ("transactions", "year=2026&from=2026-01-01"),
        ("summary", "from=2026-02-01&to=2026-01-31"),
        ("trends", "months=3&to=2026-01-31"),
        ("trends", "year=2026"),
    ],
)
def test_mixing_the_two_kinds_stays_422(ledger, path, query):
    assert_problem(ledger.get(f"/api/{path}?{query}"), 422, "validation_error")


def test_graphql_mixing_the_two_kinds_is_a_validation_error(ledger):
    query = (
        'query ($id: Int!) { ledger(id: $id) { summary(month: 1, from: "2026-01-01") { from } } }'
    )
    body = graphql(ledger, query, {"id": ledger.ledger_id})
    assert [error["extensions"]["code"] for error in body["errors"]] == ["validation_error"]


def test_to_alone_in_a_ledger_without_transactions_is_that_day(accounts):
    empty = accounts.new_user(timezone=ZONE)
    body = empty.get("/api/summary?to=2026-01-31").get_json()
    assert (body["from"], body["to"], body["totalExpense"]) == ("2026-01-31", "2026-01-31", "0.00")
    assert empty.get("/api/transactions?to=2026-01-31").get_json()["items"] == []


@pytest.mark.parametrize("path", ["/api/summary", "/api/category-breakdown", "/api/trends",
                                  "/api/transactions"])  # fmt: skip
def test_from_alone_after_today_answers_an_empty_period(ledger, path):
    """`from` in the future with no `to`: the period runs from it to today, backwards, so holds
    nothing; every report and the list answer it, never a 500 (found by schemathesis)."""
    response = ledger.get(f"{path}?from=2902-12-31")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    if path == "/api/trends" or path == "/api/transactions":
        assert body["items"] == []
    else:
        assert body["from"] == "2902-12-31"


def test_graphql_trends_from_after_today_are_empty_under_ledger_and_ledgers(ledger):
    document = '{ ledgers { trends(from: "2902-12-31") { items { month } } } }'
    assert graphql(ledger, document)["data"]["ledgers"][0]["trends"]["items"] == []
    one = f'{{ ledger(id: {ledger.ledger_id}) {{ trends(from: "2902-12-31") {{ items {{ month }} }} }} }}'
    assert graphql(ledger, one)["data"]["ledger"]["trends"]["items"] == []
