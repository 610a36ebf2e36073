"""Erasing an account (DELETE /api/me) and exporting its data (GET /api/me/export):
services/account_data.py, docs/SECURITY.md "Export and erasure".

The erasure test builds a rich account (its own ledger with everything in it; a shared ledger
owned by someone else where it wrote transactions, a recurring rule and an import, watched by a
webhook; a ledger it made and handed over, with an invitation it sent; invitations to it;
tokens, sessions, events, failed logins, counters), erases it, then walks PostgreSQL's catalog
over EVERY table and column there is (not a list kept here, so a table added later is covered
by itself): no value holds its email or name, no column naming a user holds its id.

Pseudonymous ids are kept where the change log keeps them, and only there: an entry's
`actor_id` (migration 0023's trigger keeps who, when and what of every entry), a member
entry's `userId`, a transaction image's `createdBy.id`. The account gone, the id names nobody
the service knows (ids are never reused), and the audit trail can still tell that two entries
were by one person. `test_the_change_log_keeps_the_id_and_says_deleted_user` holds exactly that.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime

import pyotp
import pytest
from psycopg import sql

from expense_api.services.auth import two_factor
from tests.helpers import Accounts, assert_problem, enable_two_factor

HOOK = {"url": "http://127.0.0.1:9/hook", "events": ["transaction.created"]}
# A column whose name says it holds a user's id.
USER_ID_COLUMN = r"(^|_)(user_id|invitee_id|invited_by|acts_as|created_by)$"


def _unique_person() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:10]
    return f"Quillon Varga-{tag}", f"quillon-{tag}@erasure.example"


def _post(user, path: str, body: dict, status: int = 201) -> dict:
    response = user.post(path, json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json() if response.status_code != 204 else {}


def _statement() -> dict:
    today = datetime.now(UTC).date().isoformat()
    data = f"Date,Amount,Payee\n{today},-4.20,Corner shop\n".encode()
    return {
        "data": {"file": (io.BytesIO(data), "statement.csv")},
        "content_type": "multipart/form-data",
    }


def _upload(user, ledger_id: int) -> dict:
    response = user.post(f"/api/ledgers/{ledger_id}/imports", **_statement())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _rich_world(accounts: Accounts, conn) -> dict:
    """The account to erase ("quill") and the people around it."""
    name, email = _unique_person()
    quill = accounts.new_user(name=name, email=email)
    olga, pat = accounts.new_user(name="Olga"), accounts.new_user(name="Pat")

    # Its own ledger, with a bit of everything.
    food = _post(quill, "/api/categories", {"name": "Food"})["id"]
    _post(quill, "/api/transactions",
          {"amount": "12.50", "type": "EXPENSE", "categoryId": food, "date": "2026-03-02",
           "description": "lunch"})  # fmt: skip
    _post(quill, "/api/budgets", {"categoryId": food, "amount": "100", "month": 3, "year": 2026})
    _post(quill, "/api/recurring",
          {"amount": "5", "type": "EXPENSE", "categoryId": food, "frequency": "monthly",
           "startDate": "2099-01-01"})  # fmt: skip
    _post(quill, "/api/webhooks", HOOK)
    _post(quill, f"/api/ledgers/{quill.ledger_id}/rules",
          {"match": {"payee": {"contains": "shop"}}, "set": {"categoryId": food}})  # fmt: skip
    _upload(quill, quill.ledger_id)
    _post(quill, f"/api/ledgers/{quill.ledger_id}/invitations",
          {"email": f"friend-{uuid.uuid4().hex[:8]}@example.com", "role": "viewer"})  # fmt: skip

    # Olga's shared ledger: quill joins by invitation and writes there; a webhook watches it.
    shared = _post(olga, "/api/ledgers", {"name": "Household"})["id"]
    _post(olga, f"/api/ledgers/{shared}/webhooks", HOOK)
    invited = _post(olga, f"/api/ledgers/{shared}/invitations", {"email": email, "role": "editor"})
    _post(quill, f"/api/invitations/{invited['id']}/accept", {}, status=200)
    rent = _post(olga, f"/api/ledgers/{shared}/categories", {"name": "Rent"})["id"]
    written = [
        _post(quill, f"/api/ledgers/{shared}/transactions",
              {"amount": amount, "type": "EXPENSE", "categoryId": rent, "date": "2026-03-05"})
        for amount in ("40.00", "2.00")
    ]  # fmt: skip
    updated = olga.patch(
        f"/api/ledgers/{shared}/transactions/{written[1]['id']}", json={"amount": "3.00"}
    )
    assert updated.status_code == 200, updated.get_json()
    deleted = _post(quill, f"/api/ledgers/{shared}/transactions",
                    {"amount": "1.00", "type": "EXPENSE", "categoryId": rent, "date": "2026-03-06"})  # fmt: skip
    assert quill.delete(f"/api/ledgers/{shared}/transactions/{deleted['id']}").status_code == 204
    rule = _post(quill, f"/api/ledgers/{shared}/recurring",
                 {"amount": "9", "type": "EXPENSE", "categoryId": rent, "frequency": "monthly",
                  "startDate": "2099-01-01"})  # fmt: skip
    _upload(quill, shared)

    # A ledger quill made, shared with Pat and handed over; an invitation quill sent there.
    club = _post(quill, "/api/ledgers", {"name": "Club"})["id"]
    to_pat = _post(
        quill, f"/api/ledgers/{club}/invitations", {"email": pat.data["email"], "role": "editor"}
    )
    _post(pat, f"/api/invitations/{to_pat['id']}/accept", {}, status=200)
    pending = _post(quill, f"/api/ledgers/{club}/invitations",
                    {"email": f"other-{uuid.uuid4().hex[:8]}@example.com", "role": "viewer"})  # fmt: skip
    handed = quill.patch(f"/api/ledgers/{club}/members/{pat.id}", json={"role": "owner"})
    assert handed.status_code == 200, handed.get_json()

    # Invitations to quill: one pending (bound to the account), one to its email in any case.
    pats = pat.ledger_id
    _post(pat, f"/api/ledgers/{pats}/invitations", {"email": email.upper(), "role": "viewer"})

    # Sessions, a failed login, an idempotency key, and what other branches' features keep.
    accounts.login(email)
    failed = accounts.client.post("/api/auth/login", json={"email": email, "password": "nope nope"})
    assert failed.status_code == 401
    keyed = quill.post(
        "/api/categories", json={"name": "Keyed"}, headers={"Idempotency-Key": "k-1"}
    )
    assert keyed.status_code == 201
    conn.execute(
        "INSERT INTO personal_access_tokens (user_id, id, name, token_hash, scope)"
        " VALUES (%s, %s, %s, %s, 'read')",
        (quill.id, uuid.uuid4(), f"{name}'s script", b"\x01" * 32),
    )
    conn.execute(
        "INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES (%s, %s)",
        (quill.id, b"\x02" * 32),
    )
    conn.execute(
        "INSERT INTO rate_limit_counters (key, window_start, used) VALUES (%s, now(), 3)",
        (f"account:{quill.id}",),
    )
    return {"quill": quill, "name": name, "email": email, "olga": olga, "pat": pat,
            "shared": shared, "club": club, "written": written, "deleted": deleted,
            "rule": rule, "pending": pending}  # fmt: skip


def _erase(user, password: str | None = None, **body):
    return user.delete("/api/me", json={"password": password or Accounts.password, **body})


def _columns(conn) -> list[tuple[str, str, str]]:
    """(table, column, type) of every column of every table and view of the schema."""
    return conn.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t"
        "   ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = 'public' ORDER BY 1, 2"
    ).fetchall()


def _traces(conn, user_id: int, needles: list[str]) -> list[str]:
    """Every column that still holds one of the needles (any case, anywhere in its text) or,
    when it names a user, the id."""
    found = []
    for table, column, data_type in _columns(conn):
        target = sql.SQL("{}.{}").format(sql.Identifier(table), sql.Identifier(column))
        source = sql.Identifier(table)
        for needle in needles:
            query = sql.SQL("SELECT count(*) FROM {} WHERE strpos(lower({}::text), %s) > 0")
            (count,) = conn.execute(query.format(source, target), (needle.lower(),)).fetchone()
            if count:
                found.append(f"{table}.{column} holds {needle!r} ({count} rows)")
        if (
            data_type in ("bigint", "integer")
            and conn.execute("SELECT %s ~ %s", (column, USER_ID_COLUMN)).fetchone()[0]
        ):
            query = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s")
            (count,) = conn.execute(query.format(source, target), (user_id,)).fetchone()
            if count:
                found.append(f"{table}.{column} holds the id ({count} rows)")
    return found


def test_an_erased_account_leaves_nothing_that_names_it(accounts, conn):
    world = _rich_world(accounts, conn)
    quill = world["quill"]
    needles = [world["email"], world["name"]]
    # The walk can fail: before the erasure it finds the account everywhere.
    before = _traces(conn, quill.id, needles)
    for where in ("users.email", "users.name", "ledger_changes.actor_name", "ledger_changes.after",
                  "webhook_events.data", "login_throttle.key", "invitations.email",
                  "transactions.created_by", "recurring_rules.acts_as", "imports.created_by",
                  "personal_access_tokens.name", "invitations.invited_by"):  # fmt: skip
        assert any(trace.startswith(where) for trace in before), where

    assert _erase(quill).status_code == 204

    assert _traces(conn, quill.id, needles) == []
    assert conn.execute("SELECT count(*) FROM users WHERE id = %s", (quill.id,)).fetchone() == (0,)


def test_the_other_members_keep_what_it_wrote_without_its_name(accounts, conn):
    world = _rich_world(accounts, conn)
    quill, olga, pat, shared = world["quill"], world["olga"], world["pat"], world["shared"]
    assert _erase(quill).status_code == 204

    # Its transactions stay in Olga's ledger, by nobody; the rule acting as it is paused.
    for written in world["written"]:
        shown = olga.get(f"/api/ledgers/{shared}/transactions/{written['id']}").get_json()
        assert written["createdBy"] == {"id": quill.id, "name": world["name"]}
        assert shown["createdBy"] is None
    rule = olga.get(f"/api/ledgers/{shared}/recurring/{world['rule']['id']}").get_json()
    assert (rule["paused"], rule["pausedReason"]) == (True, "member_left")
    members = olga.get(f"/api/ledgers/{shared}/members").get_json()["items"]
    assert [m["userId"] for m in members] == [olga.id]
    # The club stays Pat's; the invitation quill sent there is gone; its own ledger is gone.
    assert [
        m["userId"] for m in pat.get(f"/api/ledgers/{world['club']}/members").get_json()["items"]
    ] == [pat.id]
    assert pat.get(f"/api/ledgers/{world['club']}/invitations").get_json()["items"] == []
    assert conn.execute(
        "SELECT count(*) FROM ledgers WHERE id = %s", (quill.ledger_id,)
    ).fetchone() == (0,)


def test_the_change_log_keeps_the_id_and_says_deleted_user(accounts, conn):
    world = _rich_world(accounts, conn)
    quill, olga, shared = world["quill"], world["olga"], world["shared"]
    assert _erase(quill).status_code == 204

    entries = olga.get(f"/api/ledgers/{shared}/changes?limit=500").get_json()["items"]
    by_quill = [e for e in entries if e["actor"] and e["actor"]["id"] == quill.id]
    assert by_quill and all(e["actor"]["name"] == "deleted user" for e in by_quill)
    ops = {(e["entity"], e["op"]) for e in by_quill}
    assert {("member", "created"), ("member", "deleted"), ("transaction", "created"),
            ("transaction", "updated"), ("invitation", "updated")} <= ops  # fmt: skip
    # Each transaction it created: every image shows createdBy as the id and "deleted user";
    # its last entry (the erasure's) says createdBy is null now, as the ledger does.
    erased_creator = {"id": quill.id, "name": "deleted user"}
    for written in [*world["written"], world["deleted"]]:
        of_it = [
            e for e in entries if e["entity"] == "transaction" and e["entityId"] == written["id"]
        ]
        images = [image for e in of_it for image in (e["before"], e["after"]) if image]
        assert images and all(image["createdBy"] in (erased_creator, None) for image in images), (
            images
        )
    for written in world["written"]:
        last = max((e for e in entries if e["entity"] == "transaction" and e["entityId"] == written["id"]),
                   key=lambda e: e["seq"])  # fmt: skip
        assert (last["op"], last["before"]["createdBy"], last["after"]["createdBy"]) == (
            "updated",
            erased_creator,
            None,
        )
    member_images = [image for e in entries if e["entity"] == "member" and e["entityId"] == quill.id
                     for image in (e["before"], e["after"]) if image]  # fmt: skip
    assert member_images and all(
        (image["userId"], image["name"], image["email"]) == (quill.id, "deleted user", None)
        for image in member_images
    )
    invitation_images = [image for e in entries if e["entity"] == "invitation"
                         for image in (e["before"], e["after"]) if image]  # fmt: skip
    assert invitation_images and all(image["email"] is None for image in invitation_images)
    # The webhook payloads of its transactions say the same.
    payloads = conn.execute(
        "SELECT data FROM webhook_events WHERE ledger_id = %s AND type = 'transaction.created'",
        (shared,),
    ).fetchall()
    assert payloads and all(data["createdBy"] == erased_creator for (data,) in payloads)


def test_its_tokens_die_at_once(accounts, conn):
    world = _rich_world(accounts, conn)
    quill = world["quill"]
    refresh = quill.tokens["refreshToken"]
    assert _erase(quill).status_code == 204
    assert_problem(quill.get("/api/auth/me"), 401)
    assert_problem(
        quill.client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {refresh}"}), 401
    )
    response = quill.client.post(
        "/api/auth/login", json={"email": world["email"], "password": Accounts.password}
    )
    assert_problem(response, 401, "invalid_credentials")


def _state(conn, user_id: int) -> list:
    """What an erasure would change, as rows."""
    return [
        conn.execute(
            sql.SQL(
                "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), '[]') FROM {} t"
            ).format(sql.Identifier(table))
        ).fetchone()[0]
        for table in (
            "users",
            "ledgers",
            "ledger_members",
            "invitations",
            "transactions",
            "ledger_changes",
            "recurring_rules",
            "personal_access_tokens",
            "webhook_events",
            "login_throttle",
        )
    ]


def test_the_only_owner_of_a_shared_ledger_gets_409_naming_it_and_nothing_changes(accounts, conn):
    quill, bob = accounts.new_user(name="Quill"), accounts.new_user(name="Bob")
    shared = _post(quill, "/api/ledgers", {"name": "Trip"})["id"]
    invited = _post(quill, f"/api/ledgers/{shared}/invitations",
                    {"email": bob.data["email"], "role": "viewer"})  # fmt: skip
    _post(bob, f"/api/invitations/{invited['id']}/accept", {}, status=200)
    alone = _post(quill, "/api/ledgers", {"name": "Alone"})["id"]  # no other member: no matter
    before = _state(conn, quill.id)

    body = assert_problem(_erase(quill), 409, "sole_owner")
    assert body["ledgers"] == [{"id": shared, "name": "Trip"}]
    assert "Trip" in body["detail"]
    assert _state(conn, quill.id) == before
    assert quill.get("/api/auth/me").status_code == 200

    # Handed over, the same request erases.
    assert (
        quill.patch(f"/api/ledgers/{shared}/members/{bob.id}", json={"role": "owner"}).status_code
        == 200
    )
    assert _erase(quill).status_code == 204
    assert conn.execute("SELECT count(*) FROM ledgers WHERE id = %s", (alone,)).fetchone() == (0,)
    assert [m["userId"] for m in bob.get(f"/api/ledgers/{shared}/members").get_json()["items"]] == [
        bob.id
    ]


def test_a_wrong_password_is_403_changes_nothing_and_counts_toward_the_login_throttle(
    accounts, conn
):
    quill = accounts.new_user(name="Quill")
    before = _state(conn, quill.id)
    for _ in range(5):  # LOGIN_MAX_FAILURES_PER_EMAIL
        assert_problem(_erase(quill, "wrong password"), 403, "invalid_password")
    after = _state(conn, quill.id)
    assert after[:-1] == before[:-1]  # only the throttle's counters moved
    assert quill.get("/api/auth/me").status_code == 200
    # Throttled now: the right password too, here and at login.
    assert_problem(_erase(quill), 429, "login_throttled")
    login = quill.client.post(
        "/api/auth/login", json={"email": quill.data["email"], "password": Accounts.password}
    )
    assert_problem(login, 429, "login_throttled")
    kinds = conn.execute(
        "SELECT kind, detail FROM security_events WHERE user_id = %s AND kind = 'account_erase_failed'",
        (quill.id,),
    ).fetchall()
    assert kinds == [("account_erase_failed", {"reason": "password"})] * 5


def test_with_two_factor_on_a_code_is_needed(accounts, conn, monkeypatch):
    at = 1_800_000_000
    monkeypatch.setattr(two_factor, "clock", lambda: at)
    quill = accounts.new_user(name="Quill")
    secret, recovery = enable_two_factor(quill, at)
    assert_problem(_erase(quill), 403, "totp_required")
    wrong = pyotp.TOTP(secret).at(at + 300)
    assert_problem(_erase(quill, totp=wrong), 403, "invalid_totp")
    # The enabling code's step is spent: its code is refused too.
    assert_problem(_erase(quill, totp=pyotp.TOTP(secret).at(at)), 403, "invalid_totp")
    assert_problem(_erase(quill, "wrong password", totp=recovery[0]), 403, "invalid_password")
    failed = conn.execute(
        "SELECT detail FROM security_events WHERE user_id = %s AND kind = 'account_erase_failed'"
        " ORDER BY id",
        (quill.id,),
    ).fetchall()
    assert [detail for (detail,) in failed] == [{"reason": "totp"}] * 2 + [{"reason": "password"}]
    assert quill.get("/api/auth/me").status_code == 200
    assert _erase(quill, totp=recovery[0]).status_code == 204
    assert_problem(quill.get("/api/auth/me"), 401)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"password": ""},
        {"password": 12345},
        {"password": "x", "extra": 1},
        {"password": "x", "totp": ""},
    ],
)
def test_erasure_validates_its_body(alice, body):
    body = assert_problem(alice.delete("/api/me", json=body), 422, "validation_error")
    assert body["errors"]
    assert alice.get("/api/auth/me").status_code == 200


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/me"), ("GET", "/api/me/export")])
def test_requires_a_token(client, method, path):
    assert_problem(client.open(path, method=method, json={"password": "x"}), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(client.open(path, method=method, json={"password": "x"}, headers=bad), 401)


# --- Export -------------------------------------------------------------------------------------


SECRET_KEYS = {"password", "passwordHash", "secret", "totpSecret", "token", "tokenHash",
               "refreshJti", "codeHash", "recoveryCodes"}  # fmt: skip


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*map(_keys, value.values()))
    if isinstance(value, list):
        return set().union(*map(_keys, value)) if value else set()
    return set()


def test_the_export_holds_the_account_and_never_a_secret(accounts, conn):
    world = _rich_world(accounts, conn)
    quill = world["quill"]
    response = quill.get("/api/me/export")
    assert response.status_code == 200 and response.is_streamed
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="account-{quill.id}.json"'
    )
    document = response.get_json()

    assert document["user"]["email"] == world["email"] and document["user"]["name"] == world["name"]
    assert len(document["sessions"]) == 2 and all(
        s["endedAt"] is None for s in document["sessions"]
    )
    assert [t["name"] for t in document["personalAccessTokens"]] == [f"{world['name']}'s script"]
    assert {(m["ledgerId"], m["role"]) for m in document["memberships"]} == {
        (quill.ledger_id, "owner"),
        (world["shared"], "editor"),
        (world["club"], "editor"),
    }
    assert [i["id"] for i in document["invitationsSent"]][-1] == world["pending"]["id"]
    assert {i["ledgerName"] for i in document["invitationsReceived"]} >= {"Household"}
    assert [r["id"] for r in document["recurringActingAsYou"]][-1] == world["rule"]["id"]
    assert {i["ledgerId"] for i in document["importsUploaded"]} == {
        quill.ledger_id,
        world["shared"],
    }
    # Its own ledger, exactly as the ledger's JSON export: the only one it owns.
    own = quill.get(f"/api/ledgers/{quill.ledger_id}/export?format=json").get_json()
    assert document["ledgers"] == [own]
    kinds = [e["kind"] for e in document["securityEvents"]]
    assert kinds.count("login") == 2 and kinds.count("login_failed") == 1

    assert not _keys(document) & SECRET_KEYS
    text = response.get_data(as_text=True)
    for (secret,) in conn.execute(
        "SELECT password_hash FROM users WHERE id = %(id)s"
        " UNION ALL SELECT refresh_jti::text FROM auth_sessions WHERE user_id = %(id)s"
        " UNION ALL SELECT encode(token_hash, 'hex') FROM personal_access_tokens WHERE user_id = %(id)s",
        {"id": quill.id},
    ):
        assert secret not in text
    assert quill.tokens["refreshToken"] not in text and quill.tokens["accessToken"] not in text
    # Nobody else's account: Olga's export (her ledger shows what quill wrote, and her
    # invitation its email) has none of its sessions, tokens or events.
    others = world["olga"].get("/api/me/export").get_json()
    olgas = json.dumps(others)
    assert others["user"]["id"] == world["olga"].id
    assert all(session["id"] not in olgas for session in document["sessions"])
    assert "'s script" not in olgas and "login_failed" not in olgas


def test_the_export_streams_a_large_ledger(alice, conn):
    category = _post(alice, "/api/categories", {"name": "Bulk"})["id"]
    conn.execute(
        "INSERT INTO transactions (ledger_id, category_id, type, amount, description, occurred_on,"
        " created_by) SELECT %s, %s, 'EXPENSE', 1.25, 'bulk ' || n, DATE '2026-01-01' + n %% 300,"
        " %s FROM generate_series(1, 3500) AS n",
        (alice.ledger_id, category, alice.id),
    )
    response = alice.get("/api/me/export")
    assert response.status_code == 200
    chunks = list(response.response)  # what the server sends, chunk by chunk
    [ledger] = json.loads(b"".join(chunks))["ledgers"]
    assert len(ledger["transactions"]) == 3500
    # Streamed a page of transactions at a time (repositories/exports.PAGE_SIZE), not built whole.
    assert len(chunks) >= 4 and max(map(len, chunks)) < 1_000_000


def test_an_erased_account_cannot_export(accounts, conn):
    quill = accounts.new_user(name="Quill")
    assert _erase(quill).status_code == 204
    assert_problem(quill.get("/api/me/export"), 401)
