"""Two-factor sign-in (TOTP): setup, enabling, disabling, login with a code or a recovery code,
drift, replay, throttling and concurrency. Time is a fixed clock (two_factor.clock); codes are
computed with pyotp's own TOTP.at, as an authenticator app would."""

from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest

from expense_api.api.app import create_app
from expense_api.services.auth import two_factor
from expense_api.services.webhooks import signing
from tests.factories import race
from tests.helpers import Accounts, User, assert_problem, client_from, make_settings

T0 = 1_800_000_000  # a step boundary (divisible by 30)
STEP = 30


@pytest.fixture
def clock(monkeypatch):
    """The service's clock, fixed at `clock.now` (seconds) until a test moves it."""

    class Clock:
        now = T0 + 7

    monkeypatch.setattr(two_factor, "clock", lambda: Clock.now)
    return Clock


def _code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


def _setup(user: User) -> dict:
    response = user.post("/api/auth/totp/setup")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _enable(user: User, clock) -> tuple[str, list[str]]:
    """Two-factor on for `user` at the clock's time: its secret and recovery codes."""
    secret = _setup(user)["secret"]
    response = user.post("/api/auth/totp/enable", json={"code": _code(secret, clock.now)})
    assert response.status_code == 200, response.get_json()
    return secret, response.get_json()["recoveryCodes"]


def _login(client, user: User, **extra):
    body = {"email": user.data["email"], "password": Accounts.password, **extra}
    return client.post("/api/auth/login", json=body)


def _later(clock, steps: int) -> None:
    clock.now += steps * STEP


def _events(conn, user: User) -> list[tuple[str, dict]]:
    rows = conn.execute(
        "SELECT kind, detail FROM security_events WHERE user_id = %s ORDER BY id", (user.id,)
    ).fetchall()
    return [(kind, detail) for kind, detail in rows]


# Setup


def test_setup_answers_a_secret_its_uri_and_qr_code(alice, conn, app, clock):
    answer = _setup(alice)
    assert answer.keys() == {"secret", "otpauthUri", "qrCode"}
    secret = answer["secret"]
    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    uri = urlparse(answer["otpauthUri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == f"/expense-api:{alice.data['email']}"
    assert parse_qs(uri.query) == {"secret": [secret], "issuer": ["expense-api"]}
    prefix = "data:image/svg+xml;base64,"
    assert answer["qrCode"].startswith(prefix)
    svg = base64.b64decode(answer["qrCode"][len(prefix) :]).decode()
    assert svg.startswith("<svg") and "<script" not in svg
    # Kept encrypted with the webhook secrets' cipher, pending: two-factor is not on yet.
    stored, on = conn.execute(
        "SELECT totp_pending_secret, totp_secret FROM users WHERE id = %s", (alice.id,)
    ).fetchone()
    assert on is None and secret not in stored
    keys = app.config["SETTINGS"].webhook_secrets_key
    assert signing.cipher(keys).decrypt(stored.encode()).decode() == secret
    assert _login(alice.client, alice).status_code == 200  # no code asked while pending


def test_a_new_setup_replaces_a_pending_one(alice, clock):
    first = _setup(alice)["secret"]
    second = _setup(alice)["secret"]
    assert first != second
    refused = alice.post("/api/auth/totp/enable", json={"code": _code(first, clock.now)})
    assert_problem(refused, 422, "validation_error")
    ok = alice.post("/api/auth/totp/enable", json={"code": _code(second, clock.now)})
    assert ok.status_code == 200


def test_setup_while_enabled_is_409(alice, clock):
    _enable(alice, clock)
    assert_problem(alice.post("/api/auth/totp/setup"), 409, "totp_already_enabled")


# Enabling


def test_enable_turns_it_on_with_ten_recovery_codes(alice, conn, app, clock):
    secret, codes = _enable(alice, clock)
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        assert set("".join(groups)) <= set("abcdefghijklmnopqrstuvwxyz234567")
    stored, pending, enabled_at, last_step = conn.execute(
        "SELECT totp_secret, totp_pending_secret, totp_enabled_at, totp_last_step FROM users "
        "WHERE id = %s",
        (alice.id,),
    ).fetchone()
    assert pending is None and enabled_at is not None and last_step == clock.now // STEP
    assert secret not in stored
    keys = app.config["SETTINGS"].webhook_secrets_key
    assert signing.cipher(keys).decrypt(stored.encode()).decode() == secret
    hashes = {
        bytes(h)
        for (h,) in conn.execute(
            "SELECT code_hash FROM totp_recovery_codes WHERE user_id = %s", (alice.id,)
        )
    }
    assert hashes == {hashlib.sha256(c.replace("-", "").upper().encode()).digest() for c in codes}
    assert [kind for kind, _ in _events(conn, alice)][-1] == "totp_enabled"


def test_enable_without_setup_is_409(alice, clock):
    refused = alice.post("/api/auth/totp/enable", json={"code": "123456"})
    assert_problem(refused, 409, "totp_not_set_up")


def test_enable_with_a_wrong_code_is_422_naming_code(alice, clock):
    secret = _setup(alice)["secret"]
    wrong = _code(secret, clock.now + 5 * STEP)
    body = assert_problem(
        alice.post("/api/auth/totp/enable", json={"code": wrong}), 422, "validation_error"
    )
    assert list(body["errors"]) == ["code"]
    assert _login(alice.client, alice).status_code == 200  # still off


def test_enable_twice_is_409_and_enabling_again_replaces_the_recovery_codes(alice, conn, clock):
    secret, old_codes = _enable(alice, clock)
    again = alice.post("/api/auth/totp/enable", json={"code": _code(secret, clock.now)})
    assert_problem(again, 409, "totp_already_enabled")
    _later(clock, 2)
    disabled = alice.post(
        "/api/auth/totp/disable",
        json={"password": Accounts.password, "code": _code(secret, clock.now)},
    )
    assert disabled.status_code == 204
    _, new_codes = _enable(alice, clock)
    assert not set(old_codes) & set(new_codes)
    (count,) = conn.execute(
        "SELECT count(*) FROM totp_recovery_codes WHERE user_id = %s", (alice.id,)
    ).fetchone()
    assert count == 10
    assert_problem(_login(alice.client, alice, totp=old_codes[0]), 401, "invalid_totp")


# Login


def test_login_needs_the_code_once_enabled(alice, conn, clock):
    secret, _ = _enable(alice, clock)
    _later(clock, 3)
    assert_problem(_login(alice.client, alice), 401, "totp_required")
    ok = _login(alice.client, alice, totp=_code(secret, clock.now))
    assert ok.status_code == 200 and ok.get_json()["accessToken"]
    # Asking for the code is not a failure.
    assert ("login_failed", {"reason": "totp"}) not in _events(conn, alice)


def test_a_wrong_password_never_tells_that_two_factor_is_on(alice, clock):
    secret, _ = _enable(alice, clock)
    _later(clock, 1)
    for extra in ({}, {"totp": _code(secret, clock.now)}, {"totp": "000000"}):
        refused = _login(alice.client, alice, password="not the password", **extra)
        assert_problem(refused, 401, "invalid_credentials")


def test_a_wrong_code_is_401_and_a_failed_login(alice, conn, clock):
    secret, _ = _enable(alice, clock)
    _later(clock, 10)
    wrong = _code(secret, clock.now + 5 * STEP)
    assert_problem(_login(alice.client, alice, totp=wrong), 401, "invalid_totp")
    assert _events(conn, alice)[-1] == ("login_failed", {"reason": "totp"})


@pytest.mark.parametrize("drift", [-1, 0, 1])
def test_one_step_of_drift_either_way_is_accepted(alice, clock, drift):
    secret, _ = _enable(alice, clock)
    _later(clock, 10)
    code = _code(secret, clock.now + drift * STEP)
    assert _login(alice.client, alice, totp=code).status_code == 200


@pytest.mark.parametrize("drift", [-2, 2])
def test_two_steps_of_drift_are_refused(alice, clock, drift):
    secret, _ = _enable(alice, clock)
    _later(clock, 10)
    code = _code(secret, clock.now + drift * STEP)
    assert_problem(_login(alice.client, alice, totp=code), 401, "invalid_totp")


def test_an_accepted_code_is_refused_the_second_time(alice, clock):
    secret, _ = _enable(alice, clock)
    _later(clock, 10)
    code = _code(secret, clock.now)
    assert _login(alice.client, alice, totp=code).status_code == 200
    assert_problem(_login(alice.client, alice, totp=code), 401, "invalid_totp")
    # Still refused within its drift window, from another address too.
    _later(clock, 1)
    other = client_from(alice.client.application, "192.0.2.99")
    assert_problem(_login(other, alice, totp=code), 401, "invalid_totp")


def test_the_enabling_code_cannot_log_in(alice, clock):
    secret, _ = _enable(alice, clock)
    assert_problem(_login(alice.client, alice, totp=_code(secret, clock.now)), 401, "invalid_totp")


def test_an_earlier_steps_code_is_refused_after_a_later_one_was_used(alice, clock):
    secret, _ = _enable(alice, clock)
    _later(clock, 10)
    later, now = _code(secret, clock.now + STEP), _code(secret, clock.now)
    assert later != now
    assert _login(alice.client, alice, totp=later).status_code == 200
    assert_problem(_login(alice.client, alice, totp=now), 401, "invalid_totp")


def test_each_recovery_code_works_once(alice, conn, clock):
    _, codes = _enable(alice, clock)
    assert _login(alice.client, alice, totp=codes[0]).status_code == 200
    assert_problem(_login(alice.client, alice, totp=codes[0]), 401, "invalid_totp")
    # Any case, dashes or not.
    assert _login(alice.client, alice, totp=codes[1].replace("-", "").upper()).status_code == 200
    used = [detail for kind, detail in _events(conn, alice) if kind == "recovery_code_used"]
    assert used == [{"codes_left": 9}, {"codes_left": 8}]


def test_an_unknown_recovery_code_is_refused(alice, clock):
    _enable(alice, clock)
    assert_problem(_login(alice.client, alice, totp="aaaa-bbbb-cccc-dddd"), 401, "invalid_totp")


def test_another_accounts_code_is_refused(accounts, clock):
    alice, bob = accounts.new_user(name="Alice"), accounts.new_user(name="Bob")
    _, alice_codes = _enable(alice, clock)
    bob_secret, _ = _enable(bob, clock)
    _later(clock, 5)
    assert_problem(_login(bob.client, bob, totp=alice_codes[0]), 401, "invalid_totp")
    assert _login(bob.client, bob, totp=_code(bob_secret, clock.now)).status_code == 200


@pytest.fixture
def strict_app(database_url):
    settings = make_settings(
        LOGIN_MAX_FAILURES_PER_EMAIL=3, LOGIN_MAX_FAILURES_PER_ADDRESS=50, LOGIN_THROTTLE_SECONDS=60
    )
    application = create_app(settings, database_url)
    yield application
    application.extensions["database"].close()


def _strict_user(strict_app, address: str) -> User:
    return Accounts(client_from(strict_app, address)).new_user()


def test_wrong_codes_count_toward_the_login_throttle(strict_app, clock):
    user = _strict_user(strict_app, "192.0.2.50")
    secret, _ = _enable(user, clock)
    _later(clock, 10)
    wrong = _code(secret, clock.now + 5 * STEP)
    for _ in range(3):
        assert_problem(_login(user.client, user, totp=wrong), 401, "invalid_totp")
    blocked = _login(user.client, user, totp=_code(secret, clock.now))
    assert_problem(blocked, 429, "login_throttled")


def test_parallel_wrong_codes_never_get_past_the_limit(strict_app, clock, monkeypatch):
    """Someone with the password sends codes in parallel, from many addresses: while the first
    ones are being checked, the others must not slip past the throttle (limit 3 here), or the
    six digits could be guessed at any rate the server can serve."""
    user = _strict_user(strict_app, "192.0.2.51")
    secret, _ = _enable(user, clock)
    _later(clock, 10)
    verify = two_factor.verify

    def slow_verify(*args, **kwargs):
        time.sleep(0.3)  # the others arrive while this code is being checked
        return verify(*args, **kwargs)

    monkeypatch.setattr(two_factor, "verify", slow_verify)
    wrong = _code(secret, clock.now + 5 * STEP)
    clients = [client_from(strict_app, f"198.51.100.{10 + i}") for i in range(12)]
    answers = race(12, lambda i: _login(clients[i], user, totp=wrong))
    codes = sorted(answer.get_json()["code"] for answer in answers)
    assert codes == ["invalid_totp"] * 3 + ["login_throttled"] * 9
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers if a.status_code == 429)


def test_concurrent_logins_with_one_code_let_exactly_one_in(app, accounts, clock):
    user = accounts.new_user()
    secret, _ = _enable(user, clock)
    _later(clock, 10)
    code = _code(secret, clock.now)
    clients = [client_from(app, f"192.0.2.{160 + i}") for i in range(8)]
    statuses = race(8, lambda i: _login(clients[i], user, totp=code).status_code)
    # The others: the code spent (401), or past the email's five attempts (429).
    assert statuses.count(200) == 1 and set(statuses) <= {200, 401, 429}


def test_concurrent_logins_with_one_recovery_code_let_exactly_one_in(app, accounts, clock):
    user = accounts.new_user()
    _, codes = _enable(user, clock)
    clients = [client_from(app, f"192.0.2.{180 + i}") for i in range(8)]
    statuses = race(8, lambda i: _login(clients[i], user, totp=codes[0]).status_code)
    # The others: the code spent (401), or past the email's five attempts (429).
    assert statuses.count(200) == 1 and set(statuses) <= {200, 401, 429}


# Disabling


def test_disable_with_password_and_code(alice, conn, clock):
    secret, _ = _enable(alice, clock)
    _later(clock, 2)
    response = alice.post(
        "/api/auth/totp/disable",
        json={"password": Accounts.password, "code": _code(secret, clock.now)},
    )
    assert response.status_code == 204
    row = conn.execute(
        "SELECT totp_secret, totp_pending_secret, totp_enabled_at, totp_last_step FROM users "
        "WHERE id = %s",
        (alice.id,),
    ).fetchone()
    assert row == (None, None, None, None)
    (codes,) = conn.execute(
        "SELECT count(*) FROM totp_recovery_codes WHERE user_id = %s", (alice.id,)
    ).fetchone()
    assert codes == 0
    assert _events(conn, alice)[-1][0] == "totp_disabled"
    assert _login(alice.client, alice).status_code == 200


def test_disable_with_a_recovery_code(alice, clock):
    _, codes = _enable(alice, clock)
    response = alice.post(
        "/api/auth/totp/disable", json={"password": Accounts.password, "code": codes[3]}
    )
    assert response.status_code == 204
    assert _login(alice.client, alice).status_code == 200


def test_disable_refuses_a_wrong_password_or_code_with_403(alice, conn, clock):
    secret, _ = _enable(alice, clock)
    _later(clock, 2)
    code = _code(secret, clock.now)
    wrong_password = alice.post(
        "/api/auth/totp/disable", json={"password": "not the password", "code": code}
    )
    assert_problem(wrong_password, 403, "invalid_password")
    wrong_code = alice.post(
        "/api/auth/totp/disable",
        json={"password": Accounts.password, "code": _code(secret, clock.now + 5 * STEP)},
    )
    assert_problem(wrong_code, 403, "invalid_totp")
    failed = [detail for kind, detail in _events(conn, alice) if kind == "totp_disable_failed"]
    assert failed == [{"reason": "password"}, {"reason": "totp"}]
    # Still on, and the token still works.
    assert_problem(_login(alice.client, alice), 401, "totp_required")
    assert alice.get("/api/auth/me").status_code == 200


def test_disable_when_off_is_409(alice, clock):
    refused = alice.post(
        "/api/auth/totp/disable", json={"password": Accounts.password, "code": "123456"}
    )
    assert_problem(refused, 409, "totp_not_enabled")


def test_wrong_passwords_on_disable_count_toward_the_login_throttle(strict_app, clock):
    user = _strict_user(strict_app, "192.0.2.60")
    secret, _ = _enable(user, clock)
    _later(clock, 2)
    code = _code(secret, clock.now)
    for _ in range(3):
        refused = user.post("/api/auth/totp/disable", json={"password": "wrong", "code": code})
        assert_problem(refused, 403, "invalid_password")
    blocked = user.post(
        "/api/auth/totp/disable", json={"password": Accounts.password, "code": code}
    )
    assert_problem(blocked, 429, "login_throttled")
    assert_problem(_login(user.client, user, totp=code), 429, "login_throttled")


# Validation and authentication


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/totp/enable", {}, "code"),
        ("/api/auth/totp/enable", {"code": "12345"}, "code"),
        ("/api/auth/totp/enable", {"code": "1234567"}, "code"),
        ("/api/auth/totp/enable", {"code": "12a456"}, "code"),
        ("/api/auth/totp/enable", {"code": 123456}, "code"),
        ("/api/auth/totp/enable", {"code": "aaaa-bbbb-cccc-dddd"}, "code"),
        ("/api/auth/totp/disable", {"code": "123456"}, "password"),
        ("/api/auth/totp/disable", {"password": "x"}, "code"),
        ("/api/auth/totp/disable", {"password": "x", "code": "12345"}, "code"),
        ("/api/auth/totp/disable", {"password": "x", "code": "aaaa-bbbb-cccc-ddd1"}, "code"),
        ("/api/auth/totp/disable", {"password": "", "code": "123456"}, "password"),
    ],
)
def test_bodies_are_validated(alice, path, body, field):
    response = alice.post(path, json=body)
    assert field in assert_problem(response, 422, "validation_error")["errors"]


@pytest.mark.parametrize("totp", ["12345", "abcdefg", "aaaa-bbbb-cccc", "", 123456])
def test_login_validates_totp(client, totp):
    body = {"email": "someone@example.com", "password": "x", "totp": totp}
    response = client.post("/api/auth/login", json=body)
    assert "totp" in assert_problem(response, 422, "validation_error")["errors"]


@pytest.mark.parametrize(
    "path", ["/api/auth/totp/setup", "/api/auth/totp/enable", "/api/auth/totp/disable"]
)
def test_401_without_a_token(client, path):
    assert_problem(client.post(path, json={}), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(client.post(path, json={}, headers=bad), 401)


def test_me_says_whether_two_factor_is_on(alice, clock):
    """The dashboard's Security page asks /api/auth/me, not the events (they are pruned)."""
    assert alice.get("/api/auth/me").get_json()["user"]["totpEnabled"] is False
    _setup(alice)
    assert alice.get("/api/auth/me").get_json()["user"]["totpEnabled"] is False  # pending only
    _enable(alice, clock)
    assert alice.get("/api/auth/me").get_json()["user"]["totpEnabled"] is True


@pytest.fixture
def capped_app(database_url):
    """The per-window throttle out of the way (it restarts every window): the daily cap alone."""
    settings = make_settings(
        TOTP_MAX_FAILURES_PER_DAY=3,
        LOGIN_MAX_FAILURES_PER_EMAIL=1000,
        LOGIN_MAX_FAILURES_PER_ADDRESS=1000,
    )
    application = create_app(settings, database_url)
    yield application
    application.extensions["database"].close()


def test_a_day_of_wrong_codes_refuses_every_code_until_the_oldest_is_a_day_old(
    capped_app, conn, clock
):
    """Each login throttle window starts afresh; the daily cap does not: three wrong codes
    (login or turning it off) and even the right code is 429 until a day after the first."""
    user = Accounts(client_from(capped_app, "192.0.2.60")).new_user()
    secret, _ = _enable(user, clock)
    _later(clock, 10)
    wrong = _code(secret, clock.now + 5 * STEP)
    for _ in range(2):
        assert_problem(_login(user.client, user, totp=wrong), 401, "invalid_totp")
    refused = user.post(
        "/api/auth/totp/disable", json={"password": Accounts.password, "code": wrong}
    )
    assert_problem(refused, 403, "invalid_totp")
    blocked = _login(user.client, user, totp=_code(secret, clock.now))
    assert_problem(blocked, 429, "login_throttled")
    assert 23 * 3600 < int(blocked.headers["Retry-After"]) <= 24 * 3600
    off = user.post(
        "/api/auth/totp/disable",
        json={"password": Accounts.password, "code": _code(secret, clock.now)},
    )
    assert_problem(off, 429, "login_throttled")
    conn.execute(
        "UPDATE security_events SET at = at - interval '1 day' WHERE user_id = %s", (user.id,)
    )
    assert _login(user.client, user, totp=_code(secret, clock.now)).status_code == 200
