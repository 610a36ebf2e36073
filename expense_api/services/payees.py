"""Payees: who a ledger's transactions were paid to or received from, listed with how often
and how lately each is used (the payee field's suggestions). A payee is made by the first
transaction that names it (services/transactions.py); one that no transaction names any more
is not listed. Every member may read them."""

from __future__ import annotations

from psycopg import Connection

from ..repositories import payees
from .ledgers import Action, Actor, authorize, authorize_each

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def list_all(
    conn: Connection, actor: Actor, *, q: str | None = None, limit: int = DEFAULT_LIMIT
) -> list[dict]:
    """The ledger's payees in use, most used first, then by name; `q`: those whose name holds
    it (case-insensitively); at most `limit`."""
    authorize(actor, Action.READ)
    return payees.list_for_ledger(conn, ledger_id=actor.ledger_id, q=q, limit=limit)


def list_for_ledgers(
    conn: Connection, actors: list[Actor], *, q: str | None = None, limit: int = DEFAULT_LIMIT
) -> dict[int, list[dict]]:
    """list_all for many ledgers in one statement ({ledger_id: rows}), each actor authorized
    as list_all authorizes it, before any database work."""
    ledger_ids = authorize_each(actors, Action.READ)
    return payees.list_for_ledgers(conn, ledger_ids=ledger_ids, q=q, limit=limit)
