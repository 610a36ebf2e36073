"""The one write hook: every change to a ledger's data, by any door, is recorded here, in the
change's own database transaction, and everything that follows a change starts here.

    door (REST, GraphQL, worker, import, CLI)
      -> service (the rules: authorize, validate, enforce budgets)
        -> repositories (the change itself)
        -> hook.record(...)  (the same transaction, usually the same round trip)
             -> the change log entry (actor, via, request id, entity, op, before/after)
             -> the webhook event the entry makes (transaction.*, budget.updated)
             -> at COMMIT: the entry's seq in commit order and the analytics cache's new
                generation (migration 0016's deferred trigger)

Services never call the webhook outbox or touch the cache's generation themselves. Alerts are
not entities of the log (they are consequences of a change), but their webhook events leave
through here too (`alert_fired`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg import Connection

from ...db.pool import Batch, Pending
from ...domain.money import minor_units
from ...ops import logs
from ...repositories import changes
from ..webhooks import outbox
from . import door, shapes

if TYPE_CHECKING:  # services/ledgers.py records its own changes here: no import cycle at run time
    from ..ledgers import Actor

OPS = ("created", "updated", "deleted")

# The webhook event an entry makes, by (entity, op); its payload is the entry's `after`, or for a
# deletion the id and ledger.
EVENT_OF = {
    ("transaction", "created"): "transaction.created",
    ("transaction", "updated"): "transaction.updated",
    ("transaction", "deleted"): "transaction.deleted",
    ("budget", "created"): "budget.updated",
    ("budget", "updated"): "budget.updated",
}


def entry(
    actor: Actor | None,
    ledger_id: int,
    entity: str,
    op: str,
    *,
    before,
    after,
    event: str | None = None,
) -> dict:
    """The statement's parameters for one change of `entity` (a shape each of before/after,
    shapes.render; None for the side that does not exist). actor None: the service itself.
    `event`: the webhook event, when not the one EVENT_OF gives (an import's commit)."""
    actor_id = None if actor is None else actor.user_id
    webhooks = actor is None or actor.has_webhooks
    return _entry(
        actor_id, ledger_id, entity, op, before=before, after=after, webhooks=webhooks, event=event
    )


def _entry(
    actor_id: int | None,
    ledger_id: int,
    entity: str,
    op: str,
    *,
    before,
    after,
    webhooks: bool,
    event: str | None = None,
) -> dict:
    """entry() by the person `actor_id` (None: the service itself); `webhooks` False: the
    ledger is known to have no enabled endpoint, so no event is rendered."""
    assert op in OPS, op
    assert (before is None) == (op == "created") and (after is None) == (op == "deleted"), op
    entity_id = shapes.identity(entity, after if after is not None else before)
    event = (event or EVENT_OF.get((entity, op))) if webhooks else None
    payload = None
    if event is not None:
        payload = after if after is not None else {"id": entity_id, "ledgerId": ledger_id}
    return {
        "ledger_id": ledger_id,
        "actor_id": actor_id,
        "via": door.current(),
        "request_id": logs.REQUEST_ID.get(),
        "entity": entity,
        "entity_id": entity_id,
        "op": op,
        "before": before,
        "after": after,
        "event": event,
        "payload": payload,
    }


def record(
    conn: Connection, actor: Actor, entity: str, op: str, *, before=None, after=None
) -> None:
    """Records a change the actor made in their ledger, in the caller's transaction."""
    changes.record(conn, entry(actor, actor.ledger_id, entity, op, before=before, after=after))


def record_import_committed(conn: Connection, actor: Actor, *, before: dict, after: dict) -> None:
    """An import's commit: its own entry, which makes the one `import.committed` webhook event
    (the transactions it created or linked are logged by record_imported, without events)."""
    changes.record(
        conn,
        entry(actor, actor.ledger_id, "import", "updated", before=before, after=after,
              event="import.committed"),
    )  # fmt: skip


def record_imported(conn: Connection, actor: Actor, op: str, ids: list[int]) -> int:
    """The entries of the transactions an import's commit created (`created`), linked
    (`updated`) or its undo is about to delete (`deleted`, before the delete): written by the
    database from transactions_shown, one statement whatever their number, with no webhook
    event each (the import's own entry makes one). How many."""
    if not ids:
        return 0
    return _in_bulk(conn, actor, "transaction", op=op, ids=ids)


def record_creator_erased(
    conn: Connection, user_id: int, ledger_id: int, currency: str, ids: list[int]
) -> int:
    """The entries of the transactions whose creator's account is being erased
    (services/account_data.py), after their created_by was cleared: `updated`, by that person
    (who may have left the ledger: record_by_person's kind of actor), written by the database
    as record_imported's are, without webhook events, so delta sync sends them anew with
    createdBy null. Their `before` is filled in by the erasure's rewrite of the images
    (repositories/erasure.py). How many."""
    if not ids:
        return 0
    return changes.record_in_bulk(
        conn,
        "transaction",
        ledger_id=ledger_id,
        actor_id=user_id,
        via=door.current(),
        request_id=logs.REQUEST_ID.get(),
        digits=minor_units(currency),
        currency=currency,
        op="updated",
        ids=ids,
    )


def record_rates(conn: Connection, actor: Actor, rows: list[dict]) -> int:
    """The entries of the rates a write created or changed (repositories/rates.upsert's rows:
    `old_rate` None for a created one): one statement whatever their number, images rendered
    by the database as shapes' "rate", no webhook event. How many."""
    if not rows:
        return 0
    return changes.record_rates(
        conn,
        ledger_id=actor.ledger_id,
        actor_id=actor.user_id,
        via=door.current(),
        request_id=logs.REQUEST_ID.get(),
        rows=rows,
    )


def record_later(
    batch: Batch, actor: Actor, entity: str, op: str, *, before=None, after=None
) -> Pending:
    """record(), queued in the batch that makes the change (no round trip of its own)."""
    return changes.record_later(
        batch, entry(actor, actor.ledger_id, entity, op, before=before, after=after)
    )


def record_new_transaction_later(batch: Batch, actor: Actor, currency: str | None) -> Pending:
    """The `created` entry (and `transaction.created` event) of the transaction the actor's
    batch inserts before it (repositories/transactions.insert_later), its image rendered by the
    database from the row as written, so that it goes in the insert's round trip. `currency`:
    the transaction's own, None for the ledger's."""
    own = {} if currency is None else {currency: minor_units(currency)}
    return changes.record_new_transaction_later(
        batch,
        ledger_id=actor.ledger_id,
        actor_id=actor.user_id,
        via=door.current(),
        request_id=logs.REQUEST_ID.get(),
        digits=minor_units(actor.currency),
        currency=actor.currency,
        digits_of=own,
        event=EVENT_OF["transaction", "created"] if actor.has_webhooks else None,
    )


def record_by_service(
    conn: Connection, ledger_id: int, entity: str, op: str, *, before=None, after=None
) -> None:
    """A change the service made by itself (no member acted: the worker pausing a failing rule,
    say); the actor is null in the log."""
    changes.record(conn, entry(None, ledger_id, entity, op, before=before, after=after))


def record_by_person(
    conn: Connection, user_id: int, ledger_id: int, entity: str, op: str, *, before=None, after=None
) -> None:
    """A change someone made to a ledger they are not acting in as a member (an invitee
    declining an invitation to it): they are the actor all the same."""
    changes.record(
        conn, _entry(user_id, ledger_id, entity, op, before=before, after=after, webhooks=True)
    )


def record_created_in_bulk(conn: Connection, actor: Actor, entity: str) -> int:
    """One `created` entry for each row of `entity` in the actor's ledger that the log does not
    know yet: rows a bulk load wrote behind the hook's back (COPY, INSERT ... SELECT: the CLI's
    `seed`, the benchmarks' seeders), logged in the load's own transaction. The images are
    rendered by the database (sql/changes.sql, the same shapes as `render`: a test holds them
    equal), a statement per entity, so a million rows cost seconds, not a million round trips.
    Numbered at COMMIT like every entry (migration 0016). A bulk load sends no webhook event:
    it is refused in a ledger with an enabled endpoint. How many entries."""
    if actor.has_webhooks:
        raise ValueError("a bulk load sends no webhook events: the ledger must have no endpoint")
    return _in_bulk(conn, actor, entity)


# What shows a category's name in its REST shape: renaming the category changes each of them.
SHOWS_CATEGORY_NAME = ("transaction", "budget", "recurring")


def record_category_renamed(conn: Connection, actor: Actor, category_id: int, old_name: str) -> int:
    """An `updated` entry for every entity that shows the category's name (SHOWS_CATEGORY_NAME),
    after a rename: their REST shapes changed, so the audit trail says so and delta sync sends
    them again (a synced copy never keeps the old name). Written by the database, as the bulk
    path's are (images rendered in SQL), numbered at COMMIT. They make no webhook event: a
    rename is announced by nothing else today either. How many."""
    return sum(
        _in_bulk(conn, actor, entity, renamed_category=category_id, old_name=old_name)
        for entity in SHOWS_CATEGORY_NAME
    )


def _in_bulk(conn: Connection, actor: Actor, entity: str, **which) -> int:
    """Entries the database writes for many rows of `entity`, by the actor, through the
    current door (repositories/changes.record_in_bulk)."""
    return changes.record_in_bulk(
        conn,
        entity,
        ledger_id=actor.ledger_id,
        actor_id=actor.user_id,
        via=door.current(),
        request_id=logs.REQUEST_ID.get(),
        digits=minor_units(actor.currency),
        currency=actor.currency,
        **which,
    )


def render(actor: Actor, entity: str, row: dict) -> dict:
    """The entity's REST shape of a repository row, in the actor's ledger's currency."""
    return shapes.render(entity, row, actor.currency)


def render_in(currency: str, entity: str, row: dict) -> dict:
    """render() where no member acts (the service's own changes), in the ledger's currency."""
    return shapes.render(entity, row, currency)


def alert_fired(conn: Connection, actor: Actor, alert: dict) -> None:
    """An alert's webhook event (alert.threshold, alert.limit, recurring.skipped)."""
    if not actor.has_webhooks:
        return
    data = shapes.render("alert", alert, actor.currency)
    outbox.record(conn, actor.ledger_id, outbox.ALERT_EVENTS[alert["kind"]], data)
