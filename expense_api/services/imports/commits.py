"""An import's preview becomes transactions (commit), is dropped (discard), or, once committed,
is taken back (undo). Each in one database transaction, set-based: a commit writes all its rows
with a handful of statements whatever their number.

Imported rows are facts that already happened: hard budgets do not refuse them. The commit
locks the budgets its rows raise (in the one order every writer takes them), fires their alerts
as any write does, and lists the budgets that ended above their amount (`overBudget`).
"""

from __future__ import annotations

from decimal import Decimal

from psycopg import Connection

from ...db.pool import Batch
from ...domain.errors import Conflict, ValidationFailed
from ...domain.money import format_amount, minor_units
from ...repositories import budgets, imports
from .. import alerts
from ..budget_guard import Scope
from ..changes import door, hook
from ..ledgers import Action, Actor, authorize
from . import reads


class NotPreview(Conflict):
    code = "import_not_preview"


class NotCommitted(Conflict):
    code = "import_not_committed"


def commit(conn: Connection, actor: Actor, import_id: int, overrides: dict | None = None) -> dict:
    """Commits the preview: its new rows become transactions, its matches are linked; with the
    client's per-row `overrides` ({line: {"decision"?: "new" | "skip", "category_id"?}})."""
    authorize(actor, Action.WRITE)
    with door.through("import"):  # what it writes is the import's, whichever door asked
        return _commit(conn, actor, import_id, overrides or {})


def _commit(conn: Connection, actor: Actor, import_id: int, overrides: dict) -> dict:
    before = _locked(conn, actor, import_id, "preview", NotPreview)
    _apply_overrides(conn, actor, import_id, overrides)
    _ensure_categories(conn, actor, import_id)
    imports.write_rows(
        conn,
        ledger_id=actor.ledger_id,
        import_id=import_id,
        account=before["account"],
        created_by=actor.user_id,
        digits=minor_units(actor.currency),
    )
    linked = imports.link_matches(
        conn, ledger_id=actor.ledger_id, import_id=import_id, account=before["account"]
    )
    created = imports.created_ids(conn, ledger_id=actor.ledger_id, import_id=import_id)
    hook.record_imported(conn, actor, "created", created)
    hook.record_imported(conn, actor, "updated", linked)
    over = _budgets_raised(conn, actor, import_id)
    imports.set_committed(conn, ledger_id=actor.ledger_id, import_id=import_id, over_budget=over)
    after = reads.get(conn, actor, import_id)
    hook.record_import_committed(
        conn, actor, before=reads.shape(actor, before), after=reads.shape(actor, after)
    )
    return after


def discard(conn: Connection, actor: Actor, import_id: int) -> None:
    """Drops a preview (nothing of the ledger was written)."""
    authorize(actor, Action.WRITE)
    before = _locked(conn, actor, import_id, "preview", NotPreview)
    imports.set_status(conn, ledger_id=actor.ledger_id, import_id=import_id, status="discarded")
    after = reads.get(conn, actor, import_id)
    hook.record(
        conn, actor, "import", "updated",
        before=reads.shape(actor, before), after=reads.shape(actor, after),
    )  # fmt: skip


def undo(conn: Connection, actor: Actor, import_id: int) -> dict:
    """Takes a commit back: the transactions it created go, except those changed since (kept,
    and listed in `kept`); the transactions it linked forget the bank line."""
    authorize(actor, Action.WRITE)
    with door.through("import"):
        return _undo(conn, actor, import_id)


def _undo(conn: Connection, actor: Actor, import_id: int) -> dict:
    before = _locked(conn, actor, import_id, "committed", NotCommitted)
    created = imports.created_for_undo(conn, ledger_id=actor.ledger_id, import_id=import_id)
    doomed = [row["id"] for row in created if not row["kept"]]
    kept = [row["id"] for row in created if row["kept"]]
    hook.record_imported(conn, actor, "deleted", doomed)  # their images, before they go
    if doomed:
        imports.delete_transactions(conn, ledger_id=actor.ledger_id, ids=doomed)
    unlinked = imports.unlink_matches(conn, ledger_id=actor.ledger_id, import_id=import_id)
    hook.record_imported(conn, actor, "updated", unlinked)
    imports.set_status(
        conn, ledger_id=actor.ledger_id, import_id=import_id, status="undone", kept=kept
    )
    after = reads.get(conn, actor, import_id)
    hook.record(
        conn, actor, "import", "updated",
        before=reads.shape(actor, before), after=reads.shape(actor, after),
    )  # fmt: skip
    return after


def _locked(conn: Connection, actor: Actor, import_id: int, status: str, refusal) -> dict:
    """The import, locked; 404 when the ledger has none, the refusal when not in `status`."""
    current = imports.lock(conn, ledger_id=actor.ledger_id, import_id=import_id)
    shown = reads.get(conn, actor, import_id)  # 404 when current is None
    if current != status:
        raise refusal(f"This import is {current}; only an import in {status} can do that.")
    return shown


def _apply_overrides(conn: Connection, actor: Actor, import_id: int, overrides: dict) -> None:
    """The client's per-row choices: skip a row, make a match a new transaction, or another
    category (one of the ledger's). A duplicate or invalid row cannot be made new."""
    if not overrides:
        return
    rows = {row["line"]: row for row in _all_rows(conn, actor, import_id, None)}
    known = {c["id"] for c in imports.categories_by_name(conn, ledger_id=actor.ledger_id).values()}
    errors: dict[str, list[str]] = {}
    prepared = []
    for line, choice in sorted(overrides.items()):
        where = f"rows.{line}"
        row = rows.get(line)
        if row is None:
            errors[where] = ["No such line in this import."]
            continue
        decision = choice.get("decision")
        if decision == "new" and row["decision"] not in ("new", "match"):
            errors[f"{where}.decision"] = [f"A {row['decision']} row cannot be imported."]
            continue
        category_id = choice.get("category_id")
        if category_id is not None and category_id not in known:
            errors[f"{where}.categoryId"] = ["No such category."]
            continue
        prepared.append(
            {
                "line": line,
                "skip": decision == "skip",
                "make_new": decision == "new" and row["decision"] == "match",
                "category_id": category_id,
            }
        )
    if errors:
        raise ValidationFailed(errors)
    imports.set_overrides(conn, ledger_id=actor.ledger_id, import_id=import_id, overrides=prepared)


def _ensure_categories(conn: Connection, actor: Actor, import_id: int) -> None:
    """The categories the rows name that the ledger lacks (Uncategorized, a file's own names,
    the lines' categories), made and logged."""
    names = imports.category_names_needed(conn, ledger_id=actor.ledger_id, import_id=import_id)
    if not names:
        return
    made = imports.ensure_categories(conn, ledger_id=actor.ledger_id, names=sorted(names))
    for category in made:
        after = hook.render(actor, "category", category)
        hook.record(conn, actor, "category", "created", after=after)


def _all_rows(conn: Connection, actor: Actor, import_id: int, decision: str | None) -> list:
    return imports.rows_page(
        conn,
        ledger_id=actor.ledger_id,
        import_id=import_id,
        decision=decision,
        after_line=0,
        limit=None,
    )


def _budgets_raised(conn: Connection, actor: Actor, import_id: int) -> list[dict]:
    """Fires the alerts of the budgets the commit raised (and of the later months of their
    rollover chains), under their locks, against what each has available; those that ended
    above it, as {budgetId, categoryId, year, month, mode, amount, available, spent}."""
    scopes = [
        Scope(row["year"], row["month"], row["category_id"])
        for row in imports.raised_scopes(conn, ledger_id=actor.ledger_id, import_id=import_id)
    ]
    if not scopes:
        return []
    with Batch(conn) as batch:
        locked, chain_rows = budgets.lock_and_read_chains_later(
            batch, ledger_id=actor.ledger_id, scopes=scopes
        )
    # The commit's rows are in the totals already: the state read is the state after.
    months = {month["id"]: month for month in chain_rows.value()}
    over = []
    for budget in locked.value():
        total, available = months[budget["id"]]["spent"], months[budget["id"]]["available"]
        alerts.fire_reached(conn, actor, {**budget, "amount": available}, total)
        if total > available:
            over.append(
                {
                    "budgetId": budget["id"],
                    "categoryId": budget["category_id"],
                    "year": budget["year"],
                    "month": budget["month"],
                    "mode": budget["mode"],
                    "amount": format_amount(budget["amount"], actor.currency),
                    "available": format_amount(available, actor.currency),
                    "spent": format_amount(Decimal(total), actor.currency),
                }
            )
    return over
