"""GET /api/ledgers/{id}/sync: a ledger's state, then what changed after a knowledge value, each
entity once in its current state, deletions as tombstones, in pages of PAGE_SIZE; gapless
whatever order concurrent writers commit in (real connections, real threads).

A client is played by `Replica`: it applies each answer and asks again with its `knowledge`. At
the end its copy must equal what the REST GETs show, and no answer may hold an entity without a
change of it in the answer's range (never the same change twice).
"""

from __future__ import annotations

import random
import threading
import time
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from devtools.servers import throwaway_database
from expense_api.db.migrate import MIGRATIONS_DIR
from expense_api.db.snapshot import one_snapshot, require
from expense_api.domain.errors import DomainError
from expense_api.repositories import sync as sync_rows
from expense_api.services import budgets, categories, ledgers, transactions
from expense_api.services.changes import door
from expense_api.services.changes import sync as sync_service
from tests.factories import (
    acting,
    category,
    ledger,
    member,
    record,
    recurring,
    repository_ledger,
    save,
)
from tests.helpers import assert_problem

# The answer's list of each entity, and the key of its id in the entity's shape.
LISTS = {
    "member": ("members", "userId"),
    "category": ("categories", "id"),
    "payee": ("payees", "id"),
    "tag": ("tags", "id"),
    "transaction": ("transactions", "id"),
    "budget": ("budgets", "id"),
    "recurring": ("recurring", "id"),
    "rule": ("rules", "id"),
}
EMPTY_LISTS: tuple[str, ...] = ()


def log_what_the_log_lacks(conn, ledger_id: int) -> None:
    """A `created` entry for each entity of the ledger that sync lists and that has no entry
    at all, as migration 0016 gave the data that existed before the log. Registration, adding
    a member and creating a recurring rule do not write entries on this branch yet (the
    ledger, its members and rules would be missing from the state); for an entity whose
    creation is logged this adds nothing."""
    conn.execute(
        """
        INSERT INTO ledger_changes (ledger_id, via, entity, entity_id, op)
        SELECT %(ledger)s, 'cli', e.entity, e.id, 'created'
        FROM (SELECT 'ledger' AS entity, %(ledger)s::bigint AS id
              UNION ALL SELECT 'member', user_id FROM ledger_members WHERE ledger_id = %(ledger)s
              UNION ALL SELECT 'recurring', id FROM recurring_rules WHERE ledger_id = %(ledger)s
        ) e
        WHERE NOT EXISTS (SELECT 1 FROM ledger_changes c WHERE c.ledger_id = %(ledger)s
                          AND c.entity = e.entity AND c.entity_id = e.id)
        """,
        {"ledger": ledger_id},
    )


def sync(user, ledger_id: int, since: int | None = None) -> dict:
    query = "" if since is None else f"?since={since}"
    response = user.get(f"/api/ledgers/{ledger_id}/sync{query}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert not any(body[name] for name in EMPTY_LISTS)
    return body


class Replica:
    """A client's copy of a ledger, kept by syncing: each entity's last shape by (entity, id).
    `answers` keeps each answer's range (since, knowledge] and the entities it held."""

    def __init__(self, user, ledger_id: int):
        self.user, self.ledger_id = user, ledger_id
        self.items: dict[tuple[str, int], dict] = {}
        self.knowledge: int | None = None
        self.answers: list[tuple[int, int, list[tuple[str, int]]]] = []

    def sync_once(self) -> dict:
        answer = sync(self.user, self.ledger_id, self.knowledge)
        held = []
        # The ledger is in every answer, as it is now: kept, but not one of the answer's changes.
        self.items[("ledger", answer["ledger"]["id"])] = answer["ledger"]
        for entity, (name, id_key) in LISTS.items():
            for shape in answer[name]:
                held.append((entity, shape[id_key]))
                self.items[held[-1]] = shape
        for tombstone in answer["deleted"]:
            held.append((tombstone["entity"], tombstone["id"]))
            self.items.pop(held[-1], None)
        assert len(held) == len(set(held)), "an entity twice in one answer"
        assert answer["knowledge"] >= (self.knowledge or 0)
        self.answers.append((self.knowledge or 0, answer["knowledge"], held))
        self.knowledge = answer["knowledge"]
        return answer

    def sync_all(self) -> int:
        """Syncs until nothing more waits; returns how many answers it took."""
        count = 1
        while self.sync_once()["hasMore"]:
            count += 1
        return count


def rest_state(user, ledger_id: int, conn) -> dict[tuple[str, int], dict]:
    """The ledger as its REST GETs show it, by (entity, id)."""
    prefix = f"/api/ledgers/{ledger_id}"

    def items(path):
        response = user.get(prefix + path)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]

    state = {("ledger", ledger_id): user.get(prefix).get_json()}
    state.update({("member", m["userId"]): m for m in items("/members")})
    state.update({("category", c["id"]): c for c in items("/categories")})
    state.update({("budget", b["id"]): b for b in items("/budgets")})
    state.update({("recurring", r["id"]): r for r in items("/recurring")})
    state.update({("rule", r["id"]): r for r in items("/rules")})
    state.update({("payee", p["id"]): p for p in items("/payees?limit=200")})
    state.update({("tag", t["id"]): t for t in items("/tags")})
    ids = conn.execute("SELECT id FROM transactions WHERE ledger_id = %s", (ledger_id,)).fetchall()
    for (transaction_id,) in ids:
        response = user.get(f"{prefix}/transactions/{transaction_id}")
        assert response.status_code == 200
        state[("transaction", transaction_id)] = response.get_json()
    return state


def payee_and_tag_changes(conn, ledger_id: int) -> dict[tuple[str, int], list[int]]:
    """The seqs of the transaction entries that changed each payee (its count or last date: the
    payee or the date differs between before and after) and each tag (in one of the two tag
    lists only), by ("payee" or "tag", id): the changes of theirs that sync sends."""
    ids = {
        (entity, name.lower()): row_id
        for entity, table in (("payee", "payees"), ("tag", "tags"))
        for row_id, name in conn.execute(
            f"SELECT id, name FROM {table} WHERE ledger_id = %s", (ledger_id,)
        ).fetchall()
    }
    changes: dict[tuple[str, int], list[int]] = {}
    rows = conn.execute(
        "SELECT seq, before, after FROM ledger_changes"
        " WHERE ledger_id = %s AND entity = 'transaction' AND seq IS NOT NULL",
        (ledger_id,),
    ).fetchall()
    for seq, before, after in rows:
        before, after = before or {}, after or {}
        changed = []
        if (before.get("payee"), before.get("date")) != (after.get("payee"), after.get("date")):
            changed += [("payee", name) for name in (before.get("payee"), after.get("payee"))]
        old_tags = {name.lower() for name in before.get("tags", [])}
        new_tags = {name.lower() for name in after.get("tags", [])}
        changed += [("tag", name) for name in old_tags ^ new_tags]
        for entity, name in changed:
            if name is not None:
                changes.setdefault((entity, ids[(entity, name.lower())]), []).append(seq)
    return changes


def assert_never_twice(conn, replica: Replica) -> None:
    """Each answer asked from the one before's knowledge, and held only entities with a change
    in its range (since, knowledge]: no change was received twice. (A payee's or a tag's changes
    are the transaction entries that changed it.)"""
    entries: dict[tuple[str, int], list[int]] = payee_and_tag_changes(conn, replica.ledger_id)
    rows = conn.execute(
        "SELECT entity, entity_id, seq FROM ledger_changes WHERE ledger_id = %s AND seq IS NOT NULL",
        (replica.ledger_id,),
    ).fetchall()
    for entity, entity_id, seq in rows:
        entries.setdefault((entity, entity_id), []).append(seq)
    previous = 0
    for since, knowledge, held in replica.answers:
        assert since == previous
        previous = knowledge
        for key in held:
            assert any(since < seq <= knowledge for seq in entries[key]), (key, since, knowledge)


@pytest.fixture
def small_pages(monkeypatch):
    """Answers of 3 entities at most."""
    monkeypatch.setattr(sync_service, "PAGE_SIZE", 3)
    return 3


# --- The state, then what changed ---------------------------------------------------------------


def test_the_state_then_only_what_changed_each_in_its_rest_shape(alice, conn):
    food = category(alice, "Food")
    expense = record(alice, food, "12.30", description="lunch")
    budget = save(alice, categoryId=food, amount="200", mode="soft").get_json()
    rule = recurring(alice, food, startDate="2026-03-01")
    log_what_the_log_lacks(conn, alice.ledger_id)

    replica = Replica(alice, alice.ledger_id)
    first = replica.sync_once()
    assert first["hasMore"] is False and first["deleted"] == []
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    assert first["ledger"]["id"] == alice.ledger_id and first["ledger"]["role"] == "owner"
    assert [m["userId"] for m in first["members"]] == [alice.id]
    assert first["transactions"][0]["description"] == "lunch"
    assert {
        ("budget", budget["id"]),
        ("recurring", rule["id"]),
        ("transaction", expense["id"]),
    } <= set(replica.items)
    assert (
        first["knowledge"]
        == conn.execute(
            "SELECT max(seq) FROM ledger_changes WHERE ledger_id = %s", (alice.ledger_id,)
        ).fetchone()[0]
    )

    # Nothing changed: an empty answer with the same knowledge.
    quiet = replica.sync_once()
    assert quiet["knowledge"] == first["knowledge"]
    assert quiet["ledger"] == first["ledger"] and quiet["deleted"] == []  # in every answer
    assert not any(quiet[name] for name, _ in LISTS.values())

    # One change: only it.
    changed = alice.patch(
        f"/api/ledgers/{alice.ledger_id}/transactions/{expense['id']}", json={"amount": "13.00"}
    ).get_json()
    delta = replica.sync_once()
    assert [t["id"] for t in delta["transactions"]] == [expense["id"]]
    assert delta["transactions"][0] == {k: v for k, v in changed.items() if k != "alerts"}
    assert delta["categories"] == delta["budgets"] == delta["members"] == []
    assert delta["knowledge"] == first["knowledge"] + 1
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    assert_never_twice(conn, replica)


def test_each_entity_once_in_its_current_state_and_deletions_as_tombstones(alice, conn):
    food = category(alice, "Food")
    log_what_the_log_lacks(conn, alice.ledger_id)
    replica = Replica(alice, alice.ledger_id)
    replica.sync_once()
    prefix = f"/api/ledgers/{alice.ledger_id}"

    kept = record(alice, food, "1.00")
    for amount in ("2.00", "3.00", "4.00"):  # three entries, one entity
        alice.patch(f"{prefix}/transactions/{kept['id']}", json={"amount": amount})
    gone = record(alice, food, "5.00")
    assert alice.delete(f"{prefix}/transactions/{gone['id']}").status_code == 204
    spare = category(alice, "Spare")
    assert alice.delete(f"{prefix}/categories/{spare}").status_code == 204

    delta = replica.sync_once()
    assert [(t["id"], t["amount"]) for t in delta["transactions"]] == [(kept["id"], "4.00")]
    assert delta["categories"] == []
    assert delta["deleted"] == [
        {"entity": "transaction", "id": gone["id"]},
        {"entity": "category", "id": spare},
    ]
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    assert_never_twice(conn, replica)


def test_the_state_has_no_tombstones_and_since_zero_has_them(alice, conn):
    food = category(alice)
    gone = record(alice, food)
    alice.delete(f"/api/transactions/{gone['id']}")
    whole = sync(alice, alice.ledger_id)
    assert whole["deleted"] == [] and whole["transactions"] == []
    from_zero = sync(alice, alice.ledger_id, since=0)
    assert from_zero["deleted"] == [{"entity": "transaction", "id": gone["id"]}]
    assert from_zero["knowledge"] == whole["knowledge"]


def test_payees_and_tags_as_their_lists_show_them_then_those_a_change_touched(alice, conn):
    """Payees and tags have no entries of their own: a transaction's change that moves a
    payee's count or last date, or a tag's count, sends it again in its state now; one that
    no transaction uses any more is a tombstone."""
    food = category(alice)
    prefix = f"/api/ledgers/{alice.ledger_id}/transactions"
    first = record(alice, food, payee="Shop", tags=["trip", "Work"], date="2026-03-01")
    second = record(alice, food, payee="shop", tags=["TRIP"], date="2026-03-05")
    cafe = record(alice, food, payee="Cafe", date="2026-03-02")
    log_what_the_log_lacks(conn, alice.ledger_id)
    replica = Replica(alice, alice.ledger_id)
    state = replica.sync_once()
    assert [(p["name"], p["count"], p["lastUsedOn"]) for p in state["payees"]] == [
        ("Shop", 2, "2026-03-05"),  # in the order of their first change
        ("Cafe", 1, "2026-03-02"),
    ]
    assert [(t["name"], t["count"]) for t in state["tags"]] == [("trip", 2), ("Work", 1)]
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    ids = {item["name"]: key for key, item in replica.items.items() if key[0] in ("payee", "tag")}

    # Neither the payee, the date nor the tags changed: no payee, no tag.
    alice.patch(f"{prefix}/{first['id']}", json={"amount": "3.00", "description": "x"})
    quiet = replica.sync_once()
    assert [t["id"] for t in quiet["transactions"]] == [first["id"]]
    assert quiet["payees"] == quiet["tags"] == quiet["deleted"] == []

    # Another payee, a tag dropped (its last use) and one added: each in its state now.
    moved = alice.patch(f"{prefix}/{first['id']}", json={"payee": "CAFE", "tags": ["trip", "new"]})
    assert moved.status_code == 200, moved.get_json()
    delta = replica.sync_once()
    assert {(p["name"], p["count"], p["lastUsedOn"]) for p in delta["payees"]} == {
        ("Shop", 1, "2026-03-05"),
        ("Cafe", 2, "2026-03-02"),
    }
    assert [(t["name"], t["count"]) for t in delta["tags"]] == [("new", 1)]  # trip: unchanged
    assert delta["deleted"] == [{"entity": "tag", "id": ids["Work"][1]}]

    # A later date moves the payee's last date; the tags did not change.
    alice.patch(f"{prefix}/{cafe['id']}", json={"date": "2026-03-09"})
    delta = replica.sync_once()
    assert [(p["name"], p["lastUsedOn"]) for p in delta["payees"]] == [("Cafe", "2026-03-09")]
    assert delta["tags"] == []

    # The payee's last use deleted: a tombstone; the tag it carried counts one less.
    assert alice.delete(f"{prefix}/{second['id']}").status_code == 204
    delta = replica.sync_once()
    assert delta["payees"] == []
    assert [(t["name"], t["count"]) for t in delta["tags"]] == [("trip", 1)]
    assert delta["deleted"] == [
        {"entity": "transaction", "id": second["id"]},
        {"entity": "payee", "id": ids["Shop"][1]},
    ]
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    assert ("payee", ids["Shop"][1]) not in replica.items
    assert_never_twice(conn, replica)


def test_payees_and_tags_count_towards_the_page(alice, conn, small_pages):
    """A page holds at most PAGE_SIZE entities, payees and tags included (each at the first
    seq of its range that changed it): it ends before the seq that would overflow it."""
    food = category(alice)
    log_what_the_log_lacks(conn, alice.ledger_id)
    replica = Replica(alice, alice.ledger_id)
    replica.sync_all()
    start = len(replica.answers)
    one = record(alice, food, payee="P")  # itself and P
    two = record(alice, food, payee="p")  # itself: P is in the page already
    three = record(alice, food, payee="Q")  # itself and Q: a fourth and a fifth entity
    page = replica.sync_once()
    assert [t["id"] for t in page["transactions"]] == [one["id"], two["id"]]
    assert [(p["name"], p["count"]) for p in page["payees"]] == [("P", 2)]
    assert (
        page["hasMore"] is True
        and page["knowledge"] == _seqs(conn, alice.ledger_id, "transaction", [two["id"]])[0]
    )
    page = replica.sync_once()
    assert [t["id"] for t in page["transactions"]] == [three["id"]]
    assert [p["name"] for p in page["payees"]] == ["Q"] and page["hasMore"] is False
    # One change alone above the page's size: the answer holds it whole, and moves on.
    four = record(alice, food, payee="R", tags=["x", "y", "z"])
    page = replica.sync_once()
    assert [t["id"] for t in page["transactions"]] == [four["id"]]
    assert len(page["payees"]) + len(page["tags"]) == 4 and page["hasMore"] is False
    for _, _, held in replica.answers[start:-1]:
        assert len(held) <= small_pages
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    assert_never_twice(conn, replica)


def test_an_entity_gone_without_an_entry_of_its_own_is_a_tombstone(alice, conn):
    """A row that left with no entry of its own (a cascade) is not shown as it was."""
    food = category(alice)
    expense = record(alice, food)
    knowledge = sync(alice, alice.ledger_id)["knowledge"]
    alice.patch(f"/api/transactions/{expense['id']}", json={"amount": "1.00"})
    conn.execute("ALTER TABLE transactions DISABLE TRIGGER USER")
    try:  # no service deletes without an entry: only SQL can
        conn.execute("DELETE FROM transactions WHERE id = %s", (expense["id"],))
    finally:
        conn.execute("ALTER TABLE transactions ENABLE TRIGGER USER")
    delta = sync(alice, alice.ledger_id, since=knowledge)
    assert delta["transactions"] == []
    assert delta["deleted"] == [{"entity": "transaction", "id": expense["id"]}]


# --- Who may ask, and what is refused -------------------------------------------------------


def test_a_category_rename_reaches_every_synced_copy_of_its_name(alice, conn):
    """Transactions, budgets and rules show their category's name: a rename changes their REST
    shapes, so each gets an entry and the next delta sends them again."""
    food = category(alice, "Food")
    expense = record(alice, food, "12.30")
    budget = save(alice, categoryId=food, amount="200").get_json()
    rule = recurring(alice, food, startDate="2026-03-01")
    other = record(alice, category(alice, "Rent"), "700.00")
    replica = Replica(alice, alice.ledger_id)
    replica.sync_once()
    renamed = alice.patch(f"/api/categories/{food}", json={"name": "Groceries"})
    assert renamed.status_code == 200
    delta = replica.sync_once()
    assert {t["id"] for t in delta["transactions"]} == {expense["id"]}  # not `other`
    assert [b["id"] for b in delta["budgets"]] == [budget["id"]]
    assert [r["id"] for r in delta["recurring"]] == [rule["id"]]
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    assert replica.items[("transaction", expense["id"])]["category"] == "Groceries"
    assert other["id"] != expense["id"]


def test_the_callers_own_role_change_reaches_the_synced_ledger(alice, bob, conn):
    shared = ledger(conn, alice)
    member(conn, shared, bob, "editor")
    replica = Replica(bob, shared)
    assert replica.sync_once()["ledger"]["role"] == "editor"
    changed = alice.patch(f"/api/ledgers/{shared}/members/{bob.id}", json={"role": "viewer"})
    assert changed.status_code == 200, changed.get_json()
    assert replica.sync_once()["ledger"]["role"] == "viewer"
    assert replica.items[("ledger", shared)]["role"] == "viewer"


def test_any_member_may_sync_a_viewer_too(alice, bob, conn):
    shared = ledger(conn, alice)
    member(conn, shared, bob, "viewer")
    food = alice.post(f"/api/ledgers/{shared}/categories", json={"name": "Food"}).get_json()
    log_what_the_log_lacks(conn, shared)
    answer = sync(bob, shared)
    assert answer["ledger"]["role"] == "viewer" and answer["ledger"]["isDefault"] is False
    assert [c["id"] for c in answer["categories"]] == [food["id"]]
    assert {m["userId"] for m in answer["members"]} == {alice.id, bob.id}


def test_another_users_ledger_is_404(alice, bob):
    category(alice)
    assert_problem(bob.get(f"/api/ledgers/{alice.ledger_id}/sync"), 404, "not_found")
    assert_problem(bob.get("/api/ledgers/999999999/sync?since=0"), 404, "not_found")


def test_without_a_valid_token_it_is_401(client, alice):
    path = f"/api/ledgers/{alice.ledger_id}/sync"
    assert_problem(client.get(path), 401)
    assert_problem(client.get(path, headers={"Authorization": "Bearer nope"}), 401)


def test_there_is_no_default_ledger_alias(alice):
    assert_problem(alice.get("/api/sync"), 404)


def test_since_above_the_ledgers_knowledge_is_invalid_knowledge(alice):
    category(alice)
    knowledge = sync(alice, alice.ledger_id)["knowledge"]
    assert sync(alice, alice.ledger_id, since=knowledge)["knowledge"] == knowledge
    body = assert_problem(
        alice.get(f"/api/ledgers/{alice.ledger_id}/sync?since={knowledge + 1}"),
        422,
        "invalid_knowledge",
    )
    assert list(body["errors"]) == ["since"]
    assert str(knowledge) in body["errors"]["since"][0]


@pytest.mark.parametrize("since", ["-1", "abc", "1.5", "", "1e3", str(2**63)])
def test_since_must_be_a_whole_number_from_zero(alice, since):
    body = assert_problem(
        alice.get(f"/api/ledgers/{alice.ledger_id}/sync?since={since}"), 422, "validation_error"
    )
    assert list(body["errors"]) == ["since"]


# --- Pages ---------------------------------------------------------------------------------


def test_pages_with_has_more_send_each_entity_once_on_its_latest_page(alice, conn, small_pages):
    log_what_the_log_lacks(conn, alice.ledger_id)
    food = category(alice)
    made = [record(alice, food, f"{n}.00") for n in range(1, 9)]  # 11 entities: 4 pages
    replica = Replica(alice, alice.ledger_id)
    first = replica.sync_once()  # the ledger, its member and the category
    # The ledger's entry fills a place on the page; the ledger itself is in every answer.
    assert first["hasMore"] is True and len(replica.answers[0][2]) == small_pages - 1
    assert first["knowledge"] == 3  # the latest seq of the page's last entity
    assert [t["id"] for t in replica.sync_once()["transactions"]] == [t["id"] for t in made[:3]]
    # Between pages: one already sent changes, one not sent yet changes, one is deleted.
    prefix = f"/api/ledgers/{alice.ledger_id}/transactions"
    alice.patch(f"{prefix}/{made[0]['id']}", json={"description": "sent, then changed"})
    alice.patch(f"{prefix}/{made[5]['id']}", json={"description": "changed before sent"})
    alice.delete(f"{prefix}/{made[6]['id']}")
    assert replica.sync_all() == 2  # made[3, 4, 7, 5, 0] and made[6]'s tombstone
    sent = [key for _, _, held in replica.answers for key in held]
    assert sent.count(("transaction", made[5]["id"])) == 1  # on the page of its latest change
    assert sent.count(("transaction", made[0]["id"])) == 2  # changed after it was sent
    assert replica.items[("transaction", made[5]["id"])]["description"] == "changed before sent"
    assert ("transaction", made[6]["id"]) not in replica.items
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    assert_never_twice(conn, replica)


def test_a_page_exactly_full_says_no_more_and_the_next_change_comes_alone(alice, small_pages):
    food = category(alice)
    replica = Replica(alice, alice.ledger_id)
    replica.sync_all()
    for _ in range(small_pages):
        record(alice, food)
    page = replica.sync_once()
    assert page["hasMore"] is False and len(page["transactions"]) == small_pages
    record(alice, food)
    assert replica.sync_all() == 1


# --- One snapshot ---------------------------------------------------------------------------


def test_the_rows_come_from_the_snapshot_the_page_and_knowledge_were_read_in(
    alice, database_url, monkeypatch
):
    """A change committed between the page's round trip and the rows' is not in the answer:
    the rows agree with `knowledge` (else the change would come twice, or a deletion
    before the entity's creation)."""
    food = category(alice)
    expense = record(alice, food, "1.00")
    knowledge = sync(alice, alice.ledger_id)["knowledge"]
    alice.patch(f"/api/transactions/{expense['id']}", json={"amount": "2.00"})
    real = sync_rows.rows_later

    def rows_after_a_commit(batch, entity, **kwargs):
        with psycopg.connect(database_url) as other, door.through("cli"):
            transactions.update(other, acting(other, alice.ledger_id), expense["id"], {"amount": 3})
        return real(batch, entity, **kwargs)

    monkeypatch.setattr(sync_rows, "rows_later", rows_after_a_commit)
    delta = sync(alice, alice.ledger_id, since=knowledge)
    assert delta["knowledge"] == knowledge + 1
    assert [t["amount"] for t in delta["transactions"]] == ["2.00"]
    monkeypatch.undo()
    after = sync(alice, alice.ledger_id, since=delta["knowledge"])
    assert [t["amount"] for t in after["transactions"]] == ["3.00"]


def test_the_service_refuses_to_read_outside_one_snapshot(conn):
    ledger_id, _ = repository_ledger(conn)
    actor = acting(conn, ledger_id)
    with pytest.raises(RuntimeError, match="one snapshot"):
        sync_service.answer(conn, actor)
    with one_snapshot(conn):
        require(conn)
        assert sync_service.answer(conn, actor)["has_more"] is False
    with pytest.raises(RuntimeError, match="one snapshot"):
        require(conn)


def test_one_snapshot_needs_an_idle_connection(database_url):
    with psycopg.connect(database_url) as busy:
        busy.execute("SELECT 1")
        with pytest.raises(RuntimeError, match="idle"), one_snapshot(busy):
            pass
        busy.rollback()
        with one_snapshot(busy):  # psycopg's own BEGIN, then the snapshot's level
            level = busy.execute("SHOW transaction_isolation").fetchone()[0]
            assert level == "repeatable read"
            assert busy.execute("SHOW transaction_read_only").fetchone()[0] == "on"


# --- Gapless under concurrent writers ------------------------------------------------------


def _seqs(conn, ledger_id: int, entity: str, ids: list[int]) -> list[int]:
    return [
        conn.execute(
            "SELECT max(seq) FROM ledger_changes WHERE ledger_id = %s AND entity = %s"
            " AND entity_id = %s",
            (ledger_id, entity, entity_id),
        ).fetchone()[0]
        for entity_id in ids
    ]


def test_a_change_begun_first_and_committed_last_is_received_once_it_commits(
    alice, database_url, conn
):
    food = category(alice)
    log_what_the_log_lacks(conn, alice.ledger_id)
    replica = Replica(alice, alice.ledger_id)
    replica.sync_once()
    values = {"category_id": food, "type": "EXPENSE", "amount": 7, "description": "A",
              "occurred_on": date(2026, 4, 1)}  # fmt: skip
    with psycopg.connect(database_url) as early:
        # A begins first and writes (its entry is in, unnumbered) and stays open (in April:
        # B and C's totals rows, March's, are not the ones it holds locked)...
        held = transactions.create(early, acting(early, alice.ledger_id), values)
        # ... while B and C begin after it and commit.
        later = [record(alice, food, "2.00"), record(alice, food, "3.00")]
        between = replica.sync_once()
        assert [t["id"] for t in between["transactions"]] == [t["id"] for t in later]
        early.commit()
    after = replica.sync_once()
    assert [t["id"] for t in after["transactions"]] == [held["id"]]
    # Numbered when it committed: after B and C, though it began (and wrote) before them.
    b, c = _seqs(conn, alice.ledger_id, "transaction", [t["id"] for t in later])
    [a] = _seqs(conn, alice.ledger_id, "transaction", [held["id"]])
    assert b < c < a
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    assert_never_twice(conn, replica)


WRITERS, ROUNDS = 3, 25


def _writer(database_url: str, ledger_id: int, food: int, index: int) -> None:
    """Random creates, changes and deletes of transactions, categories and a budget, one to
    three per database transaction, each held open a random moment before its COMMIT (so
    transactions that began later commit first), a tenth of them rolled back."""
    rng = random.Random(index)
    tag = f"w{index}"
    with psycopg.connect(database_url) as conn, door.through("cli"):
        actor = acting(conn, ledger_id)
        conn.commit()
        for _ in range(ROUNDS):
            mine = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM transactions WHERE ledger_id = %s AND description LIKE %s",
                    (ledger_id, tag + "%"),
                )
            ]
            try:
                if rng.random() < 0.15:  # a budget write takes a ledger-wide lock: alone
                    month = {"year": 2026, "month": index + 1}
                    saved, _ = budgets.save(
                        conn, actor, {"category_id": None, "amount": rng.randint(50, 500),
                                      "mode": "soft", "alert_threshold": None, **month},
                    )  # fmt: skip
                    if rng.random() < 0.3:
                        budgets.delete(conn, actor, saved["id"])
                else:
                    for _ in range(rng.randint(1, 3)):
                        _one_change(conn, actor, rng, food, tag, mine)
                conn.execute("SELECT pg_sleep(%s)", (rng.random() * 0.02,))
                if rng.random() < 0.1:
                    conn.rollback()  # leaves no entry
                else:
                    conn.commit()
            except (DomainError, psycopg.errors.DeadlockDetected):
                conn.rollback()


PAYEES = (None, "Shop", "shop", "Cafe", "Bakery")  # "shop" is Shop: the case first used
TAGS = ("a", "b", "c")


def _one_change(conn, actor, rng, food: int, tag: str, mine: list[int]) -> None:
    choice = rng.random()
    if choice < 0.45 or not mine:
        values = {"category_id": food, "type": rng.choice(["EXPENSE", "INCOME"]),
                  "amount": Decimal(rng.randint(1, 9999)) / 100, "description": f"{tag} new",
                  "occurred_on": date(2026, 3, rng.randint(1, 28)), "payee": rng.choice(PAYEES),
                  "tags": rng.sample(TAGS, rng.randint(0, 2))}  # fmt: skip
        mine.append(transactions.create(conn, actor, values)["id"])
    elif choice < 0.75:
        changes = {
            "amount": Decimal(rng.randint(1, 9999)) / 100,
            "description": f"{tag} {rng.random()}",
        }
        if rng.random() < 0.5:  # another payee, date or tags: their counts and last dates move
            changes.update(payee=rng.choice(PAYEES), tags=rng.sample(TAGS, rng.randint(0, 2)),
                           occurred_on=date(2026, 3, rng.randint(1, 28)))  # fmt: skip
        transactions.update(conn, actor, rng.choice(mine), changes)
    elif choice < 0.9:
        gone = rng.choice(mine)
        transactions.delete(conn, actor, gone)
        mine.remove(gone)
    else:
        made = categories.create(conn, actor, name=f"{tag} {rng.random()}")
        if rng.random() < 0.5:
            categories.delete(conn, actor, made["id"])


def test_a_client_syncing_while_writers_commit_in_any_order_ends_with_the_exact_state(
    alice, database_url, conn, small_pages
):
    food = category(alice)
    log_what_the_log_lacks(conn, alice.ledger_id)
    replica = Replica(alice, alice.ledger_id)
    writers = [
        threading.Thread(target=_writer, args=(database_url, alice.ledger_id, food, index))
        for index in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    syncs = 0
    while any(writer.is_alive() for writer in writers):
        replica.sync_once()  # small pages: many of them end with hasMore
        syncs += 1
        time.sleep(0.005)
    for writer in writers:
        writer.join()
    replica.sync_all()
    # The client synced while the writers committed, and got changes on the way; and writes
    # did commit out of order: an entry inserted first (lower id) numbered after a later one.
    assert syncs > 10 and sum(len(held) for _, _, held in replica.answers[:syncs]) > 0
    overtaken = conn.execute(
        "SELECT count(*) FROM ledger_changes a JOIN ledger_changes b"
        " ON b.ledger_id = a.ledger_id AND a.id < b.id AND a.seq > b.seq WHERE a.ledger_id = %s",
        (alice.ledger_id,),
    ).fetchone()[0]
    assert overtaken > 0
    assert replica.items == rest_state(alice, alice.ledger_id, conn)
    assert_never_twice(conn, replica)


# --- Data from before the change log -------------------------------------------------------


def test_data_from_before_the_change_log_is_in_the_state(admin_url, database_template, monkeypatch):
    """Rolled back to 0015, rows written by SQL, migrated again: the state lists them all
    (0016 gave each a `created` entry), in pages too."""
    from marshmallow.experimental.context import Context

    from expense_api.api.schemas.sync import SyncSchema
    from expense_api.db.migrate import apply_migrations, rollback_migrations

    with throwaway_database(admin_url, "expense_api_sync_log", template=database_template) as url:
        newer = [p for p in MIGRATIONS_DIR.glob("*.rollback.sql") if p.name >= "0016"]
        rollback_migrations(url, count=len(newer))
        with psycopg.connect(url) as conn:
            user = conn.execute(
                "INSERT INTO users (name, email, password_hash) VALUES ('Old', 'old@example.com',"
                " 'x') RETURNING id"
            ).fetchone()[0]
            ledger_id = conn.execute(
                "INSERT INTO ledgers (name, currency, timezone) VALUES ('Old', 'EUR', 'UTC')"
                " RETURNING id"
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO ledger_members (ledger_id, user_id, role, is_default)"
                " VALUES (%s, %s, 'owner', true)",
                (ledger_id, user),
            )
            food = conn.execute(
                "INSERT INTO categories (ledger_id, name) VALUES (%s, 'Food') RETURNING id",
                (ledger_id,),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on,"
                " created_by) SELECT %s, %s, 'EXPENSE', g, date '2026-03-01', %s"
                " FROM generate_series(1, 7) g",
                (ledger_id, food, user),
            )
            conn.execute(
                "INSERT INTO budgets (ledger_id, category_id, year, month, amount)"
                " VALUES (%s, %s, 2026, 3, 100)",
                (ledger_id, food),
            )
            conn.execute(
                "INSERT INTO recurring_rules (ledger_id, acts_as, category_id, type, amount,"
                " frequency, start_date, next_date) VALUES (%s, %s, %s, 'EXPENSE', 5, 'monthly',"
                " date '2026-03-01', date '2026-03-01')",
                (ledger_id, user, food),
            )
        assert apply_migrations(url) == sorted(p.name.split(".rollback")[0] for p in newer)

        with psycopg.connect(url, autocommit=True) as conn:
            actor = ledgers.actor_in(conn, user_id=user, ledger_id=ledger_id)
            with one_snapshot(conn):
                state = sync_service.answer(conn, actor)
            assert state["knowledge"] == 1 + 1 + 1 + 7 + 1 + 1
            assert state["ledger"]["name"] == "Old" and not state["has_more"]
            assert [m["user_id"] for m in state["members"]] == [user]
            assert [c["id"] for c in state["categories"]] == [food]
            assert len(state["transactions"]) == 7
            assert len(state["budgets"]) == len(state["recurring"]) == 1
            with Context({"currency": actor.currency}):
                shaped = SyncSchema().dump(state)
            assert shaped["transactions"][0]["amount"] == "1.00"
            assert shaped["recurring"][0]["frequency"] == "monthly"

            monkeypatch.setattr(sync_service, "PAGE_SIZE", 4)
            seen, since, more = [], None, True
            while more:
                with one_snapshot(conn):
                    page = sync_service.answer(conn, actor, since)
                seen += [("transaction", t["id"]) for t in page["transactions"]]
                seen += [("category", c["id"]) for c in page["categories"]]
                since, more = page["knowledge"], page["has_more"]
            assert len(seen) == len(set(seen)) == 8
