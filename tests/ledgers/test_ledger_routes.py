"""/api/ledgers and their members as the contract says ("Ledgers: shared books, member roles"):
CRUD, validation, tokens, another user's ids, the role matrix, the last-owner rule (race-free),
ownership transfer, deleting a ledger with everything in it, the default ledger."""

from __future__ import annotations

import contextvars
import threading
import uuid
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from expense_api.domain.errors import Forbidden
from expense_api.repositories import ledgers as ledger_rows
from expense_api.services import budgets, categories, ledgers, transactions
from expense_api.services.ledgers import LastOwner
from tests import factories
from tests.factories import repository_ledger
from tests.helpers import assert_problem, wait_until_blocked_by

LEDGER_KEYS = {"id", "name", "currency", "timezone", "isDefault", "role", "createdAt"}
MEMBER_KEYS = {"userId", "name", "email", "role", "joinedAt"}


def _create(user, **body):
    body.setdefault("name", "Shared")
    return user.post("/api/ledgers", json=body)


def _ledger(user, name="Shared") -> int:
    response = _create(user, name=name)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _join(conn, ledger_id: int, user, role: str) -> None:
    """Adds a member (invitations come later: the repository does it here)."""
    ledger_rows.add_member(conn, ledger_id=ledger_id, user_id=user.id, role=role)


def _roles(conn, ledger_id: int) -> dict[int, str]:
    rows = conn.execute(
        "SELECT user_id, role FROM ledger_members WHERE ledger_id = %s", (ledger_id,)
    ).fetchall()
    return dict(rows)


# Ledgers ---------------------------------------------------------------------------------------


def test_create_get_list_rename_delete(alice):
    created = _create(alice, name="  Trip to Rome ")
    assert created.status_code == 201
    ledger = created.get_json()
    assert set(ledger) == LEDGER_KEYS
    assert ledger["name"] == "Trip to Rome"
    assert (ledger["currency"], ledger["timezone"]) == ("USD", "UTC")  # Alice's
    assert (ledger["isDefault"], ledger["role"]) == (False, "owner")
    assert ledger["createdAt"].endswith("Z")
    path = f"/api/ledgers/{ledger['id']}"

    assert alice.get(path).get_json() == ledger
    listed = alice.get("/api/ledgers").get_json()["items"]
    assert [item["id"] for item in listed] == [alice.ledger_id, ledger["id"]]  # default first
    assert listed[0]["isDefault"] is True and listed[0]["name"] == "Personal"
    assert listed[1] == ledger

    renamed = alice.patch(path, json={"name": "Rome"})
    assert renamed.status_code == 200
    assert renamed.get_json() == {**ledger, "name": "Rome"}
    assert alice.delete(path).status_code == 204
    assert_problem(alice.get(path), 404, "not_found")
    assert [item["id"] for item in alice.get("/api/ledgers").get_json()["items"]] == [
        alice.ledger_id
    ]


def test_currency_and_time_zone_default_to_the_callers_or_are_given(accounts):
    user = accounts.new_user(currency="JPY", timezone="Asia/Tokyo")
    defaulted = _create(user).get_json()
    assert (defaulted["currency"], defaulted["timezone"]) == ("JPY", "Asia/Tokyo")
    given = _create(user, currency="EUR", timezone="Europe/Berlin").get_json()
    assert (given["currency"], given["timezone"]) == ("EUR", "Europe/Berlin")
    assert user.get(f"/api/ledgers/{given['id']}").get_json()["currency"] == "EUR"


def test_create_is_idempotent(alice, conn):
    headers = {"Idempotency-Key": "ledger-1"}
    first = alice.post("/api/ledgers", json={"name": "Once"}, headers=headers)
    again = alice.post("/api/ledgers", json={"name": "Once"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    count = conn.execute(
        "SELECT count(*) FROM ledger_members WHERE user_id = %s", (alice.id,)
    ).fetchone()
    assert count == (2,)  # the default ledger and one more


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 5}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"name": "ok", "currency": "usd"}, "currency"),
        ({"name": "ok", "currency": "XXX"}, "currency"),
        ({"name": "ok", "currency": "EURO"}, "currency"),
        ({"name": "ok", "currency": 978}, "currency"),
        ({"name": "ok", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "ok", "timezone": ""}, "timezone"),
        ({"name": "ok", "owner": 1}, "owner"),
    ],
)
def test_create_validation(alice, body, field):
    problem = assert_problem(alice.post("/api/ledgers", json=body), 422, "validation_error")
    assert field in problem["errors"]


def test_a_time_zone_the_database_does_not_know_is_refused(alice, conn, zone_only_python_knows):
    """REST and GraphQL; and the user's own zone, the default, when it is such a zone (stored
    before the database was asked)."""
    before = alice.get("/api/ledgers").get_json()["items"]
    problem = assert_problem(
        _create(alice, timezone=zone_only_python_knows), 422, "validation_error"
    )
    assert list(problem["errors"]) == ["timezone"]
    answer = factories.graphql(
        alice,
        'mutation($z: String) { createLedger(input: {name: "Shared", timezone: $z}) { id } }',
        {"z": zone_only_python_knows},
    )
    assert factories.graphql_codes(answer) == ["validation_error"]
    assert answer["errors"][0]["extensions"]["errors"] == problem["errors"]
    conn.execute("UPDATE users SET timezone = %s WHERE id = %s", (zone_only_python_knows, alice.id))
    assert_problem(_create(alice), 422, "validation_error")
    assert alice.get("/api/ledgers").get_json()["items"] == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": " "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "currency": "EUR"}, "currency"),  # only the name changes
    ],
)
def test_rename_validation(alice, body, field):
    path = f"/api/ledgers/{_ledger(alice)}"
    problem = assert_problem(alice.patch(path, json=body), 422, "validation_error")
    assert field in problem["errors"]
    assert alice.get(path).get_json()["name"] == "Shared"


def test_unknown_query_parameters_are_refused(alice):
    problem = assert_problem(alice.get("/api/ledgers?all=true"), 422, "validation_error")
    assert "all" in problem["errors"]


def test_the_default_ledger_cannot_be_deleted(alice, bob, conn):
    assert_problem(alice.delete(f"/api/ledgers/{alice.ledger_id}"), 409, "ledger_is_default")
    # Nor someone else's default ledger that the caller owns too: their v1 paths act on it.
    _join(conn, bob.ledger_id, alice, "owner")
    assert_problem(alice.delete(f"/api/ledgers/{bob.ledger_id}"), 409, "ledger_is_default")
    assert bob.get(f"/api/ledgers/{bob.ledger_id}").status_code == 200


def _fill(conn, ledger_id: int, user_id: int) -> None:
    """A category, a soft budget with its alerts and a transaction, through the services."""
    actor = ledgers.actor_in(conn, user_id=user_id, ledger_id=ledger_id)
    food = categories.create(conn, actor, name="Food")["id"]
    budgets.save(
        conn,
        actor,
        {"category_id": food, "year": 2026, "month": 3, "amount": Decimal("5")}
        | {"mode": "soft", "alert_threshold": 80},
    )
    transactions.create(
        conn,
        actor,
        {"type": "EXPENSE", "amount": Decimal("10"), "description": "",
         "occurred_on": date(2026, 3, 10), "category_id": food},
    )  # fmt: skip


def test_deleting_a_ledger_removes_everything_in_it_and_nothing_else(alice, bob, conn):
    doomed = _ledger(alice, "Doomed")
    _join(conn, doomed, bob, "editor")
    _fill(conn, doomed, alice.id)
    _fill(conn, alice.ledger_id, alice.id)
    _fill(conn, bob.ledger_id, bob.id)
    tables = ("categories", "transactions", "budgets", "alerts", "monthly_totals", "daily_totals")

    def counts(ledger_id):
        return {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE ledger_id = %s", (ledger_id,)
            ).fetchone()[0]
            for table in (*tables, "ledger_members")
        }

    kept = {ledger: counts(ledger) for ledger in (alice.ledger_id, bob.ledger_id)}
    assert all(counts(doomed)[table] > 0 for table in tables)

    assert alice.delete(f"/api/ledgers/{doomed}").status_code == 204
    assert set(counts(doomed).values()) == {0}
    assert conn.execute("SELECT count(*) FROM ledgers WHERE id = %s", (doomed,)).fetchone() == (0,)
    assert {ledger: counts(ledger) for ledger in kept} == kept
    assert_problem(bob.get(f"/api/ledgers/{doomed}"), 404, "not_found")
    assert [item["id"] for item in bob.get("/api/ledgers").get_json()["items"]] == [bob.ledger_id]


# Tokens and other users' ids -------------------------------------------------------------------

ROUTES = [
    ("GET", "/api/ledgers", None),
    ("POST", "/api/ledgers", {"name": "x"}),
    ("GET", "/api/ledgers/{ledger}", None),
    ("PATCH", "/api/ledgers/{ledger}", {"name": "x"}),
    ("DELETE", "/api/ledgers/{ledger}", None),
    ("GET", "/api/ledgers/{ledger}/members", None),
    ("PATCH", "/api/ledgers/{ledger}/members/{user}", {"role": "viewer"}),
    ("DELETE", "/api/ledgers/{ledger}/members/{user}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_requires_a_token(client, method, path, body):
    path = path.format(ledger=1, user=1)
    assert_problem(client.open(path, method=method, json=body), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(client.open(path, method=method, json=body, headers=bad), 401)


@pytest.mark.parametrize(("method", "path", "body"), [r for r in ROUTES if "{ledger}" in r[1]])
def test_another_users_ledger_is_404_and_unchanged(alice, bob, method, path, body):
    shared = _ledger(alice, "Alice's")
    for ledger_id in (shared, alice.ledger_id, 999_999_999):
        response = bob.request(method, path.format(ledger=ledger_id, user=alice.id), json=body)
        assert_problem(response, 404, "not_found")
    assert alice.get(f"/api/ledgers/{shared}").get_json()["name"] == "Alice's"
    assert [
        m["userId"] for m in alice.get(f"/api/ledgers/{shared}/members").get_json()["items"]
    ] == [alice.id]


def test_a_member_not_in_the_ledger_is_404(alice, bob):
    shared = _ledger(alice)
    for user_id in (bob.id, 999_999_999):
        path = f"/api/ledgers/{shared}/members/{user_id}"
        assert_problem(alice.patch(path, json={"role": "viewer"}), 404, "not_found")
        assert_problem(alice.delete(path), 404, "not_found")


# Members ---------------------------------------------------------------------------------------


def test_members_list_and_role_change(alice, bob, conn):
    shared = _ledger(alice)
    _join(conn, shared, bob, "viewer")
    response = bob.get(f"/api/ledgers/{shared}/members")  # any member lists them
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [set(item) for item in items] == [MEMBER_KEYS, MEMBER_KEYS]
    assert [(m["userId"], m["name"], m["email"], m["role"]) for m in items] == [
        (alice.id, "Alice", alice.data["email"], "owner"),
        (bob.id, "Bob", bob.data["email"], "viewer"),
    ]
    assert items[0]["joinedAt"].endswith("Z")

    changed = alice.patch(f"/api/ledgers/{shared}/members/{bob.id}", json={"role": "editor"})
    assert changed.status_code == 200
    assert changed.get_json() == {**items[1], "role": "editor"}
    assert bob.get(f"/api/ledgers/{shared}").get_json()["role"] == "editor"
    same = alice.patch(f"/api/ledgers/{shared}/members/{bob.id}", json={"role": "editor"})
    assert same.get_json()["role"] == "editor"


@pytest.mark.parametrize("body", [{}, {"role": "admin"}, {"role": "Owner"}, {"role": None},
                                  {"role": "viewer", "name": "x"}])  # fmt: skip
def test_role_validation(alice, bob, conn, body):
    shared = _ledger(alice)
    _join(conn, shared, bob, "viewer")
    response = alice.patch(f"/api/ledgers/{shared}/members/{bob.id}", json=body)
    assert_problem(response, 422, "validation_error")
    assert _roles(conn, shared)[bob.id] == "viewer"


def test_making_another_member_owner_transfers_ownership(alice, bob, conn):
    shared = _ledger(alice)
    _join(conn, shared, bob, "editor")
    response = alice.patch(f"/api/ledgers/{shared}/members/{bob.id}", json={"role": "owner"})
    assert (response.status_code, response.get_json()["role"]) == (200, "owner")
    assert _roles(conn, shared) == {alice.id: "editor", bob.id: "owner"}
    assert alice.get(f"/api/ledgers/{shared}").get_json()["role"] == "editor"
    assert_problem(alice.patch(f"/api/ledgers/{shared}", json={"name": "Mine"}), 403, "forbidden")
    assert bob.patch(f"/api/ledgers/{shared}", json={"name": "Bob's"}).status_code == 200
    # The new owner may hand it back.
    back = bob.patch(f"/api/ledgers/{shared}/members/{alice.id}", json={"role": "owner"})
    assert back.status_code == 200
    assert _roles(conn, shared) == {alice.id: "owner", bob.id: "editor"}


def test_the_last_owner_can_neither_leave_nor_be_demoted(alice, bob, conn):
    shared = _ledger(alice)
    _join(conn, shared, bob, "editor")
    me = f"/api/ledgers/{shared}/members/{alice.id}"
    for role in ("editor", "viewer"):
        assert_problem(alice.patch(me, json={"role": role}), 409, "last_owner")
    assert_problem(alice.delete(me), 409, "last_owner")
    default = f"/api/ledgers/{alice.ledger_id}/members/{alice.id}"  # her default, alone
    assert_problem(alice.delete(default), 409, "last_owner")
    assert_problem(alice.patch(default, json={"role": "viewer"}), 409, "last_owner")
    assert alice.patch(me, json={"role": "owner"}).status_code == 200  # no change: allowed
    assert _roles(conn, shared) == {alice.id: "owner", bob.id: "editor"}
    assert _roles(conn, alice.ledger_id) == {alice.id: "owner"}


def test_one_of_two_owners_may_step_down_or_leave_but_not_the_other_after(alice, bob, conn):
    shared = _ledger(alice)
    _join(conn, shared, bob, "owner")
    assert (
        alice.patch(f"/api/ledgers/{shared}/members/{bob.id}", json={"role": "viewer"}).status_code
        == 200
    )
    assert_problem(
        alice.patch(f"/api/ledgers/{shared}/members/{alice.id}", json={"role": "viewer"}),
        409,
        "last_owner",
    )
    other = _ledger(alice, "Other")
    _join(conn, other, bob, "owner")
    assert alice.delete(f"/api/ledgers/{other}/members/{alice.id}").status_code == 204  # leaves
    assert_problem(bob.delete(f"/api/ledgers/{other}/members/{bob.id}"), 409, "last_owner")
    assert _roles(conn, other) == {bob.id: "owner"}


def test_a_removed_member_is_404_at_once(alice, bob, conn):
    shared = _ledger(alice)
    _join(conn, shared, bob, "editor")
    assert bob.get(f"/api/ledgers/{shared}").status_code == 200
    assert alice.delete(f"/api/ledgers/{shared}/members/{bob.id}").status_code == 204
    for path in (f"/api/ledgers/{shared}", f"/api/ledgers/{shared}/members"):
        assert_problem(bob.get(path), 404, "not_found")
    assert [item["id"] for item in bob.get("/api/ledgers").get_json()["items"]] == [bob.ledger_id]
    assert _roles(conn, shared) == {alice.id: "owner"}


def test_a_member_leaves(alice, bob, conn):
    shared = _ledger(alice)
    _join(conn, shared, bob, "viewer")
    assert bob.delete(f"/api/ledgers/{shared}/members/{bob.id}").status_code == 204
    assert_problem(bob.get(f"/api/ledgers/{shared}"), 404, "not_found")
    assert _roles(conn, shared) == {alice.id: "owner"}


def test_nobody_is_removed_from_their_own_default_ledger(alice, bob, conn):
    """Bob made Alice owner of his default ledger: she still cannot remove him from it, nor he
    leave it (his v1 paths act on it)."""
    _join(conn, bob.ledger_id, alice, "editor")
    bob.patch(f"/api/ledgers/{bob.ledger_id}/members/{alice.id}", json={"role": "owner"})
    assert _roles(conn, bob.ledger_id) == {alice.id: "owner", bob.id: "editor"}
    path = f"/api/ledgers/{bob.ledger_id}/members/{bob.id}"
    assert_problem(alice.delete(path), 409, "ledger_is_default")
    assert_problem(bob.delete(path), 409, "ledger_is_default")
    assert bob.get("/api/categories").status_code == 200


# The role matrix -------------------------------------------------------------------------------

# (method, path, body, {role: status}); {ledger} is the shared ledger, {other} another member
# (a viewer), {me} the caller. "none" is a user who is not a member.
MATRIX = [
    ("GET", "/api/ledgers/{ledger}", None, {"owner": 200, "editor": 200, "viewer": 200, "none": 404}),
    ("PATCH", "/api/ledgers/{ledger}", {"name": "New"}, {"owner": 200, "editor": 403, "viewer": 403, "none": 404}),
    ("DELETE", "/api/ledgers/{ledger}", None, {"owner": 204, "editor": 403, "viewer": 403, "none": 404}),
    ("GET", "/api/ledgers/{ledger}/members", None, {"owner": 200, "editor": 200, "viewer": 200, "none": 404}),
    ("PATCH", "/api/ledgers/{ledger}/members/{other}", {"role": "editor"}, {"owner": 200, "editor": 403, "viewer": 403, "none": 404}),
    ("PATCH", "/api/ledgers/{ledger}/members/{me}", {"role": "viewer"}, {"owner": 200, "editor": 403, "viewer": 403, "none": 404}),
    ("DELETE", "/api/ledgers/{ledger}/members/{other}", None, {"owner": 204, "editor": 403, "viewer": 403, "none": 404}),
    ("DELETE", "/api/ledgers/{ledger}/members/{me}", None, {"owner": 204, "editor": 204, "viewer": 204, "none": 404}),
]  # fmt: skip


@pytest.mark.parametrize("role", ["owner", "editor", "viewer", "none"])
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    MATRIX,
    ids=[f"{method} {path}" for method, path, _, _ in MATRIX],
)
def test_role_matrix(accounts, conn, role, method, path, body, expected):
    """The ledger's first owner stays (so a co-owner may step down or leave); the caller has
    `role` there, or none."""
    founder, caller, other = (accounts.new_user(name=n) for n in ("Founder", "Caller", "Other"))
    shared = _ledger(founder)
    _join(conn, shared, other, "viewer")
    if role != "none":
        _join(conn, shared, caller, role)
    before = _roles(conn, shared), founder.get(f"/api/ledgers/{shared}").get_json()
    response = caller.request(
        method, path.format(ledger=shared, other=other.id, me=caller.id), json=body
    )
    status = expected[role]
    if status >= 400:
        assert_problem(response, status, {403: "forbidden", 404: "not_found"}[status])
        assert (_roles(conn, shared), founder.get(f"/api/ledgers/{shared}").get_json()) == before
    else:
        assert response.status_code == status, response.get_json()
    # The list of one's ledgers is open to everyone and shows only theirs.
    listed = {item["id"] for item in caller.get("/api/ledgers").get_json()["items"]}
    gone = status < 400 and method == "DELETE" and "{other}" not in path  # deleted or left
    assert (shared in listed) == (role != "none" and not gone)


# Races -----------------------------------------------------------------------------------------


def _user(conn) -> int:
    return conn.execute(
        "INSERT INTO users (name, email, password_hash) VALUES ('Owner', %s, 'x') RETURNING id",
        (f"owner-{uuid.uuid4().hex[:12]}@example.com",),
    ).fetchone()[0]


def _two_owners(conn) -> tuple[int, ledgers.Actor, ledgers.Actor]:
    ledger_id, _ = repository_ledger(conn)
    first = factories.acting(conn, ledger_id)
    second_id = _user(conn)
    ledger_rows.add_member(conn, ledger_id=ledger_id, user_id=second_id, role="owner")
    second = ledgers.actor_in(conn, user_id=second_id, ledger_id=ledger_id)
    return ledger_id, first, second


def test_a_demotion_waits_for_the_other_and_sees_it(database_url, conn):
    """A demotes B and holds the ledger's lock; B's demotion of A waits for it, then finds B no
    longer an owner (403), and A stays owner."""
    ledger_id, a, b = _two_owners(conn)
    outcome = {}
    with psycopg.connect(database_url) as first, psycopg.connect(database_url) as second:
        ledgers.change_role(first, a, b.user_id, role="editor")  # uncommitted, lock held

        def b_demotes_a():
            try:
                with second.transaction():
                    ledgers.change_role(second, b, a.user_id, role="editor")
                outcome["b"] = "demoted"
            except (Forbidden, LastOwner) as error:
                outcome["b"] = error.code

        thread = threading.Thread(target=contextvars.copy_context().run, args=(b_demotes_a,))
        thread.start()
        wait_until_blocked_by(conn, first.info.backend_pid)
        first.commit()
        thread.join(15)
    assert outcome == {"b": "forbidden"}
    assert _roles(conn, ledger_id) == {a.user_id: "owner", b.user_id: "editor"}


@pytest.mark.parametrize("round_", range(5))
def test_two_owners_demoting_each_other_at_once_leave_an_owner(database_url, conn, round_):
    ledger_id, a, b = _two_owners(conn)
    barrier = threading.Barrier(2, timeout=60)
    results = {}

    def demote(actor, target):
        with psycopg.connect(database_url) as own:
            barrier.wait()
            try:
                with own.transaction():
                    ledgers.change_role(own, actor, target.user_id, role="viewer")
                results[actor.user_id] = "ok"
            except (Forbidden, LastOwner) as error:
                results[actor.user_id] = error.code

    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(demote, *pair))
        for pair in ((a, b), (b, a))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert sorted(results.values()) == ["forbidden", "ok"]
    roles = _roles(conn, ledger_id)
    assert sorted(roles.values()) == ["owner", "viewer"]


# --- How many ledgers one person may belong to (found by review: GraphQL's `ledgers` is priced
# as MAX_LEDGERS_PER_USER ledgers, and nothing bounded them) -------------------------------------


def _fill_up(user) -> None:
    """Ledgers until the user belongs to MAX_LEDGERS_PER_USER (the default one counts)."""
    for n in range(ledgers.MAX_LEDGERS_PER_USER - 1):
        assert user.post("/api/ledgers", json={"name": f"L{n}"}).status_code == 201


def test_one_person_belongs_to_at_most_max_ledgers(alice):
    _fill_up(alice)
    problem = assert_problem(
        alice.post("/api/ledgers", json={"name": "One too many"}), 409, "too_many_ledgers"
    )
    assert str(ledgers.MAX_LEDGERS_PER_USER) in problem["detail"]
    listed = alice.get("/api/ledgers").get_json()["items"]
    assert len(listed) == ledgers.MAX_LEDGERS_PER_USER
    mine = next(item for item in listed if item["name"] == "L0")
    assert alice.delete(f"/api/ledgers/{mine['id']}").status_code == 204
    assert alice.post("/api/ledgers", json={"name": "Room again"}).status_code == 201


def test_an_invitation_is_not_accepted_beyond_max_ledgers(alice, bob):
    _fill_up(bob)
    shared = alice.post("/api/ledgers", json={"name": "Shared"}).get_json()
    invited = alice.post(
        f"/api/ledgers/{shared['id']}/invitations",
        json={"email": bob.data["email"], "role": "viewer"},
    ).get_json()
    assert_problem(bob.post(f"/api/invitations/{invited['id']}/accept"), 409, "too_many_ledgers")
    assert bob.get(f"/api/ledgers/{shared['id']}").status_code == 404  # not joined
    assert bob.get("/api/invitations").get_json()["items"][0]["id"] == invited["id"]  # still open


def test_two_creations_at_the_limit_count_each_other(alice, database_url):
    """Two ledgers created at once by someone one short of the limit: exactly one is made (the
    count is taken under a lock on the user's row)."""
    for n in range(ledgers.MAX_LEDGERS_PER_USER - 2):
        assert alice.post("/api/ledgers", json={"name": f"L{n}"}).status_code == 201
    barrier, outcomes = threading.Barrier(2, timeout=60), []
    user = {"id": alice.id, "currency": "USD", "timezone": "UTC"}

    def create(name: str) -> None:
        with psycopg.connect(database_url) as own:
            barrier.wait()
            try:
                with own.transaction():
                    ledgers.create(own, user, name=name, currency=None, timezone=None)
                outcomes.append("created")
            except ledgers.TooManyLedgers:
                outcomes.append("refused")

    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(create, f"Race {n}"))
        for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["created", "refused"]
    assert len(alice.get("/api/ledgers").get_json()["items"]) == ledgers.MAX_LEDGERS_PER_USER
