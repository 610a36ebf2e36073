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
from . import alerts, budget_guard, categories
from .ledgers import Action, Actor, authorize
from .webhooks import outbox as webhook_outbox

FIELDS = ("category_id", "type", "amount", "description", "occurred_on")


def create(conn: Connection, actor: Actor, values: dict) -> dict:
    """The new transaction, recorded by the actor, with the alerts it fired."""
    authorize(actor, Action.WRITE)
    # The category is not looked up first: the insert's foreign key checks it, which saves a
    # round trip on every write. Only when a budget refuses the expense is it looked up, so that
    # a wrong category is still answered with 422 before any 409.
    try:
        allowed = budget_guard.check(conn, actor, old=None, new=values)
    except budget_guard.BudgetExceeded:
        if not categories.exists(conn, actor, values["category_id"]):
            raise no_such_category() from None
        raise
    # The alerts and the row: one round trip, and nothing written after it unless the ledger has
    # webhooks (their events need the rows just written). So the batch ends the work, and the
    # door's COMMIT goes with it when the door allows it (database.Batch); this service never
    # commits.
    ends_work = not webhook_outbox.wanted(actor)
    with category_must_exist(), Batch(conn, ends_work=ends_work) as batch:
        fired = allowed.fire_later(batch, actor)
        row = transactions.insert_later(
            batch,
            ledger_id=actor.ledger_id,
            created_by=actor.user_id,
            values={k: values[k] for k in FIELDS},
        )
    fired_alerts = alerts.recorded(conn, actor, fired)
    created = row.value()
    webhook_outbox.transaction_written(conn, actor, "transaction.created", created)
    return {**created, "alerts": fired_alerts}


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
    fired = budget_guard.before_write(conn, actor, old=old, new=new)
    # Checked above for a clear answer before any 409, and by the foreign key for a category
    # deleted in between.
    with category_must_exist():
        row = transactions.update(
            conn, ledger_id=actor.ledger_id, transaction_id=transaction_id, values=new
        )
    webhook_outbox.transaction_written(conn, actor, "transaction.updated", row)
    return {**row, "alerts": fired}


def delete(conn: Connection, actor: Actor, transaction_id: int) -> None:
    authorize(actor, Action.WRITE)
    # Deleting only lowers spending: no budget can block it, no alert can fire.
    deleted = transactions.delete(conn, ledger_id=actor.ledger_id, transaction_id=transaction_id)
    found(deleted, "transaction")
    webhook_outbox.transaction_deleted(conn, actor, transaction_id)


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
