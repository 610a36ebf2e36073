"""How long migration 0007 (ledgers become the tenant) takes, and how long it locks the tables.

    .venv/bin/python -m bench.ledger_migration [--transactions 1000000] [--users 300]
        [--categories 10] [--migrations DIR] [--explain]

Builds a v1 database (migrations up to 0006) holding `--users` users with `--categories`
categories each, `--transactions` transactions spread over three years and every category, a
year of overall and category budgets and alerts (half of them read), with the totals rebuilt the
way the demo seeder does; vacuums and checkpoints it; then copies it (CREATE DATABASE ...
TEMPLATE) twice and applies 0007 to each copy:

1. through yoyo, as `expense-api migrate` does, while another connection keeps reading
   `transactions`: the migration's total time, and the longest that reader waited; then the
   time its rollback takes (`expense-api rollback --count 1`);
2. statement by statement in one transaction, as yoyo runs it, timing each statement and reading
   pg_locks after each one: the slowest statements, and for each table the lock it holds and for
   how long (from the statement that took it to the end of COMMIT). `--explain` runs the UPDATEs
   under EXPLAIN ANALYZE and prints their trigger times.

The whole migration is one transaction, so every lock it takes is held until it commits: the
lock time of a table is the migration's time from its first statement on that table. It uses
BENCH_DATABASE_URL's server, else the embedded one. `--migrations DIR` measures the migrations in
DIR instead of the project's (e.g. an earlier version of 0007 taken out with `git archive`).
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations
from yoyo.migrations import read_sql_migration

from devtools.servers import database_server, throwaway_database, with_database
from expense_api.db.migrate import MIGRATIONS_DIR, yoyo_url

from .common import machine

MIGRATION = "0007.ledgers-become-the-tenant"

USERS = """
INSERT INTO users (name, email, password_hash, currency, timezone, created_at)
SELECT 'User ' || g, 'user' || g || '@bench.example', 'x',
       (ARRAY['USD', 'EUR', 'JPY', 'INR', 'GBP'])[1 + g %% 5],
       (ARRAY['America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'Asia/Kolkata', 'Europe/London'])[1 + g %% 5],
       now() - g * interval '1 hour'
FROM generate_series(1, %(users)s) g
"""
CATEGORIES = """
INSERT INTO categories (user_id, name)
SELECT u.id, 'Category ' || c FROM users u CROSS JOIN generate_series(1, %(categories)s) c
ORDER BY u.id, c
"""
# The transactions go round the categories (so every user gets as many), dates spread over
# three years; the totals are rebuilt once at the end, as the demo seeder's COPY does.
TRANSACTIONS = """
WITH c AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, user_id, id FROM categories)
INSERT INTO transactions (user_id, category_id, type, amount, description, occurred_on)
SELECT c.user_id, c.id, CASE WHEN g %% 7 = 0 THEN 'INCOME' ELSE 'EXPENSE' END,
       1 + (g * 7919) %% 50000 / 100.0, 'Transaction ' || g, date '2023-01-01' + ((g * 31) %% 1096)::int
FROM generate_series(0, %(transactions)s::bigint - 1) g
JOIN c ON c.n = g %% (SELECT count(*) FROM categories)
"""
TOTALS = [
    """INSERT INTO monthly_totals (user_id, month, category_id, type, amount, tx_count)
    SELECT user_id, date_trunc('month', occurred_on)::date, category_id, type, sum(amount), count(*)
    FROM transactions GROUP BY 1, 2, 3, 4""",
    """INSERT INTO daily_totals (user_id, day, category_id, type, amount, tx_count)
    SELECT user_id, occurred_on, category_id, type, sum(amount), count(*)
    FROM transactions GROUP BY 1, 2, 3, 4""",
]
BUDGETS = [
    """INSERT INTO budgets (user_id, category_id, year, month, amount)
    SELECT u.id, NULL, 2025, m, 5000 FROM users u CROSS JOIN generate_series(1, 12) m""",
    """INSERT INTO budgets (user_id, category_id, year, month, amount, mode)
    SELECT c.user_id, c.id, 2025, m, 400, 'soft' FROM categories c CROSS JOIN generate_series(1, 12) m""",
    """INSERT INTO alerts (user_id, budget_id, kind, percent_used, read_at)
    SELECT user_id, id, 'threshold', 85, CASE WHEN id % 2 = 0 THEN now() END
    FROM budgets WHERE id % 3 = 0""",
]
COUNTED = ("users", "categories", "transactions", "budgets", "alerts", "monthly_totals",
           "daily_totals")  # fmt: skip
# The locks this transaction holds on tables, strongest first (those that block writers).
LOCKS = """
SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND c.relkind = 'r'
  AND c.relnamespace = 'public'::regnamespace
  AND l.mode IN ('AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock')
"""
STRENGTH = ["ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]


def migrate_through_0006(url: str, migrations_dir: Path) -> None:
    backend = get_backend(yoyo_url(url))
    try:
        migrations = read_migrations(str(migrations_dir)).filter(lambda m: m.id < MIGRATION)
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations))
    finally:
        backend.connection.close()


def build_v1(url: str, args) -> dict[str, int]:
    params = vars(args)
    with psycopg.connect(url) as conn:
        conn.execute(USERS, params)
        conn.execute(CATEGORIES, params)
        conn.execute("SET LOCAL expense_api.defer_totals = 'on'")
        conn.execute(TRANSACTIONS, params)
        for statement in TOTALS + BUDGETS:
            conn.execute(statement)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        # Not the migration's work: the load's dirty pages are written before it starts.
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in COUNTED
        }


@contextlib.contextmanager
def copy_of(admin_url: str, template: str):
    name = f"{template}_copy_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


class BlockedReader(threading.Thread):
    """Reads `transactions` every few milliseconds on a connection of its own and keeps the
    longest wait: what a reader (and any writer) of the table went through meanwhile."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.conn = psycopg.connect(url, autocommit=True)
        self.done = threading.Event()
        self.longest = 0.0

    def run(self) -> None:
        while not self.done.is_set():
            started = time.perf_counter()
            self.conn.execute("SELECT 1 FROM transactions LIMIT 1").fetchall()
            self.longest = max(self.longest, time.perf_counter() - started)
            time.sleep(0.005)

    def stop(self) -> float:
        self.done.set()
        self.join()
        self.conn.close()
        return self.longest


def through_yoyo(url: str, migrations_dir: Path) -> tuple[float, float]:
    """(seconds yoyo took to apply 0007, longest wait of a concurrent reader of transactions)."""
    backend = get_backend(yoyo_url(url))
    try:
        migrations = read_migrations(str(migrations_dir)).filter(lambda m: m.id == MIGRATION)
        reader = BlockedReader(url)
        reader.start()
        time.sleep(0.1)
        with backend.lock():
            started = time.perf_counter()
            backend.apply_migrations(backend.to_apply(migrations))
            elapsed = time.perf_counter() - started
        time.sleep(0.1)
        return elapsed, reader.stop()
    finally:
        backend.connection.close()


def rollback_through_yoyo(url: str, migrations_dir: Path) -> float:
    """Seconds yoyo takes to roll 0007 back (every ledger still its user's alone)."""
    backend = get_backend(yoyo_url(url))
    try:
        migrations = read_migrations(str(migrations_dir)).filter(lambda m: m.id == MIGRATION)
        with backend.lock():
            started = time.perf_counter()
            backend.rollback_migrations(backend.to_rollback(migrations))
            return time.perf_counter() - started
    finally:
        backend.connection.close()


def statement_by_statement(url: str, path: Path, explain: bool):
    """Runs the migration's statements (split as yoyo splits them) in one transaction; returns
    ([(seconds, statement)], commit seconds, {table: (mode, seconds held)}, explained plans)."""
    _, _, statements = read_sql_migration(str(path))
    timings, plans = [], []
    clock = 0.0  # the migration's own time: the pg_locks reads in between are left out
    taken: dict[str, tuple[str, float]] = {}
    with psycopg.connect(url) as conn:
        for statement in statements:
            analyze = explain and statement.lstrip().upper().startswith("UPDATE")
            started = time.perf_counter()
            cursor = conn.execute(("EXPLAIN (ANALYZE) " if analyze else "") + statement)
            if analyze:
                plans.append((statement, [row[0] for row in cursor.fetchall()]))
            elapsed = time.perf_counter() - started
            timings.append((elapsed, statement))
            for table, mode in conn.execute(LOCKS).fetchall():
                held = taken.get(table)
                if held is None or STRENGTH.index(mode) > STRENGTH.index(held[0]):
                    # A stronger lock than before: count from this statement's start.
                    taken[table] = (mode, clock if held is None else held[1])
            clock += elapsed
        started = time.perf_counter()
        conn.commit()
        commit = time.perf_counter() - started
    total = clock + commit
    held = {table: (mode, total - since) for table, (mode, since) in taken.items()}
    return timings, commit, held, plans


def _one_line(statement: str, width: int = 90) -> str:
    lines = [line.strip() for line in statement.splitlines()]
    text = " ".join(line for line in lines if line and not line.startswith("--"))
    return text if len(text) <= width else text[: width - 3] + "..."


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--categories", type=int, default=10, help="per user")
    parser.add_argument("--migrations", type=Path, default=MIGRATIONS_DIR)
    parser.add_argument("--slowest", type=int, default=8, help="statements to list")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    forward = args.migrations / f"{MIGRATION}.sql"

    with (
        database_server("BENCH_DATABASE_URL", "bench-postgres") as admin_url,
        throwaway_database(admin_url, "ledger_mig_bench", migrate=False) as template_url,
    ):
        print(machine(template_url))
        started = time.perf_counter()
        migrate_through_0006(template_url, args.migrations)
        counts = build_v1(template_url, args)
        print(
            "v1 database: "
            + ", ".join(f"{counts[table]:,} {table}" for table in COUNTED)
            + f" (built in {time.perf_counter() - started:.1f} s)"
        )
        template = urlsplit(template_url).path.lstrip("/")

        with copy_of(admin_url, template) as url:
            total, waited = through_yoyo(url, args.migrations)
            back = rollback_through_yoyo(url, args.migrations)
        print(f"\n0007 through yoyo, one transaction: {total:.2f} s")
        print(f"a reader of transactions meanwhile waited at most {waited:.2f} s")
        print(f"its rollback through yoyo, one transaction: {back:.2f} s")

        with copy_of(admin_url, template) as url:
            timings, commit, held, plans = statement_by_statement(url, forward, args.explain)
        print(
            f"\nstatement by statement, one transaction: {sum(t for t, _ in timings):.2f} s"
            f" in {len(timings)} statements, COMMIT {commit * 1000:.0f} ms"
        )
        print("slowest statements:")
        for elapsed, statement in sorted(timings, key=lambda t: t[0], reverse=True)[: args.slowest]:
            print(f"  {elapsed:7.2f} s  {_one_line(statement)}")
        print("locks held until COMMIT (from the statement that took them):")
        for table, (mode, seconds) in sorted(held.items(), key=lambda t: -t[1][1]):
            print(f"  {table:16} {mode:22} {seconds:7.2f} s")
        for statement, plan in plans:
            print(f"\nEXPLAIN ANALYZE {_one_line(statement, 70)}")
            for line in plan:
                print("  " + line)


if __name__ == "__main__":
    main()
