"""GET and HEAD requests run each statement as its own transaction (no BEGIN, no COMMIT: two
round trips for a report, tests/db/test_round_trips.py), and a query that writes or locks is refused
there before it is sent, so a read that writes fails loudly instead of leaving a write behind an
error answer."""

from __future__ import annotations

import re

import psycopg
import pytest

from expense_api.api.app import create_app
from expense_api.config import PROJECT_ROOT
from expense_api.db.pool import Batch, read_statement_by_statement
from expense_api.db.sqlfiles import Query, QueryError, queries
from tests.helpers import assert_problem, make_settings, session_id_of


def _query(sql: str) -> Query:
    return Query(name="test.q", returns="rows", sql=sql, doc="")


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1)",
        "update t SET a = 1",
        "WITH gone AS (DELETE FROM t RETURNING *) SELECT count(*) FROM gone",
        "SELECT * FROM budgets WHERE id = 1 FOR UPDATE",
        "SELECT * FROM budgets FOR NO KEY UPDATE",
        "SELECT * FROM budgets FOR KEY SHARE",
        "SELECT pg_advisory_xact_lock_shared(1)",
        "SELECT set_config('a.b', 'on', true)",
        "SELECT nextval('s')",
        "MERGE INTO t USING s ON true WHEN MATCHED THEN DO NOTHING",
    ],
)
def test_a_statement_that_writes_or_locks_is_known(sql):
    assert _query(sql).writes


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT updated_at, inserted_by FROM t",  # words inside names
        "SELECT 'DELETE' AS verb -- an UPDATE in a comment\nFROM t",
        "SELECT sum(amount) FROM transactions GROUP BY category_id",
    ],
)
def test_a_plain_read_is_not_taken_for_a_write(sql):
    assert not _query(sql).writes


def test_the_service_queries_are_classified():
    assert queries.transactions.insert.writes
    assert queries.budgets.lock_chains.writes  # FOR UPDATE, in a migration's function
    assert queries.budgets.enforce.writes  # locks, inserts alerts
    assert queries.alerts.fire.writes
    assert not queries.budgets.chains.writes
    assert queries.budgets.lock_scope_shared.writes  # an advisory lock
    assert not queries.reports.summary.writes
    # The session check touches last_used_at: a write it declares (`touches`), allowed there.
    assert queries.auth_sessions.get_active_with_user.writes
    assert queries.auth_sessions.get_active_with_user.touches
    assert queries.personal_access_tokens.get_with_user.touches
    assert not any(query.touches for query in queries if query.name not in TOUCHING)


def test_every_migration_function_that_writes_makes_its_callers_writes():
    """A statement of sql/ calling one of the migrations' functions that writes or locks is
    classified as writing (sqlfiles._WRITES names them): so a function added that writes must be
    named there too, or a GET could call it on a connection that only reads."""
    created = re.compile(
        r"CREATE (?:OR REPLACE )?FUNCTION (\w+)\((?:.|\n)*?RETURNS (\w+)(?:.|\n)*?\$\$((?:.|\n)*?)\$\$",
        re.IGNORECASE,
    )
    writing = re.compile(r"\b(INSERT|UPDATE|DELETE)\b|\bFOR UPDATE\b|pg_advisory", re.IGNORECASE)
    bodies: dict[str, tuple[str, str]] = {}
    for path in sorted((PROJECT_ROOT / "migrations").glob("*.sql")):
        if not path.name.endswith(".rollback.sql"):
            for name, returns, body in created.findall(path.read_text()):
                bodies[name] = (returns, body)  # the latest definition wins
    writers = sorted(
        name
        for name, (returns, body) in bodies.items()
        if returns.lower() != "trigger" and writing.search(body)
    )
    assert "enforce_budgets" in writers
    calling = [
        query
        for query in queries
        if any(re.search(rf"\b{name}\s*\(", query.sql) for name in writers)
    ]
    assert "budgets.enforce" in [query.name for query in calling]
    assert [query.name for query in calling if not query.writes] == []


TOUCHING = {"auth_sessions.get_active_with_user", "personal_access_tokens.get_with_user"}


def test_a_touch_runs_on_a_reading_connection_and_stays(database_url, alice, conn):
    """A touch is one statement, its own transaction there: done, whatever the request answers."""
    session_id = session_id_of(alice.tokens["accessToken"])
    conn.execute(
        "UPDATE auth_sessions SET last_used_at = now() - interval '1 hour' WHERE id = %s",
        (session_id,),
    )
    with psycopg.connect(database_url) as reading:
        read_statement_by_statement(reading)
        row = queries.auth_sessions.get_active_with_user(
            reading, user_id=alice.id, session_id=session_id
        )
        assert row["id"] == alice.id
        assert reading.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    moved = conn.execute(
        "SELECT now() - last_used_at < interval '1 minute' FROM auth_sessions WHERE id = %s",
        (session_id,),
    ).fetchone()[0]
    assert moved


def test_a_reading_connection_refuses_a_write_before_sending_it(database_url, alice):
    with psycopg.connect(database_url) as conn:
        read_statement_by_statement(conn)
        with pytest.raises(QueryError, match="only reads"):
            queries.transactions.insert(
                conn, ledger_id=alice.ledger_id, created_by=alice.id, category_id=None,
                type="INCOME", amount=1, description="", occurred_on="2026-03-01",
            )  # fmt: skip
        with pytest.raises(QueryError, match="only reads"), Batch(conn) as batch:
            queries.budgets.lock_scope_shared.later(batch, ledger_id=alice.ledger_id)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        count = conn.execute(
            "SELECT count(*) FROM transactions WHERE ledger_id = %s", (alice.ledger_id,)
        ).fetchone()[0]
        assert count == 0


@pytest.fixture(scope="module")
def writing_get_app(database_url):
    """The app with one extra route: a GET whose view writes (a bug the guard must catch)."""
    application = create_app(make_settings(), database_url)

    @application.get("/api/test-writes-on-get")
    def writes_on_get():
        from expense_api.api.core.request_transaction import get_conn

        queries.auth_sessions.revoke_all_of_user(get_conn(), user_id=0, reason="test")
        return {"wrote": True}

    @application.post("/api/test-writes-on-post")
    def writes_on_post():
        from expense_api.api.core.request_transaction import get_conn

        queries.auth_sessions.revoke_all_of_user(get_conn(), user_id=0, reason="test")
        return {"wrote": True}

    yield application
    application.extensions["database"].close()


def test_a_get_that_writes_is_a_server_error_and_writes_nothing(writing_get_app):
    client = writing_get_app.test_client()
    assert_problem(client.get("/api/test-writes-on-get"), 500)
    # The same view behind POST runs in a transaction, as every write does.
    assert client.post("/api/test-writes-on-post").get_json() == {"wrote": True}


def test_a_read_request_leaves_no_transaction_behind(alice, app):
    pool = app.extensions["database"].pool
    assert alice.get("/api/summary?year=2026&month=3").status_code == 200
    with pool.connection() as conn:
        # The connection is back in the pool in its normal mode: a transaction opens again.
        assert conn.autocommit is False
        assert not getattr(conn, "expense_api_reads_statement_by_statement", False)


def test_a_request_that_declared_it_only_reads_may_run_again(app):
    """api/core/retry.py runs a view again after a conflict, on the same connection: a GraphQL
    request without a mutation declares reads_only() each time."""
    from expense_api.api.core.request_transaction import get_conn, reads_only

    with app.test_request_context("/api/graphql", method="POST"):
        reads_only()
        conn = get_conn()
        assert conn.autocommit
        reads_only()  # the second run
        assert get_conn() is conn  # the context's end returns the connection


def test_declaring_it_after_the_first_query_is_a_bug(app):
    from expense_api.api.core.request_transaction import get_conn, reads_only

    with app.test_request_context("/api/graphql", method="POST"):
        get_conn()
        with pytest.raises(RuntimeError, match="before the request's first query"):
            reads_only()
