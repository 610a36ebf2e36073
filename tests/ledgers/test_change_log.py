"""The change log's one write hook (issue 27; services/changes/hook.py): every change to a
ledger's data, through every door, commits with exactly one entry per changed entity, and
nothing else does.

The catalog below classifies every public function and class of expense_api.services (a meta
test fails when one is missing, so a new writer cannot go unwatched): each that writes a
ledger's data has a scenario, run through a door (REST, GraphQL, the worker, the CLI) while the
test watches every ledger-scoped table (`Watch`): each entity whose rows changed must have
exactly one new entry, with the right op, actor, door and request id, and `before`/`after`
equal to what the REST API answers for it before and after. Then the log's own guarantees: no
entry for a change that did not commit, the database's refusal to change the log, and seqs
numbered without gaps in commit order.

The module has a database of its own: the worker's jobs act on every due rule and delivery, and
each scenario snapshots whole tables.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import pkgutil
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.rows import dict_row, tuple_row

import expense_api.services
from expense_api.cli import main as cli_main
from expense_api.config import PROJECT_ROOT
from expense_api.db.retry import run_transaction
from expense_api.demo import DEMO_PASSWORD
from expense_api.services import categories, ledgers, transactions
from expense_api.services.changes import door, hook
from expense_api.services.recurring import runs as recurring_runs
from expense_api.services.webhooks.delivery import deliver_due
from tests.factories import category, graphql, record, recurring, run_worker, save
from tests.helpers import (
    TEST_SECRET,
    User,
    assert_problem,
    module_database_fixtures,
    wait_until_blocked_by,
)
from tests.imports.tiny_reader import install as install_tiny_reader

database_url, app, database = module_database_fixtures()

HOOK = "http://127.0.0.1:9/hook"  # nothing listens: every delivery to it fails at once


# --- What is watched ------------------------------------------------------------------------

# Every table that holds a ledger's data, by the entity of the log it belongs to: (entity, the
# column naming the entity's id). A rule's occurrences are its progress (the REST shape's
# nextDate; its occurrence list): a change to them is a change of the rule.
ENTITY_TABLES = {
    "ledgers": ("ledger", "id"),
    "ledger_members": ("member", "user_id"),
    "invitations": ("invitation", "id"),
    "categories": ("category", "id"),
    "transactions": ("transaction", "id"),
    "transaction_splits": ("transaction", "transaction_id"),
    "transaction_tags": ("transaction", "transaction_id"),
    "imports": ("import", "id"),
    "import_rows": ("import", "import_id"),
    "rules": ("rule", "id"),
    "budgets": ("budget", "id"),
    "recurring_rules": ("recurring", "id"),
    "recurring_occurrences": ("recurring", "rule_id"),
    "webhook_endpoints": ("webhook", "id"),
    "ledger_rates": ("rate", "id"),
}
# Tables of an entity's parts: its row is in another table.
PARTS = {"recurring_occurrences", "transaction_splits", "transaction_tags", "import_rows"}
# The table whose row is the entity itself (its presence says created / deleted).
ENTITY_ROW = {entity: table for table, (entity, _) in ENTITY_TABLES.items() if table not in PARTS}
# The tables with a ledger_id that hold no entity of the log, and why.
NOT_LOGGED = {
    "ledger_changes": "the log itself",
    "ledger_generations": "the log's clock (knowledge) and the analytics cache's generation, "
    "moved by the log's own numbering at COMMIT",
    "monthly_totals": "derived from transactions (rebuilt from them at any time)",
    "daily_totals": "derived from transactions (rebuilt from them at any time)",
    "alerts": "consequences of a change (a budget crossed), not entities of the log; their "
    "webhook events leave through the hook (alert_fired)",
    "alert_reads": "a member's own read marks of alerts, not the ledger's data",
    "webhook_events": "the outbox, written from the entries",
    "webhook_deliveries": "the outbox's delivery state (operational)",
    "payees": "a name, created by the first transaction that uses it (whose entry shows it), "
    "never changed or deleted on its own",
    "tags": "a name, created by the first transaction that uses it (whose entry shows it), "
    "never changed or deleted on its own",
    "transactions_shown": "a view of transactions (their REST shape)",
}
# Rows the REST API no longer shows, as if deleted: a revoked invitation leaves the ledger's list.
GONE = {"invitations": lambda row: row["status"] == "revoked"}
# Columns a REST shape never shows and only bookkeeping writes.
IGNORED_COLUMNS = {
    "webhook_endpoints": {"failing_since"},  # a receiver failing, not yet disabled
    "imports": {"created_by"},  # who uploaded the file: cleared when their account is erased
}


def _snapshot(conn) -> dict[str, dict[str, dict]]:
    """Every row of every watched table, by primary key."""
    cursor = conn.cursor(row_factory=tuple_row)
    snapshot = {}
    for table in ENTITY_TABLES:
        keys = cursor.execute(
            "SELECT a.attname FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attname",
            (table,),
        ).fetchall()
        rows = cursor.execute(f"SELECT to_jsonb(t) FROM {table} t").fetchall()
        ignored = IGNORED_COLUMNS.get(table, set())
        snapshot[table] = {
            repr([row[key] for (key,) in keys]): {k: v for k, v in row.items() if k not in ignored}
            for (row,) in rows
        }
    return snapshot


def _ledger_of(table: str, row: dict) -> int:
    return row["id"] if table == "ledgers" else row["ledger_id"]


def _changed(before: dict, after: dict) -> dict[tuple[int, str, int], str]:
    """{(ledger_id, entity, entity_id): op} of every entity whose rows differ, the op from the
    entity's own row (absent before: created; absent after: deleted)."""
    keys = set()
    for table, (entity, id_column) in ENTITY_TABLES.items():
        for pk in before[table].keys() | after[table].keys():
            old, new = before[table].get(pk), after[table].get(pk)
            if old != new:
                row = new if new is not None else old
                keys.add((_ledger_of(table, row), entity, row[id_column]))

    def present(snapshot, ledger_id, entity, entity_id) -> bool:
        table, id_column = ENTITY_ROW[entity], ENTITY_TABLES[ENTITY_ROW[entity]][1]
        gone = GONE.get(table, lambda row: False)
        return any(
            _ledger_of(table, row) == ledger_id and row[id_column] == entity_id and not gone(row)
            for row in snapshot[table].values()
        )

    ops = {}
    for key in keys:
        was, is_ = present(before, *key), present(after, *key)
        ops[key] = "created" if not was else "deleted" if not is_ else "updated"
    return ops


# --- The world the scenarios act in ---------------------------------------------------------


@dataclass
class Watch:
    """What a change must leave: the actor (a user id, None for the service itself; may be set
    inside the block, once known), the door, and the request id (None: one of the door's own,
    shared by the change's entries)."""

    actor: int | None
    via: str
    request_id: str | None
    ledgers: list[int]
    entries: list[dict] = field(default_factory=list)
    # (user id, email) when the change erases the actor's account (services/account_data.py):
    # their entries then say "deleted user", and the images as the REST API showed them are
    # compared after the erasure's own rewrite (`_as_erased`).
    erased: tuple[int, str] | None = None


def _as_erased(entity: str, shape: dict | None, user_id: int, email: str) -> dict | None:
    """A REST shape as the change log keeps it once the account (`user_id`, `email`) is
    erased: a member's name "deleted user" and email null, an invitation to it without its
    email, a transaction it created by {id, "deleted user"}."""
    if shape is None:
        return None
    if entity == "member" and shape["userId"] == user_id:
        return {**shape, "name": "deleted user", "email": None}
    if entity == "invitation" and shape["email"].lower() == email.lower():
        return {**shape, "email": None}
    if entity == "transaction" and (shape["createdBy"] or {}).get("id") == user_id:
        return {**shape, "createdBy": {"id": user_id, "name": "deleted user"}}
    return shape


class World:
    def __init__(self, accounts, conn, database, monkeypatch):
        self.accounts, self.conn, self.database = accounts, conn, database
        self.monkeypatch = monkeypatch
        self.users = {}  # user id -> a logged-in User: ledgers' owners read their state back
        self.request_id = None  # what the REST and GraphQL doors are sent, inside a watch

    # Users, ledgers and requests.

    def user(self, name="Member"):
        user = self.accounts.new_user(name=name)
        self.users[user.id] = user
        return user

    def login(self, email: str, password: str | None = None) -> User:
        tokens = self.accounts.login(email, password)
        anyone = User(self.accounts.client, {"id": None}, tokens)
        user = User(self.accounts.client, anyone.get("/api/auth/me").get_json()["user"], tokens)
        self.users[user.id] = user
        return user

    def _headers(self) -> dict:
        return {"X-Request-ID": self.request_id} if self.request_id else {}

    def rest(self, user, method: str, path: str, json=None):
        """A request that must succeed; its answer."""
        if user is None:
            response = self.accounts.client.open(
                path, method=method, json=json, headers=self._headers()
            )
        else:
            response = user.request(method, path, json=json, headers=self._headers())
        assert response.status_code < 300, (method, path, response.get_json(silent=True))
        return response.get_json(silent=True)

    def graphql(self, user, query: str, **variables) -> dict:
        body = graphql(user, query, variables, headers=self._headers())
        assert "errors" not in body, body
        return body["data"]

    def shared(self, owner, members: dict | None = None) -> int:
        """A new ledger of `owner`'s, with `members` ({User: role}) joined by invitation."""
        ledger_id = self.rest(owner, "POST", "/api/ledgers", json={"name": "Shared"})["id"]
        for user, role in (members or {}).items():
            self.join(ledger_id, owner, user, role)
        return ledger_id

    def invite(self, ledger_id: int, owner, user, role="editor") -> int:
        body = {"email": user.data["email"], "role": role}
        return self.rest(owner, "POST", f"/api/ledgers/{ledger_id}/invitations", json=body)["id"]

    def join(self, ledger_id: int, owner, user, role="editor") -> None:
        invitation = self.invite(ledger_id, owner, user, role)
        self.rest(user, "POST", f"/api/invitations/{invitation}/accept")

    def category(self, user, ledger_id: int, name="Food") -> int:
        return self.rest(user, "POST", f"/api/ledgers/{ledger_id}/categories", json={"name": name})[
            "id"
        ]

    def expense(self, user, ledger_id: int, category_id: int, amount="10.00", date="2026-03-15"):
        body = {"amount": amount, "type": "EXPENSE", "categoryId": category_id, "date": date}
        return self.rest(user, "POST", f"/api/ledgers/{ledger_id}/transactions", json=body)

    def rule(self, user, ledger_id: int, category_id: int, start: str, **fields) -> dict:
        """A monthly rule with one date (count 1): handled once, it is never due again."""
        body = {"amount": "10.00", "type": "EXPENSE", "categoryId": category_id,
                "frequency": "monthly", "startDate": start, "count": 1, **fields}  # fmt: skip
        return self.rest(user, "POST", f"/api/ledgers/{ledger_id}/recurring", json=body)

    def only_rules_of(self, ledger_id: int) -> None:
        """The worker runs on the whole database: other scenarios' rules are paused first."""
        self.conn.execute(
            "UPDATE recurring_rules SET paused = true, paused_reason = 'member_left'"
            " WHERE ledger_id <> %s AND NOT paused",
            (ledger_id,),
        )

    # What the REST API shows.

    def owner_of(self, ledger_id: int):
        row = self.conn.execute(
            "SELECT user_id FROM ledger_members WHERE ledger_id = %s AND role = 'owner'"
            " ORDER BY joined_at, user_id LIMIT 1",
            (ledger_id,),
        ).fetchone()
        return None if row is None else self.users[row["user_id"]]

    def rest_state(self, ledger_id: int) -> dict[tuple[str, int], dict]:
        """{(entity, id): its REST shape} of everything in the ledger, as its owner reads it;
        empty when the ledger is gone."""
        owner = self.owner_of(ledger_id)
        if owner is None:
            return {}
        base = f"/api/ledgers/{ledger_id}"
        state = {("ledger", ledger_id): owner.get(base).get_json()}
        lists = {
            "member": ("/members", "userId"),
            "invitation": ("/invitations", "id"),
            "category": ("/categories", "id"),
            "transaction": ("/transactions?from=1900-01-01&to=2999-12-31&limit=500", "id"),
            "budget": ("/budgets", "id"),
            "recurring": ("/recurring", "id"),
            "rule": ("/rules", "id"),
            "webhook": ("/webhooks", "id"),
            "import": ("/imports", "id"),
        }
        for entity, (path, key) in lists.items():
            response = owner.get(base + path)
            assert response.status_code == 200, response.get_json()
            state.update({(entity, item[key]): item for item in response.get_json()["items"]})
        # A rate's REST shape has no id (its currency and date name it): the row's is its key.
        response = owner.get(base + "/rates?limit=500")
        assert response.status_code == 200, response.get_json()
        ids = {
            (row["currency"], row["day"].isoformat()): row["id"]
            for row in self.conn.execute(
                "SELECT id, currency, day FROM ledger_rates WHERE ledger_id = %s", (ledger_id,)
            )
        }
        state.update(
            {("rate", ids[(item["currency"], item["date"])]): item
             for item in response.get_json()["items"]}
        )  # fmt: skip
        return state

    # The watch.

    @contextlib.contextmanager
    def change(self, *, actor=None, via: str, ledgers: list[int], request_id="sent"):
        """Watches the block: afterwards, each entity whose rows changed (in a ledger that still
        exists) has exactly one new entry, as `Watch` says, with the REST images."""
        if request_id == "sent":
            request_id = f"test-{uuid.uuid4().hex}" if via in ("rest", "graphql") else None
        watch = Watch(actor, via, request_id, ledgers)
        rest_before = {ledger_id: self.rest_state(ledger_id) for ledger_id in ledgers}
        before = _snapshot(self.conn)
        last = self.conn.execute(
            "SELECT coalesce(max(id), 0) AS id FROM ledger_changes"
        ).fetchone()["id"]
        self.request_id = request_id
        try:
            yield watch
        finally:
            self.request_id = None
        after = _snapshot(self.conn)
        watch.entries = self.conn.execute(
            "SELECT * FROM ledger_changes WHERE id > %s ORDER BY id", (last,)
        ).fetchall()
        existing = {row["id"] for row in after["ledgers"].values()}
        expected = {key: op for key, op in _changed(before, after).items() if key[0] in existing}
        logged = Counter((e["ledger_id"], e["entity"], e["entity_id"]) for e in watch.entries)
        assert logged == Counter(expected.keys()), (logged, expected)
        new_ledgers = {key[0] for key in expected} - set(ledgers)
        for ledger_id in new_ledgers:
            assert not any(
                e["ledger_id"] == ledger_id and e["op"] != "created" for e in watch.entries
            ), f"the scenario changed ledger {ledger_id}: name it in `ledgers`"
        rest_after = {
            ledger_id: self.rest_state(ledger_id) for ledger_id in {*ledgers, *new_ledgers}
        }
        for entry in watch.entries:
            key = (entry["ledger_id"], entry["entity"], entry["entity_id"])
            assert entry["op"] == expected[key], entry
            assert entry["seq"] is not None, entry  # numbered at COMMIT
            actor = watch.actor
            if watch.erased and entry["entity"] == "recurring" and entry["actor_id"] is None:
                actor = None  # a rule acting as the erased account pauses: the service's act
            assert (entry["actor_id"], entry["via"]) == (actor, watch.via), entry
            if actor is not None:
                name = "deleted user" if watch.erased else self.users[actor].data["name"]
                assert entry["actor_name"] == name, entry
            before_shape = rest_before.get(entry["ledger_id"], {}).get(key[1:])
            after_shape = rest_after[entry["ledger_id"]].get(key[1:])
            if watch.erased:
                before_shape = _as_erased(key[1], before_shape, *watch.erased)
                after_shape = _as_erased(key[1], after_shape, *watch.erased)
            assert entry["before"] == before_shape, entry
            assert entry["after"] == after_shape, entry
        ids = {entry["request_id"] for entry in watch.entries}
        if watch.request_id is not None:
            assert ids <= {watch.request_id}
        else:
            assert len(ids) <= 1 and None not in ids, ids


@pytest.fixture
def world(accounts, database, monkeypatch, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.row_factory = dict_row
        yield World(accounts, conn, database, monkeypatch)


# --- The scenarios: one per writing function --------------------------------------------------


def register(w: World):
    email = f"new-{uuid.uuid4().hex[:12]}@example.com"
    with w.change(via="rest", ledgers=[]) as watch:
        body = {"name": "Newcomer", "email": email, "password": w.accounts.password}
        watch.actor = w.rest(None, "POST", "/api/auth/register", json=body)["user"]["id"]
        w.login(email)  # the new ledger's owner, to read it back


def create_ledger(w: World):
    alice = w.user("Alice")
    with w.change(actor=alice.id, via="rest", ledgers=[]):
        w.rest(alice, "POST", "/api/ledgers", json={"name": "Trip", "currency": "JPY"})


def rename_ledger(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    with w.change(actor=alice.id, via="graphql", ledgers=[ledger_id]):
        w.graphql(
            alice,
            'mutation($id: Int!) { updateLedger(id: $id, input: {name: "Home"}) { id } }',
            id=ledger_id,
        )


def delete_ledger(w: World):
    alice, bob = w.user("Alice"), w.user("Bob")
    ledger_id = w.shared(alice, {bob: "editor"})
    w.expense(alice, ledger_id, w.category(alice, ledger_id))
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]):
        w.rest(alice, "DELETE", f"/api/ledgers/{ledger_id}")
    # No entry: the ledger's log went with it.
    assert not w.conn.execute(
        "SELECT 1 FROM ledger_changes WHERE ledger_id = %s", (ledger_id,)
    ).fetchall()


def transfer_ownership(w: World):
    alice, bob = w.user("Alice"), w.user("Bob")
    ledger_id = w.shared(alice, {bob: "editor"})
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        w.rest(alice, "PATCH", f"/api/ledgers/{ledger_id}/members/{bob.id}", json={"role": "owner"})
    assert sorted(e["entity_id"] for e in watch.entries) == sorted([alice.id, bob.id])


def erase_account(w: World):
    """Bob erases his account: he wrote in Alice's ledger (a transaction, a recurring rule
    acting as him), was invited to another of hers, made a ledger and handed it to her with an
    invitation of his pending there. His transaction shows no creator (`updated`), the rule
    pauses (the service's entry), the invitations go (`deleted`), he leaves (`deleted`); his
    own ledger goes without entries (its log with it)."""
    alice, bob = w.user("Alice"), w.user("Bob")
    shared = w.shared(alice, {bob: "editor"})
    food = w.category(alice, shared)
    w.expense(bob, shared, food)
    w.rule(bob, shared, food, "2099-01-01")
    other = w.shared(alice)
    w.invite(other, alice, bob, "viewer")
    club = w.shared(bob, {alice: "editor"})
    outsider = f"outsider-{uuid.uuid4().hex[:8]}@example.com"
    w.rest(
        bob, "POST", f"/api/ledgers/{club}/invitations", json={"email": outsider, "role": "viewer"}
    )
    w.rest(bob, "PATCH", f"/api/ledgers/{club}/members/{alice.id}", json={"role": "owner"})
    with w.change(actor=bob.id, via="rest", ledgers=[shared, other, club]) as watch:
        watch.erased = (bob.id, bob.data["email"])
        w.rest(bob, "DELETE", "/api/me", json={"password": w.accounts.password})
    assert Counter((e["entity"], e["op"]) for e in watch.entries) == {
        ("transaction", "updated"): 1,
        ("recurring", "updated"): 1,
        ("invitation", "deleted"): 4,  # answered ones too: to him (2), by him (2)
        ("member", "deleted"): 2,
    }


def leave_ledger(w: World):
    alice, bob = w.user("Alice"), w.user("Bob")
    ledger_id = w.shared(alice, {bob: "viewer"})
    with w.change(actor=bob.id, via="rest", ledgers=[ledger_id]):
        w.rest(bob, "DELETE", f"/api/ledgers/{ledger_id}/members/{bob.id}")


def invite(w: World):
    alice, bob = w.user("Alice"), w.user("Bob")
    ledger_id = w.shared(alice)
    w.invite(ledger_id, alice, bob, "viewer")
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        w.invite(ledger_id, alice, bob, "editor")  # replaces the pending one: it is revoked
    assert sorted(e["op"] for e in watch.entries) == ["created", "deleted"]


def revoke_invitation(w: World):
    alice, bob = w.user("Alice"), w.user("Bob")
    ledger_id = w.shared(alice)
    invitation = w.invite(ledger_id, alice, bob)
    with w.change(actor=alice.id, via="graphql", ledgers=[ledger_id]):
        w.graphql(
            alice,
            "mutation($l: Int!, $id: Int!) { revokeInvitation(ledgerId: $l, id: $id) }",
            l=ledger_id,
            id=invitation,
        )


def accept_invitation(w: World):
    alice, bob = w.user("Alice"), w.user("Bob")
    ledger_id = w.shared(alice)
    invitation = w.invite(ledger_id, alice, bob)
    with w.change(actor=bob.id, via="rest", ledgers=[ledger_id]) as watch:
        w.rest(bob, "POST", f"/api/invitations/{invitation}/accept")
    assert sorted(e["entity"] for e in watch.entries) == ["invitation", "member"]


def decline_invitation(w: World):
    alice, bob = w.user("Alice"), w.user("Bob")
    ledger_id = w.shared(alice)
    invitation = w.invite(ledger_id, alice, bob)
    with w.change(actor=bob.id, via="graphql", ledgers=[ledger_id]):
        w.graphql(bob, "mutation($id: Int!) { declineInvitation(id: $id) }", id=invitation)


def create_category(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    with w.change(actor=alice.id, via="graphql", ledgers=[ledger_id]):
        w.graphql(
            alice,
            'mutation($l: Int) { createCategory(ledgerId: $l, input: {name: "Rent"}) { id } }',
            l=ledger_id,
        )


def rename_category(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food = w.category(alice, ledger_id)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]):
        path = f"/api/ledgers/{ledger_id}/categories/{food}"
        w.rest(alice, "PATCH", path, json={"name": "Groceries"})


def delete_category(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food = w.category(alice, ledger_id)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]):
        w.rest(alice, "DELETE", f"/api/ledgers/{ledger_id}/categories/{food}")


def create_transaction(w: World):
    """A split expense with a payee and tags (their rows are names, not entities of the log),
    with a soft budget it crosses (an alert fires) and a webhook endpoint subscribed (an event
    is recorded): neither is an entity of the log."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food, home = w.category(alice, ledger_id), w.category(alice, ledger_id, "Home")
    body = {"amount": "15", "month": 3, "year": 2026, "alertThreshold": 50}
    w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/budgets", json=body)
    hook = {"url": HOOK, "events": ["transaction.created"]}
    w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/webhooks", json=hook)
    lines = [{"categoryId": food, "amount": "7.00"}, {"categoryId": home, "amount": "5.00"}]
    body = {"amount": "12.00", "type": "EXPENSE", "date": "2026-03-15", "splits": lines,
            "payee": "Market", "tags": ["weekly"]}  # fmt: skip
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]):
        created = w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/transactions", json=body)
        assert created["alerts"]


def update_transaction(w: World):
    """Through GraphQL: new lines, a payee and tags replace a single category."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food, home = w.category(alice, ledger_id), w.category(alice, ledger_id, "Home")
    spent = w.expense(alice, ledger_id, food)
    with w.change(actor=alice.id, via="graphql", ledgers=[ledger_id]):
        w.graphql(
            alice,
            "mutation($l: Int, $id: Int!, $s: [SplitLineInput!]) { updateTransaction("
            'ledgerId: $l, id: $id, input: {amount: "11.50", description: "Lunch", splits: $s,'
            ' payee: "Cafe", tags: ["work"]}) { transaction { id } } }',
            l=ledger_id,
            id=spent["id"],
            s=[{"categoryId": food, "amount": "10.00"}, {"categoryId": home, "amount": "1.50"}],
        )


def delete_transaction(w: World):
    """A split one: its lines and tags go with it."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food, home = w.category(alice, ledger_id), w.category(alice, ledger_id, "Home")
    lines = [{"categoryId": food, "amount": "1.00"}, {"categoryId": home, "amount": "2.00"}]
    body = {"amount": "3.00", "type": "EXPENSE", "date": "2026-03-15", "splits": lines,
            "tags": ["gone"]}  # fmt: skip
    spent = w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/transactions", json=body)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]):
        w.rest(alice, "DELETE", f"/api/ledgers/{ledger_id}/transactions/{spent['id']}")


def save_budget(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food = w.category(alice, ledger_id)
    path = f"/api/ledgers/{ledger_id}/budgets"
    w.rest(
        alice, "POST", path, json={"amount": "100", "month": 3, "year": 2026, "categoryId": food}
    )
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        body = {"amount": "120.5", "month": 3, "year": 2026, "categoryId": food, "mode": "hard"}
        w.rest(alice, "POST", path, json=body)
    assert [e["op"] for e in watch.entries] == ["updated"]


def copy_budgets(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    path = f"/api/ledgers/{ledger_id}/budgets"
    w.rest(alice, "POST", path, json={"amount": "100", "month": 3, "year": 2026})
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        w.rest(alice, "POST", f"{path}/copy",
               json={"from": {"month": 3, "year": 2026}, "to": {"month": 4, "year": 2026}})  # fmt: skip
    assert [e["op"] for e in watch.entries] == ["created"]


def delete_budget(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    path = f"/api/ledgers/{ledger_id}/budgets"
    budget = w.rest(alice, "POST", path, json={"amount": "100", "month": 3, "year": 2026})
    with w.change(actor=alice.id, via="graphql", ledgers=[ledger_id]):
        w.graphql(
            alice,
            "mutation($l: Int, $id: Int!) { deleteBudget(ledgerId: $l, id: $id) }",
            l=ledger_id,
            id=budget["id"],
        )


def create_rule(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food = w.category(alice, ledger_id)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]):
        w.rule(alice, ledger_id, food, "2999-01-01", byMonthDay=-1, description="Rent")


def update_rule(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    rule = w.rule(alice, ledger_id, w.category(alice, ledger_id), "2999-01-01")
    with w.change(actor=alice.id, via="graphql", ledgers=[ledger_id]):
        w.graphql(
            alice,
            "mutation($l: Int, $id: Int!) { updateRecurring(ledgerId: $l, id: $id,"
            ' input: {amount: "12.25", paused: true}) { id } }',
            l=ledger_id,
            id=rule["id"],
        )


def delete_rule(w: World):
    """A rule with a date handled: its occurrence goes with it (part of the rule's entity)."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    rule = w.rule(alice, ledger_id, w.category(alice, ledger_id), "2031-01-10")
    w.only_rules_of(ledger_id)
    assert run_worker(w.database, datetime(2031, 1, 11, 12, tzinfo=UTC)) == 1
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]):
        w.rest(alice, "DELETE", f"/api/ledgers/{ledger_id}/recurring/{rule['id']}")


def run_due_date(w: World):
    """The worker records a rule's date: the transaction (transactions.create's entry) and the
    rule's progress, both by the member the rule acts as, in one unit of work."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    w.rule(alice, ledger_id, w.category(alice, ledger_id), "2032-01-10")
    w.only_rules_of(ledger_id)
    with w.change(actor=alice.id, via="worker", ledgers=[ledger_id]) as watch:
        assert run_worker(w.database, datetime(2032, 1, 11, 12, tzinfo=UTC)) == 1
    assert sorted(e["entity"] for e in watch.entries) == ["recurring", "transaction"]


def skip_refused_date(w: World):
    """The worker's step taken directly (handle_next_due): a hard budget refuses the date, which
    is skipped; the rule moves on (an alert fires: not an entity)."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    w.rule(alice, ledger_id, w.category(alice, ledger_id), "2033-01-10", amount="50.00")
    body = {"amount": "10", "month": 1, "year": 2033, "mode": "hard"}
    w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/budgets", json=body)
    w.only_rules_of(ledger_id)
    now = datetime(2033, 1, 11, 12, tzinfo=UTC)
    with (
        w.change(actor=alice.id, via="worker", ledgers=[ledger_id]) as watch,
        door.unit_of_work("worker"),
        psycopg.connect(w.database.url) as own,
    ):
        assert run_transaction(own, lambda c: recurring_runs.handle_next_due(c, now))
    assert [e["entity"] for e in watch.entries] == ["recurring"]
    assert watch.entries[0]["after"]["nextDate"] is None  # its one date, skipped


def pause_orphaned_rule(w: World):
    """A rule whose member left is paused by the service itself: a null actor."""
    alice, bob = w.user("Alice"), w.user("Bob")
    ledger_id = w.shared(alice, {bob: "editor"})
    w.rule(bob, ledger_id, w.category(alice, ledger_id), "2034-01-10")
    w.rest(bob, "DELETE", f"/api/ledgers/{ledger_id}/members/{bob.id}")
    w.only_rules_of(ledger_id)
    with w.change(actor=None, via="worker", ledgers=[ledger_id]) as watch:
        run_worker(w.database, datetime(2034, 1, 11, 12, tzinfo=UTC))
    assert watch.entries[0]["after"]["pausedReason"] == "member_left"


def record_rule_failure(w: World):
    """A date whose handling fails: the failure recorded on the rule by the service itself."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    rule = w.rule(alice, ledger_id, w.category(alice, ledger_id), "2035-01-10")
    create = transactions.create

    def failing(conn, actor, values):
        if actor.ledger_id == ledger_id:
            raise RuntimeError("boom")
        return create(conn, actor, values)

    w.monkeypatch.setattr(transactions, "create", failing)
    w.only_rules_of(ledger_id)
    with w.change(actor=None, via="worker", ledgers=[ledger_id]) as watch:
        run_worker(w.database, datetime(2035, 1, 11, 12, tzinfo=UTC))
    assert watch.entries[0]["after"]["lastError"] == "RuntimeError: boom"
    w.monkeypatch.undo()
    w.rest(alice, "DELETE", f"/api/ledgers/{ledger_id}/recurring/{rule['id']}")


def _import_rules(w: World, user, ledger_id: int, count: int) -> list[dict]:
    """`count` rules (import rules, not recurring ones), at positions 1..count."""
    return [
        w.rest(
            user,
            "POST",
            f"/api/ledgers/{ledger_id}/rules",
            json={"match": {"payee": {"contains": f"shop {n}"}}, "set": {"payee": f"Shop {n}"}},
        )
        for n in range(count)
    ]


def create_import_rule(w: World):
    """Created first: the two rules it goes before move down one (their positions changed)."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food = w.category(alice, ledger_id)
    _import_rules(w, alice, ledger_id, 2)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        body = {"position": 1, "match": {"description": {"regex": "^coffee"}, "amountMax": "5"},
                "set": {"categoryId": food, "tags": ["Cafe"]}}  # fmt: skip
        w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/rules", json=body)
    assert sorted(e["op"] for e in watch.entries) == ["created", "updated", "updated"]


def move_import_rule(w: World):
    """The last of three moved first: the two others move down one."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    last = _import_rules(w, alice, ledger_id, 3)[-1]
    with w.change(actor=alice.id, via="graphql", ledgers=[ledger_id]) as watch:
        w.graphql(
            alice,
            "mutation($l: Int, $id: Int!) { updateRule(ledgerId: $l, id: $id,"
            ' input: {position: 1, set: {payee: "Moved"}}) { id } }',
            l=ledger_id,
            id=last["id"],
        )
    assert len(watch.entries) == 3


def delete_import_rule(w: World):
    """The first of three deleted: the two others move up one."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    first = _import_rules(w, alice, ledger_id, 3)[0]
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        w.rest(alice, "DELETE", f"/api/ledgers/{ledger_id}/rules/{first['id']}")
    assert sorted(e["op"] for e in watch.entries) == ["deleted", "updated", "updated"]


def apply_import_rule(w: World):
    """A rule run over existing transactions: each one it changes is transactions.update's
    entry (the rule itself does not change)."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food = w.category(alice, ledger_id, "Food")
    loose = w.category(alice, ledger_id, "Uncategorized")
    for description in ("coffee beans", "Coffee to go", "rent"):
        body = {"amount": "3", "type": "EXPENSE", "categoryId": loose, "date": "2026-03-10",
                "description": description}  # fmt: skip
        w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/transactions", json=body)
    body = {"match": {"description": {"contains": "coffee"}}, "set": {"categoryId": food}}
    rule = w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/rules", json=body)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        path = f"/api/ledgers/{ledger_id}/rules/{rule['id']}/apply?month=3&year=2026"
        assert w.rest(alice, "POST", path) == {"changed": 2, "refused": 0}
    assert [e["entity"] for e in watch.entries] == ["transaction", "transaction"]


def create_webhook(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        body = {"url": HOOK, "events": ["transaction.created"], "description": "Bot"}
        secret = w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/webhooks", json=body)["secret"]
    assert secret not in repr(watch.entries)


def update_webhook(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    body = {"url": HOOK, "events": ["transaction.created"]}
    hook = w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/webhooks", json=body)
    with w.change(actor=alice.id, via="graphql", ledgers=[ledger_id]):
        w.graphql(
            alice,
            "mutation($l: Int, $id: Int!) { updateWebhook(ledgerId: $l, id: $id,"
            ' input: {enabled: false, description: "Off"}) { id } }',
            l=ledger_id,
            id=hook["id"],
        )


def delete_webhook(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    body = {"url": HOOK, "events": ["budget.updated"]}
    hook = w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/webhooks", json=body)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]):
        w.rest(alice, "DELETE", f"/api/ledgers/{ledger_id}/webhooks/{hook['id']}")


def rotate_webhook_secret(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    body = {"url": HOOK, "events": ["budget.updated"]}
    hook = w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/webhooks", json=body)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        path = f"/api/ledgers/{ledger_id}/webhooks/{hook['id']}/rotate-secret"
        secret = w.rest(alice, "POST", path)["secret"]
    assert secret not in repr(watch.entries) and hook["secret"] not in repr(watch.entries)
    [entry] = watch.entries
    assert entry["before"] == entry["after"] and "secret" not in entry["after"]


def disable_failing_webhook(w: World):
    """The delivery job disables an endpoint that has failed for too long: the service's own
    change, through the worker's door."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    body = {"url": HOOK, "events": ["transaction.created"]}
    hook = w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/webhooks", json=body)
    w.expense(alice, ledger_id, w.category(alice, ledger_id))  # a delivery, due now
    w.conn.execute(
        "UPDATE webhook_endpoints SET failing_since = now() - interval '6 days' WHERE id = %s",
        (hook["id"],),
    )
    with w.change(actor=None, via="worker", ledgers=[ledger_id]) as watch:
        deliver_due(w.database, lambda: datetime.now(UTC))
    [entry] = watch.entries
    assert entry["after"]["disabledReason"] == "failing for too long"


def seed_command(w: World):
    """`expense-api seed`: a user, their ledger and its data loaded in bulk, logged."""
    for name, value in {"DATABASE_URL": w.database.url, "APP_ENV": "test",
                        "JWT_SECRET_KEY": TEST_SECRET,
                        "DATA_DIR": str(PROJECT_ROOT / ".data")}.items():  # fmt: skip
        w.monkeypatch.setenv(name, value)
    seen = {row["id"] for row in w.conn.execute("SELECT id FROM users").fetchall()}
    with w.change(via="cli", ledgers=[]) as watch:
        args = ["seed", "--users", "1", "--transactions", "8", "--years", "1", "--seed", "5"]
        assert cli_main(args) == 0
        [new] = [
            row
            for row in w.conn.execute("SELECT id, email FROM users").fetchall()
            if row["id"] not in seen
        ]
        watch.actor = new["id"]
        w.login(new["email"], DEMO_PASSWORD)
    counts = Counter(e["entity"] for e in watch.entries)
    assert counts == {"ledger": 1, "member": 1, "category": 13, "transaction": 8, "budget": 48}


def restore_ledger(w: World):
    """A JSON export restored into a new ledger: written in bulk, each entity logged once as
    created (the ledger and its owner as creating a ledger logs them), by the caller."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food, home = w.category(alice, ledger_id), w.category(alice, ledger_id, "Home")
    w.expense(alice, ledger_id, food)
    lines = [{"categoryId": food, "amount": "7.00"}, {"categoryId": home, "amount": "5.00"}]
    body = {"amount": "12.00", "type": "EXPENSE", "date": "2026-03-15", "splits": lines,
            "payee": "Market", "tags": ["weekly"]}  # fmt: skip
    w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/transactions", json=body)
    budget = {"amount": "15", "month": 3, "year": 2026, "categoryId": home}
    w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/budgets", json=budget)
    w.rule(alice, ledger_id, food, "2026-03-01")
    export = alice.get(f"/api/ledgers/{ledger_id}/export?format=json")
    document = export.get_json()
    with w.change(actor=alice.id, via="rest", ledgers=[]) as watch:
        w.rest(alice, "POST", "/api/ledgers", json={"name": "Copy", "restore": document})
    counts = Counter(e["entity"] for e in watch.entries)
    assert counts == {"ledger": 1, "member": 1, "category": 2, "transaction": 2, "budget": 1,
                      "recurring": 1}  # fmt: skip


# Imports: a file read by the tests' tiny reader (tests/imports/tiny_reader.py), uploaded and
# discarded through REST (`via: rest`); a commit's and an undo's entries are the import's
# (`via: "import"`), whichever door asked.
BANK_FILE = (
    b"2026-03-02,-12.50,Corner Market\n2026-03-03,2500,ACME Payroll\n2026-03-05,-4.20,Cafe\n"
)


def _upload(w: World, user, ledger_id: int) -> dict:
    install_tiny_reader(w.monkeypatch)
    response = user.post(
        f"/api/ledgers/{ledger_id}/imports",
        data={"file": (io.BytesIO(BANK_FILE), "bank.csv"), "account": "checking"},
        content_type="multipart/form-data",
        headers=w._headers(),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def upload_import(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        _upload(w, alice, ledger_id)
    assert [(e["entity"], e["op"]) for e in watch.entries] == [("import", "created")]


def commit_import(w: World):
    """New rows (Uncategorized made for them), a match linked to a transaction entered by
    hand: each logged once, via the import, and the import's own entry."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food = w.category(alice, ledger_id)
    w.expense(alice, ledger_id, food, amount="4.20", date="2026-03-04")
    preview = _upload(w, alice, ledger_id)
    assert preview["counts"]["match"] == 1
    with w.change(actor=alice.id, via="import", ledgers=[ledger_id]) as watch:
        w.rest(alice, "POST", f"/api/ledgers/{ledger_id}/imports/{preview['id']}/commit")
    assert Counter((e["entity"], e["op"]) for e in watch.entries) == {
        ("transaction", "created"): 2, ("transaction", "updated"): 1,
        ("category", "created"): 1, ("import", "updated"): 1,
    }  # fmt: skip


def discard_import(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    preview = _upload(w, alice, ledger_id)
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]):
        w.rest(alice, "DELETE", f"/api/ledgers/{ledger_id}/imports/{preview['id']}")


def undo_import(w: World):
    """The transactions it created go, but one edited since (kept); the match is unlinked."""
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    food = w.category(alice, ledger_id)
    w.expense(alice, ledger_id, food, amount="4.20", date="2026-03-04")
    base = f"/api/ledgers/{ledger_id}/imports/{_upload(w, alice, ledger_id)['id']}"
    w.rest(alice, "POST", f"{base}/commit")
    rows = w.rest(alice, "GET", f"{base}/rows?decision=new")["items"]
    edited = rows[0]["transactionId"]
    w.rest(
        alice, "PATCH", f"/api/ledgers/{ledger_id}/transactions/{edited}",
        json={"description": "checked"},
    )  # fmt: skip
    with w.change(actor=alice.id, via="import", ledgers=[ledger_id]) as watch:
        undone = w.rest(alice, "POST", f"{base}/undo")
    assert undone["kept"] == [edited]
    assert Counter((e["entity"], e["op"]) for e in watch.entries) == {
        ("transaction", "deleted"): 1, ("transaction", "updated"): 1, ("import", "updated"): 1,
    }  # fmt: skip


def put_rates(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    path = f"/api/ledgers/{ledger_id}/rates/EUR"
    w.rest(alice, "PUT", path, json={"items": [{"date": "2026-03-02", "rate": "1.08"}]})
    items = [{"date": "2026-03-02", "rate": "1.09"}, {"date": "2026-03-03", "rate": "1.1"}]
    with w.change(actor=alice.id, via="rest", ledgers=[ledger_id]) as watch:
        w.rest(alice, "PUT", path, json={"items": items})
    assert sorted(e["op"] for e in watch.entries) == ["created", "updated"]
    with w.change(actor=alice.id, via="graphql", ledgers=[ledger_id]) as watch:
        w.graphql(
            alice,
            'mutation($l: Int!) { putRates(ledgerId: $l, currency: "EUR", items: ['
            '{date: "2026-03-03", rate: "1.10"}, {date: "2026-03-04", rate: "1.2"}]) '
            "{ items { rate } } }",
            l=ledger_id,
        )
    assert [e["op"] for e in watch.entries] == ["created"]  # 1.10 is 1.1: unchanged


def import_rates(w: World):
    alice = w.user("Alice")
    ledger_id = w.shared(alice)
    w.rest(alice, "PUT", f"/api/ledgers/{ledger_id}/rates/EUR",
           json={"items": [{"date": "2026-03-02", "rate": "1.08"}]})  # fmt: skip
    data = b"Date,USD,GBP,\r\n2026-03-02,1.09,0.84,\r\n2026-03-03,1.1,N/A,\r\n"
    with w.change(actor=alice.id, via="import", ledgers=[ledger_id]) as watch:
        response = alice.post(
            f"/api/ledgers/{ledger_id}/rates/import",
            data={"file": (io.BytesIO(data), "eurofxref-hist.csv")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200, response.get_json()
    assert Counter(e["op"] for e in watch.entries) == {"created": 2, "updated": 1}


# The catalog: every public function or class of expense_api.services, by its name below the
# package. A writer of a ledger's data names its scenario (several may share one: a step and
# the unit of work that takes it); everything else says why it needs none.
WRITERS = {
    "auth.accounts.register": register,
    "ledgers.create_default": register,
    "ledgers.create": create_ledger,
    "ledgers.rename": rename_ledger,
    "ledgers.delete": delete_ledger,
    "ledgers.change_role": transfer_ownership,
    "ledgers.remove_member": leave_ledger,
    "ledgers.leave_with_account": erase_account,
    "ledgers.delete_with_account": erase_account,
    "account_data.erase": erase_account,
    "invitations.create": invite,
    "invitations.revoke": revoke_invitation,
    "invitations.accept": accept_invitation,
    "invitations.decline": decline_invitation,
    "categories.create": create_category,
    "categories.rename": rename_category,
    "categories.delete": delete_category,
    "transactions.create": create_transaction,
    "transactions.update": update_transaction,
    "transactions.delete": delete_transaction,
    "exports.restore": restore_ledger,
    "budgets.save": save_budget,
    "budgets.delete": delete_budget,
    "budgets.copy": copy_budgets,
    "recurring.rules.create": create_rule,
    "recurring.rules.update": update_rule,
    "recurring.rules.delete": delete_rule,
    "recurring.runs.run_next_due": run_due_date,
    "recurring.runs.handle_next_due": skip_refused_date,
    "recurring.runs.handle": pause_orphaned_rule,
    "recurring.failures.record": record_rule_failure,
    "rules.create": create_import_rule,
    "rules.update": move_import_rule,
    "rules.delete": delete_import_rule,
    "rules.apply": apply_import_rule,
    "webhooks.endpoints.create": create_webhook,
    "webhooks.endpoints.update": update_webhook,
    "webhooks.endpoints.delete": delete_webhook,
    "webhooks.endpoints.rotate_secret": rotate_webhook_secret,
    "webhooks.delivery.deliver_due": disable_failing_webhook,
    "webhooks.delivery.Dispatcher": disable_failing_webhook,
    "imports.uploads.create": upload_import,
    "imports.previews.create": upload_import,
    "imports.commits.commit": commit_import,
    "imports.commits.discard": discard_import,
    "imports.commits.undo": undo_import,
    "rates.put": put_rates,
    "rates.import_file": import_rates,
    # Not in services, but a door's own write: the CLI's bulk load (expense_api/demo.py).
    "demo.seed": seed_command,
}

READS = "reads, or computes: writes nothing"
THE_HOOK = "the hook itself: writes the log (and the outbox) for the writers above"
OUTSIDE_LEDGERS = "writes accounts, sessions or throttles: no ledger's data"
NOT_LOGGED_TABLES = "writes only tables of NOT_LOGGED (alerts, read marks, the outbox)"
OPERATIONAL = "writes only operational rows (idempotency keys, expired history)"

OTHERS = {
    "account_data.AccountExport": READS,  # GET /api/me/export
    "account_data.export": READS,
    "admin.authorize": READS,
    "admin.list_users": READS,
    "admin.stats": READS,
    "admin.update_user": OUTSIDE_LEDGERS,
    "admin.promote": OUTSIDE_LEDGERS,
    "admin.demote": OUTSIDE_LEDGERS,
    "alerts.fire_reached": NOT_LOGGED_TABLES,
    "alerts.announce": NOT_LOGGED_TABLES,
    "alerts.record_recurring_skipped": NOT_LOGGED_TABLES,
    "alerts.list_page": READS,
    "alerts.list_page_across_ledgers": READS,
    "alerts.mark_read": NOT_LOGGED_TABLES,
    "alerts.mark_read_in_any_ledger": NOT_LOGGED_TABLES,
    "auth.accounts.AuthSetup": READS,
    "auth.accounts.Session": READS,
    "auth.accounts.new_id": READS,
    "auth.accounts.login": OUTSIDE_LEDGERS,
    "auth.accounts.start_session": OUTSIDE_LEDGERS,
    "auth.events.Origin": READS,
    "auth.events.record": OUTSIDE_LEDGERS,
    "auth.events.record_apart": OUTSIDE_LEDGERS,
    "auth.events.page": READS,
    "auth.events.prune": OPERATIONAL,
    "auth.two_factor.current_step": READS,
    "auth.two_factor.check_daily_limit": READS,
    "auth.two_factor.code_at": READS,
    "auth.two_factor.matching_step": READS,
    "auth.two_factor.setup": OUTSIDE_LEDGERS,
    "auth.two_factor.enable": OUTSIDE_LEDGERS,
    "auth.two_factor.verify": OUTSIDE_LEDGERS,
    "auth.two_factor.confirm": OUTSIDE_LEDGERS,
    "auth.two_factor.disable": OUTSIDE_LEDGERS,
    "auth.accounts.authenticate": OUTSIDE_LEDGERS,
    "auth.accounts.refresh": OUTSIDE_LEDGERS,
    "auth.accounts.logout": OUTSIDE_LEDGERS,
    "auth.passwords.PasswordHasher": READS,
    "auth.sessions.list_live": READS,
    "auth.sessions.end": OUTSIDE_LEDGERS,
    "auth.sessions.change_password": OUTSIDE_LEDGERS,
    "auth.access_tokens.digest": READS,
    "auth.access_tokens.owner_of": READS,
    "auth.access_tokens.create": OUTSIDE_LEDGERS,
    "auth.access_tokens.list_all": READS,
    "auth.access_tokens.delete": OUTSIDE_LEDGERS,
    "auth.access_tokens.authenticate": OUTSIDE_LEDGERS,  # touches the token's last_used_at
    "auth.throttle.Store": READS,
    "auth.throttle.make_store": READS,
    "auth.throttle.LoginThrottle": OUTSIDE_LEDGERS,
    "budget_guard.Scope": READS,
    "budget_guard.spending_of": READS,
    "budget_guard.check": NOT_LOGGED_TABLES,  # the alerts the write fires
    "budget_guard.check_later": NOT_LOGGED_TABLES,
    "budget_guard.PendingCheck": READS,
    "budget_guard.refusals": READS,
    "budgets.list_all": READS,
    "budgets.list_for_ledgers": READS,
    "budgets.get": READS,
    "categories.list_all": READS,
    "categories.list_for_ledgers": READS,
    "categories.get": READS,
    "categories.exists": READS,
    "changes.door.through": READS,
    "changes.door.unit_of_work": READS,
    "changes.door.current": READS,
    "changes.hook.entry": READS,
    "changes.hook.record": THE_HOOK,
    "changes.hook.record_later": THE_HOOK,
    "changes.hook.record_new_transaction_later": THE_HOOK,
    "changes.hook.record_by_service": THE_HOOK,
    "changes.hook.record_by_person": THE_HOOK,
    "changes.hook.record_created_in_bulk": THE_HOOK,
    "changes.hook.record_category_renamed": THE_HOOK,
    "changes.hook.render": READS,
    "changes.hook.render_in": READS,
    "changes.hook.alert_fired": THE_HOOK,
    "changes.hook.record_import_committed": THE_HOOK,
    "changes.hook.record_imported": THE_HOOK,
    "changes.hook.record_rates": THE_HOOK,
    "changes.hook.record_creator_erased": THE_HOOK,
    "changes.log.hidden_from": READS,  # the audit trail (GET .../changes)
    "changes.log.page": READS,
    "changes.sync.answer": READS,  # delta sync (GET .../sync)
    "changes.shapes.render": READS,
    "changes.shapes.identity": READS,
    "exports.Export": READS,  # GET .../export
    "exports.export": READS,
    "health.database_answers": READS,
    "housekeeping.prune": OPERATIONAL,
    "ratelimits.RateLimiter": OUTSIDE_LEDGERS,  # rate-limit counters only
    "ratelimits.Store": OUTSIDE_LEDGERS,
    "ratelimits.Decision": READS,
    "ratelimits.account_key": READS,
    "ratelimits.address_key": READS,
    "ratelimits.make_store": READS,
    "ratelimits.refusal": READS,
    "idempotency_keys.claim": OPERATIONAL,
    "idempotency_keys.stored": READS,
    "idempotency_keys.save_response": OPERATIONAL,
    "imports.decisions.assign_import_keys": READS,  # pure: a preview's rows, in memory
    "imports.decisions.import_key": READS,
    "imports.decisions.mark_duplicates": READS,
    "imports.decisions.mark_matches": READS,
    "imports.decisions.match_window": READS,
    "imports.reads.get": READS,
    "imports.reads.list_page": READS,
    "imports.reads.rows_page": READS,
    "imports.reads.shape": READS,
    "imports.uploads.read": READS,  # a file read by domain/bankfiles: no database
    "invitations.list_for_ledger": READS,
    "invitations.pending_for": READS,
    "ledgers.check_room_for_another_ledger": READS,
    "ledgers.Action": READS,
    "ledgers.Actor": READS,
    "ledgers.authorize": READS,
    "ledgers.authorize_each": READS,
    "ledgers.actor_in": READS,
    "ledgers.python_time_zones": READS,
    "ledgers.check_time_zone": READS,
    "ledgers.list_for_user": READS,
    "ledgers.get": READS,
    "ledgers.members": READS,
    "ledgers.members_for_ledgers": READS,
    "recurring.dates.dates_after": READS,
    "recurring.dates.next_after": READS,
    "payees.list_all": READS,
    "payees.list_for_ledgers": READS,
    "recurring.failures.is_rule_failure": READS,
    "recurring.failures.backoff": READS,
    "recurring.failures.describe": READS,
    "recurring.rules.get": READS,
    "recurring.rules.list_all": READS,
    "recurring.rules.occurrences_page": READS,
    "recurring.rules.preview": READS,
    "recurring.rules.earliest_start": READS,
    "recurring.runs.claim_next": READS,
    "reports.summary": READS,
    "reports.summary_for_ledgers": READS,
    "reports.category_breakdown": READS,
    "reports.category_breakdown_for_ledgers": READS,
    "reports.budget_usage": READS,
    "reports.budget_usage_for_ledgers": READS,
    "reports.trends": READS,
    "reports.trends_for_ledgers": READS,
    "rates.list_page": READS,
    "rates.read_file": READS,  # a file read by domain/ratefiles: no database
    "rates.check_currency": READS,
    "rules.list_all": READS,
    "rules.get": READS,
    "tags.list_all": READS,
    "tags.list_for_ledgers": READS,
    "transactions.get": READS,
    "transactions.resolve_period": READS,
    "transactions.list_page": READS,
    "transactions.pages_for_ledgers": READS,
    "transactions.resolve_periods": READS,
    "webhooks.delivery.lanes_per_ledger": READS,
    "webhooks.delivery.Outcome": READS,
    "webhooks.delivery.lease": READS,
    "webhooks.delivery.backoff": READS,
    "webhooks.delivery.body_of": READS,
    "webhooks.delivery.attempt": READS,
    "webhooks.endpoints.check_url": READS,
    "webhooks.endpoints.list_all": READS,
    "webhooks.endpoints.get": READS,
    "webhooks.endpoints.list_deliveries": READS,
    "webhooks.endpoints.redeliver": NOT_LOGGED_TABLES,
    "webhooks.network.system_resolver": READS,
    "webhooks.network.Target": READS,
    "webhooks.network.embedded_ipv4": READS,
    "webhooks.network.is_public": READS,
    "webhooks.network.check_url": READS,
    "webhooks.outbox.record": NOT_LOGGED_TABLES,
    "webhooks.signing.new_secret": READS,
    "webhooks.signing.new_key": READS,
    "webhooks.signing.cipher": READS,
    "webhooks.signing.encrypt": READS,
    "webhooks.signing.decrypt": READS,
    "webhooks.signing.signature_header": READS,
}


def _public_names_of_services() -> set[str]:
    """Every public function and class defined in expense_api.services (exceptions aside: they
    only say what went wrong), as 'module.name' below the package."""
    names = set()
    package = expense_api.services
    for module_info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = __import__(module_info.name, fromlist=["_"])
        short = module.__name__.removeprefix(package.__name__ + ".")
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(value) and issubclass(value, BaseException):
                continue
            # Functions (cached ones too) and classes under their own name (not an alias such
            # as webhooks.network.resolver, a seam for tests).
            if callable(value) and getattr(value, "__name__", None) == name:
                names.add(f"{short}.{name}")
    return names


def test_every_public_function_of_the_services_is_in_the_catalog():
    found = _public_names_of_services()
    catalog = {name for name in WRITERS if not name.startswith("demo.")} | OTHERS.keys()
    assert sorted(found - catalog) == [], "classify these: a writer needs a scenario"
    assert sorted(catalog - found) == [], "gone from the services: drop them from the catalog"
    assert not WRITERS.keys() & OTHERS.keys()


def test_every_table_with_a_ledger_is_watched_or_named_as_not_logged(world):
    tables = {
        row["table_name"]
        for row in world.conn.execute(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name = 'ledger_id'"
        ).fetchall()
    }
    assert tables | {"ledgers"} == ENTITY_TABLES.keys() | NOT_LOGGED.keys()
    assert not ENTITY_TABLES.keys() & NOT_LOGGED.keys()


@pytest.mark.parametrize("scenario", dict.fromkeys(WRITERS.values()), ids=lambda s: s.__name__)
def test_a_change_commits_with_one_entry_per_changed_entity(world, scenario):
    scenario(world)


# --- No entry without a committed change ----------------------------------------------------


def _entries(conn, ledger_id: int) -> list[tuple]:
    """(seq, entity, entity_id, op) of the ledger's entries, in insert order."""
    return (
        conn.cursor(row_factory=tuple_row)
        .execute(
            "SELECT seq, entity, entity_id, op FROM ledger_changes WHERE ledger_id = %s ORDER BY id",
            (ledger_id,),
        )
        .fetchall()
    )


def test_a_rolled_back_change_leaves_no_entry(world, database_url):
    alice = world.user("Alice")
    ledger_id = world.shared(alice)
    logged = _entries(world.conn, ledger_id)
    with psycopg.connect(database_url) as own:
        actor = ledgers.actor_in(own, user_id=alice.id, ledger_id=ledger_id)
        categories.create(own, actor, name="Never")
        # In the transaction, the entry is there, not numbered yet.
        assert _entries(own, ledger_id)[-1][:2] == (None, "category")
        own.rollback()
    assert _entries(world.conn, ledger_id) == logged


def test_a_refused_budget_write_and_a_dry_run_leave_no_entry(world):
    alice = world.user("Alice")
    ledger_id = world.shared(alice)
    food = world.category(alice, ledger_id)
    body = {"amount": "20", "month": 3, "year": 2026, "mode": "hard"}
    world.rest(alice, "POST", f"/api/ledgers/{ledger_id}/budgets", json=body)
    logged = _entries(world.conn, ledger_id)
    path = f"/api/ledgers/{ledger_id}/transactions"
    over = {"amount": "25.00", "type": "EXPENSE", "categoryId": food, "date": "2026-03-15"}
    assert_problem(alice.post(path, json=over), 409, "budget_exceeded")
    within = {**over, "amount": "5.00"}
    assert alice.post(f"{path}?dryRun=true", json=within).status_code == 200
    assert _entries(world.conn, ledger_id) == logged


# --- The log cannot be changed --------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_changes SET actor_name = 'someone else' WHERE ledger_id = %(l)s",
        "UPDATE ledger_changes SET seq = seq + 100 WHERE ledger_id = %(l)s",
        "DELETE FROM ledger_changes WHERE ledger_id = %(l)s",
        "TRUNCATE ledger_changes",
    ],
)
def test_the_database_refuses_to_change_the_log(world, database_url, statement):
    alice = world.user("Alice")
    ledger_id = world.shared(alice)
    logged = _entries(world.conn, ledger_id)
    # A plain connection as the service's own (the embedded server's is a superuser's).
    with (
        psycopg.connect(database_url) as own,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        own.execute(statement, {"l": ledger_id})
    assert _entries(world.conn, ledger_id) == logged


def test_deleting_a_ledger_deletes_its_log(world):
    alice = world.user("Alice")
    ledger_id = world.shared(alice)
    world.category(alice, ledger_id)
    assert _entries(world.conn, ledger_id)
    world.rest(alice, "DELETE", f"/api/ledgers/{ledger_id}")
    assert _entries(world.conn, ledger_id) == []


def test_only_erasure_opens_the_log_and_only_to_replace_the_name(world, database_url):
    """Migration 0023's one exception: inside a transaction that names the user being erased
    (expense_api.erasing_user), their entries' actor name may become 'deleted user' and images
    may be rewritten; nothing else, not another name, not the order or identity of an entry,
    not without the setting; an entry cannot be inserted numbered (a seq at or below a
    reader's knowledge would never reach that reader)."""
    alice, bob = world.user("Alice"), world.user("Bob")
    ledger_id = world.shared(alice)
    rename = "UPDATE ledger_changes SET actor_name = %s WHERE ledger_id = %s AND actor_id = %s"
    with psycopg.connect(database_url) as own:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # no setting: no exception
            own.execute(rename, ("deleted user", ledger_id, alice.id))
        own.rollback()
        own.execute("SELECT set_config('expense_api.erasing_user', %s, true)", (str(bob.id),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # Bob erased, not Alice
            own.execute(rename, ("deleted user", ledger_id, alice.id))
        own.rollback()
        own.execute("SELECT set_config('expense_api.erasing_user', %s, true)", (str(alice.id),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # only 'deleted user'
            own.execute(rename, ("Mallory", ledger_id, alice.id))
        own.rollback()
        for change in ("seq = seq + 100", "entity_id = entity_id + 1", "actor_id = NULL"):
            own.execute("SELECT set_config('expense_api.erasing_user', %s, true)", (str(alice.id),))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                own.execute(
                    f"UPDATE ledger_changes SET {change} WHERE ledger_id = %s", (ledger_id,)
                )
            own.rollback()
        own.execute("SELECT set_config('expense_api.erasing_user', %s, true)", (str(alice.id),))
        assert own.execute(rename, ("deleted user", ledger_id, alice.id)).rowcount > 0
        own.rollback()  # the setting is local to its transaction: it ends with it
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            own.execute(rename, ("deleted user", ledger_id, alice.id))
        own.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            own.execute(
                "INSERT INTO ledger_changes (ledger_id, seq, via, entity, entity_id, op)"
                " VALUES (%s, 1, 'cli', 'ledger', %s, 'updated')",
                (ledger_id, ledger_id),
            )


# --- Seq: per ledger, without gaps, in commit order -----------------------------------------


def test_seqs_run_from_one_without_gaps_over_several_commits(world):
    alice = world.user("Alice")
    ledger_id = world.shared(alice)
    food = world.category(alice, ledger_id)
    for amount in ("1.00", "2.00", "3.00"):
        world.expense(alice, ledger_id, food, amount)
    world.rest(alice, "PATCH", f"/api/ledgers/{ledger_id}", json={"name": "Renamed"})
    seqs = [seq for seq, *_ in _entries(world.conn, ledger_id)]
    assert seqs == list(range(1, 8))  # ledger, member, category, 3 transactions, rename
    knowledge = world.conn.execute(
        "SELECT knowledge FROM ledger_generations WHERE ledger_id = %s", (ledger_id,)
    ).fetchone()["knowledge"]
    assert knowledge == 7


def test_seqs_follow_commit_order_not_insert_order(world, database_url):
    """The first to insert commits last: its entry is numbered after the other's."""
    alice = world.user("Alice")
    ledger_id = world.shared(alice)
    with psycopg.connect(database_url) as first, psycopg.connect(database_url) as second:
        early = ledgers.actor_in(first, user_id=alice.id, ledger_id=ledger_id)
        categories.create(first, early, name="Inserted first")  # held open
        late = ledgers.actor_in(second, user_id=alice.id, ledger_id=ledger_id)
        categories.create(second, late, name="Inserted second")
        second.commit()
        first.commit()
    rows = world.conn.execute(
        "SELECT id, seq, after->>'name' AS name FROM ledger_changes"
        " WHERE ledger_id = %s AND entity = 'category' ORDER BY seq",
        (ledger_id,),
    ).fetchall()
    assert [row["name"] for row in rows] == ["Inserted second", "Inserted first"]
    assert rows[0]["id"] > rows[1]["id"]  # inserted the other way round
    assert [row["seq"] for row in rows] == [3, 4]


def test_a_bulk_load_is_numbered_at_its_commit_like_any_change(world, database_url, conn):
    """The bulk path's entries are unnumbered until the load commits (a reader never sees a
    seq whose earlier ones could still come), and a writer committing meanwhile is numbered
    first: commit order, whoever inserted first."""
    alice = world.user("Alice")
    ledger_id = world.shared(alice)
    food = world.category(alice, ledger_id)
    with psycopg.connect(database_url) as load, psycopg.connect(database_url) as writer:
        load.execute(
            "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on)"
            " SELECT %s, %s, 'EXPENSE', 1, '2026-03-01' FROM generate_series(1, 3)",
            (ledger_id, food),
        )
        actor = ledgers.actor_in(load, user_id=alice.id, ledger_id=ledger_id)
        assert hook.record_created_in_bulk(load, actor, "transaction") == 3
        assert load.execute(
            "SELECT count(*) FROM ledger_changes WHERE ledger_id = %s AND seq IS NULL",
            (ledger_id,),
        ).fetchone() == (3,)
        other = ledgers.actor_in(writer, user_id=alice.id, ledger_id=ledger_id)
        categories.create(writer, other, name="Meanwhile")
        writer.commit()  # does not wait for the load
        load.commit()
    rows = world.conn.execute(
        "SELECT seq, entity FROM ledger_changes WHERE ledger_id = %s ORDER BY seq", (ledger_id,)
    ).fetchall()
    assert [row["seq"] for row in rows] == list(range(1, 8))
    assert [row["entity"] for row in rows][-4:] == ["category"] + ["transaction"] * 3


def _wait_until_waiting(observer, pid: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = observer.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,)).fetchone()
        if row[0]:
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited")


def test_two_writers_of_the_same_two_ledgers_in_opposite_order_do_not_deadlock(
    world, database_url, conn
):
    """Each COMMIT locks the clock rows of all the ledgers it logged in, in ledger id order,
    before numbering: whichever ledger a transaction wrote first. (Locking them ledger by
    ledger as the entries come, the second writer here would hold Y and wait for X while the
    first holds X and waits for Y: a deadlock, one of the two commits lost.)"""
    alice = world.user("Alice")
    x, y = sorted((world.shared(alice), world.shared(alice)))
    with (
        psycopg.connect(database_url) as first,
        psycopg.connect(database_url) as second,
        psycopg.connect(database_url) as holder,
    ):
        for conn_, order in ((first, (x, y)), (second, (y, x))):
            for ledger_id in order:
                actor = ledgers.actor_in(conn_, user_id=alice.id, ledger_id=ledger_id)
                categories.create(conn_, actor, name=f"{conn_.info.backend_pid}-{ledger_id}")
        # X's clock row held: both COMMITs queue on it. Ledger by ledger, the second would
        # take Y first and then wait for X, which the first gets next and then wants Y.
        holder.execute("SELECT 1 FROM ledger_generations WHERE ledger_id = %s FOR UPDATE", (x,))
        errors = []

        def commit(connection):
            try:
                connection.commit()
            except psycopg.Error as error:  # a deadlock fails the test
                errors.append(error)

        threads = [threading.Thread(target=commit, args=(c,)) for c in (first, second)]
        threads[0].start()
        wait_until_blocked_by(conn, holder.info.backend_pid)
        threads[1].start()
        _wait_until_waiting(conn, second.info.backend_pid)
        holder.rollback()
        for thread in threads:
            thread.join(15)
    assert errors == []
    for ledger_id in (x, y):
        seqs = [seq for seq, *_ in _entries(world.conn, ledger_id)]
        assert seqs == list(range(1, len(seqs) + 1))


def test_a_category_rename_logs_every_entity_that_shows_its_name(alice, conn):
    """A rename changes the REST shape of the category's transactions, budgets and rules (their
    `category`): each gets an `updated` entry, the old name before and the new one after, by
    the same actor, door and request; another category's transactions get none."""
    food = category(alice, "Food")
    expense = record(alice, food, "12.30")
    budget = save(alice, categoryId=food, amount="200").get_json()
    rule = recurring(alice, food, startDate="2026-03-01")
    record(alice, category(alice, "Rent"), "700.00")
    [(last,)] = conn.execute("SELECT max(id) FROM ledger_changes").fetchall()
    renamed = alice.patch(
        f"/api/categories/{food}", json={"name": "Groceries"}, headers={"X-Request-ID": "rn-1"}
    )
    assert renamed.status_code == 200
    rows = conn.execute(
        "SELECT entity, entity_id, op, actor_id, via, request_id, before, after"
        " FROM ledger_changes WHERE id > %s ORDER BY seq",
        (last,),
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("category", food, "updated"),
        ("transaction", expense["id"], "updated"),
        ("budget", budget["id"], "updated"),
        ("recurring", rule["id"], "updated"),
    ]
    assert {(r[3], r[4], r[5]) for r in rows} == {(alice.id, "rest", "rn-1")}
    for _entity, _id, _op, _actor, _via, _request, before, after in rows[1:]:
        assert before == {**after, "category": "Food"} and after["category"] == "Groceries"
    shown = alice.get(f"/api/transactions/{expense['id']}").get_json()
    assert rows[1][7] == shown
    # Renamed to the same name: nothing shows a new name, only the category's own entry.
    [(last,)] = conn.execute("SELECT max(id) FROM ledger_changes").fetchall()
    alice.patch(f"/api/categories/{food}", json={"name": "Groceries"})
    assert conn.execute("SELECT entity FROM ledger_changes WHERE id > %s", (last,)).fetchall() == [
        ("category",)
    ]
