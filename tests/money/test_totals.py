"""The totals tables stay exactly equal to the transactions (split ones by their lines) after any
mix of concurrent writes."""

from __future__ import annotations

import contextvars
import random
import threading
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest

from expense_api.db.sqlfiles import queries
from expense_api.domain.errors import ValidationFailed
from expense_api.repositories import totals
from expense_api.services import transactions
from expense_api.services.budget_guard import BudgetExceeded
from tests.factories import acting, repository_ledger


def _user_with_categories(conn, count=3) -> tuple[int, list[int]]:
    """A ledger (its owner's default) with `count` categories: (ledger id, category ids)."""
    ledger_id, first = repository_ledger(conn)
    ids = [first] + [
        conn.execute(
            "INSERT INTO categories (ledger_id, name) VALUES (%s, %s) RETURNING id",
            (ledger_id, f"c{i}"),
        ).fetchone()[0]
        for i in range(1, count)
    ]
    return ledger_id, ids


def _assert_exact(conn, ledger_ids):
    assert queries.totals.monthly_mismatches(conn, ledger_ids=ledger_ids) == 0
    assert queries.totals.daily_mismatches(conn, ledger_ids=ledger_ids) == 0


def _random_values(rng, categories):
    """A transaction's values; one in three split into 2-4 lines (any categories, repeats
    included) that sum to its amount."""
    values = {
        "category_id": rng.choice(categories),
        "type": rng.choice(["INCOME", "EXPENSE"]),
        "amount": Decimal(rng.randrange(1, 50_000)) / 100,
        "description": "",
        "occurred_on": date(2026, 1, 1) + timedelta(days=rng.randrange(0, 90)),
    }
    if rng.random() < 1 / 3:
        cents = [rng.randrange(1, 20_000) for _ in range(rng.randrange(2, 5))]
        values["category_id"] = None
        values["splits"] = [
            {"category_id": rng.choice(categories), "amount": Decimal(c) / 100} for c in cents
        ]
        values["amount"] = Decimal(sum(cents)) / 100
    return values


def test_random_mix_of_concurrent_writes_keeps_totals_exact(database_url, conn):
    ledger_id, categories = _user_with_categories(conn)
    # A budget on one month, so some writers also go through enforcement and get refused.
    conn.execute(
        "INSERT INTO budgets (ledger_id, category_id, year, month, amount) "
        "VALUES (%s, NULL, 2026, 2, 2000)",
        (ledger_id,),
    )
    errors = []

    def writer(seed):
        rng = random.Random(seed)
        mine: list[int] = []
        with psycopg.connect(database_url) as own:
            for _ in range(40):
                action = rng.random()
                try:
                    with own.transaction():
                        if action < 0.5 or not mine:
                            row = transactions.create(
                                own,
                                acting(own, ledger_id),
                                values=_random_values(rng, categories),
                            )
                            mine.append(row["id"])
                        elif action < 0.85:
                            changes = _random_values(rng, categories)
                            changes = {k: v for k, v in changes.items() if rng.random() < 0.5} or {
                                "amount": Decimal("1.23")
                            }
                            if changes.get("splits"):  # new lines come with their sum
                                changes["amount"] = sum(
                                    line["amount"] for line in changes["splits"]
                                )
                            transactions.update(
                                own,
                                acting(own, ledger_id),
                                transaction_id=rng.choice(mine),
                                changes=changes,
                            )
                        else:
                            transactions.delete(
                                own,
                                acting(own, ledger_id),
                                transaction_id=mine.pop(rng.randrange(len(mine))),
                            )
                except (BudgetExceeded, ValidationFailed):
                    # Refusals: over a budget; a new amount for a split one without new lines;
                    # a category of null without lines.
                    pass
                except Exception as error:  # a deadlock or constraint failure fails the test
                    errors.append(error)

    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(writer, seed))
        for seed in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_exact(conn, [ledger_id])
    for table in ("transactions", "transaction_splits"):  # both kinds are there at the end
        count = f"SELECT count(*) FROM {table} WHERE ledger_id = %s"
        assert conn.execute(count, (ledger_id,)).fetchone()[0] > 0, table


def test_a_description_only_change_leaves_totals_alone(conn):
    ledger_id, (food, *_) = _user_with_categories(conn, 1)
    with conn.transaction():
        row = transactions.create(
            conn,
            acting(conn, ledger_id),
            values={
                "category_id": food,
                "type": "EXPENSE",
                "amount": Decimal("5"),
                "description": "a",
                "occurred_on": date(2026, 1, 1),
            },
        )
        transactions.update(
            conn,
            acting(conn, ledger_id),
            transaction_id=row["id"],
            changes={"description": "b"},
        )
    _assert_exact(conn, [ledger_id])


def test_deferred_bulk_load_and_rebuild_is_exact(conn):
    ledger_id, (food, rent) = _user_with_categories(conn, 2)
    with conn.transaction():
        queries.totals.defer_for_transaction(conn)
        for day in range(1, 29):
            conn.execute(
                "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on) "
                "VALUES (%s, %s, 'EXPENSE', %s, make_date(2026, 2, %s))",
                (ledger_id, food if day % 2 else rent, Decimal(day) / 4, day),
            )
        assert queries.totals.monthly_mismatches(conn, ledger_ids=[ledger_id]) > 0  # deferred
        totals.rebuild_for_ledgers(conn, [ledger_id])
    _assert_exact(conn, [ledger_id])
    # The setting was local to that transaction: later writes keep totals again.
    with conn.transaction():
        transactions.create(
            conn,
            acting(conn, ledger_id),
            values={
                "category_id": food,
                "type": "INCOME",
                "amount": Decimal("9.99"),
                "description": "",
                "occurred_on": date(2026, 2, 3),
            },
        )
    _assert_exact(conn, [ledger_id])


def test_rebuild_for_ledgers_replaces_wrong_totals_of_those_ledgers_only_and_never_commits(conn):
    users = [_user_with_categories(conn, 1) for _ in range(2)]
    for ledger_id, (category_id,) in users:
        for day in (1, 2):
            conn.execute(
                "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on) "
                "VALUES (%s, %s, 'EXPENSE', 3.5, make_date(2026, 4, %s))",
                (ledger_id, category_id, day),
            )
    (mended, _), (other, _) = users
    for table in ("monthly_totals", "daily_totals"):  # stale rows, as before a deferred load
        conn.execute(
            f"UPDATE {table} SET amount = amount + 1 WHERE ledger_id = ANY(%s)", ([mended, other],)
        )
    with conn.transaction(force_rollback=True):
        totals.rebuild_for_ledgers(conn, (mended,))  # any sequence of ids
        _assert_exact(conn, [mended])
        assert queries.totals.monthly_mismatches(conn, ledger_ids=[other]) == 1
    # The caller owns the transaction: rolled back, the stale rows are back.
    assert queries.totals.monthly_mismatches(conn, ledger_ids=[mended]) == 1
    assert queries.totals.daily_mismatches(conn, ledger_ids=[mended]) == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE transactions SET amount = amount * 2 WHERE ledger_id = %(u)s",
        "UPDATE transactions SET occurred_on = occurred_on + 40 WHERE ledger_id = %(u)s",
        "UPDATE transactions SET type = 'INCOME' WHERE ledger_id = %(u)s",
        "DELETE FROM transactions WHERE ledger_id = %(u)s AND amount > 3",
    ],
)
def test_multi_row_statements_keep_totals_exact(conn, statement):
    ledger_id, (food, rent) = _user_with_categories(conn, 2)
    for day in range(1, 11):
        conn.execute(
            "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on) "
            "VALUES (%s, %s, 'EXPENSE', %s, make_date(2026, 1, %s * 3))",
            (ledger_id, food if day % 2 else rent, Decimal(day) / 2, day),
        )
    conn.execute(statement, {"u": ledger_id})
    _assert_exact(conn, [ledger_id])
