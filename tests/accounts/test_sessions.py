"""GET /api/auth/sessions and DELETE /api/auth/sessions/{id}: a person's live sessions, and
ending one (its access and refresh tokens refused at once); last_used_at touched at most once a
minute, in the session check's own statement, never waiting for a lock."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import psycopg

from tests.helpers import User, assert_problem, session_id_of


def _second_session(user: User, user_agent: str = "a second device") -> User:
    """The same account logged in again, from another user agent: a session of its own."""
    response = user.client.post(
        "/api/auth/login",
        json={"email": user.data["email"], "password": user.data["password"]},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.get_json()
    return User(user.client, user.data, response.get_json())


def _sid(user: User) -> uuid.UUID:
    return session_id_of(user.tokens["accessToken"])


def test_the_list_shows_live_sessions_newest_first_with_the_current_marked(alice, conn):
    other = _second_session(alice, "curl/8.5.0")
    third = _second_session(alice, "the dashboard")
    assert third.post("/api/auth/logout").status_code == 204  # ended: not listed
    expired = _second_session(alice)
    conn.execute(
        "UPDATE auth_sessions SET expires_at = now() - interval '1 second' WHERE id = %s",
        (_sid(expired),),
    )
    response = other.get("/api/auth/sessions")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["id"] for item in items] == [str(_sid(other)), str(_sid(alice))]
    assert [item["current"] for item in items] == [True, False]
    assert items[0]["userAgent"] == "curl/8.5.0"
    assert set(items[0]) == {"id", "current", "userAgent", "createdAt", "lastUsedAt"}
    assert items[0]["createdAt"].endswith("Z") and items[0]["lastUsedAt"].endswith("Z")
    # Seen from the first session, that one is the current one.
    assert [i["current"] for i in alice.get("/api/auth/sessions").get_json()["items"]] == [
        False,
        True,
    ]


def test_another_users_sessions_are_never_listed(alice, bob):
    listed = {item["id"] for item in alice.get("/api/auth/sessions").get_json()["items"]}
    assert str(_sid(bob)) not in listed and listed == {str(_sid(alice))}


def test_ending_a_session_refuses_its_access_and_refresh_tokens_at_once(alice, conn):
    other = _second_session(alice)
    assert other.get("/api/auth/me").status_code == 200
    response = alice.delete(f"/api/auth/sessions/{_sid(other)}")
    assert response.status_code == 204, response.get_json()
    assert_problem(other.get("/api/auth/me"), 401, "token_revoked")
    refresh = {"Authorization": f"Bearer {other.tokens['refreshToken']}"}
    assert_problem(alice.client.post("/api/auth/refresh", headers=refresh), 401, "token_revoked")
    assert alice.get("/api/auth/me").status_code == 200  # the caller's own lives on
    reason = conn.execute(
        "SELECT revoked_reason FROM auth_sessions WHERE id = %s", (_sid(other),)
    ).fetchone()[0]
    assert reason == "ended"
    event = conn.execute(
        "SELECT session_id, detail FROM security_events WHERE user_id = %s "
        "AND kind = 'session_ended'",
        (alice.id,),
    ).fetchall()
    assert event == [(_sid(other), {"by_session": str(_sid(alice))})]
    # Ended, it is no longer there to end.
    assert_problem(alice.delete(f"/api/auth/sessions/{_sid(other)}"), 404, "not_found")


def test_ending_your_current_session_is_a_logout(alice):
    assert alice.delete(f"/api/auth/sessions/{_sid(alice)}").status_code == 204
    assert_problem(alice.get("/api/auth/me"), 401, "token_revoked")


def test_another_users_or_an_unknown_session_is_404_and_ends_nothing(alice, bob):
    assert_problem(alice.delete(f"/api/auth/sessions/{_sid(bob)}"), 404, "not_found")
    assert_problem(alice.delete(f"/api/auth/sessions/{uuid.uuid4()}"), 404, "not_found")
    assert_problem(alice.delete("/api/auth/sessions/not-a-uuid"), 404)
    assert bob.get("/api/auth/me").status_code == 200


def test_without_a_token_401(client, alice):
    assert_problem(client.get("/api/auth/sessions"), 401, "authentication_required")
    assert_problem(client.delete(f"/api/auth/sessions/{_sid(alice)}"), 401)
    assert alice.get("/api/auth/me").status_code == 200


def _last_used(conn, session_id) -> float:
    """Seconds since the session was last used."""
    return conn.execute(
        "SELECT extract(epoch FROM now() - last_used_at) FROM auth_sessions WHERE id = %s",
        (session_id,),
    ).fetchone()[0]


def _set_last_used(conn, session_id, seconds_ago: int) -> None:
    conn.execute(
        "UPDATE auth_sessions SET last_used_at = now() - make_interval(secs => %s) WHERE id = %s",
        (seconds_ago, session_id),
    )


def test_last_used_at_moves_on_use_at_most_once_a_minute(alice, conn):
    sid = _sid(alice)
    _set_last_used(conn, sid, 3600)
    assert alice.get("/api/categories").status_code == 200  # a GET: its statements autocommit
    assert _last_used(conn, sid) < 5
    _set_last_used(conn, sid, 3600)
    assert alice.post("/api/categories", json={"name": "Food"}).status_code == 201  # a write
    assert _last_used(conn, sid) < 5
    _set_last_used(conn, sid, 30)  # used 30 s ago: not touched again yet
    assert alice.get("/api/auth/me").status_code == 200
    assert 29 < _last_used(conn, sid) < 60
    listed = alice.get("/api/auth/sessions").get_json()["items"][0]["lastUsedAt"]
    stored = conn.execute("SELECT last_used_at FROM auth_sessions WHERE id = %s", (sid,))
    shown = datetime.fromisoformat(listed.replace("Z", "+00:00"))
    assert abs((shown - stored.fetchone()[0]).total_seconds()) < 0.01


def test_a_request_answered_with_an_error_still_counts_as_use(alice, conn):
    sid = _sid(alice)
    _set_last_used(conn, sid, 3600)
    assert_problem(alice.get("/api/categories/999999999"), 404)
    assert _last_used(conn, sid) < 5


def test_the_touch_never_waits_for_a_lock(alice, database_url, conn):
    """Someone holds the session's row (a concurrent request touching it): the request goes on
    at once and leaves the touch to them."""
    sid = _sid(alice)
    _set_last_used(conn, sid, 3600)
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT 1 FROM auth_sessions WHERE id = %s FOR UPDATE", (sid,))
        started = time.monotonic()
        assert alice.get("/api/auth/me").status_code == 200
        assert alice.post("/api/categories", json={"name": "Rent"}).status_code == 201
        assert time.monotonic() - started < 2
        holder.rollback()
    assert _last_used(conn, sid) > 3000  # not touched: the row was taken
    assert alice.get("/api/auth/me").status_code == 200
    assert _last_used(conn, sid) < 5
