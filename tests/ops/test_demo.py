"""The demo seeder: realistic, consistent data that users can log in to."""

from __future__ import annotations

from datetime import date

import psycopg

from expense_api.cli import main
from expense_api.db.sqlfiles import queries
from expense_api.demo import DEMO_PASSWORD, seed


def test_seed_loads_consistent_data(database_url, client, conn):
    with psycopg.connect(database_url) as own:
        users = seed(
            own, [3000, 500], years=2, end=date(2026, 6, 30), progress=False, bcrypt_rounds=4
        )
    assert [user.transactions for user in users] == [3000, 500]
    ids = [user.ledger_id for user in users]
    counts = conn.execute(
        "SELECT ledger_id, count(*), min(occurred_on), max(occurred_on), "
        "count(*) FILTER (WHERE type = 'INCOME') FROM transactions WHERE ledger_id = ANY(%s) "
        "GROUP BY ledger_id ORDER BY ledger_id",
        (ids,),
    ).fetchall()
    assert [row[1] for row in counts] == [3000, 500]
    first = counts[0]
    assert first[2] >= date(2024, 6, 1) and first[3] <= date(2026, 6, 30)
    assert 0 < first[4] < 3000  # income and expenses
    assert queries.totals.monthly_mismatches(conn, ledger_ids=ids) == 0
    assert queries.totals.daily_mismatches(conn, ledger_ids=ids) == 0
    # Receipts as they are: payees on most expenses, some split, some tagged.
    split, payees, tagged = conn.execute(
        "SELECT count(*) FILTER (WHERE category_id IS NULL),"
        " count(*) FILTER (WHERE payee_id IS NOT NULL),"
        " (SELECT count(DISTINCT transaction_id) FROM transaction_tags WHERE ledger_id = %(l)s)"
        " FROM transactions WHERE ledger_id = %(l)s",
        {"l": ids[0]},
    ).fetchone()
    assert split > 10 and payees > 1000 and tagged > 10
    budgets = conn.execute(
        "SELECT count(*) FROM budgets WHERE ledger_id = %s", (ids[0],)
    ).fetchone()
    assert budgets[0] == 12 * 4
    login = client.post(
        "/api/auth/login", json={"email": users[0].email, "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200
    token = login.get_json()["accessToken"]
    summary = client.get(
        "/api/summary?from=2024-01-01&to=2026-12-31", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert summary["totalExpense"] != "0.00" and summary["totalIncome"] != "0.00"


def test_seed_command_validates_its_arguments(capsys):
    assert main(["seed", "--users", "0"]) == 2
    assert "--users" in capsys.readouterr().err
