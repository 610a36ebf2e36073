"""Login throttling: repeated failures per email or per client address get 429 + Retry-After."""

from __future__ import annotations

import socket

import pytest

from expense_api.api.app import create_app
from expense_api.domain.errors import Unavailable
from tests.helpers import Accounts, assert_problem, client_from, make_settings


@pytest.fixture
def strict_app(database_url):
    settings = make_settings(
        LOGIN_MAX_FAILURES_PER_EMAIL=3, LOGIN_MAX_FAILURES_PER_ADDRESS=5, LOGIN_THROTTLE_SECONDS=60
    )
    application = create_app(settings, database_url)
    yield application
    application.extensions["database"].close()


def _client(app, address):
    return client_from(app, address)


def _login(client, email, password):
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_failures_for_one_email_are_throttled_even_with_the_right_password(strict_app):
    client = _client(strict_app, "192.0.2.10")
    user = Accounts(client).register()
    for _ in range(3):
        assert_problem(_login(client, user["email"], "wrong-password"), 401, "invalid_credentials")
    blocked = _login(client, user["email"], Accounts.password)
    assert_problem(blocked, 429, "login_throttled")
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    # The block is per email, whatever the case or address it comes from.
    other_address = _client(strict_app, "192.0.2.11")
    assert_problem(_login(other_address, user["email"].upper(), Accounts.password), 429)


def test_failures_from_one_address_are_throttled_across_emails(strict_app):
    client = _client(strict_app, "192.0.2.20")
    for index in range(5):
        _login(client, f"guess-{index}@example.com", "wrong-password")
    user = Accounts(_client(strict_app, "192.0.2.21")).register()
    assert_problem(_login(client, user["email"], Accounts.password), 429, "login_throttled")
    # Another address is not affected.
    assert (
        _login(_client(strict_app, "192.0.2.22"), user["email"], Accounts.password).status_code
        == 200
    )


def test_success_clears_the_email_counter(strict_app):
    client = _client(strict_app, "192.0.2.30")
    user = Accounts(client).register()
    for _ in range(2):
        _login(client, user["email"], "wrong-password")
    assert _login(client, user["email"], Accounts.password).status_code == 200
    for _ in range(2):
        _login(client, user["email"], "wrong-password")
    assert _login(client, user["email"], Accounts.password).status_code == 200


def test_window_expiry_restarts_the_count(strict_app, conn):
    client = _client(strict_app, "192.0.2.40")
    user = Accounts(client).register()
    for _ in range(3):
        _login(client, user["email"], "wrong-password")
    assert _login(client, user["email"], Accounts.password).status_code == 429
    conn.execute(
        "UPDATE login_throttle SET window_started_at = now() - interval '61 seconds' "
        "WHERE key IN (%s, %s)",
        (f"email:{user['email'].lower()}", "address:192.0.2.40"),
    )
    assert _login(client, user["email"], Accounts.password).status_code == 200


def _closed_local_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound by us, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_redis_app(database_url):
    pytest.importorskip("redis")
    url = f"redis://127.0.0.1:{_closed_local_port()}/0"
    application = create_app(make_settings(THROTTLE_STORE="redis", REDIS_URL=url), database_url)
    yield application
    application.extensions["database"].close()


def test_an_unreachable_redis_store_answers_503_with_retry_after(unreachable_redis_app):
    # Fails closed: without its counters the throttle cannot tell a guesser from a user.
    client = _client(unreachable_redis_app, "192.0.2.50")
    user = Accounts(client).register()
    for password in (Accounts.password, "wrong-password"):
        response = _login(client, user["email"], password)
        assert_problem(response, 503, "throttle_unavailable")
        assert int(response.headers["Retry-After"]) >= 1


def test_a_redis_outage_while_counting_is_503_and_while_clearing_is_ignored(
    unreachable_redis_app,
):
    store = unreachable_redis_app.extensions["auth"].throttle_store
    with pytest.raises(Unavailable) as raised:
        store.record_failure(["email:someone@example.com"])
    assert (raised.value.code, raised.value.retry_after) == ("throttle_unavailable", 5)
    # A login that passed the check is not undone because its counter could not be cleared:
    # the counter only runs out with its window.
    store.clear(None, "email:someone@example.com")
