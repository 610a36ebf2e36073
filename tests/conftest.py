"""Test fixtures: a real PostgreSQL (TEST_DATABASE_URL's server, else the embedded one), a fresh
throwaway database per run with the real migrations, one app for the session, and helpers.

Tests stay independent by owning their data: every test registers its own users (unique emails)
and talks from its own client address, so nothing needs truncating between tests.
"""

from __future__ import annotations

import itertools
import os
import types

import psycopg
import pytest

from devtools.servers import database_server, migrated_template, throwaway_database
from expense_api.api.app import create_app
from expense_api.services.changes import door
from expense_api.services.webhooks import network
from tests.helpers import Accounts, client_from, make_settings, start_live_server

_addresses = itertools.count(1)


@pytest.fixture(scope="session", autouse=True)
def no_name_resolution():
    """No test resolves a real name (webhook URLs, fuzzed ones too): every name is unknown
    unless a test puts its own resolver in place."""

    def unknown(host, port):
        raise OSError(f"tests resolve no real names ({host})")

    saved, network.resolver = network.resolver, unknown
    yield
    network.resolver = saved


@pytest.fixture(autouse=True)
def direct_service_calls_are_a_door():
    """A test that calls a service directly is a door of its own: its changes are logged as the
    CLI's (the REST, GraphQL, worker and CLI doors set their own, and their tests check it).
    Threads a test starts run in a copy of this context (factories.race)."""
    with door.through("cli"):
        yield


@pytest.fixture(scope="session")
def admin_url():
    """A URL with rights to create databases: TEST_DATABASE_URL, else the embedded server."""
    with database_server("TEST_DATABASE_URL", "test-postgres") as url:
        yield url


# `python -m bench.cluster` runs the live HTTP tests against its own service (haproxy in front
# of two instances): LIVE_BASE_URL is then the service and LIVE_DATABASE_URL its database.
LIVE_BASE_URL = os.environ.get("LIVE_BASE_URL")
LIVE_DATABASE_URL = os.environ.get("LIVE_DATABASE_URL")


@pytest.fixture(scope="session")
def database_template(admin_url):
    """A migrated database the run's databases are copied from: migrated once per run instead of
    once per module database (23 migrations took ~1.2 s each time)."""
    with migrated_template(admin_url) as name:
        yield name


@pytest.fixture(scope="session")
def database_url(request):
    if LIVE_DATABASE_URL:
        yield LIVE_DATABASE_URL
        return
    admin_url, template = (request.getfixturevalue(f) for f in ("admin_url", "database_template"))
    with throwaway_database(admin_url, "expense_api_test", template=template) as url:
        yield url


@pytest.fixture(scope="module")
def own_database_url(admin_url, database_template):
    """A migrated database of one test module's own. The worker's jobs act on every due rule in
    a database, so the modules that run them keep other modules' rules (the fuzzer's, say) out
    of their way by overriding `database_url` and `app` with module-scoped ones on this."""
    with throwaway_database(admin_url, "expense_api_module", template=database_template) as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url):
    application = create_app(make_settings(), database_url)
    yield application
    application.extensions["database"].close()


@pytest.fixture(scope="session")
def live_server(database_url):
    """gunicorn (2 workers x 16 threads) on the test database, for real HTTP concurrency."""
    if LIVE_BASE_URL:
        yield types.SimpleNamespace(base=LIVE_BASE_URL.rstrip("/"))
        return
    server = start_live_server(database_url)
    yield server
    server.stop()


@pytest.fixture
def client(app):
    """A test client that talks from an address of its own, so throttles never cross tests."""
    n = next(_addresses)
    address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    return client_from(app, address)


@pytest.fixture
def conn(database_url):
    """A direct connection for asserting on what the database holds."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def accounts(client):
    return Accounts(client)


@pytest.fixture
def zone_only_python_knows(monkeypatch):
    """A time zone Python's zoneinfo lists and the database does not know, as the embedded
    PostgreSQL 16.2 does not know America/Coyhaique or localtime: returns its name."""
    from expense_api.services import ledgers

    name, known = "Mars/Olympus", ledgers.python_time_zones()
    monkeypatch.setattr(ledgers, "python_time_zones", lambda: known | {name})
    return name


@pytest.fixture
def alice(accounts):
    return accounts.new_user(name="Alice")


@pytest.fixture
def bob(accounts):
    return accounts.new_user(name="Bob")
