"""Budget rollover (../shared/API.md "Budgets: rollover and copying"): what a month carries from
the month before under each policy, chains that a month without a budget ends, enforcement on
`available` in the month written and in every later month of its chain, alerts on available,
and budget changes that are never refused for what they do to later months."""

from __future__ import annotations

from tests.factories import budget, category, spend
from tests.helpers import assert_problem


def usage(user, month) -> dict:
    """{category name or None: (carried, available, spent, remaining, percentUsed)}."""
    items = user.get(f"/api/budget-usage?month={month}&year=2026").get_json()["items"]
    return {
        item["category"]: (item["carried"], item["available"], item["spent"],
                           item["remaining"], item["percentUsed"])
        for item in items
    }  # fmt: skip


def day(month: int, day: int = 10) -> str:
    return f"2026-{month:02d}-{day:02d}"


def test_each_policy_carries_its_part_of_what_was_left(alice):
    food = category(alice, "Food")
    home = category(alice, "Home")
    budget(alice, 3, "100", category_id=food, mode="soft")
    budget(alice, 3, "100", category_id=home, mode="soft")
    assert spend(alice, food, "60", date=day(3)).status_code == 201
    assert spend(alice, home, "130", date=day(3)).status_code == 201
    for policy, expected_food, expected_home in (
        ("surplus", "40.00", "0.00"),
        ("deficit", "0.00", "-30.00"),
        ("both", "40.00", "-30.00"),
        ("none", "0.00", "0.00"),
    ):
        budget(alice, 4, "100", category_id=food, rollover=policy)
        budget(alice, 4, "100", category_id=home, rollover=policy)
        april = usage(alice, 4)
        assert april["Food"][:2] == (expected_food, f"{100 + float(expected_food):.2f}"), policy
        assert april["Home"][:2] == (expected_home, f"{100 + float(expected_home):.2f}"), policy
    # The month's own budget shows what it carried and its remaining against available.
    budget(alice, 4, "100", category_id=food, rollover="surplus")
    assert spend(alice, food, "70", date=day(4)).status_code == 201
    assert usage(alice, 4)["Food"] == ("40.00", "140.00", "70.00", "70.00", "50.00")


def test_a_chain_runs_through_consecutive_months_and_a_month_without_a_budget_ends_it(alice):
    food = category(alice)
    budget(alice, 1, "100", category_id=food, mode="soft")
    budget(alice, 2, "100", category_id=food, rollover="surplus")
    budget(alice, 3, "100", category_id=food, rollover="surplus")
    budget(alice, 5, "100", category_id=food, rollover="surplus")  # April has none
    assert spend(alice, food, "30", date=day(1)).status_code == 201
    assert spend(alice, food, "50", date=day(2)).status_code == 201
    # January leaves 70; February has 170 and spends 50: March carries 120.
    assert usage(alice, 2)["General"][:2] == ("70.00", "170.00")
    assert usage(alice, 3)["General"][:2] == ("120.00", "220.00")
    assert usage(alice, 5)["General"][:2] == ("0.00", "100.00")


def test_a_hard_budget_refuses_above_available_not_above_its_amount(alice):
    food = category(alice)
    budget(alice, 3, "100", category_id=food)
    april = budget(alice, 4, "100", category_id=food, rollover="surplus")
    assert spend(alice, food, "60", date=day(3)).status_code == 201
    assert spend(alice, food, "140", date=day(4)).status_code == 201  # 100 + 40 carried
    refused = assert_problem(spend(alice, food, "0.01", date=day(4)), 409, "budget_exceeded")
    assert refused["budget"] == {
        "id": april["id"], "categoryId": food, "year": 2026, "month": 4, "amount": "100.00",
        "carried": "40.00", "available": "140.00", "spent": "140.00", "remaining": "0.00",
        "wouldExceedBy": "0.01",
    }  # fmt: skip


def test_a_write_into_an_earlier_month_is_checked_against_the_later_months(alice):
    food = category(alice)
    budget(alice, 3, "100", category_id=food)
    april = budget(alice, 4, "100", category_id=food, rollover="surplus")
    assert spend(alice, food, "60", date=day(3)).status_code == 201
    assert spend(alice, food, "130", date=day(4)).status_code == 201  # available 140
    # 20 more in March fits March (80 <= 100) but leaves April 120 available for 130 spent.
    refused = assert_problem(spend(alice, food, "20", date=day(3)), 409, "budget_exceeded")
    assert (refused["budget"]["id"], refused["budget"]["available"]) == (april["id"], "120.00")
    assert refused["budget"]["wouldExceedBy"] == "10.00"
    assert "carries over" in refused["detail"]
    assert spend(alice, food, "10", date=day(3)).status_code == 201  # April: exactly 130
    assert usage(alice, 4)["General"][:3] == ("30.00", "130.00", "130.00")
    # Income or deleting an expense only loosen: never refused.
    assert spend(alice, food, "500", date=day(3), type="INCOME").status_code == 201


def test_a_later_month_that_carries_nothing_does_not_hold_back_an_earlier_write(alice):
    food = category(alice)
    budget(alice, 3, "100", category_id=food)
    budget(alice, 4, "100", category_id=food, rollover="deficit")  # carries only overspending
    assert spend(alice, food, "100", date=day(4)).status_code == 201
    # March stays within its budget: April carries no deficit, nothing changes there.
    assert spend(alice, food, "100", date=day(3)).status_code == 201
    # An April with nothing available cannot take a cent more.
    assert_problem(spend(alice, food, "0.01", date=day(4)), 409, "budget_exceeded")


def test_a_deficit_rolls_through_a_chain_of_months(alice):
    budget(alice, 1, "100", mode="soft")  # overall budgets
    budget(alice, 2, "100", mode="soft", rollover="deficit")
    budget(alice, 3, "100", rollover="both")
    food = category(alice)
    assert spend(alice, food, "150", date=day(1)).status_code == 201
    assert spend(alice, food, "120", date=day(2)).status_code == 201
    # February: 100 - 50 = 50 available, 120 spent: March carries -70.
    assert usage(alice, 2)[None][:2] == ("-50.00", "50.00")
    assert usage(alice, 3)[None] == ("-70.00", "30.00", "0.00", "30.00", "0.00")
    assert spend(alice, food, "30", date=day(3)).status_code == 201
    assert_problem(spend(alice, food, "0.01", date=day(3)), 409, "budget_exceeded")
    # Nothing available at all: percentUsed has nothing to be a percent of.
    budget(alice, 3, "50", rollover="both")
    assert usage(alice, 3)[None] == ("-70.00", "-20.00", "30.00", "-50.00", None)


def test_alerts_fire_against_available(alice):
    food = category(alice)
    budget(alice, 3, "100", category_id=food)
    april = budget(alice, 4, "100", category_id=food, rollover="surplus", alertThreshold=50)
    assert spend(alice, food, "50", date=day(3)).status_code == 201  # April: 150 available
    made = spend(alice, food, "74", date=day(4)).get_json()
    assert made["alerts"] == []  # 74 of 150: under 50%
    made = spend(alice, food, "1", date=day(4)).get_json()
    assert [(a["budgetId"], a["kind"], a["percentUsed"]) for a in made["alerts"]] == [
        (april["id"], "threshold", "50.00")
    ]


def test_budget_changes_are_never_refused_for_later_months_and_fire_their_alerts(alice):
    food = category(alice)
    march = budget(alice, 3, "100", category_id=food)
    april = budget(alice, 4, "100", category_id=food, rollover="surplus")
    # March spends nothing: April carries its 100 and has 200 available.
    assert spend(alice, food, "140", date=day(4)).status_code == 201
    lowered = alice.post(
        "/api/budgets",
        json={"categoryId": food, "amount": "10", "month": 3, "year": 2026},
    )
    assert lowered.status_code == 200  # April: 110 available, 140 spent, and never refused
    fired = [(a["budgetId"], a["kind"]) for a in lowered.get_json()["alerts"]]
    assert (april["id"], "limit") in fired
    assert usage(alice, 4)["General"][:4] == ("10.00", "110.00", "140.00", "-30.00")
    deleted = alice.delete(f"/api/budgets/{march['id']}")
    assert deleted.status_code == 204
    assert usage(alice, 4)["General"][:2] == ("0.00", "100.00")


def test_moving_an_expense_along_the_chain_is_checked_where_it_lands(alice):
    food = category(alice)
    budget(alice, 3, "100", category_id=food)
    budget(alice, 4, "100", category_id=food, rollover="both")
    made = spend(alice, food, "90", date=day(4)).get_json()
    assert spend(alice, food, "100", date=day(3)).status_code == 201  # April: 100 available
    # Moving April's 90 into March takes March to 190 and April's carry to -90: refused.
    moved = alice.patch(f"/api/transactions/{made['id']}", json={"date": day(3, 20)})
    assert_problem(moved, 409, "budget_exceeded")
    # Moving it to May (no budget) lowers April: fine.
    assert alice.patch(f"/api/transactions/{made['id']}", json={"date": day(5)}).status_code == 200
