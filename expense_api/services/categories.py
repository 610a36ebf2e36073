"""Categories: names unique per ledger (ignoring case and surrounding spaces), deletable only
while nothing uses them."""

from __future__ import annotations

from psycopg import Connection

from ..domain.errors import found
from ..repositories import categories
from .changes import hook
from .ledgers import Action, Actor, authorize, authorize_each


def create(conn: Connection, actor: Actor, *, name: str) -> dict:
    authorize(actor, Action.WRITE)
    row = categories.insert(conn, ledger_id=actor.ledger_id, name=name)
    hook.record(conn, actor, "category", "created", after=hook.render(actor, "category", row))
    return row


def list_all(conn: Connection, actor: Actor) -> list[dict]:
    authorize(actor, Action.READ)
    return categories.list_for_ledger(conn, ledger_id=actor.ledger_id)


def list_for_ledgers(conn: Connection, actors: list[Actor]) -> dict[int, list[dict]]:
    """list_all for many ledgers in one statement ({ledger_id: rows}), each actor authorized
    as list_all authorizes it, before any database work."""
    ledger_ids = authorize_each(actors, Action.READ)
    return categories.list_for_ledgers(conn, ledger_ids=ledger_ids)


def get(conn: Connection, actor: Actor, category_id: int) -> dict:
    authorize(actor, Action.READ)
    return found(
        categories.get(conn, ledger_id=actor.ledger_id, category_id=category_id), "category"
    )


def rename(conn: Connection, actor: Actor, category_id: int, *, name: str) -> dict:
    authorize(actor, Action.WRITE)
    old = categories.get_for_update(conn, ledger_id=actor.ledger_id, category_id=category_id)
    found(old, "category")
    row = categories.rename(conn, ledger_id=actor.ledger_id, category_id=category_id, name=name)
    hook.record(
        conn,
        actor,
        "category",
        "updated",
        before=hook.render(actor, "category", old),
        after=hook.render(actor, "category", row),
    )
    if row["name"] != old["name"]:
        hook.record_category_renamed(conn, actor, category_id, old["name"])
    return row


def delete(conn: Connection, actor: Actor, category_id: int) -> None:
    authorize(actor, Action.WRITE)
    deleted = categories.delete(conn, ledger_id=actor.ledger_id, category_id=category_id)
    found(deleted, "category")
    hook.record(conn, actor, "category", "deleted", before=hook.render(actor, "category", deleted))


def exists(conn: Connection, actor: Actor, category_id: int) -> bool:
    return categories.get(conn, ledger_id=actor.ledger_id, category_id=category_id) is not None
