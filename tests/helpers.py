"""What test modules share besides fixtures: settings for a test app, a live server, accounts
and users driving the API, and the problem+json assertion. Fixtures live in conftest.py and use
these; test modules import from here, never from conftest or from each other."""

from __future__ import annotations

import base64
import functools
import json
import time
import uuid
from uuid import UUID

import pytest

from devtools.servers import LiveServer
from expense_api.api.app import create_app
from expense_api.config import PROJECT_ROOT, load_settings
from expense_api.ops import metrics

TEST_SECRET = "test-secret-" + "x" * 40
# The suite makes thousands of requests per account and from 127.0.0.1 (fuzzing, races): far
# from the limits. A day's window: an account's one lease of the window comes with its first
# request, never in the middle of a test that counts statements. tests/http/test_rate_limits.py
# sets low limits of its own.
HIGH_RATE_LIMITS = {
    "RATE_LIMIT_PER_ACCOUNT": "1000000000",
    "RATE_LIMIT_PER_ADDRESS": "1000000000",
    "RATE_LIMIT_WINDOW_SECONDS": "86400",
}


def module_database_fixtures():
    """`database_url`, `app` and `database` for a module whose tests run the worker's jobs: on a
    database of the module's own (own_database_url). Use as
    `database_url, app, database = module_database_fixtures()`."""

    @pytest.fixture(scope="module")
    def database_url(own_database_url):
        return own_database_url

    @pytest.fixture(scope="module")
    def app(database_url):
        application = create_app(make_settings(), database_url)
        yield application
        application.extensions["database"].close()

    @pytest.fixture
    def database(app):
        return app.extensions["database"]

    return database_url, app, database


def make_settings(**overrides):
    env = {
        "APP_ENV": "test",
        "JWT_SECRET_KEY": TEST_SECRET,
        "BCRYPT_ROUNDS": "4",  # bcrypt's cheapest cost: the suite tests logic, not hashing speed
        "WEB_THREADS": "8",
        "DB_POOL_MAX": "40",
        "DATA_DIR": str(PROJECT_ROOT / ".data"),
        # The webhook tests' receivers listen on 127.0.0.1 (tests never connect anywhere else).
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        **HIGH_RATE_LIMITS,
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return load_settings(env)


def start_live_server(database_url: str, **overrides: str) -> LiveServer:
    """gunicorn on the test database: 2 workers x 16 threads unless `overrides` say otherwise."""
    env = {
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": TEST_SECRET,
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "16",
        "APP_ENV": "test",
        "WORKER": "off",  # tests run the worker's jobs themselves, with a clock of their own
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        **HIGH_RATE_LIMITS,
    }
    return LiveServer({**env, **overrides})


def client_from(app, address: str):
    test_client = app.test_client()
    test_client.environ_base["REMOTE_ADDR"] = address
    return test_client


class Accounts:
    """Registers and logs in users through the API, like AuthActions in Flask's tutorial."""

    password = "correct horse battery staple"

    def __init__(self, client):
        self.client = client

    def register(self, **fields) -> dict:
        body = {
            "name": "Test User",
            "email": f"user-{uuid.uuid4().hex[:12]}@example.com",
            "password": self.password,
            **fields,
        }
        response = self.client.post("/api/auth/register", json=body)
        assert response.status_code == 201, response.get_json()
        return {**response.get_json()["user"], "password": body["password"]}

    def login(self, email: str, password: str | None = None) -> dict:
        response = self.client.post(
            "/api/auth/login", json={"email": email, "password": password or self.password}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def new_user(self, **fields) -> User:
        registered = self.register(**fields)
        tokens = self.login(registered["email"], registered["password"])
        return User(self.client, registered, tokens)


class User:
    """A logged-in user: `user.get("/api/auth/me")` sends its bearer token."""

    def __init__(self, client, data: dict, tokens: dict):
        self.client, self.data, self.tokens = client, data, tokens
        self.id = data["id"]

    @functools.cached_property
    def ledger_id(self) -> int:
        """The user's default ledger, where v1 paths act (asked once: it never changes)."""
        with self.client.application.extensions["database"].pool.connection() as conn:
            return conn.execute(
                "SELECT ledger_id FROM ledger_members WHERE user_id = %s AND is_default",
                (self.id,),
            ).fetchone()[0]

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.tokens['accessToken']}"}

    def request(self, method: str, path: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


def session_id_of(access_token: str) -> UUID:
    """The session a JWT belongs to (its `sid` claim), read without verifying it."""
    payload = access_token.split(".")[1]
    return UUID(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"])


def assert_problem(response, status: int, code: str | None = None) -> dict:
    """Every error has the problem+json shape; returns the body for further checks."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == status
    assert body["type"].endswith("/" + body["code"])
    if code is not None:
        assert body["code"] == code, body
    return body


def wait_until_blocked_by(observer, blocker_pid: int, timeout: float = 15.0) -> int:
    """Waits until some backend waits on a lock that `blocker_pid` holds; returns its pid.

    `observer` is an autocommit connection of its own, so each poll sees the current state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = observer.execute(
            "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid)) LIMIT 1",
            (blocker_pid,),
        ).fetchone()
        if row is not None:
            return row[0]
        time.sleep(0.02)
    raise AssertionError(f"nothing waited on backend {blocker_pid} within {timeout} s")


def recurring_metric(result: str, reason: str) -> float:
    """The worker's count of occurrences by result and reason (/metrics' counter)."""
    line = f'expense_api_recurring_occurrences_total{{reason="{reason}",result="{result}"}}'
    found = [row for row in metrics.collect().decode().splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


def enable_two_factor(user: User, at: float) -> tuple[str, list[str]]:
    """Turns two-factor sign-in on for `user` through the API, with the service's clock fixed at
    `at` by the caller (monkeypatch expense_api.services.auth.two_factor.clock): the secret and
    the recovery codes. The code of `at`'s step is spent by the enabling."""
    import pyotp

    setup = user.post("/api/auth/totp/setup")
    assert setup.status_code == 200, setup.get_json()
    secret = setup.get_json()["secret"]
    enabled = user.post("/api/auth/totp/enable", json={"code": pyotp.TOTP(secret).at(at)})
    assert enabled.status_code == 200, enabled.get_json()
    return secret, enabled.get_json()["recoveryCodes"]
