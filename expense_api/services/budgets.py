"""Monthly budgets, per category or overall: saved by (year, month, category), listed, deleted.
Enforcement against them is services/budget_guard.py.

Saving a budget fires those of its alerts that its month's spending already reaches (say, the
amount or the threshold lowered below what is spent), each once, as an expense does: a budget's
threshold alert and its limit alert are unique (services/alerts.py)."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from psycopg import Connection

from ..domain.errors import ValidationFailed, found
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
    """The alerts that spending reaches now, against what is available, that had not fired: of
    the budget, and of the later months of its rollover chain (what they carry moves with it)."""
    scope = Scope(budget["year"], budget["month"], budget["category_id"])
    return _fire_along_chains(conn, actor, [scope])


def _fire_along_chains(conn: Connection, actor: Actor, scopes: list[Scope]) -> list[dict]:
    """fire_reached for each scope's month and every later month of its chain, each against
    what it has available (its amount plus what it carried)."""
    rows = budgets.chains(conn, ledger_id=actor.ledger_id, scopes=scopes, forward=True)
    fired = []
    for month in rows:
        start = scopes[month["scope_no"] - 1]
        if (month["year"], month["month"]) < (start.year, start.month):
            continue  # earlier months: unchanged
        fired.extend(
            alerts.fire_reached(
                conn, actor, {**month, "amount": month["available"]}, month["spent"]
            )
        )
    return fired


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
    # As a save, it waits for expense writes in flight (their checks saw this budget).
    budgets.lock_scope_exclusive(conn, ledger_id=actor.ledger_id)
    deleted = found(budgets.delete(conn, ledger_id=actor.ledger_id, budget_id=budget_id), "budget")
    hook.record(conn, actor, "budget", "deleted", before=hook.render(actor, "budget", deleted))
    # The next month carried from this one: its chain starts afresh there (never refused; its
    # alerts, and its chain's, fire against what they now have available).
    following = date(deleted["year"], deleted["month"], 1) + relativedelta(months=1)
    _fire_along_chains(
        conn, actor, [Scope(following.year, following.month, deleted["category_id"])]
    )


def copy(conn: Connection, actor: Actor, *, source: tuple[int, int], target: tuple[int, int]):
    """Copies the budgets of the `source` month (year, month) to the `target` month: amount,
    mode, alert threshold and rollover; a scope the target month already has a budget for is
    kept as it is. Each new budget is saved as save() saves one (logged, its alerts fired).
    Returns {"created": [...], "skipped": [...]}: the budgets made, and the target's budgets
    that were kept (for the scopes the source has), in the source's order."""
    authorize(actor, Action.WRITE)
    if source == target:
        raise ValidationFailed({"to": ["Give another month than `from`."]})
    # No budget of the ledger can change meanwhile: the copy sees one state of both months.
    budgets.lock_scope_exclusive(conn, ledger_id=actor.ledger_id)
    (from_year, from_month), (to_year, to_month) = source, target
    copied = budgets.list_for_ledger(
        conn, ledger_id=actor.ledger_id, year=from_year, month=from_month
    )
    present = {
        row["category_id"]: row
        for row in budgets.list_for_ledger(
            conn, ledger_id=actor.ledger_id, year=to_year, month=to_month
        )
    }
    created, skipped = [], []
    for row in copied:
        if row["category_id"] in present:
            skipped.append(present[row["category_id"]])
            continue
        values = {field: row[field] for field in COPIED}
        saved, _ = save(conn, actor, {**values, "year": to_year, "month": to_month})
        saved.pop("alerts")
        created.append(saved)
    return {"created": created, "skipped": skipped}


# What a copy takes from each budget (the month and year are the target's).
COPIED = ("category_id", "amount", "mode", "alert_threshold", "rollover")
