"""Every foreign key and every prune query is served by an index, checked on the migrated schema.

Without an index leading with a foreign key's columns, deleting (or re-keying) a referenced row
makes PostgreSQL scan the whole referencing table for that key, inside the deleting transaction;
a prune query without an index scans its whole table under the DELETE. Neither shows in small
tests, so these look at the catalog and at the plans instead of at timings.
"""

from __future__ import annotations

import pytest

from expense_api.db.sqlfiles import queries
from tests.catalog import FOREIGN_KEYS, unindexed_foreign_keys

# Every query `expense-api prune` runs, with the parameters it passes.
PRUNE_QUERIES = [
    pytest.param(query, params, id=query.name)
    for query, params in [
        (queries.auth_sessions.delete_expired, {}),
        (queries.login_throttle.delete_stale, {"window_seconds": 900}),
        (queries.idempotency_keys.delete_expired, {}),
        (queries.webhooks.delete_expired_events, {"days": 30}),
    ]
]


def test_every_foreign_key_has_an_index_leading_with_its_columns(conn):
    assert conn.execute("SELECT count(*) FROM (" + FOREIGN_KEYS + ") k").fetchone()[0] >= 10
    assert unindexed_foreign_keys(conn) == []


def test_an_unindexed_foreign_key_is_reported(conn):
    """The check above can fail: a foreign key made without an index, or with an index that
    does not lead with its columns, is reported; one with a leading index is not."""
    with conn.transaction(force_rollback=True):
        conn.execute(
            "CREATE TABLE fk_probe (id bigint, user_id bigint REFERENCES users (id),"
            " category_user bigint, category_id bigint,"
            " FOREIGN KEY (category_user, category_id) REFERENCES categories (ledger_id, id))"
        )
        conn.execute("CREATE INDEX ON fk_probe (id, user_id)")
        conn.execute("CREATE INDEX ON fk_probe (category_id, category_user, id)")
        assert [name for name in unindexed_foreign_keys(conn) if "fk_probe" in name] == [
            "fk_probe.fk_probe_user_id_fkey"
        ]


@pytest.mark.parametrize(("query", "params"), PRUNE_QUERIES)
def test_prune_queries_use_indexes(conn, query, params):
    with conn.transaction(force_rollback=True):
        # The tables are small here, where a sequential scan is cheapest: forbid it (as far as
        # the planner can avoid it) and see whether an index can do the job instead.
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + query.sql, params))
    assert "Seq Scan" not in plan, plan


def test_the_recurring_claim_reads_its_index_in_the_ledgers_order(conn):
    """The worker's claim (the ledgers in turn, sql/recurring.sql claim_due) walks
    recurring_rules_due_by_ledger_idx from the ledger after the last one served and stops at the
    first due row: no sort of every due rule at each claim. (The tables are nearly empty here,
    where anything is cheap: the other ways are forbidden, as far as the planner can avoid them,
    to see whether the index alone gives the order; on 20,000 rules it is chosen unasked.)"""
    params = {"now": "2030-02-20T12:00:00Z", "after_ledger": 7}
    with conn.transaction(force_rollback=True):
        for method in ("seqscan", "bitmapscan", "sort"):
            conn.execute(f"SET LOCAL enable_{method} = off")
        plan = "\n".join(
            row[0] for row in conn.execute("EXPLAIN " + queries.recurring.claim_due.sql, params)
        )
    assert "Index Scan using recurring_rules_due_by_ledger_idx" in plan, plan
    assert "Sort" not in plan, plan


def test_an_idle_recurring_claim_stops_at_the_due_date_index(conn):
    """With nothing due anywhere, the claim stops at a one-time filter (an index probe for any
    due date; on a large table the planner takes recurring_rules_due_idx, next_date first)
    instead of walking the per-ledger index from the cursor to its end (found by review: 8.9 ms
    per idle tick at 200,000 rules)."""
    params = {"now": "2030-02-20T12:00:00Z", "after_ledger": 0}
    with conn.transaction(force_rollback=True):
        for method in ("seqscan", "bitmapscan"):
            conn.execute(f"SET LOCAL enable_{method} = off")
        plan = "\n".join(
            row[0] for row in conn.execute("EXPLAIN " + queries.recurring.claim_due.sql, params)
        )
    assert "One-Time Filter" in plan, plan
    init_plan = plan.split("InitPlan", 1)[1].split("->  Result", 1)[0]
    assert "Index" in init_plan and "Seq Scan" not in init_plan, plan
