"""Ledgers as the tenant, below HTTP: every user has a default ledger, members act in a ledger
with the rights of their role (one check, in the services), budgets hold when several members
race, each member has their own alert read state, and transactions record who wrote them."""

from __future__ import annotations

import contextvars
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from expense_api.domain.errors import Forbidden, NotFound
from expense_api.repositories import ledgers as ledger_rows
from expense_api.services import alerts, budgets, categories, ledgers, reports, transactions
from expense_api.services.budget_guard import BudgetExceeded
from tests.factories import acting, repository_ledger

EXPENSE = {
    "type": "EXPENSE",
    "amount": Decimal("10"),
    "description": "",
    "occurred_on": date(2026, 3, 10),
}


def _member(conn, ledger_id: int, role: str) -> ledgers.Actor:
    """A new user added to the ledger with `role`, acting in it."""
    user_id = conn.execute(
        "INSERT INTO users (name, email, password_hash) VALUES ('Member', %s, 'x') RETURNING id",
        (f"member-{uuid.uuid4().hex[:12]}@example.com",),
    ).fetchone()[0]
    ledger_rows.add_member(conn, ledger_id=ledger_id, user_id=user_id, role=role)
    return ledgers.actor_in(conn, user_id=user_id, ledger_id=ledger_id)


def _count(conn, table: str, ledger_id: int) -> int:
    query = {
        "transactions": "SELECT count(*) FROM transactions WHERE ledger_id = %s",
        "categories": "SELECT count(*) FROM categories WHERE ledger_id = %s",
        "budgets": "SELECT count(*) FROM budgets WHERE ledger_id = %s",
    }[table]
    return conn.execute(query, (ledger_id,)).fetchone()[0]


def test_registering_creates_a_default_ledger_owned_by_the_user(alice, conn):
    row = conn.execute(
        "SELECT m.role, m.is_default, l.name, l.currency, l.timezone FROM ledger_members m"
        " JOIN ledgers l ON l.id = m.ledger_id WHERE m.user_id = %s",
        (alice.id,),
    ).fetchall()
    assert row == [("owner", True, "Personal", "USD", "UTC")]


def test_the_default_ledger_takes_the_users_currency_and_time_zone(accounts, conn):
    user = accounts.new_user(currency="JPY", timezone="Asia/Tokyo")
    ledger = conn.execute(
        "SELECT currency, timezone FROM ledgers WHERE id = %s", (user.ledger_id,)
    ).fetchone()
    assert ledger == ("JPY", "Asia/Tokyo")


def test_each_role_may_do_what_the_contract_says():
    actor = ledgers.Actor(user_id=1, ledger_id=1, role="viewer", currency="USD", timezone="UTC")
    allowed = {
        role: {
            action
            for action in ledgers.Action
            if _allows(ledgers.Actor(1, 1, role, "USD", "UTC"), action)
        }
        for role in ("owner", "editor", "viewer")
    }
    assert allowed == {
        "owner": {ledgers.Action.READ, ledgers.Action.WRITE, ledgers.Action.MANAGE},
        "editor": {ledgers.Action.READ, ledgers.Action.WRITE},
        "viewer": {ledgers.Action.READ},
    }
    with pytest.raises(Forbidden) as refused:
        ledgers.authorize(actor, ledgers.Action.WRITE)
    assert refused.value.code == "forbidden"


def _allows(actor: ledgers.Actor, action: ledgers.Action) -> bool:
    try:
        ledgers.authorize(actor, action)
    except Forbidden:
        return False
    return True


def test_a_viewer_reads_but_every_write_is_refused_and_changes_nothing(conn):
    ledger_id, food = repository_ledger(conn)
    owner = acting(conn, ledger_id)
    transactions.create(conn, owner, {**EXPENSE, "category_id": food})
    viewer = _member(conn, ledger_id, "viewer")
    before = {table: _count(conn, table, ledger_id) for table in ("transactions", "categories")}

    assert [row["id"] for row in categories.list_all(conn, viewer)] == [food]
    assert reports.summary(conn, viewer, {"month": 3, "year": 2026})["total_expense"] == 10
    writes = [
        lambda: categories.create(conn, viewer, name="Nope"),
        lambda: categories.rename(conn, viewer, food, name="Nope"),
        lambda: categories.delete(conn, viewer, food),
        lambda: transactions.create(conn, viewer, {**EXPENSE, "category_id": food}),
        lambda: budgets.save(
            conn,
            viewer,
            {"category_id": None, "year": 2026, "month": 3, "amount": Decimal(1)}
            | {"mode": None, "alert_threshold": None},
        ),
    ]
    for write in writes:
        with pytest.raises(Forbidden):
            write()
    assert before == {table: _count(conn, table, ledger_id) for table in before}


def test_an_editor_writes_and_the_transaction_records_who(conn):
    ledger_id, food = repository_ledger(conn)
    editor = _member(conn, ledger_id, "editor")
    row = transactions.create(conn, editor, {**EXPENSE, "category_id": food})
    assert row["created_by"]["id"] == editor.user_id
    stored = conn.execute(
        "SELECT created_by FROM transactions WHERE ledger_id = %s AND id = %s",
        (ledger_id, row["id"]),
    ).fetchone()
    assert stored == (editor.user_id,)


def test_a_user_who_is_not_a_member_gets_no_actor(conn):
    ledger_id, _ = repository_ledger(conn)
    other_ledger, _ = repository_ledger(conn)
    outsider = acting(conn, other_ledger).user_id
    with pytest.raises(NotFound):
        ledgers.actor_in(conn, user_id=outsider, ledger_id=ledger_id)


def test_a_removed_member_is_refused_at_once(conn):
    ledger_id, _ = repository_ledger(conn)
    editor = _member(conn, ledger_id, "editor")
    conn.execute(
        "DELETE FROM ledger_members WHERE ledger_id = %s AND user_id = %s",
        (ledger_id, editor.user_id),
    )
    with pytest.raises(NotFound):
        ledgers.actor_in(conn, user_id=editor.user_id, ledger_id=ledger_id)


def test_each_member_has_their_own_alert_read_state(conn):
    ledger_id, food = repository_ledger(conn)
    owner = acting(conn, ledger_id)
    partner = _member(conn, ledger_id, "editor")
    budgets.save(
        conn,
        owner,
        {"category_id": food, "year": 2026, "month": 3, "amount": Decimal("10")}
        | {"mode": "soft", "alert_threshold": 80},
    )
    fired = transactions.create(conn, partner, {**EXPENSE, "category_id": food})["alerts"]
    assert {alert["kind"] for alert in fired} == {"threshold", "limit"}

    first = fired[0]["id"]
    read = alerts.mark_read(conn, owner, first)
    assert read["read_at"] is not None
    assert alerts.mark_read(conn, owner, first)["read_at"] == read["read_at"]  # first time kept

    def unread(actor) -> list[int]:
        page = alerts.list_page(conn, actor, unread_only=True, limit=10, before_id=None)
        return sorted(alert["id"] for alert in page)

    assert unread(owner) == sorted(a["id"] for a in fired if a["id"] != first)
    assert unread(partner) == sorted(a["id"] for a in fired)  # the partner has read nothing


def test_deleting_a_ledger_removes_everything_in_it_and_nothing_else(conn):
    ledger_id, food = repository_ledger(conn)
    kept_ledger, kept_food = repository_ledger(conn)
    for ledger, category in ((ledger_id, food), (kept_ledger, kept_food)):
        owner = acting(conn, ledger)
        budgets.save(
            conn,
            owner,
            {"category_id": category, "year": 2026, "month": 3, "amount": Decimal("5")}
            | {"mode": "soft", "alert_threshold": 80},
        )
        transactions.create(conn, owner, {**EXPENSE, "category_id": category})
    kept = {table: _count(conn, table, kept_ledger) for table in ("transactions", "budgets")}

    conn.execute("DELETE FROM ledgers WHERE id = %s", (ledger_id,))

    for table in ("transactions", "categories", "budgets"):
        assert _count(conn, table, ledger_id) == 0
    for table in ("alerts", "monthly_totals", "daily_totals", "ledger_members"):
        left = conn.execute(f"SELECT count(*) FROM {table} WHERE ledger_id = %s", (ledger_id,))
        assert left.fetchone()[0] == 0, table
    assert kept == {table: _count(conn, table, kept_ledger) for table in kept}


@pytest.mark.parametrize("round_", range(2))
def test_three_members_racing_on_one_hard_budget_never_overspend_it(database_url, conn, round_):
    """3 members x 16 real connections on one hard budget of 100: exactly 10 expenses of 10 fit,
    whoever records them."""
    ledger_id, food = repository_ledger(conn)
    members = [acting(conn, ledger_id)] + [_member(conn, ledger_id, "editor") for _ in range(2)]
    budgets.save(
        conn,
        members[0],
        {"category_id": food, "year": 2026, "month": 3, "amount": Decimal("100")}
        | {"mode": "hard", "alert_threshold": None},
    )
    barrier = threading.Barrier(48, timeout=60)

    def write(index: int) -> str:
        actor = members[index % 3]
        with psycopg.connect(database_url) as own:
            barrier.wait()
            try:
                with own.transaction():
                    transactions.create(own, actor, {**EXPENSE, "category_id": food})
                return "ok"
            except BudgetExceeded:
                return "refused"

    contexts = [contextvars.copy_context() for _ in range(48)]  # each thread in this test's door
    with ThreadPoolExecutor(max_workers=48) as pool:
        results = list(pool.map(lambda i: contexts[i].run(write, i), range(48)))
    assert results.count("ok") == 10
    spent = conn.execute(
        "SELECT sum(amount) FROM transactions WHERE ledger_id = %s", (ledger_id,)
    ).fetchone()
    assert spent == (Decimal("100"),)
