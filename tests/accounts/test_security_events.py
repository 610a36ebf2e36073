"""GET /api/auth/events: an account's security events, newest first, in pages; only the
caller's; pruned after SECURITY_EVENTS_DAYS."""

from __future__ import annotations

import uuid

import pytest

from expense_api.services import housekeeping
from tests.helpers import assert_problem, make_settings


def _fail_login(user, agent: str = "a guesser"):
    response = user.client.post(
        "/api/auth/login",
        json={"email": user.data["email"], "password": "wrong-password"},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 401


def test_the_account_s_events_newest_first(alice):
    _fail_login(alice, "curl/8.5.0")
    response = alice.get("/api/auth/events")
    assert response.status_code == 200
    body = response.get_json()
    assert body["nextCursor"] is None
    failed, login = body["items"]
    assert failed["id"] > login["id"]
    assert failed["kind"] == "login_failed" and failed["detail"] == {"reason": "password"}
    assert failed["userAgent"] == "curl/8.5.0"
    assert failed["address"] == alice.client.environ_base["REMOTE_ADDR"]
    assert failed["at"].endswith("Z")
    assert "sessionId" not in failed  # a refused login started no session
    assert login["kind"] == "login" and login["detail"] == {}
    assert uuid.UUID(login["sessionId"])
    assert set(login) == {"id", "at", "kind", "address", "userAgent", "sessionId", "detail"}


def test_pages_follow_the_cursor(alice):
    for _ in range(4):
        _fail_login(alice)
    first = alice.get("/api/auth/events?limit=2").get_json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    second = alice.get(f"/api/auth/events?limit=2&cursor={first['nextCursor']}").get_json()
    third = alice.get(f"/api/auth/events?limit=2&cursor={second['nextCursor']}").get_json()
    ids = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)
    assert third["nextCursor"] is None
    assert [item["kind"] for item in third["items"]] == ["login"]


def test_another_users_events_are_never_listed(alice, bob):
    _fail_login(bob, "bob's agent")
    _fail_login(alice, "alice's agent")
    seen = alice.get("/api/auth/events?limit=200").get_json()["items"]
    assert {item["userAgent"] for item in seen} >= {"alice's agent"}
    assert "bob's agent" not in {item["userAgent"] for item in seen}
    bobs = bob.get("/api/auth/events?limit=200").get_json()["items"]
    # Bob's cursor is an id; given to Alice, it only pages through her own events.
    cursor_from_bob = bob.get("/api/auth/events?limit=1").get_json()["nextCursor"]
    after = alice.get(f"/api/auth/events?cursor={cursor_from_bob}").get_json()["items"]
    assert not {item["id"] for item in after} & {item["id"] for item in bobs}


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "limit=x", "cursor=not-a-cursor", "cursor=", "other=1"]
)
def test_the_query_is_validated(alice, query):
    assert_problem(alice.get(f"/api/auth/events?{query}"), 422, "validation_error")


def test_401_without_a_token(client):
    assert_problem(client.get("/api/auth/events"), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(client.get("/api/auth/events", headers=bad), 401)


def test_housekeeping_prunes_events_past_security_events_days(alice, conn):
    _fail_login(alice)
    conn.execute(
        "UPDATE security_events SET at = now() - interval '11 days' "
        "WHERE user_id = %s AND kind = 'login'",
        (alice.id,),
    )
    deleted = housekeeping.prune(conn, make_settings(SECURITY_EVENTS_DAYS=10))["security_events"]
    assert deleted >= 1
    kinds = [item["kind"] for item in alice.get("/api/auth/events").get_json()["items"]]
    assert kinds == ["login_failed"]


def test_security_events_days_defaults_to_a_year():
    assert make_settings().security_events_days == 365
