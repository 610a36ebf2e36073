"""Tags: the labels a ledger's transactions carry, listed with how many carry each. A tag is
made by the first transaction that carries it (services/transactions.py); one that no
transaction carries any more is not listed. Every member may read them."""

from __future__ import annotations

from psycopg import Connection

from ..repositories import tags
from .ledgers import Action, Actor, authorize, authorize_each


def list_all(conn: Connection, actor: Actor) -> list[dict]:
    """The ledger's tags in use, by name (case-insensitively)."""
    authorize(actor, Action.READ)
    return tags.list_for_ledger(conn, ledger_id=actor.ledger_id)


def list_for_ledgers(conn: Connection, actors: list[Actor]) -> dict[int, list[dict]]:
    """list_all for many ledgers in one statement ({ledger_id: rows}), each actor authorized
    as list_all authorizes it, before any database work."""
    ledger_ids = authorize_each(actors, Action.READ)
    return tags.list_for_ledgers(conn, ledger_ids=ledger_ids)
