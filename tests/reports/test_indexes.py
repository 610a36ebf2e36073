"""Every foreign key and every prune query is served by an index, checked on the migrated schema.

Without an index leading with a foreign key's columns, deleting (or re-keying) a referenced row
makes PostgreSQL scan the whole referencing table for that key, inside the deleting transaction;
a prune query without an index scans its whole table under the DELETE. Neither shows in small
tests, so these look at the catalog and at the plans instead of at timings.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from psycopg import sql as sql_text

from expense_api.db.sqlfiles import queries
from tests.catalog import FOREIGN_KEYS, unindexed_foreign_keys
from tests.helpers import module_database_fixtures

# A database of the module's own: the plans below depend on the statistics of one ledger's
# share of the table, which the whole suite's other ledgers would otherwise dilute (in a full
# run the planner once estimated 1 row for the 20,000-row ledger and chose another index).
database_url, app, database = module_database_fixtures()

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


def test_a_new_transactions_change_log_entry_reads_one_row_by_its_key(conn):
    """The write path's entry (sql/changes.sql, record_new_transaction) finds the row just
    inserted by its id: currval evaluated once (an InitPlan), an index key, not a volatile call
    compared with every row of the ledger through the view (found by the benchmark: 16 ms of
    PostgreSQL CPU per write at 2,000 transactions)."""
    params = {
        "ledger_id": 1, "actor_id": 1, "via": "rest", "request_id": None, "digits": 2,
        "currency": "USD", "digits_of": "{}", "event": None,
    }  # fmt: skip
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL enable_seqscan = off")
        sql = queries.changes.record_new_transaction.sql
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql, params))
    filters = [line for line in plan.splitlines() if "Filter" in line]
    assert not [line for line in filters if "currval" in line], plan
    assert re.search(r"Index Cond: \(\(ledger_id = '1'::\w+\) AND \(id = \$\d+\)\)", plan), plan


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


# --- The transaction list's category filter -------------------------------------------------


@pytest.fixture(scope="module")
def split_ledger(database_url) -> dict:
    """A ledger worth choosing an index for: 20,000 transactions over two years in 10
    categories, every 20th of them split in three lines, analyzed (on nearly empty tables every
    plan costs the same). Written by SQL, totals deferred: only the list's plans are looked at."""
    with psycopg.connect(database_url) as own:
        [ledger_id] = own.execute(
            "INSERT INTO ledgers (name, currency, timezone) VALUES ('Splits', 'USD', 'UTC')"
            " RETURNING id"
        ).fetchone()
        categories = [
            row[0]
            for row in own.execute(
                "INSERT INTO categories (ledger_id, name) SELECT %s, 'C' || n"
                " FROM generate_series(1, 10) AS n RETURNING id",
                (ledger_id,),
            )
        ]
        own.execute("SET LOCAL expense_api.defer_totals = 'on'")
        own.execute(
            "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on)"
            " SELECT %(ledger)s, CASE WHEN n %% 20 = 0 THEN NULL"
            "        ELSE (%(categories)s::bigint[])[n %% 10 + 1] END,"
            "        'EXPENSE', 30, date '2025-01-01' + n %% 730"
            " FROM generate_series(1, 20000) AS n",
            {"ledger": ledger_id, "categories": categories},
        )
        own.execute(
            "INSERT INTO transaction_splits (ledger_id, transaction_id, line_no, category_id,"
            " amount, occurred_on, type)"
            " SELECT t.ledger_id, t.id, k, (%(categories)s::bigint[])[(t.id + k) %% 10 + 1], 10,"
            "        t.occurred_on, t.type"
            " FROM transactions t CROSS JOIN generate_series(1, 3) AS k"
            " WHERE t.ledger_id = %(ledger)s AND t.category_id IS NULL",
            {"ledger": ledger_id, "categories": categories},
        )
        own.commit()
        own.execute("ANALYZE transactions, transaction_splits")
        own.commit()
    return {"ledger_id": ledger_id, "category_id": categories[3]}


PARAMETER_TYPES = {
    "ledger_id": "bigint", "ledger_ids": "bigint[]", "date_from": "date", "date_to": "date",
    "date_froms": "date[]", "date_tos": "date[]", "limit": "bigint", "after_date": "date",
    "after_id": "bigint", "type": "text", "category_id": "bigint", "q": "text",
    "min_amount": "numeric", "max_amount": "numeric", "payee": "text", "tags": "text[]",
}  # fmt: skip


def _list_plan(conn, query, params: dict, *, generic: bool = False) -> str:
    """The plan of a list query: a custom plan (the values known, as psycopg's first
    executions are planned), or the generic plan PostgreSQL may keep for a prepared statement
    (the values unknown: each filter's `IS NULL` checked at run time)."""
    names = list(query.parameters)
    sql = query.sql.replace("%%", "%")
    for number, name in enumerate(names, start=1):
        sql = sql.replace(f"%({name})s", f"${number}")
    with conn.transaction(force_rollback=True):
        mode = "force_generic_plan" if generic else "force_custom_plan"
        conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
        types = ", ".join(PARAMETER_TYPES[name] for name in names)
        conn.execute(f"PREPARE list_plan ({types}) AS {sql}")
        values = sql_text.SQL(", ").join(sql_text.Literal(params[name]) for name in names)
        explain = sql_text.SQL("EXPLAIN EXECUTE list_plan({})").format(values)
        rows = conn.execute(explain).fetchall()
    conn.execute("DEALLOCATE list_plan")  # a session's, not the transaction's
    return "\n".join(row[0] for row in rows)


def _list_params(ledger_id: int, **filters) -> dict:
    return {"ledger_id": ledger_id, "ledger_ids": [ledger_id], "date_from": "2025-01-01",
            "date_to": "2026-12-31", "date_froms": ["2025-01-01"], "date_tos": ["2026-12-31"],
            "limit": 51, "after_date": None, "after_id": None, "type": None, "category_id": None,
            "q": None, "min_amount": None, "max_amount": None, "payee": None, "tags": None,
            **filters}  # fmt: skip


LIST_QUERIES = [
    pytest.param(queries.transactions.list_page, id="list_page"),
    pytest.param(queries.transactions.pages_for_ledgers, id="pages_for_ledgers"),
]


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("query", LIST_QUERIES)
def test_the_category_filter_reads_the_category_and_line_indexes(
    conn, split_ledger, query, generic
):
    """The category's own transactions come in the page's order from its index, merged with
    the split ones found through their lines' index: neither is a walk through the ledger."""
    params = _list_params(split_ledger["ledger_id"], category_id=split_ledger["category_id"])
    plan = _list_plan(conn, query, params, generic=generic)
    assert "Merge Append" in plan, plan
    assert "transactions_ledger_category_date_idx" in plan, plan
    assert "transaction_splits_category_idx" in plan, plan
    assert "Seq Scan on transactions" not in plan and "Seq Scan on transaction_splits" not in plan
    if not generic:  # a generic plan keeps the other sources, each behind a one-time filter
        assert "transactions_ledger_date_idx" not in plan, plan


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("query", LIST_QUERIES)
def test_without_a_category_the_list_walks_the_date_index_in_order(
    conn, split_ledger, query, generic
):
    plan = _list_plan(conn, query, _list_params(split_ledger["ledger_id"]), generic=generic)
    assert "transactions_ledger_date_idx" in plan and "Merge Append" in plan, plan
    assert "Seq Scan on transactions" not in plan, plan
    page = plan.split("Merge Append", 1)[1].split("transactions_pkey", 1)[0]
    assert "top-N" not in page and "Seq Scan" not in page, plan
