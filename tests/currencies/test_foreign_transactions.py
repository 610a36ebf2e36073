"""Transactions in a currency other than their ledger's (../shared/API.md "Several currencies"):
the recorded rate (given, or the ledger's of the date), the ledger amount converted once, half
up, split lines' shares by the largest remainder, budgets and reports counting ledger amounts,
PATCH rules, and every bad input a 422 naming the field with nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import add_rate, breakdown, category, save
from tests.helpers import assert_problem


def post(user, food, **body):
    values = {"amount": "12.34", "type": "EXPENSE", "categoryId": food, "date": "2026-03-10"}
    return user.post("/api/transactions", json={**values, **body})


def stored(conn, transaction_id: int) -> tuple:
    return conn.execute(
        "SELECT amount, foreign_amount, currency, rate FROM transactions WHERE id = %s",
        (transaction_id,),
    ).fetchone()


def count(conn) -> int:
    return conn.execute("SELECT count(*) FROM transactions").fetchone()[0]


def test_an_expense_in_euros_records_its_rate_and_ledger_amount(alice, conn):
    food = category(alice, "Food")
    response = post(alice, food, currency="EUR", rate="1.0842")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # 12.34 x 1.0842 = 13.379028: half up to the cent once.
    assert (body["amount"], body["currency"], body["rate"], body["ledgerAmount"]) == (
        "12.34",
        "EUR",
        "1.0842",
        "13.38",
    )
    assert alice.get(f"/api/transactions/{body['id']}").get_json() == {
        key: value for key, value in body.items() if key != "alerts"
    }
    assert stored(conn, body["id"]) == (
        Decimal("13.38"),
        Decimal("12.34"),
        "EUR",
        Decimal("1.0842"),
    )
    summary = alice.get("/api/summary?month=3&year=2026").get_json()
    assert summary["totalExpense"] == "13.38"
    assert breakdown(alice) == {"Food": "13.38"}


def test_the_ledgers_own_currency_has_no_rate(alice, conn):
    food = category(alice)
    body = post(alice, food).get_json()
    assert (body["currency"], body["rate"], body["ledgerAmount"]) == ("USD", None, "12.34")
    same = post(alice, food, currency="USD", rate="1").get_json()  # 1 is the only rate of it
    assert (same["currency"], same["rate"], same["ledgerAmount"]) == ("USD", None, "12.34")
    assert stored(conn, same["id"]) == (Decimal("12.34"), None, None, None)
    refused = assert_problem(post(alice, food, currency="USD", rate="1.1"), 422, "validation_error")
    assert list(refused["errors"]) == ["rate"]
    refused = assert_problem(post(alice, food, rate="1.1"), 422, "validation_error")
    assert list(refused["errors"]) == ["rate"]


def test_without_a_rate_the_ledgers_rate_of_the_date_is_taken(alice, conn):
    food = category(alice)
    add_rate(conn, alice, "EUR", "2026-03-01", "1.05")
    add_rate(conn, alice, "EUR", "2026-03-09", "1.10")
    add_rate(conn, alice, "EUR", "2026-03-11", "1.20")  # after the date: not this one
    add_rate(conn, alice, "GBP", "2026-03-10", "1.30")  # another currency: not this one
    body = post(alice, food, currency="EUR", amount="100").get_json()
    assert (body["rate"], body["ledgerAmount"]) == ("1.1", "110.00")
    on_the_day = post(alice, food, currency="EUR", amount="100", date="2026-03-11").get_json()
    assert on_the_day["rate"] == "1.2"
    # A later change of the ledger's rates never changes what was recorded.
    add_rate(conn, alice, "EUR", "2026-03-09", "2.00")
    assert alice.get(f"/api/transactions/{body['id']}").get_json()["ledgerAmount"] == "110.00"


def test_no_rate_for_the_date_is_rate_unknown_and_writes_nothing(alice, conn):
    food = category(alice)
    add_rate(conn, alice, "EUR", "2026-03-11", "1.20")  # only after the date
    before = count(conn)
    problem = assert_problem(post(alice, food, currency="EUR"), 422, "rate_unknown")
    assert list(problem["errors"]) == ["rate"]
    assert "EUR" in problem["errors"]["rate"][0] and "2026-03-10" in problem["errors"]["rate"][0]
    assert count(conn) == before


def test_each_currency_has_its_own_digits(alice, conn):
    food = category(alice)
    yen = post(alice, food, currency="JPY", amount="1500", rate="0.0067").get_json()
    # 1500 x 0.0067 = 10.05
    assert (yen["amount"], yen["ledgerAmount"]) == ("1500", "10.05")
    dinar = post(alice, food, currency="KWD", amount="1.125", rate="3.2547").get_json()
    # 1.125 x 3.2547 = 3.6615375: half up to 3.66
    assert (dinar["amount"], dinar["ledgerAmount"]) == ("1.125", "3.66")
    before = count(conn)
    for currency, amount in (("JPY", "1500.5"), ("USD", "1.001"), ("KWD", "1.0001")):
        problem = assert_problem(
            post(alice, food, currency=currency, amount=amount, rate="1"), 422, "validation_error"
        )
        assert list(problem["errors"]) == ["amount"], (currency, problem)
    assert count(conn) == before


@pytest.mark.parametrize(
    "rate",
    ["0", "0.0", 0, "-1.2", -1, "1e3", "1.5E-2", "1.23456789012345", "1234567890123", "", "abc",
     True, None, " 1.2", "1,2"],
)  # fmt: skip
def test_a_bad_rate_is_422_naming_it(alice, conn, rate):
    food = category(alice)
    before = count(conn)
    response = alice.client.post(
        "/api/transactions",
        data=(
            '{"amount": "10", "type": "EXPENSE", "categoryId": %d, "date": "2026-03-10", '
            '"currency": "EUR", "rate": %s}'
        )
        % (food, _json(rate)),
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    if rate is None:  # null: the ledger's rate, which it has none of
        assert_problem(response, 422, "rate_unknown")
    else:
        problem = assert_problem(response, 422, "validation_error")
        assert list(problem["errors"]) == ["rate"], problem
    assert count(conn) == before


def test_a_rate_written_as_an_exponent_number_is_refused(alice):
    food = category(alice)
    for raw in ("1e0", "1.5E+1", "2e-3"):
        response = alice.client.post(
            "/api/transactions",
            data='{"amount": "10", "type": "EXPENSE", "categoryId": %d, "date": "2026-03-10", '
            '"currency": "EUR", "rate": %s}' % (food, raw),
            headers={**alice.headers, "Content-Type": "application/json"},
        )
        assert list(assert_problem(response, 422, "validation_error")["errors"]) == ["rate"]


def test_twelve_significant_digits_are_accepted_exactly(alice):
    food = category(alice)
    body = post(alice, food, currency="EUR", amount="1000", rate="1.08421234567").get_json()
    assert body["rate"] == "1.08421234567"
    assert body["ledgerAmount"] == "1084.21"
    small = post(alice, food, currency="VND", amount="1000000", rate="0.0000393120000").get_json()
    assert (small["rate"], small["ledgerAmount"]) == ("0.000039312", "39.31")
    number = alice.client.post(
        "/api/transactions",
        data='{"amount": 10, "type": "EXPENSE", "categoryId": %d, "date": "2026-03-10", '
        '"currency": "EUR", "rate": 1.0842}' % food,
        headers={**alice.headers, "Content-Type": "application/json"},
    ).get_json()
    assert (number["rate"], number["ledgerAmount"]) == ("1.0842", "10.84")


@pytest.mark.parametrize("currency", ["XYZ", "eur", "EURO", "", 12, "XAU"])
def test_an_unknown_currency_is_422_naming_it(alice, conn, currency):
    food = category(alice)
    before = count(conn)
    problem = assert_problem(post(alice, food, currency=currency, rate="1.1"), 422)
    assert list(problem["errors"]) == ["currency"]
    assert count(conn) == before


def test_a_conversion_to_zero_or_beyond_the_largest_amount_is_refused(alice, conn):
    food = category(alice)
    before = count(conn)
    tiny = assert_problem(post(alice, food, currency="JPY", amount="1", rate="0.001"), 422)
    assert list(tiny["errors"]) == ["amount"] and "zero" in tiny["errors"]["amount"][0]
    huge = assert_problem(
        post(alice, food, currency="JPY", amount="999999999999", rate="100000000"), 422
    )
    assert list(huge["errors"]) == ["amount"]
    assert count(conn) == before


def test_a_split_in_euros_shares_its_ledger_amount_by_the_largest_remainder(alice, conn):
    food, home, gifts = category(alice, "Food"), category(alice, "Home"), category(alice, "Gifts")
    body = {
        "amount": "10.00",
        "currency": "EUR",
        "rate": "1.1",
        "type": "EXPENSE",
        "date": "2026-03-10",
        "splits": [
            {"categoryId": food, "amount": "3.33"},
            {"categoryId": home, "amount": "3.33"},
            {"categoryId": gifts, "amount": "3.34"},
        ],
    }
    response = alice.post("/api/transactions", json=body)
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["ledgerAmount"] == "11.00"
    # Exact shares 3.663, 3.663, 3.674: floors 3.66, 3.66, 3.67 leave one cent, which goes to
    # the largest remainder (the third line).
    assert [(line["amount"], line["ledgerAmount"]) for line in made["splits"]] == [
        ("3.33", "3.66"),
        ("3.33", "3.66"),
        ("3.34", "3.68"),
    ]
    assert breakdown(alice) == {"Food": "3.66", "Home": "3.66", "Gifts": "3.68"}
    mismatch = dict(body, splits=[dict(line, amount="3.35") for line in body["splits"]])
    assert_problem(alice.post("/api/transactions", json=mismatch), 422, "splits_mismatch")
    # Lines whose shares would be zero in the ledger's currency: 1000 JPY at 0.001 is 1.00
    # USD; exact shares 0.997, 0.001, 0.001, 0.001; the one cent left goes to the first line.
    yen = dict(
        body,
        currency="JPY",
        amount="1000",
        rate="0.001",
        splits=[{"categoryId": food, "amount": "997"}] + [{"categoryId": home, "amount": "1"}] * 3,
    )
    problem = assert_problem(alice.post("/api/transactions", json=yen), 422, "validation_error")
    assert list(problem["errors"]) == ["splits.1.amount", "splits.2.amount", "splits.3.amount"]


def test_budgets_enforce_the_ledger_amount(alice, conn):
    food = category(alice)
    assert save(alice, categoryId=food, amount="100", mode="hard").status_code == 201
    # 90 EUR at 1.2 is 108 USD: over the 100 USD budget although 90 < 100.
    refused = assert_problem(
        post(alice, food, currency="EUR", amount="90", rate="1.2"), 409, "budget_exceeded"
    )
    assert refused["budget"]["wouldExceedBy"] == "8.00"
    allowed = post(alice, food, currency="EUR", amount="80", rate="1.25")  # exactly 100.00
    assert allowed.status_code == 201, allowed.get_json()
    usage = alice.get("/api/budget-usage?month=3&year=2026").get_json()
    assert usage["items"][0]["spent"] == "100.00"


def test_a_patch_keeps_the_recorded_rate_unless_told(alice, conn):
    food = category(alice)
    add_rate(conn, alice, "EUR", "2026-03-01", "1.10")
    add_rate(conn, alice, "GBP", "2026-03-01", "1.30")
    made = post(alice, food, currency="EUR", amount="10", rate="1.2").get_json()
    path = f"/api/transactions/{made['id']}"

    def patch(**changes):
        response = alice.patch(path, json=changes)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    moved = patch(amount="20", date="2026-03-20")  # the recorded 1.2 stays
    assert (moved["rate"], moved["ledgerAmount"]) == ("1.2", "24.00")
    new_rate = patch(rate="1.5")
    assert (new_rate["currency"], new_rate["ledgerAmount"]) == ("EUR", "30.00")
    pounds = patch(currency="GBP")  # a new currency without a rate: the ledger's of the date
    assert (pounds["rate"], pounds["ledgerAmount"]) == ("1.3", "26.00")
    dollars = patch(currency="USD")
    assert (dollars["currency"], dollars["rate"], dollars["ledgerAmount"]) == ("USD", None, "20.00")
    assert stored(conn, made["id"]) == (Decimal("20.00"), None, None, None)
    refused = assert_problem(alice.patch(path, json={"rate": "2"}), 422, "validation_error")
    assert list(refused["errors"]) == ["rate"]
    yen = assert_problem(alice.patch(path, json={"currency": "JPY", "rate": "0.0067",
                                                  "amount": "20.5"}), 422)  # fmt: skip
    assert list(yen["errors"]) == ["amount"]
    no_rate = assert_problem(alice.patch(path, json={"currency": "CHF"}), 422, "rate_unknown")
    assert list(no_rate["errors"]) == ["rate"]
    assert alice.get(path).get_json()["currency"] == "USD"


def test_a_rate_change_moves_a_splits_shares_and_totals(alice, conn):
    food, home = category(alice, "Food"), category(alice, "Home")
    made = alice.post(
        "/api/transactions",
        json={"amount": "10", "currency": "EUR", "rate": "1", "type": "EXPENSE",
              "date": "2026-03-10", "splits": [{"categoryId": food, "amount": "5"},
                                               {"categoryId": home, "amount": "5"}]},
    ).get_json()  # fmt: skip
    changed = alice.patch(f"/api/transactions/{made['id']}", json={"rate": "1.5"}).get_json()
    assert [line["ledgerAmount"] for line in changed["splits"]] == ["7.50", "7.50"]
    assert breakdown(alice) == {"Food": "7.50", "Home": "7.50"}
    mismatch = conn.execute(
        "SELECT count(*) FROM monthly_totals m WHERE m.amount <> (SELECT coalesce(sum(s.amount), 0)"
        " FROM transaction_splits s WHERE s.ledger_id = m.ledger_id AND s.category_id ="
        " m.category_id AND date_trunc('month', s.occurred_on) = m.month AND s.type = m.type)"
        " AND m.ledger_id = %s",
        (alice.ledger_id,),
    ).fetchone()[0]
    assert mismatch == 0


def test_the_database_refuses_an_incomplete_conversion(alice, conn):
    import psycopg

    food = category(alice)
    made = post(alice, food, currency="EUR", rate="1.1").get_json()
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE transactions SET rate = NULL WHERE id = %s", (made["id"],))


def _json(value) -> str:
    import json

    return json.dumps(value)


def test_amount_filters_and_rules_compare_the_ledger_amount(alice):
    food, loose = category(alice, "Food"), category(alice, "Uncategorized")
    # 100 JPY is 0.67 USD; 50 EUR at 1.1 is 55.00 USD.
    yen = post(alice, loose, currency="JPY", amount="100", rate="0.0067").get_json()
    euros = post(alice, loose, currency="EUR", amount="50", rate="1.1").get_json()
    listed = alice.get("/api/transactions?month=3&year=2026&minAmount=1").get_json()["items"]
    assert [row["id"] for row in listed] == [euros["id"]]
    listed = alice.get("/api/transactions?month=3&year=2026&maxAmount=1").get_json()["items"]
    assert [row["id"] for row in listed] == [yen["id"]]
    rule = alice.post(
        f"/api/ledgers/{alice.ledger_id}/rules",
        json={"match": {"amountMax": "1.00"}, "set": {"categoryId": food}},
    ).get_json()
    applied = alice.post(
        f"/api/ledgers/{alice.ledger_id}/rules/{rule['id']}/apply",
        query_string={"month": 3, "year": 2026},
    )
    assert applied.get_json() == {"changed": 1, "refused": 0}
    changed = alice.get(f"/api/transactions/{yen['id']}").get_json()
    assert (changed["categoryId"], changed["rate"], changed["ledgerAmount"]) == (
        food,
        "0.0067",
        "0.67",
    )
