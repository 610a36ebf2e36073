"""System roles as the contract says: /api/admin (users, stats), disabling accounts, the last
admin rule (also under a race), login of a disabled account, and the promote/demote commands."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from expense_api.cli import main
from expense_api.domain.errors import DomainError
from expense_api.services import admin
from tests.helpers import assert_problem, wait_until_blocked_by

ADMIN_USER_KEYS = {
    "id", "name", "email", "role", "currency", "timezone", "createdAt", "disabled", "lastLoginAt",
}  # fmt: skip


def _make_admin(conn, user) -> None:
    conn.execute("UPDATE users SET role = 'admin' WHERE id = %s", (user.id,))
    user.data["role"] = "admin"


def _only_admins(conn, *users) -> None:
    """Makes these the service's only active admins (other tests' admins become users: the
    tests run one after another and each owns its data)."""
    conn.execute("UPDATE users SET role = 'user' WHERE role = 'admin'")
    for user in users:
        _make_admin(conn, user)


def _active_admins(conn) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id"
    ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def root(accounts, conn):
    user = accounts.new_user(name="Root")
    _make_admin(conn, user)
    return user


ROUTES = [
    ("GET", "/api/admin/users", None),
    ("PATCH", "/api/admin/users/{id}", {"disabled": False}),
    ("GET", "/api/admin/stats", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_non_admins_get_403_and_no_token_401(client, alice, bob, method, path, body):
    path = path.format(id=bob.id)
    kwargs = {"json": body} if body is not None else {}
    assert_problem(alice.request(method, path, **kwargs), 403, "forbidden")
    assert_problem(client.open(path, method=method, **kwargs), 401, "authentication_required")


def test_a_non_admin_gets_403_even_with_an_invalid_body(alice, bob):
    assert_problem(alice.patch(f"/api/admin/users/{bob.id}", json={"role": "god"}), 403)
    # Query parameters are read first on every route (tests/http/test_routing.py): 422 for anyone.
    assert_problem(alice.get("/api/admin/users?limit=0"), 422)


def test_list_users_with_q_and_pagination(root, accounts):
    tag = uuid.uuid4().hex[:10]
    made = [accounts.register(name=f"Zed {tag} {n}") for n in range(3)]
    made.append(accounts.register(email=f"mail-{tag.upper()}@example.com"))
    page = root.get(f"/api/admin/users?q={tag.upper()}&limit=3").get_json()
    assert [item["id"] for item in page["items"]] == [user["id"] for user in made[:3]]
    assert set(page["items"][0]) == ADMIN_USER_KEYS
    assert page["items"][0]["disabled"] is False and page["items"][0]["role"] == "user"
    assert page["nextCursor"]
    rest = root.get(f"/api/admin/users?q={tag}&limit=3&cursor={page['nextCursor']}").get_json()
    assert [item["id"] for item in rest["items"]] == [made[3]["id"]]
    assert rest["nextCursor"] is None
    assert root.get("/api/admin/users?q=%25_no-such-user").get_json()["items"] == []
    everyone = root.get("/api/admin/users?limit=500").get_json()
    assert everyone["items"][0]["id"] < everyone["items"][-1]["id"]


def test_last_login_at_is_set_by_login(root, accounts):
    fresh = accounts.register(name=f"Never {uuid.uuid4().hex[:8]}")
    found = root.get(f"/api/admin/users?q={fresh['email']}").get_json()["items"]
    assert found[0]["lastLoginAt"] is None
    accounts.login(fresh["email"])
    found = root.get(f"/api/admin/users?q={fresh['email']}").get_json()["items"]
    assert found[0]["lastLoginAt"].endswith("Z")


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "cursor=nonsense", "q=", "unknown=1", "limit=x"]
)
def test_list_validation(root, query):
    assert_problem(root.get(f"/api/admin/users?{query}"), 422, "validation_error")


@pytest.mark.parametrize(
    "body",
    [{}, {"role": "owner"}, {"role": "ADMIN"}, {"disabled": "yes"}, {"disabled": 1},
     {"name": "x"}, {"role": "user", "extra": 1}, {"disabled": None}],
)  # fmt: skip
def test_patch_validation(root, bob, body):
    assert_problem(root.patch(f"/api/admin/users/{bob.id}", json=body), 422, "validation_error")


def test_patch_an_unknown_user_is_404(root):
    assert_problem(root.patch("/api/admin/users/999999999", json={"role": "user"}), 404)


def test_promote_and_demote_through_the_api(root, bob):
    promoted = root.patch(f"/api/admin/users/{bob.id}", json={"role": "admin"})
    assert promoted.status_code == 200, promoted.get_json()
    assert set(promoted.get_json()) == ADMIN_USER_KEYS
    assert promoted.get_json()["role"] == "admin"
    assert bob.get("/api/admin/stats").status_code == 200  # at once, with the same token
    demoted = root.patch(f"/api/admin/users/{bob.id}", json={"role": "user"}).get_json()
    assert demoted["role"] == "user"
    assert_problem(bob.get("/api/admin/stats"), 403, "forbidden")


def test_disabling_ends_every_session_and_login_is_403_until_enabled(root, accounts, conn):
    victim = accounts.new_user(name="Victim")
    second = accounts.login(victim.data["email"])  # another session, another device
    assert victim.get("/api/auth/me").status_code == 200
    answer = root.patch(f"/api/admin/users/{victim.id}", json={"disabled": True})
    assert answer.status_code == 200 and answer.get_json()["disabled"] is True
    assert_problem(victim.get("/api/auth/me"), 401, "token_revoked")
    other = {"Authorization": f"Bearer {second['accessToken']}"}
    assert_problem(victim.client.get("/api/auth/me", headers=other), 401, "token_revoked")
    refresh = {"Authorization": f"Bearer {second['refreshToken']}"}
    assert_problem(victim.client.post("/api/auth/refresh", headers=refresh), 401, "token_revoked")
    live = conn.execute(
        "SELECT count(*) FROM auth_sessions WHERE user_id = %s AND revoked_at IS NULL",
        (victim.id,),
    ).fetchone()[0]
    assert live == 0
    login = {"email": victim.data["email"], "password": accounts.password}
    assert_problem(victim.client.post("/api/auth/login", json=login), 403, "account_disabled")
    wrong = {**login, "password": "not the password at all"}
    assert_problem(victim.client.post("/api/auth/login", json=wrong), 401, "invalid_credentials")
    enabled = root.patch(f"/api/admin/users/{victim.id}", json={"disabled": False}).get_json()
    assert enabled["disabled"] is False
    assert_problem(victim.get("/api/auth/me"), 401, "token_revoked")  # old sessions stay ended
    tokens = accounts.login(victim.data["email"])
    me = victim.client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {tokens['accessToken']}"}
    )
    assert me.status_code == 200


def test_the_session_check_refuses_a_disabled_user_whatever_their_sessions(alice, conn):
    conn.execute("UPDATE users SET disabled_at = now() WHERE id = %s", (alice.id,))
    assert_problem(alice.get("/api/auth/me"), 401, "token_revoked")
    conn.execute("UPDATE users SET disabled_at = NULL WHERE id = %s", (alice.id,))
    assert alice.get("/api/auth/me").status_code == 200  # not revoked: only refused meanwhile


def test_the_last_admin_can_be_neither_demoted_nor_disabled(root, bob, conn):
    _only_admins(conn, root)
    for body in ({"role": "user"}, {"disabled": True}, {"role": "user", "disabled": True}):
        assert_problem(root.patch(f"/api/admin/users/{root.id}", json=body), 409, "last_admin")
    assert _active_admins(conn) == [root.id]
    _make_admin(conn, bob)
    assert root.patch(f"/api/admin/users/{root.id}", json={"disabled": True}).status_code == 200
    assert_problem(bob.patch(f"/api/admin/users/{bob.id}", json={"role": "user"}), 409)
    assert bob.patch(f"/api/admin/users/{root.id}", json={"role": "user"}).status_code == 200
    assert _active_admins(conn) == [bob.id]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(accounts, conn, database_url):
    first, second = accounts.new_user(name="First"), accounts.new_user(name="Second")
    _only_admins(conn, first, second)
    actors = {user.id: {"id": user.id, "role": "admin"} for user in (first, second)}
    outcome = {}
    with psycopg.connect(database_url) as one, psycopg.connect(database_url) as two:
        one.execute("SELECT 1")  # the transaction is open: its pid holds the locks below
        admin.update_user(one, actors[first.id], second.id, role="user")

        def other():
            try:
                outcome["second"] = admin.update_user(two, actors[second.id], first.id, role="user")
                two.commit()
            except DomainError as error:
                outcome["second"] = error
                two.rollback()

        thread = threading.Thread(target=other)
        thread.start()
        wait_until_blocked_by(conn, one.info.backend_pid)
        one.commit()
        thread.join(timeout=15)
    assert not thread.is_alive()
    assert isinstance(outcome["second"], DomainError), outcome
    assert outcome["second"].code in ("forbidden", "last_admin")
    assert _active_admins(conn) == [first.id]


def test_racing_http_demotions_leave_one_admin(app, accounts, conn):
    """The same through the API with real parallel requests (each its own pooled connection)."""
    first, second = accounts.new_user(name="First"), accounts.new_user(name="Second")
    _only_admins(conn, first, second)
    statuses, barrier = [], threading.Barrier(2, timeout=60)

    def demote(actor, target):
        barrier.wait()
        response = app.test_client().patch(
            f"/api/admin/users/{target.id}", json={"role": "user"}, headers=actor.headers
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=demote, args=pair) for pair in ((first, second), (second, first))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses)[0] == 200 and sorted(statuses)[1] in (403, 409), statuses
    assert len(_active_admins(conn)) == 1


def _counts(conn) -> dict:
    return {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("users", "ledgers", "transactions")
    }


def test_stats_count_what_the_service_holds(root, accounts, conn):
    stats = root.get("/api/admin/stats").get_json()
    assert set(stats) == {"users", "ledgers", "transactions", "databaseBytes"}
    assert {key: stats[key] for key in ("users", "ledgers", "transactions")} == _counts(conn)
    assert stats["databaseBytes"] > 1_000_000
    newcomer = accounts.new_user(name="Newcomer")
    food = newcomer.post("/api/categories", json={"name": "Food"}).get_json()["id"]
    newcomer.post(
        "/api/transactions",
        json={"amount": "3.00", "type": "EXPENSE", "categoryId": food, "date": "2026-01-02"},
    )
    after = root.get("/api/admin/stats").get_json()
    assert after["users"] == stats["users"] + 1
    assert after["ledgers"] == stats["ledgers"] + 1
    assert after["transactions"] == stats["transactions"] + 1


def test_an_admin_who_is_not_a_member_sees_no_ledger(root, alice):
    food = alice.post("/api/categories", json={"name": "Food"}).get_json()["id"]
    prefix = f"/api/ledgers/{alice.ledger_id}"
    for path in ("", "/members", "/categories", f"/categories/{food}", "/transactions"):
        assert_problem(root.get(prefix + path), 404, "not_found")
    assert alice.ledger_id not in [
        item["id"] for item in root.get("/api/ledgers").get_json()["items"]
    ]


# --- The command line -------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("APP_ENV", "test")


def test_cli_promote_and_demote(cli_env, accounts, conn, capsys):
    first, second = accounts.register(), accounts.register()
    _only_admins(conn)
    assert main(["users", "promote", first["email"].upper()]) == 0
    assert "is now an admin" in capsys.readouterr().out
    assert _active_admins(conn) == [first["id"]]
    assert main(["users", "demote", first["email"]]) == 1
    assert "last active admin" in capsys.readouterr().err
    assert main(["users", "promote", second["email"]]) == 0
    assert main(["users", "demote", first["email"]]) == 0
    assert "is now a user" in capsys.readouterr().out
    assert _active_admins(conn) == [second["id"]]


def test_cli_unknown_email(cli_env, capsys):
    assert main(["users", "promote", "nobody-at-all@example.com"]) == 1
    assert "No account with the email nobody-at-all@example.com" in capsys.readouterr().err
    assert main(["users", "demote", "nobody-at-all@example.com"]) == 1


def test_a_ledger_whose_only_owner_is_disabled(root, accounts, conn):
    """Its other members keep their access; nobody changes its members until the owner is back."""
    owner, editor = accounts.new_user(name="Owner"), accounts.new_user(name="Editor")
    ledger = owner.post("/api/ledgers", json={"name": "Shared"}).get_json()["id"]
    conn.execute(
        "INSERT INTO ledger_members (ledger_id, user_id, role) VALUES (%s, %s, 'editor')",
        (ledger, editor.id),
    )
    assert root.patch(f"/api/admin/users/{owner.id}", json={"disabled": True}).status_code == 200
    prefix = f"/api/ledgers/{ledger}"
    category = editor.post(prefix + "/categories", json={"name": "Still open"})
    assert category.status_code == 201
    assert_problem(editor.patch(f"{prefix}/members/{editor.id}", json={"role": "owner"}), 403)
    assert_problem(root.patch(f"{prefix}/members/{editor.id}", json={"role": "owner"}), 404)
    assert root.patch(f"/api/admin/users/{owner.id}", json={"disabled": False}).status_code == 200
    tokens = accounts.login(owner.data["email"])
    back = owner.client.patch(
        f"{prefix}/members/{editor.id}", json={"role": "owner"},
        headers={"Authorization": f"Bearer {tokens['accessToken']}"},
    )  # fmt: skip
    assert back.status_code == 200, back.get_json()


def test_an_admins_personal_access_token_reads_but_never_changes_an_account(root, bob, conn):
    """A stolen admin script token must not make its thief (bob) an admin for good."""
    created = root.post("/api/auth/tokens", json={"name": "report", "scope": "write"})
    headers = {"Authorization": f"Bearer {created.get_json()['token']}"}
    assert root.client.get("/api/admin/users", headers=headers).status_code == 200
    for body in ({"role": "admin"}, {"disabled": True}):
        answer = root.client.patch(f"/api/admin/users/{bob.id}", json=body, headers=headers)
        assert_problem(answer, 403, "session_required")
    role, disabled = conn.execute(
        "SELECT role, disabled_at FROM users WHERE id = %s", (bob.id,)
    ).fetchone()
    assert (role, disabled) == ("user", None)
