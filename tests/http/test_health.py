from __future__ import annotations

import time

import pytest

from expense_api.api.app import create_app
from tests.helpers import assert_problem, make_settings


def test_healthz(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz(client):
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


@pytest.fixture
def small_pool_app(database_url):
    application = create_app(make_settings(DB_POOL_MAX=2, DB_POOL_TIMEOUT=1), database_url)
    yield application
    application.extensions["database"].close()


def test_readyz_does_not_wait_for_the_request_pool(small_pool_app):
    """A probe must tell "database down" from "every connection busy": with the whole pool held,
    /readyz still answers 200 at once, on a short connection of its own."""
    pool = small_pool_app.extensions["database"].pool
    held = [pool.getconn() for _ in range(pool.max_size)]
    try:
        client = small_pool_app.test_client()
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
        assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
        assert elapsed < 0.9, elapsed  # under DB_POOL_TIMEOUT: no wait for a pool connection
        assert pool.get_stats()["pool_size"] == pool.max_size  # no extra pool connection either
        # The pool really is exhausted: a request that needs it waits, then gets 503.
        login = {"email": "nobody@example.com", "password": "whatever-password"}
        assert_problem(client.post("/api/auth/login", json=login), 503, "database_unavailable")
    finally:
        for conn in held:
            pool.putconn(conn)
