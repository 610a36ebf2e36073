"""Monthly budgets, per category or overall: saved by (year, month, category), listed, deleted.
Enforcement against them is services/budget_guard.py.

Saving a budget fires those of its alerts that its month's spending already reaches (say, the
amount or the threshold lowered below what is spent), each once, as an expense does: a budget's
threshold alert and its limit alert are unique (services/alerts.py)."""

from __future__ import annotations

from psycopg import Connection

from ..domain.errors import found
from ..repositories import budgets
from ..repositories.integrity import category_must_exist, no_such_category
from . import alerts, categories
from .budget_guard import Scope
from .changes import hook
from .ledgers import Action, Actor, authorize, authorize_each


def save(conn: Connection, actor: Actor, values: dict) -> tuple[dict, bool]:
    """Creates or updates the budget of (year, month, category); returns it, with the alerts
    the write fired in `alerts`, and `created`."""
    authorize(actor, Action.WRITE)
    category_id = values.get("category_id")
    if category_id is not None and not categories.exists(conn, actor, category_id):
        raise no_such_category()
    # Expense writes in flight finish first (see budget_guard), so none misses this budget, and
    # what the scope has spent (read below) cannot rise until this write commits.
    budgets.lock_scope_exclusive(conn, ledger_id=actor.ledger_id)
    old = budgets.get_by_scope(  # no budget write can change it while the lock is held
        conn,
        ledger_id=actor.ledger_id,
        year=values["year"],
        month=values["month"],
        category_id=category_id,
    )
    with category_must_exist():  # deleted since the check above: the foreign key says so
        row = budgets.upsert(conn, ledger_id=actor.ledger_id, values=values)
    created = row.pop("created")
    hook.record(
        conn,
        actor,
        "budget",
        "created" if created else "updated",
        before=None if old is None else hook.render(actor, "budget", old),
        after=hook.render(actor, "budget", row),
    )
    return {**row, "alerts": _fire_reached(conn, actor, row)}, created


def _fire_reached(conn: Connection, actor: Actor, budget: dict) -> list[dict]:
    """The alerts of the budget that its scope's spending reaches now and that had not fired."""
    scope = Scope(budget["year"], budget["month"], budget["category_id"])
    [spent] = budgets.spent(conn, ledger_id=actor.ledger_id, scopes=[scope])
    return alerts.fire_reached(conn, actor, budget, spent["spent"])


def list_all(conn: Connection, actor: Actor, *, year=None, month=None) -> list[dict]:
    authorize(actor, Action.READ)
    return budgets.list_for_ledger(conn, ledger_id=actor.ledger_id, year=year, month=month)


def list_for_ledgers(
    conn: Connection, actors: list[Actor], *, year=None, month=None
) -> dict[int, list[dict]]:
    """list_all for many ledgers in one statement ({ledger_id: rows}), each actor authorized
    as list_all authorizes it, before any database work."""
    ledger_ids = authorize_each(actors, Action.READ)
    return budgets.list_for_ledgers(conn, ledger_ids=ledger_ids, year=year, month=month)


def get(conn: Connection, actor: Actor, budget_id: int) -> dict:
    authorize(actor, Action.READ)
    return found(budgets.get(conn, ledger_id=actor.ledger_id, budget_id=budget_id), "budget")


def delete(conn: Connection, actor: Actor, budget_id: int) -> None:
    authorize(actor, Action.WRITE)
    deleted = found(budgets.delete(conn, ledger_id=actor.ledger_id, budget_id=budget_id), "budget")
    hook.record(conn, actor, "budget", "deleted", before=hook.render(actor, "budget", deleted))
