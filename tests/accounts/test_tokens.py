"""Every way a bearer token can be wrong gets 401 problem+json, never 422 or {"msg"}."""

from __future__ import annotations

import base64
import json
import time

import jwt as pyjwt
import pytest

from expense_api.api.app import create_app
from tests.helpers import TEST_SECRET, assert_problem


def _segments(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _me(client, token: str | None, scheme: str = "Bearer"):
    headers = {} if token is None else {"Authorization": f"{scheme} {token}"}
    return client.get("/api/auth/me", headers=headers)


def test_missing_token(client):
    body = assert_problem(_me(client, None), 401, "authentication_required")
    assert "msg" not in body


def test_401_carries_www_authenticate(client):
    assert _me(client, "garbage").headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "", "x" * 5000])
def test_malformed_token(client, token):
    assert_problem(_me(client, token), 401)


def test_wrong_scheme(alice, client):
    assert_problem(_me(client, alice.tokens["accessToken"], scheme="Basic"), 401)


def test_tampered_claims(alice, accounts, client):
    other = accounts.register()
    header, payload, signature = _segments(alice.tokens["accessToken"])
    payload["sub"] = str(other["id"])
    forged = f"{_b64(header)}.{_b64(payload)}.{signature}"
    assert_problem(_me(client, forged), 401, "invalid_token")


def test_alg_none(alice, client):
    _, payload, _ = _segments(alice.tokens["accessToken"])
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    assert_problem(_me(client, forged), 401, "invalid_token")


def test_wrong_key(alice, client):
    _, payload, _ = _segments(alice.tokens["accessToken"])
    forged = pyjwt.encode(payload, "another-secret-" + "y" * 40, algorithm="HS256")
    assert_problem(_me(client, forged), 401, "invalid_token")


def test_other_algorithm_with_the_right_key(alice, client):
    _, payload, _ = _segments(alice.tokens["accessToken"])
    forged = pyjwt.encode(payload, TEST_SECRET, algorithm="HS512")
    assert_problem(_me(client, forged), 401, "invalid_token")


def test_expired(alice, client):
    _, payload, _ = _segments(alice.tokens["accessToken"])
    payload["exp"] = int(time.time()) - 5
    expired = pyjwt.encode(payload, TEST_SECRET, algorithm="HS256")
    assert_problem(_me(client, expired), 401, "token_expired")


def test_not_yet_valid(alice, client):
    _, payload, _ = _segments(alice.tokens["accessToken"])
    payload["nbf"] = int(time.time()) + 600
    early = pyjwt.encode(payload, TEST_SECRET, algorithm="HS256")
    assert_problem(_me(client, early), 401, "invalid_token")


def test_validly_signed_token_without_a_session_is_refused(alice, client):
    _, payload, _ = _segments(alice.tokens["accessToken"])
    payload["sid"] = "00000000-0000-4000-8000-000000000000"
    orphan = pyjwt.encode(payload, TEST_SECRET, algorithm="HS256")
    assert_problem(_me(client, orphan), 401, "token_revoked")


def test_validly_signed_token_with_bad_claims_is_refused(alice, client):
    _, payload, _ = _segments(alice.tokens["accessToken"])
    payload["sid"] = "not-a-uuid"
    assert_problem(_me(client, pyjwt.encode(payload, TEST_SECRET, algorithm="HS256")), 401)


def test_refresh_token_is_not_an_access_token(alice, client):
    assert_problem(_me(client, alice.tokens["refreshToken"]), 401, "invalid_token")


def test_access_token_cannot_refresh(alice, client):
    response = client.post(
        "/api/auth/refresh", headers={"Authorization": f"Bearer {alice.tokens['accessToken']}"}
    )
    assert_problem(response, 401, "invalid_token")


def test_refresh_needs_a_token(client):
    assert_problem(client.post("/api/auth/refresh"), 401, "authentication_required")


def test_deleted_users_token_is_refused(alice, conn):
    conn.execute("DELETE FROM users WHERE id = %s", (alice.id,))
    assert_problem(alice.get("/api/auth/me"), 401, "token_revoked")


def test_a_cached_token_still_expires(alice, app, client, monkeypatch):
    from expense_api.api.core import tokens

    assert _me(client, alice.tokens["accessToken"]).status_code == 200  # verified and cached
    assert alice.tokens["accessToken"] in app.extensions[tokens.jwt.EXTENSION]
    later = time.time() + 16 * 60  # past the 15-minute lifetime
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    monkeypatch.setattr("jwt.api_jwt.datetime", _frozen_datetime(later))
    assert_problem(_me(client, alice.tokens["accessToken"]), 401, "token_expired")
    assert alice.tokens["accessToken"] not in app.extensions[tokens.jwt.EXTENSION]


def test_a_full_token_cache_starts_afresh(alice, app, client, monkeypatch):
    from expense_api.api.core import tokens

    monkeypatch.setattr(tokens.jwt, "CACHE_SIZE", 2)
    cache = app.extensions[tokens.jwt.EXTENSION]
    cache.clear()
    cache.update({"a": {"exp": time.time() + 60}, "b": {"exp": time.time() + 60}})
    assert _me(client, alice.tokens["accessToken"]).status_code == 200
    assert list(cache) == [alice.tokens["accessToken"]]


def test_a_cached_token_is_still_revocable(alice, client):
    assert _me(client, alice.tokens["accessToken"]).status_code == 200
    alice.post("/api/auth/logout")
    assert_problem(_me(client, alice.tokens["accessToken"]), 401, "token_revoked")


def test_a_token_cached_by_one_app_is_verified_afresh_by_another(alice, app, database_url):
    from tests.helpers import client_from, make_settings

    assert _me(client_from(app, "10.250.0.1"), alice.tokens["accessToken"]).status_code == 200
    other = create_app(make_settings(JWT_SECRET_KEY="another-secret-" + "z" * 40), database_url)
    try:
        response = _me(client_from(other, "10.250.0.2"), alice.tokens["accessToken"])
        assert_problem(response, 401, "invalid_token")
    finally:
        other.extensions["database"].close()


def _frozen_datetime(timestamp: float):
    """PyJWT's `datetime` class, with now() fixed at `timestamp`."""
    from datetime import UTC, datetime

    class FrozenDateTime(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(timestamp, tz=tz or UTC)

    return FrozenDateTime


def test_a_verified_tokens_header_is_parsed_once_per_worker(alice, client, monkeypatch):
    """flask-jwt-extended's unverified header parse is cached for verified tokens only
    (api/core/tokens.py); a forged token's header is still parsed, and still refused."""
    parsed = []
    original = pyjwt.get_unverified_header
    monkeypatch.setattr(pyjwt, "get_unverified_header", lambda t: parsed.append(t) or original(t))
    token = alice.tokens["accessToken"]
    for _ in range(5):
        assert _me(client, token).status_code == 200
    # The first request parses it twice (verifying it, then for its header); without the
    # cache each request would parse the header again (6 in all).
    assert parsed.count(token) == 2
    _, payload, signature = _segments(token)
    forged = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 7})}.{_b64(payload)}.{signature}"
    for _ in range(2):
        assert_problem(_me(client, forged), 401, "invalid_token")
    assert forged not in client.application.extensions["expense_api.verified_token_headers"]


_WRONG_CLAIMS = {
    "exp as a string": {"exp": "9999999999"},
    "exp as a boolean": {"exp": True},
    "exp as null": {"exp": None},
    "exp as a list": {"exp": [9999999999]},
    "no exp": {"exp": ...},
    "iat as a string": {"iat": "1"},
    "iat as a boolean": {"iat": False},
    "nbf as a string": {"nbf": "1"},
    "nbf as an object": {"nbf": {"a": 1}},
    "sub as a number": {"sub": 1},
    "sub as a decimal": {"sub": 1.0},
    "sub not a user id": {"sub": " 1"},
    "sub of non-ASCII digits": {"sub": "\u0661"},
    "sid as a number": {"sid": 5},
    "sid as a list": {"sid": ["00000000-0000-4000-8000-000000000000"]},
    "jti as a number": {"jti": 5},
    "type as a list": {"type": ["access"]},
    "type unknown": {"type": "id"},
    "fresh as a string": {"fresh": "yes"},
    "csrf as a number": {"csrf": 5},
}


@pytest.mark.parametrize("changes", _WRONG_CLAIMS.values(), ids=_WRONG_CLAIMS.keys())
def test_a_signed_token_with_a_claim_of_the_wrong_type_is_refused_every_time(
    alice, accounts, client, changes
):
    """Validly signed, but a claim the service reads has the wrong JSON type (or exp is
    missing): 401 problem+json on every use, never a 500 (the verified-token cache compared
    a string exp with a number on the second use) and never a token that never expires."""
    _, payload, _ = _segments(alice.tokens["accessToken"])
    payload["sub"] = str(alice.id)  # the user's own id: only the changed claim is wrong
    for claim, value in changes.items():
        if value is ...:
            del payload[claim]
        else:
            payload[claim] = value
    token = pyjwt.encode(payload, TEST_SECRET, algorithm="HS256")
    for _ in range(2):
        assert_problem(_me(client, token), 401, "invalid_token")
    assert token not in client.application.extensions["expense_api.verified_tokens"]


def test_a_refresh_token_with_a_claim_of_the_wrong_type_is_refused(alice, client):
    _, payload, _ = _segments(alice.tokens["refreshToken"])
    payload["jti"] = 12345
    token = pyjwt.encode(payload, TEST_SECRET, algorithm="HS256")
    for _ in range(2):
        response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 401, "invalid_token")
