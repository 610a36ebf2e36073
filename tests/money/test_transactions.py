"""Transactions as the contract says: exact money, calendar dates, ownership, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import category, record
from tests.helpers import assert_problem


def test_create_returns_the_transaction_with_alerts(alice):
    food = category(alice, "Food")
    response = alice.post(
        "/api/transactions",
        json={
            "amount": 12.5,
            "type": "EXPENSE",
            "categoryId": food,
            "description": " Lunch ",
            "date": "2026-03-15",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
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
    assert body["amount"] == "12.50"
    assert (body["currency"], body["rate"], body["ledgerAmount"]) == ("USD", None, "12.50")
    assert (body["category"], body["categoryId"]) == ("Food", food)
    assert (body["description"], body["date"], body["alerts"]) == ("Lunch", "2026-03-15", [])
    assert body["createdBy"] == {"id": alice.id, "name": "Alice"}  # who recorded it
    assert alice.get(f"/api/transactions/{body['id']}").get_json() == {
        key: value for key, value in body.items() if key != "alerts"
    }


@pytest.mark.parametrize(
    ("amount", "shown"), [(500, "500.00"), ("500.5", "500.50"), ("12.34", "12.34"), (0.01, "0.01")]
)
def test_amounts_are_exact_and_shown_with_two_digits_in_usd(alice, amount, shown):
    assert record(alice, category(alice), amount=amount)["amount"] == shown


def test_amount_is_stored_exactly(alice, conn):
    created = record(alice, category(alice), amount="0.10")
    stored = conn.execute(
        "SELECT amount FROM transactions WHERE ledger_id = %s AND id = %s",
        (alice.ledger_id, created["id"]),
    ).fetchone()[0]
    assert str(stored) == "0.1000"


def test_currency_digits_follow_the_user(accounts):
    yen = accounts.new_user(currency="JPY")
    assert record(yen, category(yen), amount="1500")["amount"] == "1500"
    response = yen.post(
        "/api/transactions",
        json={
            "amount": "1.5",
            "type": "EXPENSE",
            "categoryId": category(yen, "b"),
            "date": "2026-01-01",
        },
    )
    assert "amount" in assert_problem(response, 422)["errors"]
    dinar = accounts.new_user(currency="KWD")
    assert record(dinar, category(dinar), amount="1.125")["amount"] == "1.125"


def test_a_date_time_counts_as_its_own_offsets_date(alice):
    created = record(alice, category(alice), date="2026-02-01T00:30:00+05:30")
    assert created["date"] == "2026-02-01"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", 0),
        ("amount", "0.00"),
        ("amount", -5),
        ("amount", "-5"),
        ("amount", "NaN"),
        ("amount", "Infinity"),
        ("amount", "1e3"),
        ("amount", "12.345"),
        ("amount", True),
        ("amount", None),
        ("amount", "ten"),
        ("amount", 10**13),
        ("type", "TRANSFER"),
        ("type", "expense"),
        ("categoryId", "1"),
        ("categoryId", None),
        ("categoryId", 0),
        ("date", "2026-13-01"),
        ("date", "tomorrow"),
        ("date", None),
        ("description", "x" * 501),
        ("description", 5),
        ("extra", 1),
    ],
)
def test_create_validation(alice, field, value):
    body = {
        "amount": "1.00",
        "type": "EXPENSE",
        "categoryId": category(alice),
        "date": "2026-01-01",
    }
    body[field] = value
    problem = assert_problem(alice.post("/api/transactions", json=body), 422, "validation_error")
    assert field in problem["errors"]


def test_exponent_json_number_is_refused(alice):
    data = '{"amount": 1e3, "type": "EXPENSE", "categoryId": %d, "date": "2026-01-01"}'
    response = alice.post(
        "/api/transactions", data=data % category(alice), content_type="application/json"
    )
    assert "amount" in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize("amount", [" 12.34", "12.34 ", "12.34\n"])
def test_an_amount_string_with_white_space_is_refused(alice, amount):
    body = {
        "amount": amount,
        "type": "EXPENSE",
        "categoryId": category(alice),
        "date": "2026-01-01",
    }
    assert "amount" in assert_problem(alice.post("/api/transactions", json=body), 422)["errors"]


@pytest.mark.parametrize("missing", ["amount", "type", "categoryId", "date"])
def test_create_requires_fields(alice, missing):
    body = {
        "amount": "1.00",
        "type": "EXPENSE",
        "categoryId": category(alice),
        "date": "2026-01-01",
    }
    del body[missing]
    assert missing in assert_problem(alice.post("/api/transactions", json=body), 422)["errors"]


def test_another_users_category_in_the_body_is_422(alice, bob, conn):
    bobs = category(bob, "Bob's")
    body = {"amount": "1.00", "type": "EXPENSE", "categoryId": bobs, "date": "2026-01-01"}
    problem = assert_problem(alice.post("/api/transactions", json=body), 422)
    assert problem["errors"] == {"categoryId": ["No such category."]}
    count = conn.execute(
        "SELECT count(*) FROM transactions WHERE ledger_id = %s", (alice.ledger_id,)
    )
    assert count.fetchone()[0] == 0


def test_a_missing_category_in_the_body_is_422(alice):
    body = {"amount": "1.00", "type": "INCOME", "categoryId": 2**62, "date": "2026-01-01"}
    problem = assert_problem(alice.post("/api/transactions", json=body), 422)
    assert problem["errors"] == {"categoryId": ["No such category."]}


def test_a_wrong_category_is_422_even_when_a_budget_would_refuse(alice, bob, conn):
    alice.post("/api/budgets", json={"amount": "10", "month": 1, "year": 2026})  # overall, hard
    bobs = category(bob, "Bob's")
    body = {"amount": "50.00", "type": "EXPENSE", "categoryId": bobs, "date": "2026-01-01"}
    for query in ("", "?dryRun=true"):
        problem = assert_problem(alice.post("/api/transactions" + query, json=body), 422)
        assert problem["errors"] == {"categoryId": ["No such category."]}
    count = conn.execute("SELECT count(*) FROM alerts WHERE ledger_id = %s", (alice.ledger_id,))
    assert count.fetchone()[0] == 0


def test_the_database_refuses_a_cross_ledger_category(alice, bob, conn):
    import psycopg

    bobs = category(bob, "Bob's")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute(
            "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on) "
            "VALUES (%s, %s, 'EXPENSE', 1, '2026-01-01')",
            (alice.ledger_id, bobs),
        )


def test_patch_any_field(alice):
    food, rent = category(alice, "Food"), category(alice, "Rent")
    created = record(alice, food, amount="10.00", description="a")
    path = f"/api/transactions/{created['id']}"
    for change, expected in [
        ({"amount": "20.5"}, {"amount": "20.50"}),
        ({"type": "INCOME"}, {"type": "INCOME"}),
        ({"categoryId": rent}, {"categoryId": rent, "category": "Rent"}),
        ({"description": "b"}, {"description": "b"}),
        ({"date": "2026-04-01T01:00:00+09:00"}, {"date": "2026-04-01"}),
    ]:
        response = alice.patch(path, json=change)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert {key: body[key] for key in expected} == expected
        assert body["alerts"] == []
    assert alice.get(path).get_json()["amount"] == "20.50"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "_schema"),
        ({"amount": "0"}, "amount"),
        ({"type": "X"}, "type"),
        ({"date": "x"}, "date"),
        ({"categoryId": 999999999}, "categoryId"),
        ({"nope": 1}, "nope"),
    ],
)
def test_patch_validation_changes_nothing(alice, body, field):
    created = record(alice, category(alice))
    path = f"/api/transactions/{created['id']}"
    assert field in assert_problem(alice.patch(path, json=body), 422)["errors"]
    after = alice.get(path).get_json()
    assert after == {key: value for key, value in created.items() if key != "alerts"}


def test_patch_to_another_users_category_is_422(alice, bob):
    created = record(alice, category(alice))
    response = alice.patch(f"/api/transactions/{created['id']}", json={"categoryId": category(bob)})
    assert_problem(response, 422)


def test_delete(alice):
    created = record(alice, category(alice))
    assert alice.delete(f"/api/transactions/{created['id']}").status_code == 204
    assert_problem(alice.get(f"/api/transactions/{created['id']}"), 404, "not_found")
    assert_problem(alice.delete(f"/api/transactions/{created['id']}"), 404, "not_found")


def test_other_users_transactions_are_404_and_unchanged(alice, bob):
    created = record(alice, category(alice))
    path = f"/api/transactions/{created['id']}"
    assert_problem(bob.get(path), 404, "not_found")
    assert_problem(bob.patch(path, json={"amount": "1.00"}), 404, "not_found")
    assert_problem(bob.delete(path), 404, "not_found")
    assert alice.get(path).get_json()["amount"] == created["amount"]
    assert bob.get("/api/transactions?year=2026&month=3").get_json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/transactions"),
        ("POST", "/api/transactions"),
        ("GET", "/api/transactions/1"),
        ("PATCH", "/api/transactions/1"),
        ("DELETE", "/api/transactions/1"),
    ],
)
def test_requires_a_token(client, method, path):
    assert_problem(client.open(path, method=method, json={}), 401)
    bad = {"Authorization": "Bearer x.y.z"}
    assert_problem(client.open(path, method=method, json={}, headers=bad), 401)


def _ids(user, query) -> list[int]:
    response = user.get("/api/transactions?" + query)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_list_defaults_to_the_current_month_in_the_users_time_zone(accounts):
    user = accounts.new_user(timezone="Pacific/Kiritimati")  # UTC+14: often a day ahead of UTC
    today = datetime.now(UTC).astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    food = category(user)
    this_month = record(user, food, date=today.isoformat())
    record(user, food, date=(today.replace(day=1) - timedelta(days=1)).isoformat())
    assert _ids(user, "") == [this_month["id"]]


def test_list_filters(alice):
    food, rent = category(alice, "Food"), category(alice, "Rent")
    a = record(alice, food, "5.00", date="2026-03-01", description="Coffee beans")
    b = record(alice, food, "50.00", date="2026-03-02", description="100% juice_box")
    c = record(alice, rent, "900.00", date="2026-03-03", description="March rent")
    d = record(alice, rent, "1000.00", type="INCOME", date="2026-03-04", description="Salary")
    e = record(alice, food, "7.00", date="2026-04-01", description="coffee")
    period = "year=2026&month=3"
    assert _ids(alice, period) == [d["id"], c["id"], b["id"], a["id"]]
    assert _ids(alice, "from=2026-03-02&to=2026-04-01") == [e["id"], d["id"], c["id"], b["id"]]
    assert _ids(alice, "from=2026-03-02&to=2026-03-02") == [b["id"]]
    assert _ids(alice, f"{period}&type=INCOME") == [d["id"]]
    assert _ids(alice, f"{period}&categoryId={food}") == [b["id"], a["id"]]
    assert _ids(alice, "from=2026-01-01&to=2026-12-31&q=COFFEE") == [e["id"], a["id"]]
    assert _ids(alice, f"{period}&q=100%25") == [b["id"]]  # % is literal, not a wildcard
    assert _ids(alice, f"{period}&q=e_b") == [b["id"]]  # _ is literal too
    assert _ids(alice, f"{period}&q=%25") == [b["id"]]
    assert _ids(alice, f"{period}&minAmount=50&maxAmount=900") == [c["id"], b["id"]]
    assert _ids(alice, f"{period}&minAmount=50.00&type=EXPENSE&categoryId={rent}") == [c["id"]]


def test_list_orders_same_day_by_highest_id(alice):
    food = category(alice)
    first, second = record(alice, food, date="2026-05-05"), record(alice, food, date="2026-05-05")
    assert _ids(alice, "year=2026&month=5") == [second["id"], first["id"]]


@pytest.mark.parametrize(
    "query",
    [
        "month=13&year=2026",
        "month=0&year=2026",
        "month=3&year=1800",
        "from=2026-02-01&to=2026-01-31",
        "month=1&year=2026&from=2026-01-01&to=2026-01-31",
        "from=bad&to=2026-01-01",
        "limit=0",
        "limit=501",
        "limit=x",
        "cursor=%%%",
        "cursor=eyJ4IjoxfQ",
        "type=income",
        "categoryId=x",
        "minAmount=-1",
        "minAmount=1e3",
        "minAmount=10&maxAmount=5",
        "q=",
        "unknown=1",
    ],
)
def test_list_validation(alice, query):
    assert_problem(alice.get("/api/transactions?" + query), 422, "validation_error")


def test_keyset_pagination_survives_inserts_between_pages(alice):
    food = category(alice)
    rows = [record(alice, food, date=f"2026-06-{day:02d}") for day in range(1, 8)]  # 7 rows
    expected = [row["id"] for row in reversed(rows)]

    first = alice.get("/api/transactions?year=2026&month=6&limit=3").get_json()
    assert [item["id"] for item in first["items"]] == expected[:3]
    # Inserted between pages: a newer row (before the cursor) and one that sorts after it.
    newer = record(alice, food, date="2026-06-30")
    older = record(alice, food, date="2026-06-01")
    second = alice.get(f"/api/transactions?year=2026&month=6&limit=3&cursor={first['nextCursor']}")
    second = second.get_json()
    assert [item["id"] for item in second["items"]] == expected[3:6]
    third = alice.get(f"/api/transactions?year=2026&month=6&limit=3&cursor={second['nextCursor']}")
    third = third.get_json()
    assert [item["id"] for item in third["items"]] == [older["id"], expected[6]]
    assert third["nextCursor"] is None
    seen = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert len(seen) == len(set(seen)) and newer["id"] not in seen


def test_exact_page_boundary_has_no_next_cursor(alice):
    food = category(alice)
    for day in (1, 2):
        record(alice, food, date=f"2026-07-0{day}")
    page = alice.get("/api/transactions?year=2026&month=7&limit=2").get_json()
    assert len(page["items"]) == 2 and page["nextCursor"] is None
