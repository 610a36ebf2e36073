"""Browser-facing protections: CORS allow-list, security headers; throttling across workers and
with the Redis store."""

from __future__ import annotations

import socket
import uuid

import pytest
from cryptography.fernet import Fernet

from devtools.servers import LiveServer, call
from expense_api.api.app import create_app
from tests.helpers import TEST_SECRET, Accounts, assert_problem, client_from, make_settings


@pytest.fixture
def cors_app(database_url):
    app = create_app(
        make_settings(CORS_ORIGINS="https://app.example.com, http://localhost:5173"), database_url
    )
    yield app
    app.extensions["database"].close()


def test_cors_allows_listed_origins_only(cors_app):
    client = cors_app.test_client()
    preflight = client.options(
        "/api/transactions",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key"},
    )  # fmt: skip
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "idempotency-key" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    other = client.get("/api/auth/me", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in other.headers
    exposed = client.get("/healthz", headers={"Origin": "http://localhost:5173"})
    assert "Access-Control-Allow-Origin" not in exposed.headers  # only /api/* is shared


def test_no_cors_headers_without_an_allow_list(client):
    response = client.get("/api/auth/me", headers={"Origin": "https://app.example.com"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_are_validated():
    from expense_api.config import ConfigError

    with pytest.raises(ConfigError, match="CORS_ORIGINS"):
        make_settings(CORS_ORIGINS="app.example.com")


def test_security_headers_everywhere(client):
    for response in (
        client.get("/healthz"),
        client.get("/api/nope"),
        client.post("/api/auth/login", json={}),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in response.headers  # not production


def test_hsts_in_production(database_url, tmp_path):
    settings = make_settings(
        APP_ENV="production",
        JWT_SECRET_KEY=TEST_SECRET,
        WEBHOOK_SECRETS_KEY=Fernet.generate_key().decode(),
    )
    app = create_app(settings, database_url)
    try:
        assert (
            "max-age=31536000"
            in app.test_client().get("/healthz").headers["Strict-Transport-Security"]
        )
    finally:
        app.extensions["database"].close()


def _failed_logins_until_429(base: str, limit: int) -> list[int]:
    email = f"workers-{uuid.uuid4().hex[:8]}@example.com"
    call(
        base, "POST", "/api/auth/register", {"name": "W", "email": email, "password": "password123"}
    )
    statuses = [
        call(base, "POST", "/api/auth/login", {"email": email, "password": "wrong-password"})[0]
        for _ in range(limit)
    ]
    statuses.append(
        call(base, "POST", "/api/auth/login", {"email": email, "password": "password123"})[0]
    )
    return statuses


def test_throttling_holds_across_gunicorn_workers(live_server):
    # A new connection per request: the kernel spreads them over both workers.
    assert _failed_logins_until_429(live_server.base, 5) == [401] * 5 + [429]


def _redis_available() -> bool:
    try:
        import redis  # noqa: F401
    except ImportError:
        return False
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(
    not _redis_available(), reason="no Redis on 127.0.0.1:6379 (or the redis extra)"
)
def test_redis_store_throttles_across_workers(database_url):
    server = LiveServer(
        {"DATABASE_URL": database_url, "JWT_SECRET_KEY": TEST_SECRET, "WEB_CONCURRENCY": "2",
         "THROTTLE_STORE": "redis", "LOGIN_MAX_FAILURES_PER_EMAIL": "3",
         "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000", "LOGIN_THROTTLE_SECONDS": "60", "APP_ENV": "test"}
    )  # fmt: skip
    try:
        assert _failed_logins_until_429(server.base, 3) == [401] * 3 + [429]
    finally:
        server.stop()


@pytest.mark.skipif(
    not _redis_available(), reason="no Redis on 127.0.0.1:6379 (or the redis extra)"
)
def test_redis_store_blocks_and_clears(database_url):
    settings = make_settings(
        THROTTLE_STORE="redis", LOGIN_MAX_FAILURES_PER_EMAIL=2, LOGIN_THROTTLE_SECONDS=30
    )
    app = create_app(settings, database_url)
    try:
        client = client_from(app, f"192.0.2.{uuid.uuid4().int % 200 + 1}")
        user = Accounts(client).register()
        client.post("/api/auth/login", json={"email": user["email"], "password": "wrong-password"})
        assert (
            client.post(
                "/api/auth/login", json={"email": user["email"], "password": Accounts.password}
            ).status_code
            == 200
        )
        for _ in range(2):
            client.post(
                "/api/auth/login", json={"email": user["email"], "password": "wrong-password"}
            )
        blocked = client.post(
            "/api/auth/login", json={"email": user["email"], "password": Accounts.password}
        )
        assert_problem(blocked, 429, "login_throttled")
        assert 1 <= int(blocked.headers["Retry-After"]) <= 30
    finally:
        app.extensions["database"].close()


def test_a_view_sets_its_own_cache_and_content_policy(client):
    """The defaults never replace what a view set itself (the docs page's policy)."""
    response = client.get("/api/docs")
    assert len(response.headers.get_all("Content-Security-Policy")) == 1
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]  # the page's own
    assert len(response.headers.get_all("Cache-Control")) == 1
    assert response.headers["Cache-Control"] == "no-cache"
