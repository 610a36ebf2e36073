"""Idempotency-Key on refresh and logout (the contract's general rules): the stored answer is
replayed before the token is checked, bound to the token's session, and an answer that carries
tokens is kept for minutes."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import assert_problem


def _refresh(client, refresh_token: str, key: str | None = None):
    headers = {"Authorization": f"Bearer {refresh_token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/auth/refresh", headers=headers)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_retried_refresh_replays_the_same_pair_and_the_session_lives_on(alice, client):
    first = _refresh(client, alice.tokens["refreshToken"], key="refresh-1")
    assert first.status_code == 200
    # The answer is lost; the client retries with the same token and key.
    again = _refresh(client, alice.tokens["refreshToken"], key="refresh-1")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    pair = again.get_json()
    assert client.get("/api/auth/me", headers=_bearer(pair["accessToken"])).status_code == 200
    assert _refresh(client, pair["refreshToken"]).status_code == 200


def test_the_same_key_from_another_session_is_422(accounts, client):
    user = accounts.new_user()
    other_session = accounts.login(user.data["email"])
    assert _refresh(client, user.tokens["refreshToken"], key="shared").status_code == 200
    reused = _refresh(client, other_session["refreshToken"], key="shared")
    assert_problem(reused, 422, "idempotency_key_reused")
    # Nothing of the first session leaked, and the second one was not touched.
    assert "accessToken" not in reused.get_json()
    assert _refresh(client, other_session["refreshToken"]).status_code == 200


def test_the_same_key_with_the_next_refresh_token_is_422_not_a_stale_pair(alice, client):
    # Replaying the first pair would hand back a refresh token that is already rotated away.
    pair = _refresh(client, alice.tokens["refreshToken"], key="reused-key").get_json()
    assert_problem(_refresh(client, pair["refreshToken"], key="reused-key"), 422)
    assert _refresh(client, pair["refreshToken"]).status_code == 200


def test_a_key_never_lets_a_bad_token_through(alice, client):
    forged = alice.tokens["refreshToken"][:-4] + "AAAA"
    assert_problem(_refresh(client, forged, key="forged"), 401)
    access_as_refresh = _refresh(client, alice.tokens["accessToken"], key="wrong-type")
    assert_problem(access_as_refresh, 401, "invalid_token")


def test_a_key_on_a_reused_refresh_token_is_no_way_around_the_reuse_rule(alice, client, conn):
    old = alice.tokens["refreshToken"]
    pair = _refresh(client, old, key="first").get_json()
    conn.execute(
        "UPDATE auth_sessions SET refreshed_at = refreshed_at - interval '31 seconds' "
        "WHERE user_id = %s",
        (alice.id,),
    )
    # A new key for the old token: no stored answer, so the token is checked and the reuse
    # (past the grace) ends the session.
    assert_problem(_refresh(client, old, key="second"), 401, "token_revoked")
    assert_problem(_refresh(client, pair["refreshToken"]), 401, "token_revoked")


def test_a_stored_refresh_answer_is_kept_for_minutes(alice, client, conn):
    assert _refresh(client, alice.tokens["refreshToken"], key="short-lived").status_code == 200
    kept = conn.execute(
        "SELECT expires_at - created_at FROM idempotency_keys WHERE user_id = %s AND key = %s",
        (alice.id, "short-lived"),
    ).fetchone()[0]
    assert kept == timedelta(minutes=5)


def test_a_retried_logout_replays_204(alice, conn):
    headers = {"Idempotency-Key": "bye"}
    assert alice.post("/api/auth/logout", headers=headers).status_code == 204
    again = alice.post("/api/auth/logout", headers=headers)
    assert again.status_code == 204
    assert again.headers["Idempotent-Replayed"] == "true"
    assert_problem(alice.get("/api/auth/me"), 401, "token_revoked")
    kept = conn.execute(
        "SELECT expires_at - created_at FROM idempotency_keys WHERE user_id = %s AND key = %s",
        (alice.id, "bye"),
    ).fetchone()[0]
    assert kept == timedelta(hours=24)  # a 204 carries no token


def test_a_logout_key_from_another_session_is_422(accounts):
    user = accounts.new_user()
    other_session = accounts.login(user.data["email"])
    headers = {"Idempotency-Key": "bye-shared"}
    assert user.post("/api/auth/logout", headers=headers).status_code == 204
    other = user.client.post(
        "/api/auth/logout", headers={**headers, **_bearer(other_session["accessToken"])}
    )
    assert_problem(other, 422, "idempotency_key_reused")
    assert (
        user.client.get("/api/auth/me", headers=_bearer(other_session["accessToken"])).status_code
        == 200
    )


def test_a_logout_without_a_key_is_still_401_the_second_time(alice):
    assert alice.post("/api/auth/logout").status_code == 204
    assert_problem(alice.post("/api/auth/logout"), 401, "token_revoked")


def test_the_replay_reads_the_bearer_token_as_the_token_check_does(alice, client):
    # flask-jwt-extended accepts comma-separated credentials with one Bearer among them.
    headers = {
        "Authorization": f"Basic Zm9vOmJhcg==, Bearer {alice.tokens['refreshToken']}",
        "Idempotency-Key": "two-credentials",
    }
    first = client.post("/api/auth/refresh", headers=headers)
    assert first.status_code == 200
    again = client.post("/api/auth/refresh", headers=headers)
    assert (again.status_code, again.get_json()) == (200, first.get_json())
