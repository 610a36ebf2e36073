"""Delta sync's reads (sql/sync.sql): the change log's latest entry per entity after a knowledge
value, the ledger's knowledge, and the current rows of the entities a page names."""

from __future__ import annotations

from collections.abc import Sequence

from ..db.pool import Batch, Pending
from ..db.sqlfiles import queries

# The query that reads the current rows of each entity sync lists (all but the ledger itself,
# which is one row: `ledger_later`).
_ROWS = {
    "member": queries.sync.members,
    "category": queries.sync.categories,
    "transaction": queries.sync.transactions,
    "budget": queries.sync.budgets,
    "recurring": queries.sync.recurring,
    "rule": queries.sync.rules,
    "rate": queries.sync.rates,
}


def knowledge_later(batch: Batch, *, ledger_id: int) -> Pending:
    return queries.sync.knowledge.later(batch, ledger_id=ledger_id)


def latest_changes_later(
    batch: Batch, *, ledger_id: int, since: int, entities: Sequence[str], limit: int
) -> Pending:
    return queries.sync.latest_changes.later(
        batch, ledger_id=ledger_id, since=since, entities=list(entities), limit=limit
    )


def payees_and_tags_later(batch: Batch, *, ledger_id: int, since: int, upto: int) -> Pending:
    """The payees and tags that transaction entries in (since, upto] changed, each once with
    the first seq that changed it and its state now (count 0: in use no more)."""
    return queries.sync.payees_and_tags.later(batch, ledger_id=ledger_id, since=since, upto=upto)


def ledger_later(batch: Batch, *, ledger_id: int, user_id: int) -> Pending:
    return queries.sync.ledger.later(batch, ledger_id=ledger_id, user_id=user_id)


def rows_later(batch: Batch, entity: str, *, ledger_id: int, ids: Sequence[int]) -> Pending:
    """The current rows of the ledger's `entity`s among `ids` (a member's id is its user id);
    those that no longer exist are simply not there. A rule's row is as the rules table holds
    it: repositories/rules.shown makes it the service's."""
    return _ROWS[entity].later(batch, ledger_id=ledger_id, ids=list(ids))
