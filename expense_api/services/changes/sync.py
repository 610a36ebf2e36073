"""Delta sync: a ledger's state, or what changed in it after a knowledge value, from its change
log (../shared/API.md, "The change log: audit trail and delta sync").

Knowledge is a seq of the ledger's change log. Seqs are given at COMMIT, in commit order, under
the ledger's clock row (migration 0016), so a snapshot that sees seq N sees every seq below it:
a client that asks again with the knowledge it got never misses a change, whatever order
writers commit in (one that began first and commits last simply gets a later seq).

An answer after K lists each entity whose latest committed entry comes after K, once, in its
current state (read from the entity's table, not from the entry's `after`), and the deleted
ones as tombstones. At most PAGE_SIZE entities: ordered by their latest seq, the first
PAGE_SIZE, with `knowledge` the latest seq of the last one and `has_more`; an entity changed
again later is then left to the page its latest change falls in, so it is never sent twice and
never missed. Without `since` the answer is the state: the same pages from 0, without
tombstones. Every read of one answer comes from one snapshot (the door opens it:
db/snapshot.py), so the rows and the knowledge agree.
"""

from __future__ import annotations

from psycopg import Connection

from ...db import snapshot
from ...db.pool import Batch
from ...domain.errors import ValidationFailed
from ...repositories import sync
from ..ledgers import Action, Actor, authorize

# At most this many entities per answer (tests shrink it to page small ledgers).
PAGE_SIZE = 1000

# The entities sync lists, by the log's name, and the answer's list of each. The ledger is one
# object, not a list. Payees, tags, rules and rates have no entries yet: their lists are empty.
LISTS = {
    "member": "members",
    "category": "categories",
    "transaction": "transactions",
    "budget": "budgets",
    "recurring": "recurring",
}
ENTITIES = ("ledger", *LISTS)
NOT_YET_LOGGED = ("payees", "tags", "rules", "rates")


class InvalidKnowledge(ValidationFailed):
    code = "invalid_knowledge"


def answer(conn: Connection, actor: Actor, since: int | None = None) -> dict:
    """The state of the actor's ledger (since None), or what changed in it after `since`; any
    member may ask. `conn` must be inside snapshot.one_snapshot."""
    authorize(actor, Action.READ)
    snapshot.require(conn)
    # Round trip 1: the ledger's knowledge, the ledger itself and the page (one more than a
    # page: is there more?). The ledger is in every answer: it shows the caller's own role and
    # default, which change with a `member` entry, not a `ledger` one.
    with Batch(conn) as batch:
        current = sync.knowledge_later(batch, ledger_id=actor.ledger_id)
        ledger = sync.ledger_later(batch, ledger_id=actor.ledger_id, user_id=actor.user_id)
        latest = sync.latest_changes_later(
            batch,
            ledger_id=actor.ledger_id,
            since=since or 0,
            entities=ENTITIES,
            limit=PAGE_SIZE + 1,
        )
    knowledge = current.value()
    if since is not None and since > knowledge:
        raise InvalidKnowledge(
            {
                "since": [
                    f"Must not be above the ledger's knowledge, {knowledge}: give the "
                    "knowledge of an answer you got."
                ]
            }
        )
    entries = latest.value()
    has_more = len(entries) > PAGE_SIZE
    if has_more:
        entries = entries[:PAGE_SIZE]
        knowledge = entries[-1]["seq"]
    rows = _current_rows(conn, actor, entries)

    result: dict = {"knowledge": knowledge, "has_more": has_more, "ledger": ledger.value()}
    result.update({name: [] for name in (*LISTS.values(), *NOT_YET_LOGGED)})
    deleted = []
    for entry in entries:  # in the order of their latest change
        key = (entry["entity"], entry["entity_id"])
        if entry["entity"] == "ledger":
            continue  # in every answer, read above
        row = rows.get(key) if entry["op"] != "deleted" else None
        if row is None:  # deleted, or gone without an entry of its own (its ledger's cascade)
            deleted.append({"entity": entry["entity"], "id": entry["entity_id"]})
        else:
            result[LISTS[entry["entity"]]].append(row)
    # Tombstones tell a client what to forget: one that asks for the whole state has nothing yet.
    result["deleted"] = deleted if since is not None else []
    return result


def _current_rows(conn: Connection, actor: Actor, entries: list[dict]) -> dict:
    """The current row of each entity the entries name (but those they say are deleted), by
    (entity, id): one statement per kind, in one round trip."""
    ids: dict[str, list[int]] = {}
    for entry in entries:
        if entry["op"] != "deleted" and entry["entity"] != "ledger":
            ids.setdefault(entry["entity"], []).append(entry["entity_id"])
    if not ids:
        return {}
    with Batch(conn) as batch:
        pending = {
            entity: sync.rows_later(batch, entity, ledger_id=actor.ledger_id, ids=wanted)
            for entity, wanted in ids.items()
        }
    rows = {}
    for entity, result in pending.items():
        for row in result.value():
            rows[(entity, row["user_id"] if entity == "member" else row["id"])] = row
    return rows
