"""Analytics as the contract says: periods, empty periods, rounding, zero rows, isolation."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from expense_api.domain.periods import Period, last_months, totals_ranges
from tests.factories import category, record, save
from tests.helpers import assert_problem


def test_summary_of_a_month(alice):
    food, job = category(alice, "Food"), category(alice, "Job")
    record(alice, job, "3000", type="INCOME", date="2026-03-01")
    record(alice, food, "1000.10", date="2026-03-15")
    record(alice, food, "5", date="2026-04-01")  # another month
    body = alice.get("/api/summary?month=3&year=2026").get_json()
    assert body == {
        "from": "2026-03-01",
        "to": "2026-03-31",
        "currency": "USD",
        "totalIncome": "3000.00",
        "totalExpense": "1000.10",
        "savings": "1999.90",
        "savingsRate": "66.66",
    }


def test_savings_rate_rounds_half_up_and_can_be_negative(alice):
    food, job = category(alice, "Food"), category(alice, "Job")
    record(alice, job, "8", type="INCOME", date="2026-05-02")
    record(alice, food, "7.99", date="2026-05-03")  # savings 0.01 of 8 = 0.125% -> 0.13
    assert alice.get("/api/summary?month=5&year=2026").get_json()["savingsRate"] == "0.13"
    record(alice, food, "12.01", date="2026-05-04")  # savings -12 of 8 = -150%
    body = alice.get("/api/summary?month=5&year=2026").get_json()
    assert (body["savings"], body["savingsRate"]) == ("-12.00", "-150.00")


def test_empty_period_is_zeros_with_null_rate(alice):
    body = alice.get("/api/summary?from=2020-01-01&to=2020-12-31").get_json()
    assert body == {
        "from": "2020-01-01",
        "to": "2020-12-31",
        "currency": "USD",
        "totalIncome": "0.00",
        "totalExpense": "0.00",
        "savings": "0.00",
        "savingsRate": None,
    }


def test_only_expenses_and_no_income_has_null_rate(alice):
    record(alice, category(alice), "10", date="2026-06-01")
    assert alice.get("/api/summary?month=6&year=2026").get_json()["savingsRate"] is None


def test_summary_in_the_users_currency(accounts):
    yen = accounts.new_user(currency="JPY")
    record(yen, category(yen), "1500", date="2026-03-03")
    body = yen.get("/api/summary?month=3&year=2026").get_json()
    assert (body["currency"], body["totalExpense"], body["savings"]) == ("JPY", "1500", "-1500")


def test_summary_defaults_to_the_current_month_in_the_users_zone(accounts):
    user = accounts.new_user(timezone="Pacific/Kiritimati")
    today = datetime.now(UTC).astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    record(user, category(user), "10", date=today.isoformat())
    body = user.get("/api/summary").get_json()
    assert body["from"] == today.replace(day=1).isoformat()
    assert body["totalExpense"] == "10.00"


def test_other_users_data_is_never_counted(alice, bob):
    record(bob, category(bob), "999", date="2026-03-03")
    save(bob, amount="10")
    assert alice.get("/api/summary?month=3&year=2026").get_json()["totalExpense"] == "0.00"
    assert alice.get("/api/category-breakdown?month=3&year=2026").get_json()["items"] == []
    assert alice.get("/api/budget-usage?month=3&year=2026").get_json()["items"] == []
    trend = alice.get("/api/trends?from=2026-03-01&to=2026-03-31").get_json()["items"]
    assert trend == [{"month": "2026-03", "income": "0.00", "expense": "0.00", "savings": "0.00"}]


def test_category_breakdown(alice):
    food, rent, fun, job = (category(alice, n) for n in ("Food", "Rent", "fun", "Job"))
    record(alice, rent, "600", date="2026-03-01")
    record(alice, food, "150", date="2026-03-02")
    record(alice, food, "50", date="2026-03-20")
    record(alice, fun, "200", date="2026-03-21")
    record(alice, job, "5000", type="INCOME", date="2026-03-22")
    body = alice.get("/api/category-breakdown?month=3&year=2026").get_json()
    assert body["total"] == "1000.00"
    assert [(i["category"], i["amount"], i["share"]) for i in body["items"]] == [
        ("Rent", "600.00", "60.00"),
        ("Food", "200.00", "20.00"),
        ("fun", "200.00", "20.00"),
    ]
    assert body["items"][0]["categoryId"] == rent


def test_breakdown_shares_round_half_up(alice):
    a, b, c = (category(alice, n) for n in "ABC")
    for category_id in (a, b, c):
        record(alice, category_id, "1", date="2026-07-01")
    shares = [
        i["share"]
        for i in alice.get("/api/category-breakdown?month=7&year=2026").get_json()["items"]
    ]
    assert shares == ["33.33", "33.33", "33.33"]


def test_empty_breakdown(alice):
    body = alice.get("/api/category-breakdown?month=1&year=2020").get_json()
    assert (body["total"], body["items"]) == ("0.00", [])


def test_budget_usage(alice):
    food, rent = category(alice, "Food"), category(alice, "Rent")
    overall = save(alice, amount="1000", month=3).get_json()
    food_budget = save(alice, categoryId=food, amount="100", month=3, mode="soft").get_json()
    rent_budget = save(alice, categoryId=rent, amount="700", month=3).get_json()
    record(alice, food, "150", date="2026-03-05")  # soft: allowed over
    record(alice, rent, "650", date="2026-03-06")
    record(alice, rent, "5", type="INCOME", date="2026-03-06")  # income never counts
    record(alice, food, "40", date="2026-04-06")  # other month
    body = alice.get("/api/budget-usage?month=3&year=2026").get_json()
    assert (body["month"], body["year"]) == (3, 2026)
    assert body["items"] == [
        {
            "budgetId": overall["id"],
            "categoryId": None,
            "category": None,
            "budget": "1000.00",
            "spent": "800.00",
            "remaining": "200.00",
            "percentUsed": "80.00",
            "mode": "hard",
            "carried": "0.00",
            "available": "1000.00",
            "rollover": "none",
        },
        {
            "budgetId": food_budget["id"],
            "categoryId": food,
            "category": "Food",
            "budget": "100.00",
            "spent": "150.00",
            "remaining": "-50.00",
            "percentUsed": "150.00",
            "mode": "soft",
            "carried": "0.00",
            "available": "100.00",
            "rollover": "none",
        },
        {
            "budgetId": rent_budget["id"],
            "categoryId": rent,
            "category": "Rent",
            "budget": "700.00",
            "spent": "650.00",
            "remaining": "50.00",
            "percentUsed": "92.86",
            "mode": "hard",
            "carried": "0.00",
            "available": "700.00",
            "rollover": "none",
        },
    ]


def test_budget_usage_shows_a_lowered_budget_over(alice):
    food = category(alice)
    save(alice, categoryId=food, amount="100", month=3)
    record(alice, food, "90", date="2026-03-01")
    save(alice, categoryId=food, amount="60", month=3)
    item = alice.get("/api/budget-usage?month=3&year=2026").get_json()["items"][0]
    assert (item["remaining"], item["percentUsed"]) == ("-30.00", "150.00")


def test_budget_usage_defaults_to_the_current_month(alice):
    today = date.today()
    body = alice.get("/api/budget-usage").get_json()
    assert abs((date(body["year"], body["month"], 1) - today.replace(day=1)).days) <= 31


def test_trends_include_zero_months(alice):
    food, job = category(alice, "Food"), category(alice, "Job")
    record(alice, job, "100", type="INCOME", date="2026-01-15")
    record(alice, food, "30", date="2026-03-31")
    body = alice.get("/api/trends?from=2026-01-01&to=2026-04-30").get_json()
    assert body["items"] == [
        {"month": "2026-01", "income": "100.00", "expense": "0.00", "savings": "100.00"},
        {"month": "2026-02", "income": "0.00", "expense": "0.00", "savings": "0.00"},
        {"month": "2026-03", "income": "0.00", "expense": "30.00", "savings": "-30.00"},
        {"month": "2026-04", "income": "0.00", "expense": "0.00", "savings": "0.00"},
    ]


def test_trends_with_partial_edge_months_count_only_days_inside(alice):
    food = category(alice)
    record(alice, food, "1", date="2026-01-09")  # before from
    record(alice, food, "2", date="2026-01-10")
    record(alice, food, "4", date="2026-03-05")
    record(alice, food, "8", date="2026-03-06")  # after to
    items = alice.get("/api/trends?from=2026-01-10&to=2026-03-05").get_json()["items"]
    assert [(i["month"], i["expense"]) for i in items] == [
        ("2026-01", "2.00"),
        ("2026-02", "0.00"),
        ("2026-03", "4.00"),
    ]


def test_trends_default_to_twelve_months_up_to_now(alice):
    items = alice.get("/api/trends").get_json()["items"]
    assert len(items) == 12
    assert items[-1]["month"] == datetime.now(UTC).strftime("%Y-%m")  # alice's zone is UTC
    assert len(alice.get("/api/trends?months=3").get_json()["items"]) == 3


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("summary", "month=13&year=2026"),
        ("summary", "from=2026-02-01&to=2026-01-01"),
        ("summary", "from=2026-01-01&to=2026-01-31&month=1&year=2026"),
        ("summary", "months=3"),
        ("category-breakdown", "from=x&to=y"),
        ("budget-usage", "from=2026-01-01&to=2026-01-31"),
        ("budget-usage", "year=2026"),
        ("budget-usage", "month=0&year=2026"),
        ("trends", "months=0"),
        ("trends", "months=121"),
        ("trends", "months=3&from=2026-01-01&to=2026-02-01"),
        ("trends", "month=1&year=2026"),
    ],
)
def test_validation(alice, path, query):
    assert_problem(alice.get(f"/api/{path}?{query}"), 422, "validation_error")


@pytest.mark.parametrize("path", ["summary", "category-breakdown", "budget-usage", "trends"])
def test_requires_a_token(client, path):
    assert_problem(client.get(f"/api/{path}"), 401)
    assert_problem(client.get(f"/api/{path}", headers={"Authorization": "Bearer x"}), 401)


def test_totals_ranges_split_whole_months_and_edges():
    split = totals_ranges(Period(date(2026, 1, 10), date(2026, 4, 5)))
    assert split == {
        "month_from": date(2026, 2, 1),
        "month_to": date(2026, 4, 1),
        "head_from": date(2026, 1, 10),
        "head_to": date(2026, 1, 31),
        "tail_from": date(2026, 4, 1),
        "tail_to": date(2026, 4, 5),
    }
    whole = totals_ranges(Period(date(2026, 1, 1), date(2026, 12, 31)))
    assert (whole["month_from"], whole["month_to"], whole["head_from"], whole["tail_from"]) == (
        date(2026, 1, 1),
        date(2027, 1, 1),
        None,
        None,
    )
    inside = totals_ranges(Period(date(2026, 2, 3), date(2026, 2, 27)))
    assert (inside["month_from"], inside["head_from"], inside["head_to"]) == (
        None,
        date(2026, 2, 3),
        date(2026, 2, 27),
    )
    leap = totals_ranges(Period(date(2024, 2, 1), date(2024, 2, 29)))
    assert (leap["month_from"], leap["month_to"], leap["head_from"]) == (
        date(2024, 2, 1),
        date(2024, 3, 1),
        None,
    )


def test_last_months_crosses_years():
    period = last_months(3, "UTC", datetime(2026, 2, 10, tzinfo=UTC))
    assert period == Period(date(2025, 12, 1), date(2026, 2, 28))


def test_reports_equal_direct_sums_over_random_periods(alice):
    """The totals-based reports agree with summing the transactions themselves."""
    rng = random.Random(20261125)
    categories = [category(alice, name) for name in ("A", "B", "C")]
    rows = []
    start = date(2025, 11, 1)
    for _ in range(60):
        day = start + timedelta(days=rng.randrange(0, 150))
        kind = rng.choice(["INCOME", "EXPENSE", "EXPENSE"])
        amount = Decimal(rng.randrange(1, 100_000)) / 100
        category_id = rng.choice(categories)
        record(alice, category_id, str(amount), type=kind, date=day.isoformat())
        rows.append((day, kind, amount, category_id))
    for _ in range(25):
        first = start + timedelta(days=rng.randrange(0, 150))
        last = first + timedelta(days=rng.randrange(0, 120))
        query = f"from={first}&to={last}"
        inside = [r for r in rows if first <= r[0] <= last]
        income = sum((r[2] for r in inside if r[1] == "INCOME"), Decimal(0))
        expense = sum((r[2] for r in inside if r[1] == "EXPENSE"), Decimal(0))
        summary = alice.get(f"/api/summary?{query}").get_json()
        assert (Decimal(summary["totalIncome"]), Decimal(summary["totalExpense"])) == (
            income,
            expense,
        )
        breakdown = alice.get(f"/api/category-breakdown?{query}").get_json()
        assert sum(Decimal(i["amount"]) for i in breakdown["items"]) == expense
        trend = alice.get(f"/api/trends?{query}").get_json()["items"]
        assert sum(Decimal(i["expense"]) for i in trend) == expense
        assert sum(Decimal(i["income"]) for i in trend) == income
