"""POST /api/auth/password: the current password checked (403 invalid_password, counted toward
login throttling), the new one set, every other session ended and every personal access token
deleted; the caller's session lives on."""

from __future__ import annotations

import threading

import pytest

from expense_api.services.auth import accounts as accounts_service
from tests.helpers import Accounts, User, assert_problem, client_from, session_id_of

NEW = "a new and longer passphrase"


def _second_session(user: User) -> User:
    tokens = Accounts(user.client).login(user.data["email"], user.data["password"])
    return User(user.client, user.data, tokens)


def _token(user: User, scope: str = "write") -> str:
    response = user.post("/api/auth/tokens", json={"name": "script", "scope": scope})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def _change(user: User, current: str, new: str = NEW):
    return user.post("/api/auth/password", json={"currentPassword": current, "newPassword": new})


def test_a_change_ends_the_other_sessions_and_tokens_and_keeps_the_callers(alice, client, conn):
    other = _second_session(alice)
    token = _token(alice)
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    response = _change(alice, alice.data["password"])
    assert response.status_code == 204, response.get_json()
    assert alice.get("/api/auth/me").status_code == 200  # the caller's session lives on
    assert_problem(other.get("/api/auth/me"), 401, "token_revoked")
    refresh = {"Authorization": f"Bearer {other.tokens['refreshToken']}"}
    assert_problem(client.post("/api/auth/refresh", headers=refresh), 401, "token_revoked")
    assert_problem(client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)
    assert conn.execute(
        "SELECT count(*) FROM personal_access_tokens WHERE user_id = %s", (alice.id,)
    ).fetchone() == (0,)
    reasons = conn.execute(
        "SELECT id, revoked_reason FROM auth_sessions WHERE user_id = %s", (alice.id,)
    ).fetchall()
    assert dict(reasons) == {
        session_id_of(alice.tokens["accessToken"]): None,
        session_id_of(other.tokens["accessToken"]): "password_changed",
    }
    changed_at = conn.execute(
        "SELECT password_changed_at IS NOT NULL FROM users WHERE id = %s", (alice.id,)
    ).fetchone()[0]
    assert changed_at
    event = conn.execute(
        "SELECT detail FROM security_events WHERE user_id = %s AND kind = 'password_changed'",
        (alice.id,),
    ).fetchall()
    assert event == [({"sessions_ended": 1, "tokens_deleted": 1},)]
    # The new password logs in; the old one no longer does.
    assert Accounts(client).login(alice.data["email"], NEW)["accessToken"]
    old = {"email": alice.data["email"], "password": alice.data["password"]}
    assert_problem(client.post("/api/auth/login", json=old), 401, "invalid_credentials")


def test_a_login_past_its_password_check_when_the_password_changes_gets_no_session(
    app, alice, monkeypatch
):
    """A login with the old password, checked before the change committed and starting its
    session after it, would outlive the change that was to end every other session: refused."""
    checked, changed = threading.Event(), threading.Event()
    start_session = accounts_service.start_session

    def after_the_change(*args, **kwargs):
        checked.set()
        assert changed.wait(30)
        return start_session(*args, **kwargs)

    monkeypatch.setattr(accounts_service, "start_session", after_the_change)
    thief = client_from(app, "192.0.2.66")
    body = {"email": alice.data["email"], "password": alice.data["password"]}
    answers = []
    login = threading.Thread(
        target=lambda: answers.append(thief.post("/api/auth/login", json=body))
    )
    login.start()
    try:
        assert checked.wait(30)
        monkeypatch.setattr(accounts_service, "start_session", start_session)
        assert _change(alice, alice.data["password"]).status_code == 204
    finally:
        changed.set()
        login.join(30)
    assert_problem(answers[0], 401, "invalid_credentials")


def test_a_wrong_current_password_is_403_and_changes_nothing(alice, conn):
    other = _second_session(alice)
    token = _token(alice)
    body = assert_problem(_change(alice, "not my password"), 403, "invalid_password")
    assert "incorrect" in body["detail"]
    assert alice.get("/api/auth/me").status_code == 200
    assert other.get("/api/auth/me").status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    assert alice.client.get("/api/auth/me", headers=headers).status_code == 200
    assert Accounts(alice.client).login(alice.data["email"], alice.data["password"])
    failed = conn.execute(
        "SELECT detail FROM security_events WHERE user_id = %s AND kind = 'login_failed'",
        (alice.id,),
    ).fetchall()
    assert failed == [({"reason": "password_change"},)]


def test_wrong_current_passwords_count_toward_login_throttling(alice, client):
    for _ in range(5):  # LOGIN_MAX_FAILURES_PER_EMAIL
        assert_problem(_change(alice, "guess"), 403, "invalid_password")
    refused = _change(alice, alice.data["password"])  # even the right one, now
    assert_problem(refused, 429, "login_throttled")
    assert int(refused.headers["Retry-After"]) > 0
    # The same counter as login's: the account's email is blocked there too.
    login = {"email": alice.data["email"], "password": alice.data["password"]}
    assert_problem(client.post("/api/auth/login", json=login), 429, "login_throttled")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"currentPassword": "x"}, "newPassword"),
        ({"newPassword": NEW}, "currentPassword"),
        ({"currentPassword": "x", "newPassword": "short"}, "newPassword"),
        ({"currentPassword": "x", "newPassword": "y" * 129}, "newPassword"),
        ({"currentPassword": "", "newPassword": NEW}, "currentPassword"),
        ({"currentPassword": 1, "newPassword": NEW}, "currentPassword"),
        ({"currentPassword": "x", "newPassword": NEW, "other": 1}, "other"),
    ],
)
def test_validation(alice, body, field):
    problem = assert_problem(alice.post("/api/auth/password", json=body), 422, "validation_error")
    assert field in problem["errors"]


def test_without_a_token_401(client):
    body = {"currentPassword": "x", "newPassword": NEW}
    assert_problem(client.post("/api/auth/password", json=body), 401, "authentication_required")
