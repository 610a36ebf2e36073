"""Budget alerts: a budget's threshold alert and its limit alert each fire once (per budget, and
a budget is one month's), when what the month spends reaches the threshold or 100% of the
amount. An alert belongs to the ledger; each member reads it for themself. Listed newest
first; marking one read keeps that member's first read time."""

from __future__ import annotations

from decimal import Decimal

from psycopg import Connection

from ..domain.errors import found
from ..domain.money import percent
from ..ops import metrics
from ..repositories import alerts
from .changes import hook
from .ledgers import ROLE_ACTIONS, Action, Actor, authorize

# Across ledgers, READ is authorized in the query itself: only ledgers where the caller's role
# allows it take part (every role does today; the table in ledgers.py decides).
_READERS = sorted(role for role, actions in ROLE_ACTIONS.items() if Action.READ in actions)


def fire_reached(conn: Connection, actor: Actor, budget: dict, spent: Decimal) -> list[dict]:
    """Records the alerts of `budget` that spending `spent` reaches and that have not fired
    yet, against its `amount`, what the month has available (its amount plus what it carried
    under rollover; the rule is the database's: migration 0024, fire_budget_alerts); returns
    those it recorded, announced."""
    fired = alerts.fire(conn, ledger_id=actor.ledger_id, budgets=[(budget, spent)])
    return announce(conn, actor, fired)


def announce(conn: Connection, actor: Actor, fired: list[dict]) -> list[dict]:
    """`fired` (alerts recorded: by fire_reached, or by the budget rule of a write), each
    counted for /metrics and with its webhook event recorded in the same transaction: after the
    change's own entry, so the events leave in that order."""
    for alert in fired:
        metrics.alert_fired(alert["kind"])
        hook.alert_fired(conn, actor, alert)
    return fired


def record_recurring_skipped(
    conn: Connection, actor: Actor, *, budget: dict, recurring_id: int
) -> dict:
    """Records that a hard budget refused a date of a recurring rule: an alert of kind
    `recurring_skipped` naming the budget (as BudgetExceeded reports it) and the rule, in the
    same transaction as the rule's progress."""
    available = Decimal(budget["available"])
    used = Decimal(percent(Decimal(budget["spent"]), available)) if available > 0 else Decimal(100)
    alert = alerts.insert_recurring_skipped(
        conn,
        ledger_id=actor.ledger_id,
        budget_id=budget["id"],
        recurring_id=recurring_id,
        percent_used=used,
    )
    hook.alert_fired(conn, actor, alert)
    return alert


def list_page(
    conn: Connection, actor: Actor, *, unread_only: bool, limit: int, before_id: int | None
) -> list[dict]:
    authorize(actor, Action.READ)
    return alerts.list_page(
        conn,
        ledger_id=actor.ledger_id,
        user_id=actor.user_id,
        unread_only=unread_only,
        limit=limit,
        before_id=before_id,
    )


def mark_read(conn: Connection, actor: Actor, alert_id: int) -> dict:
    """Read for this member only; a viewer may mark what they have seen."""
    authorize(actor, Action.READ)
    row = alerts.mark_read(
        conn, ledger_id=actor.ledger_id, user_id=actor.user_id, alert_id=alert_id
    )
    return found(row, "alert")


def list_page_across_ledgers(
    conn: Connection, user_id: int, *, unread_only: bool, limit: int, before_id: int | None
) -> list[dict]:
    """The alerts of every ledger the user belongs to (and may read), newest first, each with
    its `ledger_id` and this user's read state."""
    return alerts.list_page_across_ledgers(
        conn,
        user_id=user_id,
        roles=_READERS,
        unread_only=unread_only,
        limit=limit,
        before_id=before_id,
    )


def mark_read_in_any_ledger(conn: Connection, user_id: int, alert_id: int) -> dict:
    """Read for this user, whichever of their ledgers the alert is in (alert ids are unique
    across ledgers); NotFound when it is in none of them."""
    row = alerts.mark_read_in_any_ledger(conn, user_id=user_id, roles=_READERS, alert_id=alert_id)
    return found(row, "alert")
