"""Signing keys rotate: tokens name their key by `kid`, the newest configured key signs, every
configured key verifies, and a removed key's tokens are refused (docs/SECURITY.md, "Rotating the
signing keys").

The session app (`app`, `alice`) runs with one key, K1 (TEST_SECRET): the service before a
rotation. `rotated` is the same service restarted with [K2, K1], `rotated_out` with [K2] alone;
all three share the database, as instances of one deployment do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time

import jwt as pyjwt
import pytest

from expense_api.api.app import create_app
from expense_api.api.core import tokens
from expense_api.config import ConfigError, load_settings
from tests.helpers import TEST_SECRET, Accounts, assert_problem, client_from, make_settings

K1 = TEST_SECRET
K2 = "second-secret-" + "y" * 40
K3 = "never-configured-" + "z" * 40  # a key this service never had

_addresses = itertools.count(1)


def _app_with(database_url, keys: list[str]):
    return create_app(make_settings(JWT_SECRET_KEY=",".join(keys)), database_url)


@pytest.fixture(scope="module")
def rotated(database_url):
    application = _app_with(database_url, [K2, K1])
    yield application
    application.extensions["database"].close()


@pytest.fixture(scope="module")
def new_key_verifying(database_url):
    """A rolling restart's first step (docs/SECURITY.md): the old key still signs, the new one
    only verifies."""
    application = _app_with(database_url, [K1, K2])
    yield application
    application.extensions["database"].close()


@pytest.fixture(scope="module")
def rotated_out(database_url):
    application = _app_with(database_url, [K2])
    yield application
    application.extensions["database"].close()


def _client(app):
    n = next(_addresses)
    return client_from(app, f"10.252.{n // 256 % 256}.{n % 256}")


def _me(app, token: str):
    return _client(app).get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})


def _refresh(app, refresh_token: str):
    return _client(app).post(
        "/api/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"}
    )


def _kid(token: str):
    return pyjwt.get_unverified_header(token).get("kid", "(none)")


def _claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def _signed(claims: dict, key: str, **header) -> str:
    """A token with these claims signed with `key`; `header` adds (or, as None, leaves out)
    header fields, as a token made before kids or by someone else would look."""
    return pyjwt.encode(claims, key, algorithm=header.pop("alg", "HS256"), headers=header or None)


def test_a_key_id_is_derived_from_the_key_and_shows_nothing_of_it():
    kid = tokens.key_id(K2)
    assert kid == tokens.key_id(K2) != tokens.key_id(K1)
    assert len(kid) == 16 and int(kid, 16) >= 0
    assert kid not in K2


def test_tokens_name_the_newest_key_and_are_signed_with_it(rotated):
    user = Accounts(_client(rotated)).new_user()
    for token in (user.tokens["accessToken"], user.tokens["refreshToken"]):
        assert _kid(token) == tokens.key_id(K2)
        pyjwt.decode(token, K2, algorithms=["HS256"])  # raises unless K2 signed it
        with pytest.raises(pyjwt.InvalidSignatureError):
            pyjwt.decode(token, K1, algorithms=["HS256"])


def test_a_single_key_service_names_its_key_too(alice):
    assert _kid(alice.tokens["accessToken"]) == tokens.key_id(K1)
    assert _kid(alice.tokens["refreshToken"]) == tokens.key_id(K1)


def test_a_rotation_keeps_old_tokens_and_removing_the_old_key_ends_them(
    alice, rotated, rotated_out
):
    old_access, old_refresh = alice.tokens["accessToken"], alice.tokens["refreshToken"]
    # Restarted with [K2, K1]: K1's tokens still work, nobody is signed out.
    assert _me(rotated, old_access).status_code == 200
    # Restarted with [K2]: K1's access and refresh tokens are refused at once.
    assert_problem(_me(rotated_out, old_access), 401, "invalid_token")
    assert_problem(_refresh(rotated_out, old_refresh), 401, "invalid_token")
    # Refused for its key, not revoked: the session lives on where K1 still verifies.
    assert _me(rotated, old_access).status_code == 200


def test_refreshing_an_old_token_after_a_rotation_gives_new_key_tokens(alice, rotated, rotated_out):
    response = _refresh(rotated, alice.tokens["refreshToken"])
    assert response.status_code == 200, response.get_json()
    new = response.get_json()
    assert _kid(new["accessToken"]) == _kid(new["refreshToken"]) == tokens.key_id(K2)
    # The new pair outlives the old key: it works once K1 is removed.
    assert _me(rotated_out, new["accessToken"]).status_code == 200
    assert _refresh(rotated_out, new["refreshToken"]).status_code == 200


def test_a_roll_through_a_verifying_key_signs_nobody_out(alice, new_key_verifying, rotated):
    """Old and new instances side by side during each step of a roll accept each other's
    tokens: [K1] with [K1, K2], then [K1, K2] with [K2, K1]."""
    user = Accounts(_client(new_key_verifying)).new_user()
    assert _kid(user.tokens["accessToken"]) == tokens.key_id(K1)  # the old key still signs
    assert _me(alice.client.application, user.tokens["accessToken"]).status_code == 200
    newer = Accounts(_client(rotated)).new_user()
    assert _me(new_key_verifying, newer.tokens["accessToken"]).status_code == 200
    assert _refresh(new_key_verifying, newer.tokens["refreshToken"]).status_code == 200


def test_graphql_refuses_a_removed_keys_token(alice, rotated, rotated_out):
    query = {"query": "{ me { id } }"}
    headers = {"Authorization": f"Bearer {alice.tokens['accessToken']}"}
    assert _client(rotated).post("/api/graphql", json=query, headers=headers).status_code == 200
    response = _client(rotated_out).post("/api/graphql", json=query, headers=headers)
    assert_problem(response, 401, "invalid_token")


def test_a_refresh_by_cookie_after_a_rotation_gives_a_new_key_cookie(accounts, rotated):
    user = accounts.new_user()  # signed in under K1, in cookie mode
    client = _client(rotated)
    login = accounts.client.post(
        "/api/auth/login",
        json={"email": user.data["email"], "password": user.data["password"],
              "refreshCookie": True},
    )  # fmt: skip
    cookies = {c.key: c.value for c in _set_cookies(login)}
    assert _kid(cookies["refresh_token"]) == tokens.key_id(K1)
    client.set_cookie("refresh_token", cookies["refresh_token"], path="/api/auth/refresh")
    response = client.post(
        "/api/auth/refresh", headers={"X-CSRF-Token": cookies["csrf_refresh_token"]}
    )
    assert response.status_code == 200, response.get_json()
    renewed = {c.key: c.value for c in _set_cookies(response)}
    assert _kid(renewed["refresh_token"]) == tokens.key_id(K2)


def _set_cookies(response):
    from http.cookies import SimpleCookie

    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        yield from cookie.values()


def test_a_restart_without_the_key_refuses_what_the_old_app_had_verified(
    alice, rotated, rotated_out
):
    """The verified-token cache is per application and keyed by token text; an application's
    keys are read at start. So a token verified (and cached) under [K2, K1] is verified afresh,
    and refused, by the application restarted with [K2]."""
    token = alice.tokens["accessToken"]
    assert _me(rotated, token).status_code == 200
    assert token in rotated.extensions[tokens.jwt.EXTENSION]
    assert_problem(_me(rotated_out, token), 401, "invalid_token")
    assert token not in rotated_out.extensions[tokens.jwt.EXTENSION]
    assert _me(rotated, token).status_code == 200  # the rotated app's cache was right, too


def test_an_unknown_kid_is_refused(alice, app, rotated):
    claims = _claims(alice.tokens["accessToken"])
    # Signed with a configured key, but naming a key the service does not have.
    assert_problem(_me(app, _signed(claims, K1, kid="0123456789abcdef")), 401, "invalid_token")
    # Naming and signed with a key the service never had.
    assert_problem(_me(rotated, _signed(claims, K3, kid=tokens.key_id(K3))), 401, "invalid_token")
    # The kid pins the key: K1's kid on a token K2 signed is refused, though both are configured.
    assert_problem(_me(rotated, _signed(claims, K2, kid=tokens.key_id(K1))), 401, "invalid_token")
    assert _me(rotated, _signed(claims, K2, kid=tokens.key_id(K2))).status_code == 200


@pytest.mark.parametrize("kid", [7, ["x"], {"a": 1}, None, ""])
def test_a_kid_of_the_wrong_type_is_refused(alice, app, kid):
    claims = _claims(alice.tokens["accessToken"])
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    assert_problem(_me(app, _hand_signed(header, claims, K1)), 401, "invalid_token")
    good = _hand_signed({**header, "kid": tokens.key_id(K1)}, claims, K1)
    assert _me(app, good).status_code == 200  # the hand signing is right: only the kid differs


def _hand_signed(header: dict, claims: dict, key: str) -> str:
    """HS256 over any header (PyJWT will not write a kid that is not a string)."""
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")  # noqa: E731
    signing_input = part(header) + b"." + part(claims)
    signature = hmac.new(key.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def test_a_token_without_a_kid_is_verified_with_the_oldest_key(alice, app, rotated, rotated_out):
    """Tokens issued before tokens carried a kid were signed with the one key of the time: they
    keep working while it is the oldest key listed, and end when it is removed."""
    claims = _claims(alice.tokens["accessToken"])
    kidless_k1 = _signed(claims, K1)
    assert "kid" not in pyjwt.get_unverified_header(kidless_k1)
    assert _me(app, kidless_k1).status_code == 200
    assert _me(rotated, kidless_k1).status_code == 200
    assert_problem(_me(rotated_out, kidless_k1), 401, "invalid_token")
    # Only the oldest key verifies a kid-less token: K2 is configured but is not the oldest.
    assert_problem(_me(rotated, _signed(claims, K2)), 401, "invalid_token")
    refresh = _signed(_claims(alice.tokens["refreshToken"]), K1)
    assert_problem(_refresh(rotated_out, refresh), 401, "invalid_token")
    assert _refresh(rotated, refresh).status_code == 200


@pytest.mark.parametrize("key", [K1, K2], ids=["old key", "new key"])
def test_algorithm_confusion_is_still_refused(alice, rotated, key):
    claims = _claims(alice.tokens["accessToken"])
    kid = tokens.key_id(key)
    assert_problem(_me(rotated, _signed(claims, key, kid=kid, alg="HS512")), 401, "invalid_token")
    unsigned = pyjwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    assert_problem(_me(rotated, unsigned), 401, "invalid_token")
    # The kid names a key; it is never the key: a token signed with the kid text is refused.
    assert_problem(_me(rotated, _signed(claims, kid, kid=kid)), 401, "invalid_token")


def test_an_expired_token_of_a_removed_key_is_invalid_not_expired(alice, rotated_out):
    claims = {**_claims(alice.tokens["accessToken"]), "exp": int(time.time()) - 5}
    assert_problem(
        _me(rotated_out, _signed(claims, K1, kid=tokens.key_id(K1))), 401, "invalid_token"
    )


def test_the_retried_refresh_lookup_picks_the_key_the_same_way(alice, rotated, rotated_out):
    """claims_before_session_check (which finds a retried refresh's stored answer) decodes
    with the same key selection as the full check."""
    refresh = alice.tokens["refreshToken"]
    headers = {"Authorization": f"Bearer {refresh}"}
    with rotated.test_request_context("/api/auth/refresh", method="POST", headers=headers):
        found = tokens.claims_before_session_check(refresh=True)
    assert found is not None and found[0] == alice.id
    with rotated_out.test_request_context("/api/auth/refresh", method="POST", headers=headers):
        assert tokens.claims_before_session_check(refresh=True) is None


# Configuration: every key must be strong, because every key verifies.


def _env(keys: str, tmp_path) -> dict:
    return {"APP_ENV": "production", "JWT_SECRET_KEY": keys, "DATA_DIR": str(tmp_path),
            "WEBHOOK_SECRETS_KEY": "l" * 43 + "="}  # fmt: skip


def test_several_strong_keys_are_read_newest_first(tmp_path):
    settings = load_settings(_env(f"{K2}, {K1} ", tmp_path))
    assert settings.jwt_secret_keys == (K2, K1)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (f"{K2},short,{K1}", r"key 2 of 3\) must be at least 32"),
        (f"{K2},{'s' * 31}", r"key 2 of 2\) must be at least 32"),
        (f"{K2},,{K1}", r"key 2 of 3\) must be at least 32"),
        (f"{K2},", r"key 2 of 2\) must be at least 32"),
        (f"{K2},{K1},{K2}", "lists a key twice"),
    ],
    ids=["short among several", "31 characters", "empty entry", "trailing comma", "twice"],
)
def test_a_weak_or_repeated_key_refuses_to_start(tmp_path, keys, message):
    for app_env in ("production", "development"):
        with pytest.raises(ConfigError, match=message) as refused:
            load_settings({**_env(keys, tmp_path), "APP_ENV": app_env})
        assert K1 not in str(refused.value) and K2 not in str(refused.value)
