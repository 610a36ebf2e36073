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

Payees and tags have no entries of their own: a transaction's entry changes them (a payee's
count and last date, a tag's count). An answer lists, in its state now, each payee and tag
that a transaction entry of its range (K, knowledge] changed (sql/sync.sql, payees_and_tags);
one no transaction uses any more is a tombstone. They count towards PAGE_SIZE at the first seq
of the range that changed them: a page that would overflow ends before that seq (`has_more`),
and a later change of one that was sent sends it again, in the page of that change, as any
entity changed again.
"""

from __future__ import annotations

from collections import Counter

from psycopg import Connection

from ...db import snapshot
from ...db.pool import Batch
from ...domain.errors import ValidationFailed
from ...repositories import rules, sync
from ..ledgers import Action, Actor, authorize

# At most this many entities per answer (tests shrink it to page small ledgers).
PAGE_SIZE = 1000

# The entities sync lists, by the log's name, and the answer's list of each. The ledger is one
# object, not a list.
LISTS = {
    "member": "members",
    "category": "categories",
    "transaction": "transactions",
    "budget": "budgets",
    "recurring": "recurring",
    "rule": "rules",
    "rate": "rates",
}
ENTITIES = ("ledger", *LISTS)
# Listed as the transaction entries of an answer's range changed them (no entries of their own).
CHANGED_BY_TRANSACTIONS = {"payee": "payees", "tag": "tags"}


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
    rows, changed = _current_rows(conn, actor, entries, since=since or 0, upto=knowledge)
    cut = _cut(entries, changed)
    if cut is not None:  # the payees and tags of the range would overflow the page
        knowledge, has_more = cut, True
        entries = [entry for entry in entries if entry["seq"] <= cut]
        changed = [row for row in changed if row["seq"] <= cut]

    result: dict = {"knowledge": knowledge, "has_more": has_more, "ledger": ledger.value()}
    result.update({name: [] for name in (*LISTS.values(), *CHANGED_BY_TRANSACTIONS.values())})
    deleted = []  # (seq, tombstone)
    for entry in entries:  # in the order of their latest change
        key = (entry["entity"], entry["entity_id"])
        if entry["entity"] == "ledger":
            continue  # in every answer, read above
        row = rows.get(key) if entry["op"] != "deleted" else None
        if row is None:  # deleted, or gone without an entry of its own (its ledger's cascade)
            deleted.append((entry["seq"], {"entity": entry["entity"], "id": entry["entity_id"]}))
        else:
            result[LISTS[entry["entity"]]].append(row)
    for row in changed:  # in the order of the first change in the range
        seq, entity = row.pop("seq"), row.pop("entity")
        if row["count"] == 0:  # no transaction uses it any more
            deleted.append((seq, {"entity": entity, "id": row["id"]}))
            continue
        if entity == "tag":
            del row["last_used_on"]
        result[CHANGED_BY_TRANSACTIONS[entity]].append(row)
    # Tombstones tell a client what to forget: one that asks for the whole state has nothing yet.
    deleted.sort(key=lambda item: item[0])
    result["deleted"] = [tombstone for _, tombstone in deleted] if since is not None else []
    return result


def _cut(entries: list[dict], changed: list[dict]) -> int | None:
    """Where a page must end to hold at most PAGE_SIZE entities, its entries' and the payees'
    and tags' (each counted at its first seq in the range): the last seq that fits, or None
    when everything does. Never before the first seq: an answer always moves on."""
    sizes = Counter(entry["seq"] for entry in entries) + Counter(row["seq"] for row in changed)
    held, last = 0, None
    for seq in sorted(sizes):
        if last is not None and held + sizes[seq] > PAGE_SIZE:
            return last
        held, last = held + sizes[seq], seq
    return None


def _current_rows(
    conn: Connection, actor: Actor, entries: list[dict], *, since: int, upto: int
) -> tuple[dict, list[dict]]:
    """The current row of each entity the entries name (but those they say are deleted), by
    (entity, id), and the payees and tags that transaction entries in (since, upto] changed,
    in their state now: one statement per kind, in one round trip."""
    ids: dict[str, list[int]] = {}
    for entry in entries:
        if entry["op"] != "deleted" and entry["entity"] != "ledger":
            ids.setdefault(entry["entity"], []).append(entry["entity_id"])
    if not ids and upto <= since:
        return {}, []  # nothing changed: no round trip
    with Batch(conn) as batch:
        pending = {
            entity: sync.rows_later(batch, entity, ledger_id=actor.ledger_id, ids=wanted)
            for entity, wanted in ids.items()
        }
        changed = sync.payees_and_tags_later(
            batch, ledger_id=actor.ledger_id, since=since, upto=upto
        )
    rows = {}
    for entity, result in pending.items():
        for row in result.value():
            if entity == "rule":
                row = rules.shown(row)
            rows[(entity, row["user_id"] if entity == "member" else row["id"])] = row
    return rows, changed.value()
