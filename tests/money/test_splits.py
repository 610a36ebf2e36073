"""Split transactions, payees and tags (../shared/API.md "Splits, payees and tags"): the shape,
every validation rule (a 422 naming the field, nothing written), PATCHes that move lines, the
totals and reports counting each line once, enforcement over several budgets, and the database's
own refusals."""

from __future__ import annotations

import psycopg
import pytest

from tests.factories import breakdown, category, record, save
from tests.helpers import assert_problem


def split(user, lines, amount=None, *, path="/api/transactions", **extra):
    """POSTs a split expense of `lines` [(category id, amount)]; the response."""
    total = amount or str(sum(float(line[1]) for line in lines))
    body = {
        "amount": total,
        "type": "EXPENSE",
        "date": "2026-03-10",
        "splits": [{"categoryId": c, "amount": a} for c, a in lines],
        **extra,
    }
    return user.post(path, json=body)


def count_rows(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def nothing_written(conn) -> tuple:
    return tuple(
        count_rows(conn, table)
        for table in ("transactions", "transaction_splits", "payees", "tags", "transaction_tags")
    )


def test_a_split_expense_is_recorded_with_its_lines_payee_and_tags(alice):
    food, home, gifts = (
        category(alice, "Food"),
        category(alice, "Household"),
        category(alice, "Gifts"),
    )
    response = alice.post(
        "/api/transactions",
        json={
            "amount": "60.00",
            "type": "EXPENSE",
            "date": "2026-03-10",
            "payee": "  Corner Market ",
            "tags": ["weekly", "Family", "WEEKLY"],
            "splits": [
                {"categoryId": food, "amount": "35.50", "memo": "groceries"},
                {"categoryId": home, "amount": "14.50"},
                {"categoryId": gifts, "amount": 10},
            ],
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["categoryId"], body["category"]) == (None, None)
    assert body["payee"] == "Corner Market"
    assert body["tags"] == ["Family", "weekly"]  # a repeat counts once, in name order
    assert body["splits"] == [
        {"categoryId": food, "category": "Food", "amount": "35.50", "memo": "groceries",
         "ledgerAmount": "35.50"},
        {"categoryId": home, "category": "Household", "amount": "14.50", "memo": None,
         "ledgerAmount": "14.50"},
        {"categoryId": gifts, "category": "Gifts", "amount": "10.00", "memo": None,
         "ledgerAmount": "10.00"},
    ]  # fmt: skip
    shown = alice.get(f"/api/transactions/{body['id']}").get_json()
    assert shown == {key: value for key, value in body.items() if key != "alerts"}
    listed = alice.get("/api/transactions?month=3&year=2026").get_json()["items"]
    assert listed == [shown]


def test_a_plain_transaction_shows_no_lines_payee_or_tags(alice):
    food = category(alice, "Food")
    body = record(alice, food)
    assert (body["categoryId"], body["payee"], body["tags"], body["splits"]) == (food, None, [], [])


def test_payees_and_tags_keep_the_case_first_used_in_the_ledger(alice):
    food = category(alice, "Food")
    record(alice, food, payee="Tesco", tags=["Groceries"])
    again = record(alice, food, payee="TESCO", tags=["groceries", "New One"])
    assert again["payee"] == "Tesco"
    assert again["tags"] == ["Groceries", "New One"]


def test_each_line_counts_for_its_category_and_the_whole_amount_once(alice):
    food, home = category(alice, "Food"), category(alice, "Household")
    record(alice, food, amount="5.00", date="2026-03-01")
    assert split(alice, [(food, "30.00"), (home, "20.00")]).status_code == 201
    assert breakdown(alice) == {"Food": "35.00", "Household": "20.00"}
    summary = alice.get("/api/summary?month=3&year=2026").get_json()
    assert summary["totalExpense"] == "55.00"
    trends = alice.get("/api/trends?from=2026-03-01&to=2026-03-31").get_json()["items"]
    assert [(t["month"], t["expense"]) for t in trends] == [("2026-03", "55.00")]
    save(alice, categoryId=home, amount="100")
    save(alice, amount="500")
    usage = alice.get("/api/budget-usage?month=3&year=2026").get_json()["items"]
    assert {(u["category"], u["spent"]) for u in usage} == {("Household", "20.00"), (None, "55.00")}


def test_two_lines_of_one_category_count_together(alice):
    food = category(alice, "Food")
    assert split(alice, [(food, "1.25"), (food, "2.75")]).status_code == 201
    assert breakdown(alice) == {"Food": "4.00"}


@pytest.mark.parametrize(
    ("lines", "amount", "field", "code"),
    [
        ([("A", "30.00"), ("B", "20.00")], "50.01", "splits", "splits_mismatch"),
        ([("A", "30.00"), ("B", "20.00")], "49.99", "splits", "splits_mismatch"),
        ([("A", "30.00")], "30.00", "splits", "validation_error"),
        ([("A", "1")] * 51, "51", "splits", "validation_error"),
        ([("A", "0"), ("B", "20.00")], "20.00", "splits.0.amount", "validation_error"),
        ([("A", "-5"), ("B", "25.00")], "20.00", "splits.0.amount", "validation_error"),
        ([("A", "1.001"), ("B", "1")], "2.001", "splits.0.amount", "validation_error"),
        ([("A", "1"), ("OTHER", "1")], "2", "splits.1.categoryId", "validation_error"),
        ([("A", "1"), ("MISSING", "1")], "2", "splits.1.categoryId", "validation_error"),
    ],
    ids=[
        "sum-above",
        "sum-below",
        "one-line",
        "51-lines",
        "zero-line",
        "negative-line",
        "too-many-digits",
        "another-ledgers-category",
        "no-such-category",
    ],
)
def test_bad_lines_are_a_422_naming_the_field_and_write_nothing(
    alice, bob, conn, lines, amount, field, code
):
    ids = {
        "A": category(alice, "A"),
        "B": category(alice, "B"),
        "OTHER": category(bob, "Bob's"),
        "MISSING": 2**62,
    }
    before = nothing_written(conn)
    response = split(alice, [(ids[c], a) for c, a in lines], amount, payee="P", tags=["t"])
    problem = assert_problem(response, 422, code)
    assert field in problem["errors"], problem
    assert nothing_written(conn) == before


def test_category_and_splits_together_are_refused(alice, conn):
    food, home = category(alice, "Food"), category(alice, "Home")
    before = nothing_written(conn)
    response = split(alice, [(food, "1"), (home, "1")], "2", categoryId=food)
    problem = assert_problem(response, 422, "validation_error")
    assert "splits" in problem["errors"]
    missing = alice.post(
        "/api/transactions", json={"amount": "2", "type": "EXPENSE", "date": "2026-03-10"}
    )
    assert "categoryId" in assert_problem(missing, 422)["errors"]
    assert nothing_written(conn) == before


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"tags": ["x" * 41]}, "tags.0"),
        ({"tags": ["  "]}, "tags.0"),
        ({"payee": "p" * 201}, "payee"),
        ({"payee": ""}, "payee"),
    ],
    ids=["21-tags", "long-tag", "blank-tag", "long-payee", "empty-payee"],
)
def test_bad_payees_and_tags_are_a_422_naming_the_field(alice, conn, extra, field):
    food = category(alice, "Food")
    before = nothing_written(conn)
    body = {"amount": "2", "type": "EXPENSE", "date": "2026-03-10", "categoryId": food, **extra}
    problem = assert_problem(alice.post("/api/transactions", json=body), 422, "validation_error")
    assert field in problem["errors"], problem
    assert nothing_written(conn) == before


def test_patch_moves_lines_between_categories_months_and_types(alice):
    food, home, fun = category(alice, "Food"), category(alice, "Home"), category(alice, "Fun")
    plain = record(alice, food, amount="40.00", date="2026-03-10")
    path = f"/api/transactions/{plain['id']}"
    # One category -> lines.
    changed = alice.patch(
        path,
        json={
            "splits": [{"categoryId": home, "amount": "15"}, {"categoryId": fun, "amount": "25"}]
        },
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["categoryId"] is None
    assert breakdown(alice) == {"Home": "15.00", "Fun": "25.00"}
    # A new month and type take the lines along.
    assert alice.patch(path, json={"date": "2026-04-02"}).status_code == 200
    assert breakdown(alice) == {}
    assert breakdown(alice, month=4) == {"Home": "15.00", "Fun": "25.00"}
    assert alice.patch(path, json={"type": "INCOME"}).status_code == 200
    assert breakdown(alice, month=4) == {}
    summary = alice.get("/api/summary?month=4&year=2026").get_json()
    assert (summary["totalIncome"], summary["totalExpense"]) == ("40.00", "0.00")
    assert alice.patch(path, json={"type": "EXPENSE"}).status_code == 200
    # A new amount without new lines would no longer sum.
    mismatch = alice.patch(path, json={"amount": "41"})
    assert_problem(mismatch, 422, "splits_mismatch")
    # New amount and lines together.
    both = alice.patch(
        path,
        json={
            "amount": "41",
            "splits": [{"categoryId": food, "amount": "1"}, {"categoryId": fun, "amount": "40"}],
        },
    )
    assert both.status_code == 200, both.get_json()
    assert breakdown(alice, month=4) == {"Food": "1.00", "Fun": "40.00"}
    # Lines -> one category again.
    single = alice.patch(path, json={"categoryId": home})
    assert single.status_code == 200
    assert (single.get_json()["splits"], single.get_json()["category"]) == ([], "Home")
    assert breakdown(alice, month=4) == {"Home": "41.00"}
    # A category of nothing, and no lines: refused.
    assert (
        "categoryId" in assert_problem(alice.patch(path, json={"categoryId": None}), 422)["errors"]
    )


def test_patch_replaces_and_clears_payee_and_tags(alice):
    food = category(alice, "Food")
    created = record(alice, food, payee="Cafe", tags=["a", "b"])
    path = f"/api/transactions/{created['id']}"
    kept = alice.patch(path, json={"description": "lunch"}).get_json()
    assert (kept["payee"], kept["tags"]) == ("Cafe", ["a", "b"])
    changed = alice.patch(path, json={"payee": None, "tags": ["c"]}).get_json()
    assert (changed["payee"], changed["tags"]) == (None, ["c"])
    assert alice.patch(path, json={"tags": []}).get_json()["tags"] == []


def test_deleting_a_split_transaction_takes_its_lines_out_of_the_totals(alice, conn):
    food, home = category(alice, "Food"), category(alice, "Home")
    created = split(alice, [(food, "3"), (home, "4")]).get_json()
    assert alice.delete(f"/api/transactions/{created['id']}").status_code == 204
    assert breakdown(alice) == {}
    lines = conn.execute(
        "SELECT count(*) FROM transaction_splits WHERE transaction_id = %s", (created["id"],)
    ).fetchone()[0]
    assert lines == 0


def test_a_split_raises_every_budget_it_touches_and_is_refused_whole(alice, conn):
    food, home = category(alice, "Food"), category(alice, "Home")
    food_budget = save(alice, categoryId=food, amount="50").get_json()
    home_budget = save(alice, categoryId=home, amount="30").get_json()
    overall = save(alice, amount="70").get_json()
    assert split(alice, [(food, "20"), (home, "20")]).status_code == 201
    before = nothing_written(conn)
    # Home would end at 31 (over), Food at 40 (fine): refused, Home reported.
    refused = assert_problem(split(alice, [(food, "20"), (home, "11")]), 409, "budget_exceeded")
    assert refused["budget"]["id"] == home_budget["id"]
    assert refused["budget"]["wouldExceedBy"] == "1.00"
    assert nothing_written(conn) == before
    # Both category budgets fit, the overall one (70) does not: the overall one is reported.
    over_all = assert_problem(split(alice, [(food, "25"), (home, "6")]), 409, "budget_exceeded")
    assert over_all["budget"]["id"] == overall["id"]
    # Both categories over: the first in the fixed order (category id) is reported, and the
    # category's budget before the overall one.
    both = assert_problem(split(alice, [(home, "20"), (food, "40")]), 409, "budget_exceeded")
    assert (
        both["budget"]["id"]
        == min((food_budget, home_budget), key=lambda budget: budget["categoryId"])["id"]
    )
    assert split(alice, [(food, "25"), (home, "5")]).status_code == 201
    assert breakdown(alice) == {"Food": "45.00", "Home": "25.00"}


def test_a_split_fires_the_alerts_of_each_budget_it_raises(alice):
    food, home = category(alice, "Food"), category(alice, "Home")
    food_budget = save(alice, categoryId=food, amount="10", alertThreshold=50).get_json()
    home_budget = save(alice, categoryId=home, amount="10", alertThreshold=50).get_json()
    response = split(alice, [(food, "6"), (home, "10")])
    fired = {(a["budgetId"], a["kind"]) for a in response.get_json()["alerts"]}
    assert fired == {
        (food_budget["id"], "threshold"),
        (home_budget["id"], "threshold"),
        (home_budget["id"], "limit"),
    }


def test_a_category_used_by_a_line_cannot_be_deleted(alice):
    food, home = category(alice, "Food"), category(alice, "Home")
    split(alice, [(food, "1"), (home, "1")])
    assert_problem(alice.delete(f"/api/categories/{home}"), 409, "category_in_use")


def test_renaming_a_category_logs_the_split_transactions_that_show_it(alice):
    food, home = category(alice, "Food"), category(alice, "Home")
    created = split(alice, [(food, "1"), (home, "2")]).get_json()
    assert alice.patch(f"/api/categories/{home}", json={"name": "House"}).status_code == 200
    ledger = alice.ledger_id
    entries = alice.get(
        f"/api/ledgers/{ledger}/changes?entity=transaction&entityId={created['id']}"
    ).get_json()["items"]
    renamed = entries[0]
    assert renamed["op"] == "updated"
    assert [line["category"] for line in renamed["before"]["splits"]] == ["Food", "Home"]
    assert [line["category"] for line in renamed["after"]["splits"]] == ["Food", "House"]
    assert renamed["after"] == alice.get(f"/api/transactions/{created['id']}").get_json()


def test_the_database_refuses_lines_that_do_not_sum(alice, conn):
    food, home = category(alice, "Food"), category(alice, "Home")
    created = split(alice, [(food, "1"), (home, "2")]).get_json()
    balanced = r"transaction \d+ of ledger \d+: \d+ lines summing to"
    with pytest.raises(psycopg.errors.CheckViolation, match=balanced), conn.transaction():
        conn.execute(
            "UPDATE transaction_splits SET amount = amount + 1"
            " WHERE transaction_id = %s AND line_no = 1",
            (created["id"],),
        )
    with pytest.raises(psycopg.errors.CheckViolation, match=balanced), conn.transaction():
        conn.execute("UPDATE transactions SET amount = 4 WHERE id = %s", (created["id"],))
    plain = record(alice, food)
    # Lines under a transaction that has a category.
    with pytest.raises(psycopg.errors.CheckViolation, match=balanced), conn.transaction():
        conn.execute(
            "INSERT INTO transaction_splits (ledger_id, transaction_id, line_no, category_id,"
            " amount, occurred_on, type) SELECT ledger_id, id, 1, category_id, amount,"
            " occurred_on, type FROM transactions WHERE id = %s",
            (plain["id"],),
        )


def test_lines_take_their_transactions_date_and_type(alice, conn):
    food, home = category(alice, "Food"), category(alice, "Home")
    created = split(alice, [(food, "1"), (home, "2")]).get_json()
    alice.patch(f"/api/transactions/{created['id']}", json={"date": "2026-05-01", "type": "INCOME"})
    rows = conn.execute(
        "SELECT DISTINCT occurred_on::text, type FROM transaction_splits WHERE transaction_id = %s",
        (created["id"],),
    ).fetchall()
    assert rows == [("2026-05-01", "INCOME")]
    with conn.transaction(force_rollback=True):
        conn.execute(
            "UPDATE transaction_splits SET occurred_on = '2020-01-01', type = 'EXPENSE'"
            " WHERE transaction_id = %s",
            (created["id"],),
        )
        after = conn.execute(
            "SELECT DISTINCT occurred_on::text, type FROM transaction_splits"
            " WHERE transaction_id = %s",
            (created["id"],),
        ).fetchall()
        assert after == [("2026-05-01", "INCOME")]


def test_another_users_transaction_is_404_for_a_patch_with_lines(alice, bob):
    food, home = category(bob, "Food"), category(bob, "Home")
    theirs = split(bob, [(food, "1"), (home, "2")]).get_json()
    mine = category(alice, "Mine")
    response = alice.patch(
        f"/api/transactions/{theirs['id']}",
        json={"splits": [{"categoryId": mine, "amount": "1"}, {"categoryId": mine, "amount": "2"}]},
    )
    assert_problem(response, 404)


def test_a_patchs_lines_are_whole(alice):
    """A PATCH changes any subset of the transaction's fields, but each line it gives is whole."""
    food = category(alice, "Food")
    created = record(alice, food)
    response = alice.patch(
        f"/api/transactions/{created['id']}",
        json={"splits": [{"amount": "5"}, {"categoryId": food}]},
    )
    problem = assert_problem(response, 422, "validation_error")
    assert {"splits.0.categoryId", "splits.1.amount"} <= problem["errors"].keys(), problem
