"""Personal access tokens: create (shown once), list, delete; used as bearer tokens on REST and
GraphQL with the same user row as a session's; a `read` token refused every write; neither
scope allowed near the account's security; deleted, expired and forged tokens 401."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest

from expense_api.db.sqlfiles import queries
from expense_api.services.auth import access_tokens
from tests.factories import category, graphql, graphql_codes
from tests.helpers import User, assert_problem, session_id_of

TOKEN = re.compile(r"eat_([1-9][0-9]*)_[A-Za-z0-9_-]{43}")


def _create(user: User, **body) -> dict:
    response = user.post(
        "/api/auth/tokens", json={"name": "backup script", "scope": "write", **body}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _as(user: User, token: str) -> User:
    """The user, sending the personal access token as their bearer token."""
    return User(user.client, user.data, {"accessToken": token})


def test_create_list_delete(alice, conn):
    created = _create(alice, name="  nightly export ", scope="read", expiresInDays=30)
    assert set(created) == {"id", "name", "scope", "createdAt", "expiresAt", "lastUsedAt", "token"}
    assert created["name"] == "nightly export" and created["scope"] == "read"
    assert created["lastUsedAt"] is None and created["expiresAt"] > created["createdAt"]
    match = TOKEN.fullmatch(created["token"])
    assert match and int(match.group(1)) == alice.id
    never = _create(alice, name="forever")
    assert never["expiresAt"] is None
    listed = alice.get("/api/auth/tokens").get_json()["items"]
    assert [item["id"] for item in listed] == [never["id"], created["id"]]  # newest first
    assert all("token" not in item for item in listed)
    # Only the SHA-256 digest is kept, never the token.
    stored = conn.execute(
        "SELECT token_hash FROM personal_access_tokens WHERE id = %s", (created["id"],)
    ).fetchone()[0]
    assert bytes(stored) == hashlib.sha256(created["token"].encode()).digest()
    assert alice.delete(f"/api/auth/tokens/{created['id']}").status_code == 204
    assert [item["id"] for item in alice.get("/api/auth/tokens").get_json()["items"]] == [
        never["id"]
    ]
    assert_problem(_as(alice, created["token"]).get("/api/auth/me"), 401, "invalid_token")
    assert_problem(alice.delete(f"/api/auth/tokens/{created['id']}"), 404, "not_found")
    kinds = conn.execute(
        "SELECT kind, detail->>'token_id' FROM security_events WHERE user_id = %s "
        "AND kind LIKE 'token%%' ORDER BY id",
        (alice.id,),
    ).fetchall()
    assert kinds == [
        ("token_created", created["id"]),
        ("token_created", never["id"]),
        ("token_revoked", created["id"]),
    ]


def test_another_users_token_is_404_and_stays(alice, bob):
    theirs = _create(bob)
    assert_problem(alice.delete(f"/api/auth/tokens/{theirs['id']}"), 404, "not_found")
    assert_problem(alice.delete(f"/api/auth/tokens/{uuid.uuid4()}"), 404, "not_found")
    assert alice.get("/api/auth/tokens").get_json() == {"items": []}
    assert _as(bob, theirs["token"]).get("/api/auth/me").status_code == 200


def test_a_token_gives_the_same_user_row_as_a_session(alice, conn):
    token = _create(alice, scope="read")["token"]
    assert _as(alice, token).get("/api/auth/me").get_json() == alice.get("/api/auth/me").get_json()
    by_session = queries.auth_sessions.get_active_with_user(
        conn, user_id=alice.id, session_id=session_id_of(alice.tokens["accessToken"])
    )
    by_token = queries.personal_access_tokens.get_with_user(
        conn, user_id=alice.id, token_hash=access_tokens.digest(token)
    )
    assert set(by_session) - {"refresh_jti"} == set(by_token) - {
        "token_id",
        "token_scope",
        "token_expired",
    }
    assert {k: v for k, v in by_token.items() if k in by_session} == {
        k: v for k, v in by_session.items() if k != "refresh_jti"
    }


def test_a_read_token_reads_and_is_refused_every_write(alice):
    food = category(alice, "Food")
    reader = _as(alice, _create(alice, scope="read")["token"])
    assert reader.get("/api/categories").status_code == 200
    assert reader.get(f"/api/ledgers/{alice.ledger_id}/categories").status_code == 200
    for response in (
        reader.post("/api/categories", json={"name": "Rent"}),
        reader.patch(f"/api/categories/{food}", json={"name": "Groceries"}),
        reader.delete(f"/api/categories/{food}"),
        reader.post(f"/api/ledgers/{alice.ledger_id}/categories", json={"name": "Rent"}),
    ):
        problem = assert_problem(response, 403, "insufficient_scope")
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
        assert "read" in problem["detail"]
    assert [c["name"] for c in alice.get("/api/categories").get_json()["items"]] == ["Food"]
    query = "{ ledgers { id categories { name } } }"
    assert "errors" not in graphql(reader, query)
    mutation = 'mutation { createCategory(input: {name: "Rent"}) { id } }'
    refused = reader.post("/api/graphql", json={"query": mutation})
    assert_problem(refused, 403, "insufficient_scope")
    assert [c["name"] for c in alice.get("/api/categories").get_json()["items"]] == ["Food"]


def test_a_write_token_writes(alice):
    writer = _as(alice, _create(alice, scope="write")["token"])
    assert writer.post("/api/categories", json={"name": "Rent"}).status_code == 201
    mutation = 'mutation { createCategory(input: {name: "Food"}) { name } }'
    answer = graphql(writer, mutation)
    assert graphql_codes(answer) == [] and answer["data"]["createCategory"]["name"] == "Food"
    assert [c["name"] for c in alice.get("/api/categories").get_json()["items"]] == ["Food", "Rent"]


# Routes under /api/auth/ that take no bearer token at all (a token there is not looked at).
NO_BEARER = {"/api/auth/register", "/api/auth/login"}


def test_no_token_may_manage_the_accounts_security(app, alice):
    """Every route under /api/auth/ (but me and events) and DELETE /api/me, every method: 403
    session_required to a personal access token of either scope, whatever the body."""
    writer = _as(alice, _create(alice, scope="write")["token"])
    reader = _as(alice, _create(alice, scope="read")["token"])
    values = {"session_id": session_id_of(alice.tokens["accessToken"]), "token_id": uuid.uuid4()}
    adapter = app.url_map.bind("localhost")
    checked = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        guarded = path.startswith("/api/auth/") and path not in NO_BEARER | {
            "/api/auth/me",
            "/api/auth/events",
        }
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        if path == "/api/me":
            methods, guarded = ["DELETE"], True
        if not guarded:
            continue
        for method in methods:
            url = adapter.build(
                rule.endpoint, {k: values[k] for k in rule.arguments}, method=method
            )
            for user in (writer, reader):
                response = user.request(method, url, json={})
                assert_problem(response, 403, "session_required")
                checked.append((method, path))
    assert {
        ("GET", "/api/auth/sessions"),
        ("DELETE", "/api/auth/sessions/<uuid:session_id>"),
        ("POST", "/api/auth/password"),
        ("POST", "/api/auth/tokens"),
        ("GET", "/api/auth/tokens"),
        ("DELETE", "/api/auth/tokens/<uuid:token_id>"),
        ("POST", "/api/auth/refresh"),
        ("POST", "/api/auth/logout"),
    } <= set(checked)
    # Nothing was ended or made.
    assert alice.get("/api/auth/me").status_code == 200
    assert len(alice.get("/api/auth/tokens").get_json()["items"]) == 2


def test_an_expired_token_is_401_token_expired(alice, conn):
    created = _create(alice, expiresInDays=1)
    conn.execute(
        "UPDATE personal_access_tokens SET expires_at = now() - interval '1 second' WHERE id = %s",
        (created["id"],),
    )
    response = _as(alice, created["token"]).get("/api/auth/me")
    assert_problem(response, 401, "token_expired")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    # Still listed (so it can be seen and deleted), never touched.
    [listed] = alice.get("/api/auth/tokens").get_json()["items"]
    assert listed["lastUsedAt"] is None


def test_forged_and_malformed_tokens_are_401(alice, bob, client):
    token = _create(alice)["token"]
    secret = token.split("_", 2)[2]
    for forged in (
        f"eat_{bob.id}_{secret}",  # another user's id with a real secret
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "eat_",
        f"eat_{alice.id}_short",
        f"eat_{'9' * 19}_{secret}",  # beyond bigint: refused before the database
        f"eat_0_{secret}",
        token + "x",
    ):
        headers = {"Authorization": f"Bearer {forged}"}
        assert_problem(client.get("/api/auth/me", headers=headers), 401, "invalid_token")
        refused = client.post("/api/graphql", json={"query": "{ ledgers { id } }"}, headers=headers)
        assert_problem(refused, 401, "invalid_token")


def test_a_disabled_accounts_token_is_401(alice, conn):
    token = _create(alice)["token"]
    conn.execute("UPDATE users SET disabled_at = now() WHERE id = %s", (alice.id,))
    assert_problem(_as(alice, token).get("/api/auth/me"), 401)


def test_last_used_at_moves_at_most_once_a_minute(alice, conn):
    created = _create(alice, scope="read")
    user = _as(alice, created["token"])

    def seconds_since_use():
        return conn.execute(
            "SELECT extract(epoch FROM now() - last_used_at) FROM personal_access_tokens "
            "WHERE id = %s",
            (created["id"],),
        ).fetchone()[0]

    assert seconds_since_use() is None
    assert user.get("/api/categories").status_code == 200
    assert seconds_since_use() < 5
    conn.execute(
        "UPDATE personal_access_tokens SET last_used_at = now() - interval '30 seconds' "
        "WHERE id = %s",
        (created["id"],),
    )
    assert user.get("/api/categories").status_code == 200
    assert 29 < seconds_since_use() < 60  # used 30 s ago: not touched again yet
    conn.execute(
        "UPDATE personal_access_tokens SET last_used_at = now() - interval '1 hour' WHERE id = %s",
        (created["id"],),
    )
    assert user.get("/api/categories").status_code == 200
    assert seconds_since_use() < 5
    [listed] = alice.get("/api/auth/tokens").get_json()["items"]
    assert listed["lastUsedAt"] is not None


def test_at_most_fifty_tokens(alice):
    for n in range(access_tokens.MAX_PER_USER):
        _create(alice, name=f"t{n}")
    assert_problem(
        alice.post("/api/auth/tokens", json={"name": "one more", "scope": "read"}),
        409,
        "too_many_tokens",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "read"}, "name"),
        ({"name": "   ", "scope": "read"}, "name"),
        ({"name": "x" * 101, "scope": "read"}, "name"),
        ({"name": "a\x07b", "scope": "read"}, "name"),
        ({"name": "n"}, "scope"),
        ({"name": "n", "scope": "admin"}, "scope"),
        ({"name": "n", "scope": "read", "expiresInDays": 0}, "expiresInDays"),
        ({"name": "n", "scope": "read", "expiresInDays": 3651}, "expiresInDays"),
        ({"name": "n", "scope": "read", "expiresInDays": "5"}, "expiresInDays"),
        ({"name": "n", "scope": "read", "expiresInDays": 1.5}, "expiresInDays"),
        ({"name": "n", "scope": "read", "token": "eat_1_x"}, "token"),
    ],
)
def test_validation(alice, body, field):
    problem = assert_problem(alice.post("/api/auth/tokens", json=body), 422, "validation_error")
    assert field in problem["errors"]


def test_without_a_token_401(client):
    assert_problem(client.get("/api/auth/tokens"), 401, "authentication_required")
    body = {"name": "n", "scope": "read"}
    assert_problem(client.post("/api/auth/tokens", json=body), 401, "authentication_required")
    assert_problem(client.delete(f"/api/auth/tokens/{uuid.uuid4()}"), 401)
