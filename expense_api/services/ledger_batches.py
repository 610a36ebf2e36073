"""The reads of services/categories, budgets, transactions and ledgers, for many ledgers at once
(a door that shows a list of ledgers with their contents, such as GraphQL, loads each nested list
in one statement). Each actor is authorized as the single-ledger read authorizes it, before any
repository work; results are keyed by ledger id."""

from __future__ import annotations

from psycopg import Connection

from ..repositories import ledger_batches
from . import transactions
from .ledgers import Action, Actor, authorize


def _ids(actors: list[Actor]) -> list[int]:
    for actor in actors:
        authorize(actor, Action.READ)
    return [actor.ledger_id for actor in actors]


def categories(conn: Connection, actors: list[Actor]) -> dict[int, list[dict]]:
    return ledger_batches.categories(conn, ledger_ids=_ids(actors))


def budgets(
    conn: Connection, actors: list[Actor], *, year=None, month=None
) -> dict[int, list[dict]]:
    return ledger_batches.budgets(conn, ledger_ids=_ids(actors), year=year, month=month)


def members(conn: Connection, actors: list[Actor]) -> dict[int, list[dict]]:
    return ledger_batches.members(conn, ledger_ids=_ids(actors))


def transaction_pages(
    conn: Connection,
    actors: list[Actor],
    *,
    period_filter: dict,
    limit: int,
    after=None,
    **filters,
) -> dict[int, list[dict]]:
    """transactions.list_page for each actor's ledger: the period resolved in each ledger's time
    zone (transactions.resolve_period; a `to` alone starts at each ledger's own first
    transaction), the same order, cursor and filters."""
    _ids(actors)
    spans = {}
    for actor in actors:
        period = transactions.resolve_period(conn, actor, period_filter)
        spans[actor.ledger_id] = (period.start, period.end)
    return ledger_batches.transaction_pages(
        conn, periods=spans, limit=limit, after=after, **filters
    )
