"""Check-then-write races, made deterministic with real parallel connections: a category is
deleted (uncommitted) by another connection while a request that still sees it writes a row
pointing at it. The write's foreign key check waits on the deletion's row lock; once the deletion
commits, the request must answer 422 on `categoryId` (never a 500) and leave nothing written."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg

from tests.factories import category, record, save
from tests.helpers import assert_problem, wait_until_blocked_by

NO_SUCH_CATEGORY = {"categoryId": ["No such category."]}


def _while_deleting_category(database_url, conn, user, category_id, request):
    """Runs request() in a thread while another connection deletes the category: the deletion
    stays uncommitted until the request waits on it, then commits. Returns the response."""
    with ThreadPoolExecutor(max_workers=1) as pool, psycopg.connect(database_url) as deleter:
        deleted = deleter.execute(
            "DELETE FROM categories WHERE ledger_id = %s AND id = %s",
            (user.ledger_id, category_id),
        ).rowcount
        assert deleted == 1
        answer = pool.submit(request)
        wait_until_blocked_by(conn, deleter.info.backend_pid)
        assert not answer.done()
        deleter.commit()
        return answer.result(timeout=30)


def test_a_budget_for_a_category_deleted_meanwhile_is_422(alice, database_url, conn):
    spare = category(alice, "Spare")  # nothing refers to it, so it can be deleted
    response = _while_deleting_category(
        database_url, conn, alice, spare, lambda: save(alice, categoryId=spare, amount="100")
    )
    assert assert_problem(response, 422, "validation_error")["errors"] == NO_SUCH_CATEGORY
    budgets = conn.execute("SELECT count(*) FROM budgets WHERE ledger_id = %s", (alice.ledger_id,))
    assert budgets.fetchone()[0] == 0


def test_moving_a_transaction_to_a_category_deleted_meanwhile_is_422(alice, database_url, conn):
    food, spare = category(alice, "Food"), category(alice, "Spare")
    expense = record(alice, food, amount="12.00")
    response = _while_deleting_category(
        database_url,
        conn,
        alice,
        spare,
        lambda: alice.patch(f"/api/transactions/{expense['id']}", json={"categoryId": spare}),
    )
    assert assert_problem(response, 422, "validation_error")["errors"] == NO_SUCH_CATEGORY
    unchanged = alice.get(f"/api/transactions/{expense['id']}").get_json()
    assert (unchanged["categoryId"], unchanged["amount"]) == (food, "12.00")
    totals = conn.execute(
        "SELECT category_id, amount FROM monthly_totals WHERE ledger_id = %s",
        (alice.ledger_id,),
    ).fetchall()
    assert totals == [(food, 12)]
