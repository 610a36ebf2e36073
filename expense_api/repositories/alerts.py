from __future__ import annotations

from decimal import Decimal

from psycopg import Connection

from ..db.sqlfiles import queries


def fire(conn: Connection, *, ledger_id: int, budgets: list[tuple[dict, Decimal]]) -> list[dict]:
    """Fires the alerts that spending reaches for `budgets`, each (budget, what its month
    spends), the budget's `amount` being what it has available (sql/alerts.sql, fire); the
    alerts recorded (one that had fired before is not recorded again)."""
    if not budgets:
        return []
    return queries.alerts.fire(
        conn,
        ledger_id=ledger_id,
        budget_ids=[budget["id"] for budget, _ in budgets],
        spent=[spent for _, spent in budgets],
        available=[budget["amount"] for budget, _ in budgets],
        thresholds=[budget["alert_threshold"] for budget, _ in budgets],
    )


def insert_recurring_skipped(
    conn: Connection, *, ledger_id: int, budget_id: int, recurring_id: int, percent_used: Decimal
) -> dict:
    return queries.alerts.insert_recurring_skipped(
        conn,
        ledger_id=ledger_id,
        budget_id=budget_id,
        recurring_id=recurring_id,
        percent_used=percent_used,
    )


def list_page(
    conn: Connection,
    *,
    ledger_id: int,
    user_id: int,
    unread_only: bool,
    limit: int,
    before_id: int | None,
) -> list[dict]:
    """The ledger's alerts with `user_id`'s read state."""
    return queries.alerts.list_page(
        conn,
        ledger_id=ledger_id,
        user_id=user_id,
        unread_only=unread_only,
        limit=limit,
        before_id=before_id,
    )


def mark_read(conn: Connection, *, ledger_id: int, user_id: int, alert_id: int) -> dict | None:
    return queries.alerts.mark_read(conn, ledger_id=ledger_id, user_id=user_id, id=alert_id)


def list_page_across_ledgers(
    conn: Connection,
    *,
    user_id: int,
    roles: list[str],
    unread_only: bool,
    limit: int,
    before_id: int | None,
) -> list[dict]:
    """The alerts of every ledger where `user_id` is a member with one of `roles`, with their
    read state."""
    return queries.alerts.list_page_across_ledgers(
        conn,
        user_id=user_id,
        roles=roles,
        unread_only=unread_only,
        limit=limit,
        before_id=before_id,
    )


def mark_read_in_any_ledger(
    conn: Connection, *, user_id: int, roles: list[str], alert_id: int
) -> dict | None:
    return queries.alerts.mark_read_in_any_ledger(conn, user_id=user_id, roles=roles, id=alert_id)
