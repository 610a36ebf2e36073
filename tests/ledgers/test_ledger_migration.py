"""Migration 0007 (ledgers become the tenant) on a database holding v1 data.

A throwaway database is migrated up to 0006 and seeded in plain SQL through the v1 schema (users
in several currencies and time zones, categories, transactions of both types over many months and
days, edited and deleted so that the totals trigger of 0003 has decremented as well as
incremented, overall and category budgets, alerts read and unread). Every row of every table a
ledger will own is read, then 0007 is applied. The checks: each user has one default ledger whose
id is the user's; every row came across to it unchanged, with the user as `created_by` and the
alert reads as the owner's; the totals equal the v1 ones and a recomputation; and the new schema
holds (numbering, trigger, cross-ledger references, deleting a ledger or a category in use,
indexes). Then the rollback: with one member per ledger it gives every row back to its user and
restores the v1 schema exactly; once a ledger is shared, or a user has two, it refuses with a
clear message and changes nothing.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from yoyo import get_backend, read_migrations

from devtools.servers import throwaway_database
from expense_api.db.migrate import MIGRATIONS_DIR, yoyo_url
from tests.catalog import FOREIGN_KEYS, unindexed_foreign_keys

MIGRATION = "0007.ledgers-become-the-tenant"
# The tables whose rows a ledger owns, and the key of each row in v1 (user_id becomes ledger_id).
OWNED = {
    "categories": ("id",),
    "transactions": ("id",),
    "budgets": ("id",),
    "alerts": ("id",),
    "monthly_totals": ("user_id", "month", "category_id", "type"),
    "daily_totals": ("user_id", "day", "category_id", "type"),
}
TOTALS = {"monthly_totals": "date_trunc('month', occurred_on)::date", "daily_totals": "occurred_on"}

# name, currency, time zone, transactions recorded in v1
PEOPLE = [
    ("Asha", "INR", "Asia/Kolkata", 600),
    ("Bob", "USD", "America/New_York", 500),
    ("Zed", "USD", "UTC", 0),  # deleted in v1: the user ids have a gap
    ("Chie", "JPY", "Asia/Tokyo", 300),
    ("Dora", "EUR", "Europe/Berlin", 200),
    ("Eve", "GBP", "Europe/London", 0),  # registered, never recorded anything
]
# Transactions go round the first four; Gifts has a budget and no transaction; Unused nothing.
CATEGORIES = ["Food", "Rent", "Salary", "Travel", "Gifts", "Unused"]


# --- Migrating with yoyo -------------------------------------------------------------------


@contextlib.contextmanager
def _yoyo(url: str):
    backend = get_backend(yoyo_url(url))
    try:
        yield backend, read_migrations(str(MIGRATIONS_DIR))
    finally:
        backend.connection.close()


def migrate_before_0007(url: str) -> None:
    with _yoyo(url) as (backend, migrations), backend.lock():
        backend.apply_migrations(backend.to_apply(migrations.filter(lambda m: m.id < MIGRATION)))


def apply_0007(url: str) -> None:
    with _yoyo(url) as (backend, migrations), backend.lock():
        backend.apply_migrations(backend.to_apply(migrations.filter(lambda m: m.id <= MIGRATION)))


def roll_back_0007(url: str) -> None:
    with _yoyo(url) as (backend, migrations), backend.lock():
        backend.rollback_migrations(
            backend.to_rollback(migrations.filter(lambda m: m.id == MIGRATION))
        )


def applied(url: str) -> list[str]:
    with _yoyo(url) as (backend, migrations):
        return sorted(migration.id for migration in backend.to_rollback(migrations))


# --- v1 data, written through the v1 schema ------------------------------------------------


def seed_v1(conn) -> None:
    """The people above with their categories, transactions (through the totals trigger),
    budgets and alerts; then v1 edits and deletes, so that the totals have gone down too."""
    for number, (name, currency, timezone, count) in enumerate(PEOPLE, start=1):
        user_id = conn.execute(
            "INSERT INTO users (name, email, password_hash, currency, timezone, created_at)"
            " VALUES (%s, %s, 'x', %s, %s, %s) RETURNING id",
            (
                name,
                f"{name.lower()}@v1.example",
                currency,
                timezone,
                datetime(2025, 1, number, 9, 30, tzinfo=UTC),
            ),
        ).fetchone()[0]
        if name == "Zed":
            conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
            continue
        if count == 0:
            continue
        categories = [
            conn.execute(
                "INSERT INTO categories (user_id, name) VALUES (%s, %s) RETURNING id",
                (user_id, category),
            ).fetchone()[0]
            for category in CATEGORIES
        ]
        # Dates over fifteen months, several on most days; amounts with the currency's digits.
        conn.execute(
            """
            INSERT INTO transactions (user_id, category_id, type, amount, description, occurred_on)
            SELECT %(user)s, (%(categories)s::bigint[])[1 + g %% 4],
                   CASE WHEN g %% 5 = 0 THEN 'INCOME' ELSE 'EXPENSE' END,
                   round(1 + (g * 7919 + %(user)s * 104729) %% 250000 / 100.0, %(digits)s),
                   'v1 #' || g, date '2025-01-01' + ((g * 13 + %(user)s) %% 450)::int
            FROM generate_series(1, %(count)s) g
            """,
            {
                "user": user_id,
                "categories": categories[:4],
                "count": count,
                "digits": 0 if currency == "JPY" else 2,
            },
        )
        conn.execute(
            "INSERT INTO budgets (user_id, category_id, year, month, amount, mode, alert_threshold)"
            " SELECT %(user)s, NULL, 2025, m, 2000, 'hard', 80 FROM generate_series(1, 6) m"
            " UNION ALL"
            " SELECT %(user)s, %(food)s, 2025, m, 300.5, 'soft', 90 FROM generate_series(1, 6) m"
            " UNION ALL SELECT %(user)s, %(gifts)s, 2025, 12, 150, 'hard', 75",
            {"user": user_id, "food": categories[0], "gifts": categories[4]},
        )
    # v1 edits: new amounts and dates, another category, another type; then deletions.
    conn.execute(
        "UPDATE transactions SET amount = amount + 1.5, occurred_on = occurred_on + 40"
        " WHERE id % 11 = 0"
    )
    conn.execute(
        "UPDATE transactions t SET category_id = c.id FROM categories c"
        " WHERE c.user_id = t.user_id AND c.name = 'Travel' AND t.id % 13 = 0"
    )
    conn.execute("UPDATE transactions SET type = 'INCOME' WHERE id % 19 = 0 AND type = 'EXPENSE'")
    conn.execute("DELETE FROM transactions WHERE id % 17 = 0")
    # Alerts: a threshold alert on the budgets of the first four months, read on every other
    # budget; a limit alert on February's, read on one user's only.
    conn.execute(
        "INSERT INTO alerts (user_id, budget_id, kind, percent_used, created_at, read_at)"
        " SELECT user_id, id, 'threshold', 85.25, timestamptz '2025-05-01' + id * interval '1 hour',"
        "        CASE WHEN id % 2 = 0 THEN timestamptz '2025-06-01' + id * interval '1 minute' END"
        " FROM budgets WHERE month <= 4"
        " UNION ALL"
        " SELECT user_id, id, 'limit', 100.5, timestamptz '2025-05-02',"
        "        CASE WHEN user_id = (SELECT min(id) FROM users) THEN timestamptz '2025-05-03' END"
        " FROM budgets WHERE month = 2"
    )


def user_id(conn, name: str) -> int:
    return conn.execute("SELECT id FROM users WHERE name = %s", (name,)).fetchone()[0]


def category_of(conn, owner: str, name: str) -> int:
    """The id of `owner`'s category `name` (owner's default ledger = the user's id, in either
    schema)."""
    column = "ledger_id" if _has_ledgers(conn) else "user_id"
    return conn.execute(
        sql.SQL("SELECT id FROM categories WHERE {} = %s AND name = %s").format(
            sql.Identifier(column)
        ),
        (user_id(conn, owner), name),
    ).fetchone()[0]


def _has_ledgers(conn) -> bool:
    return conn.execute("SELECT to_regclass('ledgers') IS NOT NULL").fetchone()[0]


# --- Reading the data back -----------------------------------------------------------------


def _rows(conn, table: str) -> list[dict]:
    query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))
    return conn.cursor(row_factory=dict_row).execute(query).fetchall()


def snapshot_v1(conn) -> dict[str, dict[tuple, dict]]:
    """Every row of every table a ledger will own (v1 schema), by its key."""
    return {
        table: {tuple(row[column] for column in key): row for row in _rows(conn, table)}
        for table, key in OWNED.items()
    }


def as_v1(conn, owners: dict[int, int] | None = None) -> dict[str, dict[tuple, dict]]:
    """The ledger schema's rows as v1 would hold them: ledger_id is the user's id (`owners`
    maps ledger ids to users; without it they must be equal), no created_by, and an alert's
    read_at is the read of the ledger's member."""
    reads = {(row["ledger_id"], row["alert_id"]): row for row in _rows(conn, "alert_reads")}
    found: dict[str, dict[tuple, dict]] = {}
    for table, key in OWNED.items():
        found[table] = {}
        for row in _rows(conn, table):
            ledger = row.pop("ledger_id")
            row["user_id"] = owners[ledger] if owners is not None else ledger
            row.pop("created_by", None)
            if table == "alerts":
                read = reads.get((ledger, row["id"]))
                assert read is None or read["user_id"] == row["user_id"], read
                row["read_at"] = read["read_at"] if read else None
            found[table][tuple(row[column] for column in key)] = row
    return found


def assert_same_rows(found: dict, expected: dict) -> None:
    """Table by table, naming a few missing, unexpected and changed rows."""
    assert found.keys() == expected.keys()
    for table in expected:
        missing = sorted(expected[table].keys() - found[table].keys(), key=repr)
        extra = sorted(found[table].keys() - expected[table].keys(), key=repr)
        changed = sorted(
            (
                key
                for key in expected[table].keys() & found[table].keys()
                if expected[table][key] != found[table][key]
            ),
            key=repr,
        )
        assert not (missing or extra or changed), (
            f"{table}: missing {missing[:3]}, unexpected {extra[:3]}, changed "
            + "; ".join(f"{expected[table][k]} -> {found[table][k]}" for k in changed[:3])
        )


def stored_totals(conn, table: str, tenant: str) -> dict[tuple, tuple]:
    """A totals table's rows with transactions in them (a row whose transactions were all
    deleted or moved stays, at zero)."""
    period = "month" if table == "monthly_totals" else "day"
    query = sql.SQL(
        "SELECT {}, {}, category_id, type, amount, tx_count FROM {} WHERE tx_count > 0"
    ).format(sql.Identifier(tenant), sql.Identifier(period), sql.Identifier(table))
    return {row[:4]: row[4:] for row in conn.execute(query)}


def recomputed_totals(conn, table: str, tenant: str) -> dict[tuple, tuple]:
    query = sql.SQL(
        "SELECT {tenant}, {period}, category_id, type, sum(amount), count(*) FROM transactions"
        " GROUP BY 1, 2, 3, 4"
    ).format(tenant=sql.Identifier(tenant), period=sql.SQL(TOTALS[table]))
    return {row[:4]: row[4:] for row in conn.execute(query)}


def assert_totals_exact(conn, tenant: str) -> None:
    for table in TOTALS:
        assert stored_totals(conn, table, tenant) == recomputed_totals(conn, table, tenant), table
        zero = sql.SQL("SELECT count(*) FROM {} WHERE tx_count = 0 AND amount <> 0").format(
            sql.Identifier(table)
        )
        assert conn.execute(zero).fetchone()[0] == 0, table


# Columns, constraints, indexes, triggers and functions of the public schema, yoyo's own tables
# left out. Function bodies are compared without their comments and layout.
CATALOG = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity,
               row_number() OVER (PARTITION BY c.relname ORDER BY a.attnum)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
          AND a.attnum > 0 AND NOT a.attisdropped AND c.relname NOT LIKE '%yoyo%'""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE '%yoyo%'""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename NOT LIKE '%yoyo%'""",
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger"
    " WHERE NOT tgisinternal",
    "functions": """
        SELECT proname, pg_get_function_identity_arguments(oid), pg_get_function_result(oid),
               prosrc
        FROM pg_proc WHERE pronamespace = 'public'::regnamespace""",
}


def catalog(conn) -> dict[str, set[tuple]]:
    found = {name: set(conn.execute(query).fetchall()) for name, query in CATALOG.items()}
    found["functions"] = {
        (*row[:3], " ".join(re.sub(r"--[^\n]*", "", row[3]).split())) for row in found["functions"]
    }
    return found


def everything(conn) -> dict[str, list]:
    """Every row of every public table but yoyo's, in a stable order."""
    tables = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        " AND tablename NOT LIKE '%yoyo%'"
    ).fetchall()
    return {
        name: sorted(
            conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(name))).fetchall(),
            key=repr,
        )
        for (name,) in tables
    }


# --- Fixtures ------------------------------------------------------------------------------


@contextlib.contextmanager
def v1_database(admin_url: str):
    """A database at 0006 holding the v1 data; yields (url, snapshot, catalog at 0006)."""
    with throwaway_database(admin_url, "expense_api_ledger_mig", migrate=False) as url:
        migrate_before_0007(url)
        with psycopg.connect(url) as conn:
            schema = catalog(conn)
            seed_v1(conn)
            before = snapshot_v1(conn)
        yield url, before, schema


class Migrated(NamedTuple):
    url: str  # the migrated database
    v1_rows: dict  # what the v1 schema held before 0007


@pytest.fixture(scope="module")
def migrated(admin_url):
    """One database migrated from v1 for the checks that only read, or write and roll back."""
    with v1_database(admin_url) as (url, before, _):
        apply_0007(url)
        yield Migrated(url, before)


@pytest.fixture
def db(migrated):
    """A connection to the migrated database whose transaction is always rolled back."""
    conn = psycopg.connect(migrated.url)
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def before(migrated):
    return migrated.v1_rows


# --- The migration -------------------------------------------------------------------------


def test_the_seed_is_v1_data_worth_migrating(before):
    """The seed has what the checks below need to mean something."""
    transactions = before["transactions"].values()
    assert len(transactions) > 1400
    assert {row["type"] for row in transactions} == {"INCOME", "EXPENSE"}
    assert len({row["occurred_on"].replace(day=1) for row in transactions}) >= 12
    assert len({row["user_id"] for row in transactions}) == 4
    alerts = before["alerts"].values()
    assert {row["read_at"] is None for row in alerts} == {True, False}
    budgets = before["budgets"].values()
    assert {row["category_id"] is None for row in budgets} == {True, False}
    # The v1 edits and deletes left totals rows at zero: those must come across too.
    assert any(row["tx_count"] == 0 for row in before["daily_totals"].values())


def test_each_user_gets_one_default_ledger_with_the_users_id_currency_and_time_zone(db):
    users = db.execute("SELECT id, currency, timezone, created_at FROM users ORDER BY id")
    expected = [
        (uid, "Personal", cur, tz, created, uid, "owner", True) for uid, cur, tz, created in users
    ]
    ledgers = db.execute(
        "SELECT l.id, l.name, l.currency, l.timezone, l.created_at, m.user_id, m.role, m.is_default"
        " FROM ledgers l JOIN ledger_members m ON m.ledger_id = l.id ORDER BY l.id"
    ).fetchall()
    assert ledgers == expected
    assert db.execute("SELECT count(*) FROM ledgers").fetchone()[0] == len(expected) == 5
    assert {row[2] for row in ledgers} == {"INR", "USD", "JPY", "EUR", "GBP"}


def test_every_row_comes_across_to_its_users_ledger(db, before):
    """Every row of categories, transactions, budgets, alerts and both totals tables, column by
    column, with ledger_id = the v1 user_id (totals rows left at zero included)."""
    assert_same_rows(as_v1(db), before)


def test_transactions_record_their_user_as_created_by(db, before):
    created_by = dict(db.execute("SELECT id, created_by FROM transactions").fetchall())
    assert created_by == {key[0]: row["user_id"] for key, row in before["transactions"].items()}
    bob = user_id(db, "Bob")
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as refused, db.transaction():
        db.execute(
            "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on,"
            " created_by) VALUES (%s, %s, 'EXPENSE', 1, '2026-01-01', -1)",
            (bob, category_of(db, "Bob", "Food")),
        )
    assert refused.value.diag.constraint_name == "transactions_created_by_fkey"


def test_read_alerts_become_reads_of_the_owner_and_unread_ones_stay_unread(db, before):
    reads = set(db.execute("SELECT ledger_id, alert_id, user_id, read_at FROM alert_reads"))
    expected = {
        (row["user_id"], row["id"], row["user_id"], row["read_at"])
        for row in before["alerts"].values()
        if row["read_at"] is not None
    }
    assert reads == expected
    assert 0 < len(expected) < len(before["alerts"])


def test_totals_come_across_exactly_and_match_the_transactions(db, before):
    for table in TOTALS:
        v1 = {key: (row["amount"], row["tx_count"]) for key, row in before[table].items()}
        migrated = stored_totals(db, table, "ledger_id")
        assert migrated == {key: value for key, value in v1.items() if value[1] > 0}, table
    assert_totals_exact(db, "ledger_id")


def test_a_new_ledger_is_numbered_after_every_existing_one(db):
    highest = db.execute(
        "SELECT greatest((SELECT max(id) FROM ledgers), (SELECT max(id) FROM users))"
    ).fetchone()[0]
    new = db.execute(
        "INSERT INTO ledgers (name, currency, timezone) VALUES ('Trip', 'EUR', 'UTC') RETURNING id"
    ).fetchone()[0]
    assert new > highest


def test_on_a_database_without_users_the_first_ledger_is_numbered_1(admin_url):
    """A fresh install numbers ledgers from 1, as it does users: a user's first ledger has the
    user's id until ledgers and users are made at different paces."""
    with throwaway_database(admin_url, "expense_api_ledger_mig", migrate=False) as url:
        migrate_before_0007(url)
        apply_0007(url)
        with psycopg.connect(url) as conn:
            first = conn.execute(
                "INSERT INTO ledgers (name, currency, timezone) VALUES ('Personal', 'USD', 'UTC')"
                " RETURNING id"
            ).fetchone()[0]
        assert first == 1


def test_the_trigger_keeps_the_totals_exact_in_the_ledger_schema(db):
    bob, food, rent = (
        user_id(db, "Bob"),
        category_of(db, "Bob", "Food"),
        category_of(db, "Bob", "Rent"),
    )
    new = db.execute(
        "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on, created_by)"
        " VALUES (%s, %s, 'EXPENSE', 12.34, '2026-07-15', %s) RETURNING id",
        (bob, food, bob),
    ).fetchone()[0]
    assert db.execute(
        "SELECT amount, tx_count FROM monthly_totals"
        " WHERE ledger_id = %s AND month = '2026-07-01' AND category_id = %s AND type = 'EXPENSE'",
        (bob, food),
    ).fetchone() == (Decimal("12.34"), 1)
    assert_totals_exact(db, "ledger_id")
    db.execute(
        "UPDATE transactions SET category_id = %s, occurred_on = '2026-08-31', amount = 99"
        " WHERE id = %s",
        (rent, new),
    )
    assert_totals_exact(db, "ledger_id")
    old = db.execute(
        "SELECT min(id), max(id) FROM transactions WHERE ledger_id = %s AND type = 'EXPENSE'",
        (bob,),
    ).fetchone()
    db.execute("UPDATE transactions SET type = 'INCOME' WHERE id = %s", (old[0],))
    db.execute("DELETE FROM transactions WHERE id = %s", (old[1],))
    assert_totals_exact(db, "ledger_id")


def test_the_database_refuses_references_across_ledgers(db):
    asha, bob = user_id(db, "Asha"), user_id(db, "Bob")
    bobs_food = category_of(db, "Bob", "Food")
    bobs_budget, bobs_alert = db.execute(
        "SELECT budget_id, id FROM alerts WHERE ledger_id = %s LIMIT 1", (bob,)
    ).fetchone()
    ashas_alert, ashas_transaction = db.execute(
        "SELECT (SELECT min(id) FROM alerts WHERE ledger_id = %(a)s),"
        " (SELECT min(id) FROM transactions WHERE ledger_id = %(a)s)",
        {"a": asha},
    ).fetchone()
    # Each refused by its own ledger-keyed foreign key (a transaction's would otherwise still
    # be refused later, by the totals' key, when the trigger writes them).
    refused = {
        "transactions_ledger_id_category_id_fkey": [
            "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on)"
            " VALUES (%(a)s, %(food)s, 'EXPENSE', 1, '2026-01-01')",
            "UPDATE transactions SET category_id = %(food)s WHERE id = %(tx)s",
        ],
        "budgets_ledger_id_category_id_fkey": [
            "INSERT INTO budgets (ledger_id, category_id, year, month, amount)"
            " VALUES (%(a)s, %(food)s, 2027, 1, 10)",
        ],
        "monthly_totals_ledger_id_category_id_fkey": [
            "INSERT INTO monthly_totals (ledger_id, month, category_id, type, amount, tx_count)"
            " VALUES (%(a)s, '2026-01-01', %(food)s, 'EXPENSE', 1, 1)",
        ],
        "daily_totals_ledger_id_category_id_fkey": [
            "INSERT INTO daily_totals (ledger_id, day, category_id, type, amount, tx_count)"
            " VALUES (%(a)s, '2026-01-01', %(food)s, 'EXPENSE', 1, 1)",
        ],
        "alerts_ledger_id_budget_id_fkey": [
            "INSERT INTO alerts (ledger_id, budget_id, kind, percent_used)"
            " VALUES (%(a)s, %(budget)s, 'limit', 1)",
        ],
        "alert_reads_ledger_id_alert_id_fkey": [
            "INSERT INTO alert_reads (ledger_id, alert_id, user_id)"
            " VALUES (%(a)s, %(bobs_alert)s, %(a)s)",
        ],
        # Bob is no member of Asha's ledger: he cannot have read its alerts.
        "alert_reads_ledger_id_user_id_fkey": [
            "INSERT INTO alert_reads (ledger_id, alert_id, user_id) VALUES (%(a)s, %(alert)s, %(b)s)",
        ],
    }
    params = {
        "a": asha,
        "b": bob,
        "food": bobs_food,
        "budget": bobs_budget,
        "tx": ashas_transaction,
        "alert": ashas_alert,
        "bobs_alert": bobs_alert,
    }
    for constraint, statements in refused.items():
        for statement in statements:
            with pytest.raises(psycopg.errors.ForeignKeyViolation) as error, db.transaction():
                db.execute(statement, params)
            assert error.value.diag.constraint_name == constraint, statement


def test_deleting_a_ledger_removes_everything_in_it_and_nothing_of_another(db):
    bob = user_id(db, "Bob")
    tables = [*OWNED, "ledger_members", "alert_reads"]

    def by_ledger():
        found = {}
        for table in tables:
            for row in _rows(db, table):
                found.setdefault((table, row["ledger_id"]), []).append(row)
        return found

    before = by_ledger()
    assert {table for table, ledger in before if ledger == bob} == set(tables)
    db.execute("DELETE FROM ledgers WHERE id = %s", (bob,))
    assert by_ledger() == {key: rows for key, rows in before.items() if key[1] != bob}
    assert db.execute("SELECT count(*) FROM users WHERE id = %s", (bob,)).fetchone()[0] == 1


def test_deleting_a_category_still_in_use_is_refused(db):
    in_use = {
        "transactions_ledger_id_category_id_fkey": category_of(db, "Chie", "Food"),
        "budgets_ledger_id_category_id_fkey": category_of(db, "Chie", "Gifts"),  # a budget only
    }
    for constraint, category in in_use.items():
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as refused, db.transaction():
            db.execute("DELETE FROM categories WHERE id = %s", (category,))
        assert refused.value.diag.constraint_name == constraint
    unused = category_of(db, "Chie", "Unused")
    assert db.execute("DELETE FROM categories WHERE id = %s", (unused,)).rowcount == 1


def test_the_ledger_schema_keys_every_owned_row_by_ledger(db):
    columns = db.execute(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name IN ('user_id', 'ledger_id')"
        " AND table_name = ANY(%s)",
        (list(OWNED),),
    ).fetchall()
    assert sorted(columns) == sorted((table, "ledger_id", "NO") for table in OWNED)
    # Primary keys lead with ledger_id (every lookup is by ledger; it is the shard key).
    leading = db.execute(
        "SELECT conrelid::regclass::text, (SELECT attname FROM pg_attribute"
        "  WHERE attrelid = conrelid AND attnum = conkey[1])"
        " FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text = ANY(%s)",
        (list(OWNED),),
    ).fetchall()
    assert sorted(leading) == sorted((table, "ledger_id") for table in OWNED)


def test_every_foreign_key_has_an_index_leading_with_its_columns(db):
    assert db.execute("SELECT count(*) FROM (" + FOREIGN_KEYS + ") k").fetchone()[0] >= 15
    assert unindexed_foreign_keys(db) == []


# --- The rollback --------------------------------------------------------------------------


def _register(conn, name: str, currency: str, timezone: str) -> tuple[int, int]:
    """A user who registers after 0007, with the personal ledger the new code makes for them;
    returns (user id, ledger id)."""
    user = conn.execute(
        "INSERT INTO users (name, email, password_hash, currency, timezone)"
        " VALUES (%s, %s, 'x', %s, %s) RETURNING id",
        (name, f"{name.lower()}@v2.example", currency, timezone),
    ).fetchone()[0]
    ledger = conn.execute(
        "INSERT INTO ledgers (name, currency, timezone) VALUES ('Personal', %s, %s) RETURNING id",
        (currency, timezone),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO ledger_members (ledger_id, user_id, role, is_default)"
        " VALUES (%s, %s, 'owner', true)",
        (ledger, user),
    )
    return user, ledger


def _use_ledger(conn, ledger: int, user: int) -> None:
    """What a member does with a ledger under 0007: categories (named like everyone's), an
    expense over its budget that fires an alert, which the member reads, and an income."""
    food, rent = (
        conn.execute(
            "INSERT INTO categories (ledger_id, name) VALUES (%s, %s) RETURNING id", (ledger, name)
        ).fetchone()[0]
        for name in ("Food", "Rent")
    )
    budget = conn.execute(
        "INSERT INTO budgets (ledger_id, category_id, year, month, amount)"
        " VALUES (%s, %s, 2026, 3, 100) RETURNING id",
        (ledger, food),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on, created_by)"
        " VALUES (%(l)s, %(food)s, 'EXPENSE', 120.5, '2026-03-02', %(u)s),"
        "        (%(l)s, %(rent)s, 'INCOME', 1000, '2026-03-31', %(u)s),"
        "        (%(l)s, %(rent)s, 'EXPENSE', 7.25, '2026-04-01', %(u)s)",
        {"l": ledger, "food": food, "rent": rent, "u": user},
    )
    for kind in ("threshold", "limit"):
        alert = conn.execute(
            "INSERT INTO alerts (ledger_id, budget_id, kind, percent_used)"
            " VALUES (%s, %s, %s, 120.5) RETURNING id",
            (ledger, budget, kind),
        ).fetchone()[0]
        if kind == "limit":
            conn.execute(
                "INSERT INTO alert_reads (ledger_id, alert_id, user_id) VALUES (%s, %s, %s)",
                (ledger, alert, user),
            )


def test_rollback_gives_every_row_back_to_its_user_while_ledgers_are_unshared(admin_url):
    with v1_database(admin_url) as (url, before, v1_schema):
        apply_0007(url)
        with psycopg.connect(url) as conn:
            # Asha opens a second ledger and deletes it again: that ledger id is used up, so
            # the next users' ledger ids differ from their user ids (Finn's ledger has Gus's id).
            trip = conn.execute(
                "INSERT INTO ledgers (name, currency, timezone) VALUES ('Trip', 'EUR', 'UTC')"
                " RETURNING id"
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO ledger_members (ledger_id, user_id, role) VALUES (%s, %s, 'owner')",
                (trip, user_id(conn, "Asha")),
            )
            conn.execute("DELETE FROM ledgers WHERE id = %s", (trip,))
            finn, finns = _register(conn, "Finn", "CHF", "Europe/Zurich")
            gus, guss = _register(conn, "Gus", "USD", "America/Chicago")
            assert (finns, guss) == (finn + 1, gus + 1) and finns == gus
            _use_ledger(conn, finns, finn)
            _use_ledger(conn, guss, gus)
            bob = user_id(conn, "Bob")
            conn.execute(
                "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on,"
                " created_by) VALUES (%s, %s, 'EXPENSE', 3.5, '2026-03-02', %s)",
                (bob, category_of(conn, "Bob", "Food"), bob),
            )
            owners = dict(conn.execute("SELECT ledger_id, user_id FROM ledger_members"))
            after_0007 = as_v1(conn, owners)
        # Every v1 row is still there as it was; the rows written since are the new users'
        # (and Bob's one transaction, with his totals).
        for table in ("categories", "transactions", "budgets", "alerts"):
            new = after_0007[table].keys() - before[table].keys()
            assert {after_0007[table][key]["user_id"] for key in new} == (
                {finn, gus, bob} if table == "transactions" else {finn, gus}
            )
            assert {key: after_0007[table][key] for key in before[table]} == before[table]

        roll_back_0007(url)

        assert MIGRATION not in applied(url)
        with psycopg.connect(url) as conn:
            assert catalog(conn) == v1_schema
            assert_same_rows(snapshot_v1(conn), after_0007)
            assert_totals_exact(conn, "user_id")
            # The totals of everyone but Bob (and the new users) are v1's.
            after = snapshot_v1(conn)
            for table in TOTALS:
                kept = {
                    key: row for key, row in after[table].items() if key[0] not in (bob, finn, gus)
                }
                assert kept == {key: row for key, row in before[table].items() if key[0] != bob}
            # The v1 trigger runs again.
            conn.execute(
                "INSERT INTO transactions (user_id, category_id, type, amount, occurred_on)"
                " VALUES (%s, %s, 'INCOME', 5, %s)",
                (finn, category_of(conn, "Finn", "Rent"), date(2026, 5, 1)),
            )
            assert_totals_exact(conn, "user_id")

        # And 0007 applies again: now every user's ledger has the user's id.
        apply_0007(url)
        with psycopg.connect(url) as conn:
            assert (
                conn.execute(
                    "SELECT count(*) FROM users u JOIN ledger_members m ON m.user_id = u.id"
                    " AND m.ledger_id = u.id AND m.is_default"
                ).fetchone()[0]
                == conn.execute("SELECT count(*) FROM users").fetchone()[0]
                == 7
            )
            assert_totals_exact(conn, "ledger_id")


@pytest.mark.parametrize(
    ("share", "message"),
    [
        pytest.param(
            "INSERT INTO ledger_members (ledger_id, user_id, role)"
            " VALUES (%(bob)s, %(asha)s, 'editor')",
            "cannot roll back 0007: 1 ledger(s) are shared by more than one member;"
            " remove the other members first",
            id="shared-ledger",
        ),
        pytest.param(
            "WITH l AS (INSERT INTO ledgers (name, currency, timezone)"
            " VALUES ('Trip', 'EUR', 'UTC') RETURNING id)"
            " INSERT INTO ledger_members (ledger_id, user_id, role) SELECT id, %(asha)s, 'owner' FROM l",
            "cannot roll back 0007: some users belong to more than one ledger;"
            " delete their other ledgers first",
            id="second-ledger",
        ),
        pytest.param(
            "DELETE FROM users WHERE id = %(eve)s",  # her ledger stays, with nobody in it
            "cannot roll back 0007: some ledgers have no member to own their rows",
            id="memberless-ledger",
        ),
    ],
)
def test_rollback_refuses_unless_each_ledger_is_one_users_alone_and_changes_nothing(
    admin_url, share, message
):
    with v1_database(admin_url) as (url, _, _):
        apply_0007(url)
        with psycopg.connect(url) as conn:
            people = {name.lower(): user_id(conn, name) for name in ("Asha", "Bob", "Eve")}
            conn.execute(share, people)
        with psycopg.connect(url) as conn:
            schema, rows = catalog(conn), everything(conn)

        with pytest.raises(psycopg.errors.RaiseException) as refused:
            roll_back_0007(url)

        assert refused.value.diag.message_primary == message
        assert MIGRATION in applied(url)
        with psycopg.connect(url) as conn:
            assert catalog(conn) == schema
            assert everything(conn) == rows
