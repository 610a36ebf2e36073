"""GET /api/ledgers/<id>/changes: the audit trail (shared/API.md, "The change log"): newest
first, a page at a time, its filters and their refusals, what each role sees, and the plans
that keep it on the log's indexes."""

from __future__ import annotations

import psycopg
import pytest

from expense_api.db.sqlfiles import queries
from expense_api.services.changes import hook, log
from tests.factories import acting, category, graphql, ledger, member, record
from tests.helpers import assert_problem


def _path(ledger_id: int, **query) -> str:
    text = "&".join(f"{name}={value}" for name, value in query.items())
    return f"/api/ledgers/{ledger_id}/changes" + (f"?{text}" if text else "")


def _changes(user, ledger_id: int | None = None, **query) -> list[dict]:
    """Every entry the user sees (all pages of 500), newest first."""
    response = user.get(_path(ledger_id or user.ledger_id, limit=500, **query))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["nextCursor"] is None
    return body["items"]


def _all_pages(user, ledger_id: int, limit: int, **query) -> list[dict]:
    items, cursor = [], None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        response = user.get(_path(ledger_id, limit=limit, **query, **extra))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["nextCursor"]
        if cursor is None:
            return items


def _insert(conn, ledger_id: int, at: str, entity_id: int) -> None:
    """An entry at a given instant, written straight to the log (the hook stamps now())."""
    conn.execute(
        "INSERT INTO ledger_changes (ledger_id, at, via, entity, entity_id, op, after)"
        " VALUES (%s, %s, 'cli', 'category', %s, 'created', '{}')",
        (ledger_id, at, entity_id),
    )


# --- What the log shows ---------------------------------------------------------------------


def test_writes_through_rest_are_listed_newest_first_with_their_images(alice):
    food = alice.post("/api/categories", json={"name": "Food"})
    created = record(alice, food.get_json()["id"], amount="12.50", description="lunch")
    changed = alice.patch(f"/api/transactions/{created['id']}", json={"amount": "13"})
    assert changed.status_code == 200
    deleted = alice.delete(f"/api/transactions/{created['id']}")
    assert deleted.status_code == 204

    items = _changes(alice)
    seqs = [item["seq"] for item in items]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    image = {key: value for key, value in created.items() if key != "alerts"}
    after_change = {key: value for key, value in changed.get_json().items() if key != "alerts"}
    assert [(i["entity"], i["op"], i["before"], i["after"]) for i in items[:4]] == [
        ("transaction", "deleted", after_change, None),
        ("transaction", "updated", image, after_change),
        ("transaction", "created", None, image),
        ("category", "created", None, food.get_json()),
    ]
    newest = items[0]
    assert newest["entityId"] == created["id"]
    assert newest["actor"] == {"id": alice.id, "name": "Alice"}
    assert newest["via"] == "rest"
    assert newest["requestId"] == deleted.headers["X-Request-ID"]
    assert newest["at"].endswith("Z")
    assert set(newest) == {
        "seq", "at", "actor", "via", "requestId", "entity", "entityId", "op", "before", "after",
    }  # fmt: skip


def test_an_entry_is_listed_only_once_its_transaction_committed(alice, database_url):
    with psycopg.connect(database_url) as conn:
        owner = acting(conn, alice.ledger_id)
        image = {"id": 424242, "name": "Pending", "createdAt": "2026-03-01T00:00:00.000Z"}
        hook.record(conn, owner, "category", "created", after=image)
        # The writer's own transaction holds it unnumbered: not yet part of the log.
        assert 424242 not in [row["entity_id"] for row in log.page(conn, owner, limit=500)]
        conn.commit()
    assert [item["entityId"] for item in _changes(alice, entity="category")] == [424242]


def test_a_change_by_the_service_itself_has_no_actor(alice, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        image = {"id": 515151, "name": "Auto", "createdAt": "2026-03-01T00:00:00.000Z"}
        hook.record_by_service(conn, alice.ledger_id, "category", "created", after=image)
    [entry] = _changes(alice, entityId=515151)
    assert entry["actor"] is None and entry["via"] == "cli" and entry["requestId"] is None


# --- Filters ----------------------------------------------------------------------------------


def test_the_entity_and_entity_id_filters(alice):
    food, rent = category(alice, "Food"), category(alice, "Rent")
    first = record(alice, food)
    second = record(alice, rent)
    alice.patch(f"/api/transactions/{first['id']}", json={"description": "changed"})

    assert {item["entity"] for item in _changes(alice, entity="category")} == {"category"}
    assert [item["entityId"] for item in _changes(alice, entity="category")] == [rent, food]
    history = _changes(alice, entity="transaction", entityId=first["id"])
    assert [item["op"] for item in history] == ["updated", "created"]
    assert {item["entityId"] for item in history} == {first["id"]}
    assert [item["entityId"] for item in _changes(alice, entity="transaction")] == [
        first["id"], second["id"], first["id"],
    ]  # fmt: skip
    # An id alone matches it in every kind of entity.
    alone = _changes(alice, entityId=food)
    assert {item["entityId"] for item in alone} == {food}
    assert ("category", "created") in {(item["entity"], item["op"]) for item in alone}
    assert _changes(alice, entity="budget") == []


def test_the_actor_filter(alice, bob, conn):
    shared = ledger(conn, alice)
    member(conn, shared, bob, "editor")
    prefix = f"/api/ledgers/{shared}"
    mine = alice.post(f"{prefix}/categories", json={"name": "Alice's"}).get_json()["id"]
    his = bob.post(f"{prefix}/categories", json={"name": "Bob's"}).get_json()["id"]
    by_bob = _changes(alice, shared, actorId=bob.id)
    assert [(item["entityId"], item["actor"]) for item in by_bob] == [
        (his, {"id": bob.id, "name": "Bob"})
    ]
    assert [item["entityId"] for item in _changes(bob, shared, actorId=alice.id)] == [mine]
    assert _changes(alice, shared, actorId=999999999) == []


def test_from_and_to_are_days_of_the_ledgers_time_zone(alice, conn):
    """New York's clocks: EST (UTC-5) until 2026-03-08 02:00, then EDT (UTC-4); so 2026-03-08
    is 23 hours long there."""
    ny = ledger(conn, alice, timezone="America/New_York")
    for entity_id, at in [
        (1, "2026-03-07 04:59:00+00"),  # 2026-03-06 23:59 EST
        (2, "2026-03-07 05:00:00+00"),  # 2026-03-07 00:00 EST
        (3, "2026-03-08 04:59:59+00"),  # 2026-03-07 23:59:59 EST
        (4, "2026-03-08 05:00:00+00"),  # 2026-03-08 00:00 EST
        (5, "2026-03-09 03:59:59+00"),  # 2026-03-08 23:59:59 EDT
        (6, "2026-03-09 04:00:00+00"),  # 2026-03-09 00:00 EDT
    ]:
        _insert(conn, ny, at, entity_id)

    def ids(**query):
        return sorted(item["entityId"] for item in _changes(alice, ny, entity="category", **query))

    assert ids(**{"from": "2026-03-07", "to": "2026-03-07"}) == [2, 3]
    assert ids(**{"from": "2026-03-08", "to": "2026-03-08"}) == [4, 5]
    assert ids(**{"from": "2026-03-07", "to": "2026-03-08"}) == [2, 3, 4, 5]
    assert ids(**{"from": "2026-03-08"}) == [4, 5, 6]
    assert ids(to="2026-03-07") == [1, 2, 3]
    # A date-time is its own offset's date, as every date filter of the service takes it.
    assert ids(**{"from": "2026-03-08T23:30:00%2B05:30", "to": "2026-03-08"}) == [4, 5]
    # The same instants in a UTC ledger fall on other days.
    utc = ledger(conn, alice, timezone="UTC")
    _insert(conn, utc, "2026-03-08 04:59:59+00", 3)
    assert (
        _changes(alice, utc, entity="category", **{"from": "2026-03-07", "to": "2026-03-07"}) == []
    )


# --- Pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 3, 4])
def test_pages_follow_each_other_without_gaps_or_repeats(alice, limit):
    food = category(alice, "Food")
    for day in range(1, 8):
        record(alice, food, date=f"2026-03-{day:02d}")
    everything = _changes(alice)
    assert len(everything) >= 8
    assert _all_pages(alice, alice.ledger_id, limit) == everything
    # With a filter, the pages are the filter's.
    transactions = _all_pages(alice, alice.ledger_id, limit, entity="transaction")
    assert transactions == [item for item in everything if item["entity"] == "transaction"]


def test_a_page_of_exactly_the_limit_says_there_is_no_next(alice):
    category(alice, "Only")
    body = alice.get(_path(alice.ledger_id, entity="category", limit=1)).get_json()
    assert len(body["items"]) == 1 and body["nextCursor"] is None


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("entity=bogus", "entity"),
        ("entity=alert", "entity"),  # alerts are not entities of the log
        ("entity=", "entity"),
        ("entityId=0", "entityId"),
        ("entityId=abc", "entityId"),
        ("entityId=9223372036854775808", "entityId"),
        ("actorId=-1", "actorId"),
        ("actorId=x", "actorId"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=1899-12-31", "from"),
        ("from=2026-03-02&to=2026-03-01", "from"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("entity=category&entity=budget", "entity"),
        ("seq=1", "seq"),
    ],
)
def test_each_invalid_filter_is_422_naming_it(alice, query, field):
    response = alice.get(f"/api/ledgers/{alice.ledger_id}/changes?{query}")
    problem = assert_problem(response, 422, "validation_error")
    assert list(problem["errors"]) == [field], problem


def test_without_a_valid_token_it_is_401(client, alice):
    path = _path(alice.ledger_id)
    assert_problem(client.get(path), 401)
    assert_problem(client.get(path, headers={"Authorization": "Bearer not.a.token"}), 401)


def test_another_users_ledger_is_404(alice, bob):
    category(alice, "Secret")
    assert_problem(bob.get(_path(alice.ledger_id)), 404, "not_found")
    assert_problem(bob.get(_path(999999999)), 404, "not_found")


def test_there_is_no_default_ledger_alias(alice):
    assert_problem(alice.get("/api/changes"), 404)


# --- Roles --------------------------------------------------------------------------------------


def test_webhook_and_invitation_entries_are_for_owners_only(alice, bob, accounts, conn):
    carol = accounts.new_user(name="Carol")
    shared = ledger(conn, alice)
    member(conn, shared, bob, "editor")
    member(conn, shared, carol, "viewer")
    bob.post(f"/api/ledgers/{shared}/categories", json={"name": "Food"})
    owner = acting(conn, shared)
    webhook = {"id": 31, "ledgerId": shared, "url": "https://example.com/hook",
               "events": ["transaction.created"], "description": "", "enabled": True,
               "disabledAt": None, "disabledReason": None, "createdAt": "2026-03-01T00:00:00.000Z"}  # fmt: skip
    invitation = {"id": 41, "ledgerId": shared, "email": "dave@example.com", "role": "viewer",
                  "status": "pending", "createdAt": "2026-03-01T00:00:00.000Z",
                  "expiresAt": "2026-03-08T00:00:00.000Z"}  # fmt: skip
    # Recorded through the write hook, as the webhook and invitation services record them.
    hook.record(conn, owner, "webhook", "created", after=webhook)
    hook.record(conn, owner, "invitation", "created", after=invitation)

    seen_by_owner = {item["entity"] for item in _changes(alice, shared)}
    assert {"webhook", "invitation", "category"} <= seen_by_owner
    for reader in (bob, carol):
        seen = _changes(reader, shared)
        assert {item["entity"] for item in seen} == seen_by_owner - {"webhook", "invitation"}
        assert "dave@example.com" not in str(seen) and "example.com/hook" not in str(seen)
        assert _changes(reader, shared, entity="webhook") == []
        assert _changes(reader, shared, entityId=41) == []
        # Left out in the query: a page of one is the newest entry the reader may see.
        first = reader.get(_path(shared, limit=1)).get_json()
        assert first["items"][0]["entity"] == "category"
        # GraphQL's door reads the same service: the same entries.
        query = "{ ledger(id: %d) { changes(first: 500) { nodes { seq } } } }" % shared
        nodes = graphql(reader, query)["data"]["ledger"]["changes"]["nodes"]
        assert [node["seq"] for node in nodes] == [item["seq"] for item in seen]
    assert [item["entity"] for item in _changes(alice, shared, entity="webhook")] == ["webhook"]


def test_hidden_entities_follow_the_manage_action():
    assert log.hidden_from(_actor("owner")) == ()
    assert set(log.hidden_from(_actor("editor"))) == {"webhook", "invitation"}
    assert set(log.hidden_from(_actor("viewer"))) == {"webhook", "invitation"}


def _actor(role: str):
    from expense_api.services.ledgers import Actor

    return Actor(1, 1, role, "USD", "UTC")


# --- Plans --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_ledger(database_url) -> int:
    """A ledger with a history worth choosing an index for: 6,000 committed entries over 300
    entities, analyzed (on a nearly empty table either index costs the same, and the plan is a
    coin toss)."""
    with psycopg.connect(database_url) as own:
        [ledger_id] = own.execute(
            "INSERT INTO ledgers (name, currency, timezone) VALUES ('Busy', 'EUR', 'UTC')"
            " RETURNING id"
        ).fetchone()
        own.execute(
            "INSERT INTO ledger_changes (ledger_id, via, entity, entity_id, op)"
            " SELECT %s, 'cli', (ARRAY['transaction', 'category', 'budget'])[n %% 3 + 1],"
            "        n %% 100, 'updated'"
            " FROM generate_series(1, 6000) AS n",
            (ledger_id,),
        )
        own.commit()
        own.execute("ANALYZE ledger_changes")
        own.commit()
    return ledger_id


def _plan(conn, ledger_id: int, **params) -> str:
    """The list query's plan in a busy ledger, with what the indexes could replace forbidden
    (the rest of the table is small, where a sequential scan and a sort stay cheap)."""
    sql = queries.changes.page.sql
    full = {"ledger_id": ledger_id, "timezone": "UTC", "hidden": [], "limit": 51, "before_seq": None,
            "entity": None, "entity_id": None, "actor_id": None, "from_day": None, "to_day": None,
            **params}  # fmt: skip
    with conn.transaction(force_rollback=True):
        for method in ("seqscan", "bitmapscan", "sort"):
            conn.execute(f"SET LOCAL enable_{method} = off")
        return "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql, full))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"before_seq": 100},
        {"hidden": ["webhook", "invitation"], "entity": "transaction"},
        {"actor_id": 7, "from_day": "2026-03-01", "to_day": "2026-03-31", "timezone": "Asia/Tokyo"},
    ],
)
def test_the_list_walks_the_seq_index_backwards(conn, busy_ledger, params):
    plan = _plan(conn, busy_ledger, **params)
    assert "Index Scan Backward using ledger_changes_seq_idx" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("before_seq", [None, 100])
def test_one_entitys_history_walks_the_entity_index(conn, busy_ledger, before_seq):
    plan = _plan(conn, busy_ledger, entity="transaction", entity_id=5, before_seq=before_seq)
    assert "Index Scan Backward using ledger_changes_entity_idx" in plan, plan
    assert "Sort" not in plan, plan
