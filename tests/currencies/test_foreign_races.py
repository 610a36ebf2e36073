"""A hard budget holds under concurrency when the expenses are in another currency: 40 writers
over real HTTP (gunicorn, parallel connections), each converted to the ledger's currency before
the budget guard weighs it. Exactly the affordable number is accepted, every other writer gets
409 budget_exceeded, and the ledger never spends more than the budget (../shared/API.md
"Several currencies": budgets and enforcement use `ledgerAmount`)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from devtools.servers import call
from expense_api.db.sqlfiles import queries
from tests.factories import race

ROUNDS = 2  # repeated runs must be just as exact
RACERS = 40


def _http_user(base: str, conn, currency: str) -> tuple[str, int]:
    """A user registered over HTTP with a ledger in `currency`: their token and ledger id."""
    email = f"fx-race-{uuid.uuid4().hex[:12]}@example.com"
    body = {"name": "Racer", "email": email, "password": "password123", "currency": currency}
    status, user, _ = call(base, "POST", "/api/auth/register", body)
    assert status == 201, user
    status, tokens, _ = call(
        base, "POST", "/api/auth/login", {"email": email, "password": "password123"}
    )
    assert status == 200
    ledger_id = conn.execute(
        "SELECT ledger_id FROM ledger_members WHERE user_id = %s AND is_default",
        (user["user"]["id"],),
    ).fetchone()[0]
    return tokens["accessToken"], ledger_id


def _spent(conn, ledger_id: int, category_id: int | None) -> Decimal:
    """March 2026's expenses in the ledger's currency from the raw rows: of a category line by
    line (transactions with it and split lines naming it), or of the whole ledger for None."""
    query = (
        "SELECT COALESCE(sum(amount), 0) FROM ("
        "  SELECT category_id, amount, occurred_on, type FROM transactions"
        "  WHERE ledger_id = %(l)s AND (%(c)s::bigint IS NULL OR category_id IS NOT NULL)"
        "  UNION ALL"
        "  SELECT category_id, amount, occurred_on, type FROM transaction_splits"
        "  WHERE ledger_id = %(l)s AND %(c)s::bigint IS NOT NULL"
        ") AS entries WHERE type = 'EXPENSE' AND occurred_on BETWEEN '2026-03-01' AND '2026-03-31'"
        " AND (%(c)s::bigint IS NULL OR category_id = %(c)s::bigint)"
    )
    return conn.execute(query, {"l": ledger_id, "c": category_id}).fetchone()[0]


# Each race: the ledger's currency, the ledger's own rates (currency, day, rate), hard budgets
# ({category name or None for the overall one: amount}), the expense each racer posts (category
# names in place of ids), the ledger amount of one racer's expense, and how many are affordable.
RACES = {
    # 6.00 EUR at 1.1 is 6.60 USD: 15 fit in 105.00 (99.00 <= 105 < 105.60); a guard that
    # weighed the new expense in euros would let a 16th in (99.00 + 6.00 <= 105).
    "rate-given": (
        "USD",
        [],
        {"Food": "105"},
        {"amount": "6.00", "currency": "EUR", "rate": "1.1", "categoryId": "Food"},
        "6.60",
        15,
    ),
    # 1000 JPY at the ledger's rate of the date (0.0067, not the later 0.0001) is 6.70 USD:
    # 14 fit (93.80 <= 100 < 100.50).
    "ledger-rate": (
        "USD",
        [("JPY", "2026-02-20", "0.0067"), ("JPY", "2026-03-20", "0.0001")],
        {"Food": "100"},
        {"amount": "1000", "currency": "JPY", "categoryId": "Food"},
        "6.70",
        14,
    ),
    # 5.00 EUR at 1.25 is 6.25 USD, its lines 3.00 and 2.00 EUR shares 3.75 and 2.50 USD: the
    # shared category's hard budget of 51.75 holds 13 lines (48.75 <= 51.75 < 52.50); weighing
    # the new line in euros would let a 14th in (48.75 + 3.00 <= 51.75).
    "split-lines": (
        "USD",
        [],
        {"Shared": "51.75", "Other": "1000", None: "1000"},
        {
            "amount": "5.00",
            "currency": "EUR",
            "rate": "1.25",
            "splits": [
                {"categoryId": "Shared", "amount": "3.00"},
                {"categoryId": "Other", "amount": "2.00"},
            ],
        },
        "6.25",
        13,
    ),
    # 7.00 USD at 0.3075 is 2.1525 KWD, half up 2.153: the overall budget of a KWD ledger of
    # 19.370 holds 8 (17.224 <= 19.370 < 19.377); rounded down, 9 would fit (19.368).
    "overall-kwd": (
        "KWD",
        [],
        {"Food": "1000", None: "19.370"},
        {"amount": "7.00", "currency": "USD", "rate": "0.3075", "categoryId": "Food"},
        "2.153",
        8,
    ),
}


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.parametrize("race_", RACES, ids=list(RACES))
def test_http_writers_in_another_currency_never_overspend(live_server, conn, race_, round_):
    base = live_server.base
    currency, rates, limits, expense, each, affordable = RACES[race_]
    token, ledger_id = _http_user(base, conn, currency)
    names = {name for name in limits if name is not None}
    ids = {n: call(base, "POST", "/api/categories", {"name": n}, token)[1]["id"] for n in names}
    for name, amount in limits.items():
        budget = {"categoryId": ids.get(name), "amount": amount, "month": 3, "year": 2026,
                  "mode": "hard"}  # fmt: skip
        assert call(base, "POST", "/api/budgets", budget, token)[0] == 201
    for code, day, rate in rates:
        conn.execute(
            "INSERT INTO ledger_rates (ledger_id, currency, day, rate) VALUES (%s, %s, %s, %s)",
            (ledger_id, code, day, Decimal(rate)),
        )
    body = {**expense, "type": "EXPENSE", "date": "2026-03-15"}
    if "categoryId" in body:
        body["categoryId"] = ids[body["categoryId"]]
    else:
        body["splits"] = [
            {**line, "categoryId": ids[line["categoryId"]]} for line in body["splits"]
        ]

    def write(_):
        status, answer, _ = call(base, "POST", "/api/transactions", body, token)
        if status == 201:
            assert answer["ledgerAmount"] == each, answer
        return status, (answer or {}).get("code")

    results = race(RACERS, write)
    assert results.count((201, None)) == affordable, results
    assert results.count((409, "budget_exceeded")) == RACERS - affordable, results
    assert _spent(conn, ledger_id, None) == Decimal(each) * affordable
    for name, amount in limits.items():
        assert _spent(conn, ledger_id, ids.get(name)) <= Decimal(amount), name
    foreign = conn.execute(
        "SELECT count(*) FROM transactions WHERE ledger_id = %s AND currency IS NOT NULL",
        (ledger_id,),
    ).fetchone()[0]
    assert foreign == affordable
    assert queries.totals.monthly_mismatches(conn, ledger_ids=[ledger_id]) == 0
    assert queries.totals.daily_mismatches(conn, ledger_ids=[ledger_id]) == 0
