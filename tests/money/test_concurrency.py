"""A hard budget holds under concurrency: real parallel connections, through HTTP and at the
repository level. Every test asserts exact counts, so an overspend or a lost update fails it."""

from __future__ import annotations

import contextvars
import threading
import uuid
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from devtools.servers import call
from expense_api.db.sqlfiles import queries
from expense_api.services import budgets, transactions
from expense_api.services.budget_guard import BudgetExceeded
from tests.factories import acting, race, repository_ledger

ROUNDS = 3  # repeated runs must be just as exact


def _http_user(base: str, conn) -> tuple[str, int]:
    """A user registered and logged in over HTTP: their access token and default ledger."""
    email = f"race-{uuid.uuid4().hex[:12]}@example.com"
    body = {"name": "Racer", "email": email, "password": "password123"}
    status, user, _ = call(base, "POST", "/api/auth/register", body)
    assert status == 201
    status, tokens, _ = call(
        base, "POST", "/api/auth/login", {"email": email, "password": "password123"}
    )
    assert status == 200
    ledger_id = conn.execute(
        "SELECT ledger_id FROM ledger_members WHERE user_id = %s AND is_default",
        (user["user"]["id"],),
    ).fetchone()[0]
    return tokens["accessToken"], ledger_id


def _spent(conn, ledger_id: int, month: int = 3, category_id: int | None = None) -> Decimal:
    query = (
        "SELECT COALESCE(sum(amount), 0) FROM transactions WHERE ledger_id = %s AND type = 'EXPENSE'"
        " AND occurred_on >= make_date(2026, %s, 1)"
        " AND occurred_on < make_date(2026, %s, 1) + interval '1 month'"
        " AND (%s::bigint IS NULL OR category_id = %s::bigint)"
    )
    return conn.execute(query, (ledger_id, month, month, category_id, category_id)).fetchone()[0]


def _assert_totals_match(conn, ledger_id: int):
    mismatch = conn.execute(
        """
        SELECT count(*) FROM (
            SELECT date_trunc('month', occurred_on)::date AS month, category_id, type,
                   sum(amount) AS amount, count(*) AS n
            FROM transactions WHERE ledger_id = %(u)s GROUP BY 1, 2, 3
        ) t FULL JOIN (
            SELECT month, category_id, type, amount, tx_count AS n
            FROM monthly_totals WHERE ledger_id = %(u)s AND tx_count > 0
        ) m USING (month, category_id, type)
        WHERE t.amount IS DISTINCT FROM m.amount OR t.n IS DISTINCT FROM m.n
        """,
        {"u": ledger_id},
    ).fetchone()[0]
    assert mismatch == 0


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_http_writers_on_one_hard_budget_never_overspend(live_server, conn, round_):
    base = live_server.base
    token, ledger_id = _http_user(base, conn)
    _, food, _ = call(base, "POST", "/api/categories", {"name": "Food"}, token)
    status, _, _ = call(
        base,
        "POST",
        "/api/budgets",
        {"categoryId": food["id"], "amount": "100.00", "month": 3, "year": 2026},
        token,
    )
    assert status == 201
    body = {"amount": "7.00", "type": "EXPENSE", "categoryId": food["id"], "date": "2026-03-09"}
    statuses = race(48, lambda _: call(base, "POST", "/api/transactions", body, token)[0])
    assert statuses.count(201) == 14  # 14 * 7 = 98 <= 100 < 105
    assert statuses.count(409) == 34
    assert _spent(conn, ledger_id) == Decimal("98.00")
    _assert_totals_match(conn, ledger_id)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_http_writers_on_category_and_overall_budgets(live_server, conn, round_):
    base = live_server.base
    token, ledger_id = _http_user(base, conn)
    ids = [call(base, "POST", "/api/categories", {"name": n}, token)[1]["id"] for n in "AB"]
    for category_id, amount in ((ids[0], "50"), (ids[1], "50"), (None, "70")):
        budget = {"categoryId": category_id, "amount": amount, "month": 3, "year": 2026}
        assert call(base, "POST", "/api/budgets", budget, token)[0] == 201

    def write(index):
        body = {
            "amount": "10",
            "type": "EXPENSE",
            "categoryId": ids[index % 2],
            "date": "2026-03-15",
        }
        return call(base, "POST", "/api/transactions", body, token)[0]

    statuses = race(40, write)
    assert statuses.count(201) == 7 and statuses.count(409) == 33
    assert _spent(conn, ledger_id) == Decimal("70")
    assert _spent(conn, ledger_id, category_id=ids[0]) <= 50
    assert _spent(conn, ledger_id, category_id=ids[1]) <= 50
    _assert_totals_match(conn, ledger_id)


def _spent_by_lines(conn, ledger_id: int, category_id: int | None) -> Decimal:
    """March 2026's expenses of a category counted line by line (a transaction with a category
    and the lines of split ones), or of the whole ledger for None, from the raw rows."""
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


# Each racer posts a split expense (3.00 in the shared category S, 2.00 in A or B, lines in
# either order, so the racers' lines name their categories in both orders): (hard budgets of
# S, A, B and the overall one, how many racers are accepted). 40 racers.
SPLIT_RACES = {
    # S holds 16 lines of 3.00 (48 <= 50 < 51): more accepted if enforcement ignored lines.
    "shared-category": ({"S": "50", "A": "1000", "B": "1000", None: "1000"}, 16),
    # A and B hold 7 lines of 2.00 each (14 <= 15 < 16).
    "two-categories": ({"S": "1000", "A": "15", "B": "15", None: "1000"}, 14),
    # The overall budget holds 11 whole splits of 5.00 (55 <= 57 < 60).
    "overall": ({"S": "1000", "A": "1000", "B": "1000", None: "57"}, 11),
}


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.parametrize("race_", SPLIT_RACES, ids=list(SPLIT_RACES))
def test_http_writers_of_splits_sharing_a_category_budget(live_server, conn, race_, round_):
    base = live_server.base
    token, ledger_id = _http_user(base, conn)
    ids = {n: call(base, "POST", "/api/categories", {"name": n}, token)[1]["id"] for n in "SAB"}
    limits, affordable = SPLIT_RACES[race_]
    for name, amount in limits.items():
        budget = {"categoryId": ids.get(name), "amount": amount, "month": 3, "year": 2026}
        assert call(base, "POST", "/api/budgets", budget, token)[0] == 201

    def write(index):
        lines = [
            {"categoryId": ids["S"], "amount": "3.00"},
            {"categoryId": ids["AB"[index % 2]], "amount": "2.00"},
        ]
        if index % 4 >= 2:
            lines.reverse()
        body = {"amount": "5.00", "type": "EXPENSE", "date": "2026-03-15", "splits": lines}
        status, answer, _ = call(base, "POST", "/api/transactions", body, token)
        return status, (answer or {}).get("code")

    results = race(40, write)
    assert results.count((201, None)) == affordable, results
    assert results.count((409, "budget_exceeded")) == 40 - affordable, results
    for name, amount in limits.items():
        assert _spent_by_lines(conn, ledger_id, ids.get(name)) <= Decimal(amount), name
    assert _spent_by_lines(conn, ledger_id, None) == 5 * affordable
    assert queries.totals.monthly_mismatches(conn, ledger_ids=[ledger_id]) == 0
    assert queries.totals.daily_mismatches(conn, ledger_ids=[ledger_id]) == 0


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_repository_writers_on_one_hard_budget(database_url, conn, round_):
    ledger_id, food = repository_ledger(conn)
    with psycopg.connect(database_url) as setup:
        budgets.save(
            setup,
            acting(setup, ledger_id),
            values={
                "category_id": food,
                "year": 2026,
                "month": 3,
                "amount": Decimal("100.00"),
                "mode": "hard",
                "alert_threshold": None,
            },
        )
    values = {
        "category_id": food,
        "type": "EXPENSE",
        "amount": Decimal("3.33"),
        "description": "",
        "occurred_on": date(2026, 3, 20),
    }

    def write(_):
        with psycopg.connect(database_url) as own:  # a real connection per writer
            try:
                with own.transaction():
                    transactions.create(own, acting(own, ledger_id), values=values)
                return "ok"
            except BudgetExceeded:
                return "refused"

    results = race(32, write)
    assert results.count("ok") == 30  # 30 * 3.33 = 99.90 <= 100 < 103.23
    assert _spent(conn, ledger_id) == Decimal("99.90")
    # The limit alert never fired (99.9%), the threshold one exactly once.
    kinds = conn.execute("SELECT kind FROM alerts WHERE ledger_id = %s", (ledger_id,)).fetchall()
    assert kinds == [("threshold",)]
    _assert_totals_match(conn, ledger_id)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_moves_between_two_months_never_deadlock_or_overspend(live_server, conn, round_):
    base = live_server.base
    token, ledger_id = _http_user(base, conn)
    ids = [call(base, "POST", "/api/categories", {"name": n}, token)[1]["id"] for n in "AB"]
    for month in (3, 4):
        for category_id, amount in ((ids[0], "60"), (ids[1], "60"), (None, "100")):
            budget = {"categoryId": category_id, "amount": amount, "month": month, "year": 2026}
            assert call(base, "POST", "/api/budgets", budget, token)[0] == 201
    existing = []
    for index in range(12):
        body = {
            "amount": "5",
            "type": "EXPENSE",
            "categoryId": ids[index % 2],
            "date": f"2026-0{3 + index % 2}-1{index % 9}",
        }
        status, row, _ = call(base, "POST", "/api/transactions", body, token)
        assert status == 201
        existing.append(row["id"])

    def work(index):
        if index % 3 == 0:  # move an existing expense to the other month and category
            target = existing[index % len(existing)]
            change = {
                "date": f"2026-0{4 - index % 2}-2{index % 9}",
                "categoryId": ids[(index + 1) % 2],
            }
            return call(base, "PATCH", f"/api/transactions/{target}", change, token)[0]
        body = {
            "amount": "9",
            "type": "EXPENSE",
            "categoryId": ids[index % 2],
            "date": f"2026-0{3 + index % 2}-0{1 + index % 9}",
        }
        return call(base, "POST", "/api/transactions", body, token)[0]

    statuses = race(36, work)
    assert set(statuses) <= {200, 201, 409}, statuses  # no 500 (deadlock), no 503
    for month in (3, 4):
        assert _spent(conn, ledger_id, month) <= 100
        for category_id in ids:
            assert _spent(conn, ledger_id, month, category_id) <= 60
    _assert_totals_match(conn, ledger_id)


def test_budget_creation_waits_for_an_expense_in_flight(database_url, conn):
    ledger_id, food = repository_ledger(conn)
    values = {
        "category_id": food,
        "type": "EXPENSE",
        "amount": Decimal("80"),
        "description": "",
        "occurred_on": date(2026, 3, 1),
    }
    budget = {
        "category_id": food,
        "year": 2026,
        "month": 3,
        "amount": Decimal("100"),
        "mode": "hard",
        "alert_threshold": None,
    }
    done = threading.Event()
    with (
        psycopg.connect(database_url) as expense_conn,
        psycopg.connect(database_url) as budget_conn,
    ):
        expense_conn.execute("BEGIN")
        transactions.create(expense_conn, acting(expense_conn, ledger_id), values=values)

        def create_budget():
            with budget_conn.transaction():
                budgets.save(budget_conn, acting(budget_conn, ledger_id), values=budget)
            done.set()

        thread = threading.Thread(target=contextvars.copy_context().run, args=(create_budget,))
        thread.start()
        # The budget write is queued on the scope lock behind the uncommitted expense.
        waiting = 0
        for _ in range(200):
            waiting = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND objid = %s",
                (ledger_id,),
            ).fetchone()[0]
            if waiting:
                break
            threading.Event().wait(0.05)
        assert waiting == 1 and not done.is_set()
        expense_conn.execute("COMMIT")
        thread.join(timeout=10)
        assert done.is_set()
    # Now the budget sees the 80 already spent: 25 more is refused.
    with psycopg.connect(database_url) as again, pytest.raises(BudgetExceeded), again.transaction():
        transactions.create(
            again, acting(again, ledger_id), values={**values, "amount": Decimal("25")}
        )
