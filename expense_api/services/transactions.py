"""Income and expenses: recording, listing, changing and deleting them. The category must be
the ledger's own, and every write that can raise spending passes the budget guard in the same
database transaction first."""

from __future__ import annotations

from psycopg import Connection

from ..db.pool import Batch
from ..domain import periods
from ..domain.errors import found
from ..repositories import transactions
from ..repositories.integrity import category_must_exist, no_such_category
from ..repositories.transactions import FIELDS
from . import alerts, budget_guard, categories
from .changes import hook
from .ledgers import Action, Actor, authorize


def create(conn: Connection, actor: Actor, values: dict) -> dict:
    """The new transaction, recorded by the actor, with the alerts it fired."""
    authorize(actor, Action.WRITE)
    # Round trip 1: the budget locks and spending (when the write raises a budget) and the new
    # row's id, time and names, so that its change-log entry can go with the insert.
    with Batch(conn) as batch:
        check = budget_guard.check_later(batch, actor, old=None, new=values)
        allocated = transactions.allocate_later(
            batch,
            ledger_id=actor.ledger_id,
            category_id=values["category_id"],
            created_by=actor.user_id,
        )
    fresh = allocated.value()
    if fresh["category"] is None:  # a wrong category is a 422 before any 409
        raise no_such_category()
    allowed = check.decide()
    row = {
        **{field: values[field] for field in FIELDS},
        "id": fresh["id"],
        "category": fresh["category"],
        "created_at": fresh["created_at"],
        "created_by": {"id": actor.user_id, "name": fresh["created_by_name"]},
    }
    # Round trip 2: the alerts, the row and its entry; nothing is written after it unless the
    # ledger has webhooks (the alerts' events need the alerts' rows). So the batch ends the
    # work, and the door's COMMIT goes with it when the door allows it (database.Batch); this
    # service never commits.
    with category_must_exist(), Batch(conn, ends_work=not actor.has_webhooks) as batch:
        fired = allowed.fire_later(batch, actor)
        transactions.insert_later(batch, ledger_id=actor.ledger_id, row=row)
        hook.record_later(
            batch, actor, "transaction", "created", after=hook.render(actor, "transaction", row)
        )
    return {**row, "alerts": alerts.recorded(conn, actor, fired)}


def get(conn: Connection, actor: Actor, transaction_id: int) -> dict:
    authorize(actor, Action.READ)
    row = transactions.get(conn, ledger_id=actor.ledger_id, transaction_id=transaction_id)
    return found(row, "transaction")


def update(conn: Connection, actor: Actor, transaction_id: int, changes: dict) -> dict:
    """The changed transaction with the alerts it fired."""
    authorize(actor, Action.WRITE)
    old = transactions.get_for_update(
        conn, ledger_id=actor.ledger_id, transaction_id=transaction_id
    )
    found(old, "transaction")
    moved_to = changes.get("category_id", old["category_id"])
    if moved_to != old["category_id"] and not categories.exists(conn, actor, moved_to):
        raise no_such_category()
    new = {**{k: old[k] for k in FIELDS}, **changes}
    allowed = budget_guard.check(conn, actor, old=old, new=new)
    # Checked above for a clear answer before any 409, and by the foreign key for a category
    # deleted in between.
    with category_must_exist():
        row = transactions.update(
            conn, ledger_id=actor.ledger_id, transaction_id=transaction_id, values=new
        )
    hook.record(
        conn,
        actor,
        "transaction",
        "updated",
        before=hook.render(actor, "transaction", old),
        after=hook.render(actor, "transaction", row),
    )
    # The change first, then the alerts it fired (their webhook events in that order, as create's).
    return {**row, "alerts": allowed.fire(conn, actor)}


def delete(conn: Connection, actor: Actor, transaction_id: int) -> None:
    authorize(actor, Action.WRITE)
    # Deleting only lowers spending: no budget can block it, no alert can fire.
    deleted = transactions.delete(conn, ledger_id=actor.ledger_id, transaction_id=transaction_id)
    found(deleted, "transaction")
    hook.record(
        conn, actor, "transaction", "deleted", before=hook.render(actor, "transaction", deleted)
    )


def resolve_period(conn: Connection, actor: Actor, query: dict) -> periods.Period:
    """The period a validated query asks for, in the actor's ledger's time zone (periods.resolve);
    a `to` alone starts at the ledger's first transaction, read only then."""
    return periods.resolve(
        query,
        actor.timezone,
        first_date=lambda: transactions.first_date(conn, ledger_id=actor.ledger_id),
    )


def list_page(
    conn: Connection, actor: Actor, *, period_filter: dict, limit: int, after=None, **filters
) -> list[dict]:
    """Up to `limit` rows of a period (see resolve_period), newest date first, after a keyset
    position (date, id)."""
    authorize(actor, Action.READ)
    period = resolve_period(conn, actor, period_filter)
    return transactions.list_page(
        conn,
        ledger_id=actor.ledger_id,
        date_from=period.start,
        date_to=period.end,
        limit=limit,
        after=after,
        **filters,
    )


def pages_for_ledgers(
    conn: Connection,
    actors: list[Actor],
    *,
    period_filter: dict,
    limit: int,
    after=None,
    **filters,
) -> dict[int, list[dict]]:
    """list_page for each actor's ledger in one statement ({ledger_id: rows}): each actor
    authorized as list_page authorizes it, the period resolved in each ledger's time zone
    (resolve_periods; a `to` alone starts at each ledger's own first transaction), the same
    order, cursor and filters."""
    for actor in actors:
        authorize(actor, Action.READ)
    spans = {
        ledger_id: (period.start, period.end)
        for ledger_id, period in resolve_periods(conn, actors, period_filter).items()
    }
    return transactions.pages_for_ledgers(conn, periods=spans, limit=limit, after=after, **filters)


def resolve_periods(
    conn: Connection, actors: list[Actor], query: dict
) -> dict[int, periods.Period]:
    """resolve_period for each actor's ledger ({ledger_id: period}), each in its own time zone;
    when a `to` alone needs the ledgers' first transactions, they are read in one statement for
    all of them."""
    firsts: dict = {}  # {ledger_id: its first transaction's date or None}, read once if needed

    def first_date_of(ledger_id: int):
        if not firsts:
            ids = [actor.ledger_id for actor in actors]
            firsts.update(transactions.first_dates(conn, ledger_ids=ids))
        return firsts[ledger_id]

    return {
        actor.ledger_id: periods.resolve(
            query,
            actor.timezone,
            first_date=lambda ledger_id=actor.ledger_id: first_date_of(ledger_id),
        )
        for actor in actors
    }
