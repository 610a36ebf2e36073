"""READ_DATABASE_URL: the reports and the transaction list read from a streaming replica once it
has replayed everything committed before the read began, else from the primary. Against a real
primary and replica (Debian's PostgreSQL 15, started as bench.cluster does), with replay paused
on purpose to make the replica lag. Skipped, naming what is missing, without the packages."""

from __future__ import annotations

import psycopg
import pytest

from bench.cluster import Cluster, missing_tools
from expense_api.api.app import create_app
from expense_api.db.read_replica import primary_position
from tests.helpers import Accounts, client_from, make_settings

EXPENSE = {"amount": "12.50", "type": "EXPENSE", "date": "2026-03-09"}


@pytest.fixture(scope="module")
def cluster():
    lacking = missing_tools()
    if lacking:
        pytest.skip(
            "a primary and a replica need " + ", ".join(lacking) + " (.ci/run installs them)"
        )
    started = Cluster()
    try:
        started.start_postgres()
        yield started
    finally:
        started.close()


def _app(cluster, replica_url: str, wait_ms: int):
    settings = make_settings(READ_DATABASE_URL=replica_url, READ_REPLICA_WAIT_MS=wait_ms)
    return create_app(settings, cluster.url("primary"))


@pytest.fixture(scope="module")
def app(cluster):
    application = _app(cluster, cluster.url("replica"), wait_ms=3000)
    yield application
    application.extensions["database"].close()
    application.extensions["read_replica"].close()


@pytest.fixture
def user(app):
    return Accounts(client_from(app, "10.250.0.1")).new_user(name="Reader")


def _record(user) -> int:
    category = user.post("/api/categories", json={"name": "Food"}).get_json()["id"]
    response = user.post("/api/transactions", json={**EXPENSE, "categoryId": category})
    assert response.status_code == 201
    return response.get_json()["id"]


def _replica_superuser(cluster):
    return psycopg.connect(cluster.url("replica", "postgres"), autocommit=True)


def test_reads_go_to_the_replica_once_it_has_replayed_the_write(app, user):
    served = app.extensions["read_replica"].served
    before = served["replica"]
    transaction_id = _record(user)
    listed = user.get("/api/transactions?year=2026&month=3").get_json()["items"]
    assert [item["id"] for item in listed] == [transaction_id]
    summary = user.get("/api/summary?year=2026&month=3").get_json()
    assert summary["totalExpense"] == "12.50"
    assert served["replica"] == before + 2


def test_a_lagging_replica_never_hides_a_write(app, cluster, user):
    served = app.extensions["read_replica"].served
    app.extensions["read_replica"].wait_seconds = 0.2
    with _replica_superuser(cluster) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            transaction_id = _record(user)
            on_replica = replica.execute(
                "SELECT count(*) FROM transactions WHERE id = %s", (transaction_id,)
            ).fetchone()[0]
            assert on_replica == 0  # the replica really lags behind this write
            before = served["primary"]
            listed = user.get("/api/transactions?year=2026&month=3").get_json()["items"]
            summary = user.get("/api/summary?year=2026&month=3").get_json()
            assert [item["id"] for item in listed] == [transaction_id]
            assert summary["totalExpense"] == "12.50"
            assert served["primary"] == before + 2
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")
            app.extensions["read_replica"].wait_seconds = 3


def test_an_unreachable_replica_falls_back_to_the_primary(cluster):
    closed = cluster.url("replica").replace(str(cluster.ports["replica"]), "1")
    app = _app(cluster, closed, wait_ms=100)
    try:
        user = Accounts(client_from(app, "10.250.0.2")).new_user(name="Fallback")
        transaction_id = _record(user)
        response = user.get("/api/transactions?year=2026&month=3")
        assert response.status_code == 200
        assert [item["id"] for item in response.get_json()["items"]] == [transaction_id]
        assert app.extensions["read_replica"].served["primary"] == 1
    finally:
        app.extensions["database"].close()
        app.extensions["read_replica"].close()


def test_without_a_read_url_reads_stay_on_the_primary(cluster):
    app = create_app(make_settings(), cluster.url("primary"))
    try:
        assert app.extensions["read_replica"] is None
    finally:
        app.extensions["database"].close()


def test_primary_position_is_a_wal_location(cluster):
    with psycopg.connect(cluster.url("primary")) as conn:
        assert "/" in primary_position(conn)
