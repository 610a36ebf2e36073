"""Auth as the contract says: register, login, refresh with rotation, logout, me."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from expense_api.api.app import create_app
from tests.helpers import Accounts, assert_problem, client_from, make_settings


def test_register_returns_the_user_without_secrets(client):
    response = client.post(
        "/api/auth/register",
        json={
            "name": " Ann ",
            "email": "ann-reg@example.com",
            "password": "password123",
            "currency": "EUR",
            "timezone": "Europe/Berlin",
        },
    )
    assert response.status_code == 201
    user = response.get_json()["user"]
    assert set(user) == {"id", "name", "email", "role", "currency", "timezone", "createdAt"}
    assert user["name"] == "Ann"
    assert user["role"] == "user"
    assert (user["currency"], user["timezone"]) == ("EUR", "Europe/Berlin")
    assert user["createdAt"].endswith("Z")


def test_register_defaults_currency_and_timezone(accounts):
    user = accounts.register()
    assert (user["currency"], user["timezone"]) == ("USD", "UTC")


def test_register_stores_a_bcrypt_hash_only(accounts, conn):
    user = accounts.register()
    stored = conn.execute("SELECT password_hash FROM users WHERE id = %s", (user["id"],)).fetchone()
    assert stored[0].startswith("$2b$")
    assert accounts.password not in stored[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 101),
        ("name", 5),
        ("email", "not-an-email"),
        ("email", "a@" + "x" * 260 + ".com"),
        ("password", "short"),
        ("password", "x" * 129),
        ("currency", "XYZ"),
        ("currency", "usd"),
        ("currency", "XAU"),  # gold: no minor units, not a currency to keep books in
        ("timezone", "Mars/Olympus"),
        ("timezone", "+05:30"),
    ],
)
def test_register_validation(client, field, value):
    body = {"name": "N", "email": "valid-reg@example.com", "password": "password123", field: value}
    body = {key: val for key, val in body.items()}
    response = client.post("/api/auth/register", json=body)
    problem = assert_problem(response, 422, "validation_error")
    assert field in problem["errors"]


def test_register_refuses_a_time_zone_the_database_does_not_know(client, zone_only_python_knows):
    email = "zone-reg@example.com"
    body = {"name": "N", "email": email, "password": "password123"}
    response = client.post("/api/auth/register", json={**body, "timezone": zone_only_python_knows})
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == {
        "timezone": ["Must be an IANA time zone name the database knows, such as Europe/Berlin."]
    }
    assert client.post("/api/auth/register", json=body).status_code == 201  # nothing was kept


@pytest.mark.parametrize("zone", ["CET", "EET", "MET", "WET"])
def test_register_refuses_a_zone_the_database_reads_as_a_fixed_abbreviation(client, zone):
    """PostgreSQL reads these names as fixed-offset abbreviations, Python's zoneinfo with summer
    time (found by review): the worker's "today" and the API's would part for an hour all
    summer, so the name is refused; the city zone they stand for is taken."""
    body = {"name": "N", "email": f"zone-{zone.lower()}@example.com", "password": "password123"}
    problem = assert_problem(
        client.post("/api/auth/register", json={**body, "timezone": zone}), 422, "validation_error"
    )
    assert list(problem["errors"]) == ["timezone"]
    taken = client.post("/api/auth/register", json={**body, "timezone": "Europe/Berlin"})
    assert taken.status_code == 201


@pytest.mark.parametrize("missing", ["name", "email", "password"])
def test_register_requires_fields(client, missing):
    body = {"name": "N", "email": "valid-req@example.com", "password": "password123"}
    del body[missing]
    problem = assert_problem(client.post("/api/auth/register", json=body), 422, "validation_error")
    assert problem["errors"][missing] == ["Missing data for required field."]


def test_register_refuses_unknown_fields(client):
    body = {
        "name": "N",
        "email": "valid-unk@example.com",
        "password": "password123",
        "role": "admin",
    }
    problem = assert_problem(client.post("/api/auth/register", json=body), 422)
    assert "role" in problem["errors"]


def test_register_refuses_a_taken_email_in_any_case(accounts, client):
    user = accounts.register()
    again = {"name": "Other", "email": user["email"].upper(), "password": "password123"}
    assert_problem(client.post("/api/auth/register", json=again), 409, "email_taken")


def test_password_of_exactly_8_and_128_characters_is_accepted(accounts):
    accounts.register(password="x" * 8)
    accounts.register(password="y" * 128)


def test_long_passwords_differ_beyond_bcrypts_72_bytes(accounts, client):
    user = accounts.register(password="a" * 100)
    response = client.post(
        "/api/auth/login", json={"email": user["email"], "password": "a" * 99 + "b"}
    )
    assert_problem(response, 401, "invalid_credentials")


def test_login_returns_tokens_and_user(accounts):
    user = accounts.register()
    body = accounts.login(user["email"].upper())  # email is case-insensitive
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 15 * 60
    assert body["user"]["id"] == user["id"]
    assert "password_hash" not in body["user"]
    assert body["accessToken"] != body["refreshToken"]


def test_login_trims_the_email_as_register_does(accounts):
    local = f"trim-{uuid.uuid4().hex[:8]}"
    accounts.register(email=f"{local}@example.com")
    body = accounts.login(f" {local.title()}@Example.com ")
    assert body["user"]["email"] == f"{local}@example.com"


def test_wrong_password_and_unknown_email_look_the_same(accounts, client):
    user = accounts.register()
    wrong = client.post("/api/auth/login", json={"email": user["email"], "password": "wrong-pass"})
    unknown = client.post(
        "/api/auth/login", json={"email": "nobody-here@example.com", "password": "wrong-pass"}
    )
    assert_problem(wrong, 401, "invalid_credentials")
    assert_problem(unknown, 401, "invalid_credentials")
    assert wrong.get_json() == unknown.get_json()
    assert dict(wrong.headers).keys() == dict(unknown.headers).keys()


def test_unknown_email_still_spends_a_bcrypt_check(app, monkeypatch):
    import bcrypt

    hasher = app.extensions["auth"].hasher
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, h: calls.append(h) or real(pw, h))
    assert hasher.verify("anything", None) is False
    assert len(calls) == 1 and calls[0].startswith(b"$2b$04$")


def test_a_fresh_hashers_first_unknown_email_costs_one_bcrypt_check(monkeypatch):
    """The dummy hash is made when the hasher is, not by the first unknown email's login,
    which would otherwise spend a hash and a check: a timing difference an attacker can see."""
    import bcrypt

    from expense_api.services.auth.passwords import PasswordHasher

    hasher = PasswordHasher(4)
    hashes, checks = [], []
    real_hashpw, real_checkpw = bcrypt.hashpw, bcrypt.checkpw
    monkeypatch.setattr(
        bcrypt, "hashpw", lambda pw, salt: hashes.append(1) or real_hashpw(pw, salt)
    )
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, h: checks.append(1) or real_checkpw(pw, h))
    assert hasher.verify("anything", None) is False
    assert (len(hashes), len(checks)) == (0, 1)


def test_login_validation(client):
    problem = assert_problem(client.post("/api/auth/login", json={"email": "a@b.c"}), 422)
    assert "password" in problem["errors"]


def test_me_returns_the_user(alice):
    response = alice.get("/api/auth/me")
    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == alice.id


def _refresh(client, refresh_token: str, **headers):
    return client.post(
        "/api/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}", **headers}
    )


def _me_with(client, tokens: dict):
    return client.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['accessToken']}"})


def test_refresh_rotates_and_refuses_the_old_refresh_token(alice, client):
    old_refresh = alice.tokens["refreshToken"]
    first = _refresh(client, old_refresh)
    assert first.status_code == 200
    new = first.get_json()
    assert {"accessToken", "refreshToken", "tokenType", "expiresIn"} <= new.keys()
    assert new["refreshToken"] != old_refresh
    assert _me_with(client, new).status_code == 200

    assert_problem(_refresh(client, old_refresh), 401, "token_revoked")
    # Within the grace period after its rotation that is all (a client that lost the answer and
    # retried without a key): the session and its newest tokens live on.
    assert _me_with(client, new).status_code == 200
    assert _refresh(client, new["refreshToken"]).status_code == 200


def test_refreshing_never_keeps_a_session_past_its_maximum_age(alice, client, conn):
    """SESSION_MAX_DAYS (90) after its login a session ends, however often it was refreshed: a
    refresh extends it by the refresh lifetime (30 days) only up to that age, and one older is
    not refreshed (401), which ends its access tokens with it."""
    sessions = "UPDATE auth_sessions SET created_at = now() - %s::interval WHERE user_id = %s"
    conn.execute(sessions, ("80 days", alice.id))
    refreshed = _refresh(client, alice.tokens["refreshToken"])
    assert refreshed.status_code == 200
    left = conn.execute(
        "SELECT expires_at - now() FROM auth_sessions WHERE user_id = %s", (alice.id,)
    ).fetchone()[0]
    assert timedelta(days=9, hours=23) < left <= timedelta(days=10)  # 90 - 80, not 30
    conn.execute(sessions, ("91 days", alice.id))
    tokens = refreshed.get_json()
    assert_problem(_refresh(client, tokens["refreshToken"]), 401, "token_revoked")


def test_refresh_reuse_after_the_grace_period_ends_the_session(alice, client, conn):
    old_refresh = alice.tokens["refreshToken"]
    new = _refresh(client, old_refresh).get_json()
    conn.execute(
        "UPDATE auth_sessions SET refreshed_at = refreshed_at - interval '31 seconds' "
        "WHERE user_id = %s",
        (alice.id,),
    )
    assert_problem(_refresh(client, old_refresh), 401, "token_revoked")
    # Reuse means the token leaked: the whole session ends, including the newest tokens.
    assert_problem(_refresh(client, new["refreshToken"]), 401, "token_revoked")
    assert_problem(_me_with(client, new), 401, "token_revoked")
    reason = conn.execute(
        "SELECT revoked_reason FROM auth_sessions WHERE user_id = %s", (alice.id,)
    ).fetchone()[0]
    assert reason == "refresh_reuse"


@pytest.fixture
def no_grace_app(database_url):
    application = create_app(make_settings(REFRESH_REUSE_GRACE_SECONDS=0), database_url)
    yield application
    application.extensions["database"].close()


def test_with_no_grace_any_refresh_reuse_ends_the_session(no_grace_app):
    client = client_from(no_grace_app, "10.251.0.1")
    tokens = Accounts(client).new_user().tokens
    new = _refresh(client, tokens["refreshToken"]).get_json()
    assert_problem(_refresh(client, tokens["refreshToken"]), 401, "token_revoked")
    assert_problem(_me_with(client, new), 401, "token_revoked")


def test_an_older_refresh_token_ends_the_session_even_within_the_grace(alice, client):
    first = alice.tokens["refreshToken"]
    second = _refresh(client, first).get_json()
    third = _refresh(client, second["refreshToken"]).get_json()
    # Only the token rotated away last has the grace; one from before it can only be a copy.
    assert_problem(_refresh(client, first), 401, "token_revoked")
    assert_problem(_me_with(client, third), 401, "token_revoked")


def test_logout_revokes_access_and_refresh_tokens(alice, client):
    assert alice.post("/api/auth/logout").status_code == 204
    assert_problem(alice.get("/api/auth/me"), 401, "token_revoked")
    refresh = client.post(
        "/api/auth/refresh", headers={"Authorization": f"Bearer {alice.tokens['refreshToken']}"}
    )
    assert_problem(refresh, 401, "token_revoked")


def test_logout_ends_only_its_own_session(accounts):
    first = accounts.new_user()
    second_tokens = accounts.login(first.data["email"])
    assert first.post("/api/auth/logout").status_code == 204
    other = first.client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {second_tokens['accessToken']}"}
    )
    assert other.status_code == 200


def test_logout_body_must_be_json_if_any(alice):
    response = alice.post("/api/auth/logout", data="x", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")
    assert alice.get("/api/auth/me").status_code == 200  # nothing was revoked


def test_a_login_records_where_its_session_came_from(client, conn, accounts):
    user = accounts.register()
    response = client.post(
        "/api/auth/login",
        json={"email": user["email"], "password": user["password"]},
        headers={"User-Agent": "curl/8.5.0"},
    )
    assert response.status_code == 200, response.get_json()
    session = conn.execute(
        "SELECT user_agent, address, last_used_at IS NOT NULL FROM auth_sessions WHERE user_id = %s",
        (user["id"],),
    ).fetchone()
    assert session == ("curl/8.5.0", client.environ_base["REMOTE_ADDR"], True)
    client.post(
        "/api/auth/login",
        json={"email": user["email"], "password": "wrong-password"},
        headers={"User-Agent": "a script"},
    )
    kinds = conn.execute(
        "SELECT kind, user_agent, detail FROM security_events WHERE user_id = %s ORDER BY id",
        (user["id"],),
    ).fetchall()
    assert kinds == [
        ("login", "curl/8.5.0", {}),
        ("login_failed", "a script", {"reason": "password"}),
    ]
