"""Cookie mode: the refresh token in an HttpOnly cookie for browsers, guarded by a CSRF header."""

from __future__ import annotations

from http.cookies import Morsel, SimpleCookie

from tests.helpers import assert_problem


def _login(client, user, **extra):
    return client.post(
        "/api/auth/login",
        json={"email": user.data["email"], "password": user.data["password"], **extra},
    )


def _cookies(response) -> dict[str, Morsel]:
    jar = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        jar.update(cookie)
    return jar


def _refresh(client, refresh_token, csrf, **headers):
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    client.set_cookie("refresh_token", refresh_token, path="/api/auth/refresh")
    try:
        return client.post("/api/auth/refresh", headers=headers)
    finally:
        client.delete_cookie("refresh_token", path="/api/auth/refresh")


def test_login_in_cookie_mode_sets_a_strict_httponly_cookie(alice, client):
    response = _login(client, alice, refreshCookie=True)
    assert response.status_code == 200
    body = response.get_json()
    assert "refreshToken" not in body and body["accessToken"] and body["tokenType"] == "Bearer"
    cookies = _cookies(response)
    morsel = cookies["refresh_token"]
    assert morsel["path"] == "/api/auth/refresh"
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"] == "Strict"
    csrf = cookies["csrf_refresh_token"]
    assert csrf["path"] == "/" and csrf["secure"] and not csrf["httponly"]  # the page reads it
    assert csrf["samesite"] == "Strict"


def test_bearer_login_is_unchanged(alice, client):
    response = _login(client, alice)
    assert "refreshToken" in response.get_json()
    assert not response.headers.getlist("Set-Cookie")


def test_refresh_by_cookie_needs_the_csrf_header(alice, client):
    cookies = _cookies(_login(client, alice, refreshCookie=True))
    token, csrf = cookies["refresh_token"].value, cookies["csrf_refresh_token"].value
    assert_problem(_refresh(client, token, None), 401, "csrf_failed")
    assert_problem(_refresh(client, token, "not-the-value"), 401, "csrf_failed")
    response = _refresh(client, token, csrf)  # the refused tries changed nothing
    assert response.status_code == 200, response.get_json()
    assert "refreshToken" not in response.get_json()
    renewed = _cookies(response)
    assert renewed["refresh_token"].value != token
    me = client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {response.get_json()['accessToken']}"}
    )
    assert me.status_code == 200
    # The rotated-away cookie is dead like a rotated bearer refresh token.
    assert_problem(_refresh(client, token, csrf), 401, "token_revoked")


def test_cookie_refresh_token_as_bearer_needs_no_csrf_header(alice, client):
    """A client holding the token itself (not a browser's ambient cookie) is not a CSRF risk."""
    token = _cookies(_login(client, alice, refreshCookie=True))["refresh_token"].value
    response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "refreshToken" in response.get_json()  # bearer in, bearer out


def test_the_cookie_is_read_on_the_refresh_path_only(alice, client):
    token = _cookies(_login(client, alice, refreshCookie=True))["refresh_token"].value
    client.set_cookie("refresh_token", token)
    client.set_cookie("access_token_cookie", alice.tokens["accessToken"])
    try:
        assert_problem(client.get("/api/auth/me"), 401, "authentication_required")
    finally:
        client.delete_cookie("refresh_token")
        client.delete_cookie("access_token_cookie")


def test_logout_clears_the_cookies(alice, client):
    login = _login(client, alice, refreshCookie=True)
    access = login.get_json()["accessToken"]
    response = client.post("/api/auth/logout", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 204
    cleared = _cookies(response)
    assert cleared["refresh_token"].value == "" and cleared["refresh_token"]["expires"]
    cookies = _cookies(login)
    token, csrf = cookies["refresh_token"].value, cookies["csrf_refresh_token"].value
    assert_problem(_refresh(client, token, csrf), 401, "token_revoked")


def test_refresh_cookie_must_be_a_json_boolean(alice, client):
    problem = assert_problem(_login(client, alice, refreshCookie="yes"), 422, "validation_error")
    assert "refreshCookie" in problem["errors"]
