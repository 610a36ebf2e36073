"""How fast the worker catches up recurring rules, with budget enforcement on, by one and by two
worker processes.

    .venv/bin/python -m bench.recurring [--rules 10000] [--per-ledger 10] [--seconds 60]

1. A fresh database (BENCH_DATABASE_URL's server, else the embedded one) with --rules monthly
   rules, --per-ledger of them in each ledger, each with a year of backlog (12 dates in the past:
   10,000 rules are 120,000 occurrences). Every ledger has a hard overall budget for each of
   those months, far too large to refuse anything, so every date runs the whole enforcement
   (scope lock, budget FOR UPDATE, spent, insert, totals upkeep) as an API write does.
2. One real worker process (`expense-api worker`) runs for --seconds, then is stopped with
   SIGTERM; then two run together for --seconds on what is left. Occurrences per second are
   counted from the database, from the first date handled (so start-up is not counted).
3. Checks: each date at most once (the primary key would refuse a second), occurrences equal
   the transactions created, and no budget overspent.

Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import psycopg

from expense_api.config import PROJECT_ROOT
from expense_api.demo import log_bulk_load
from expense_api.services import ledgers
from expense_api.services.changes import door

from .common import bench_database, machine

BACKLOG_MONTHS = 12


def seed(url: str, rules: int, per_ledger: int) -> None:
    """Ledgers with a category, hard budgets and `per_ledger` rules each; every rule's 12 dates
    lie in the past (the months 13..2 before this one). Written in bulk, and logged as the CLI's
    seed logs its own (demo.log_bulk_load), so the change log knows every rule it runs."""
    ledger_count = -(-rules // per_ledger)
    with door.through("cli"), psycopg.connect(url) as conn:
        users = conn.execute(
            "INSERT INTO users (name, email, password_hash)"
            " SELECT 'Bench ' || g, 'bench-' || g || '@example.com', 'x'"
            " FROM generate_series(1, %s) g RETURNING id, currency, timezone",
            (ledger_count,),
        ).fetchall()
        for user_id, currency, timezone in users:
            ledgers.create_default(
                conn, {"id": user_id, "currency": currency, "timezone": timezone}
            )
        conn.execute(
            "INSERT INTO categories (ledger_id, name)"
            " SELECT ledger_id, 'Rent' FROM ledger_members WHERE role = 'owner'"
        )
        first = "date_trunc('month', now())::date - interval '13 months'"
        conn.execute(
            "INSERT INTO budgets (ledger_id, year, month, amount, mode)"
            " SELECT c.ledger_id, extract(year FROM m), extract(month FROM m), 1e12, 'hard'"
            f" FROM categories c, generate_series({first}, {first} + interval '11 months',"
            "      interval '1 month') m"
        )
        conn.execute(
            "INSERT INTO recurring_rules (ledger_id, acts_as, category_id, type, amount,"
            "  frequency, start_date, end_date, next_date)"
            " SELECT c.ledger_id, m.user_id, c.id, 'EXPENSE', 10 + r %% 90, 'monthly', s.day,"
            "        (s.day + interval '11 months')::date, s.day"
            " FROM categories c"
            " JOIN ledger_members m ON m.ledger_id = c.ledger_id AND m.role = 'owner'"
            " CROSS JOIN generate_series(1, %(per)s) r"
            f" CROSS JOIN LATERAL (SELECT ({first} + (r %% 28) * interval '1 day')::date AS day) s"
            " ORDER BY c.ledger_id, r LIMIT %(rules)s",
            {"per": per_ledger, "rules": rules},
        )
        owners = conn.execute(
            "SELECT user_id, ledger_id FROM ledger_members WHERE role = 'owner'"
        ).fetchall()
        for user_id, ledger_id in owners:
            log_bulk_load(conn, user_id, ledger_id)
        conn.execute("ANALYZE")


def _handled(conn) -> int:
    return conn.execute("SELECT count(*) FROM recurring_occurrences").fetchone()[0]


def run_workers(url: str, processes: int, seconds: float, total: int) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "APP_ENV": "test",
           "JWT_SECRET_KEY": "bench-" + "k" * 40, "WORKER_TICK_SECONDS": "1"}  # fmt: skip
    with psycopg.connect(url, autocommit=True) as conn:
        before = _handled(conn)
        workers = [
            subprocess.Popen([sys.executable, "-m", "expense_api.cli", "worker"], cwd=PROJECT_ROOT, env=env)
            for _ in range(processes)
        ]  # fmt: skip
        try:
            while _handled(conn) == before:  # start-up (imports, pool) is not counted
                time.sleep(0.05)
            started, first = time.monotonic(), _handled(conn)
            while time.monotonic() - started < seconds and _handled(conn) < total:
                time.sleep(0.2)
            elapsed, done = time.monotonic() - started, _handled(conn)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait()
    return {"processes": processes, "handled": done - first, "seconds": elapsed,
            "rate": (done - first) / elapsed}  # fmt: skip


def check(url: str) -> dict:
    with psycopg.connect(url) as conn:
        return dict(
            zip(
                ("occurrences", "transactions", "overspent"),
                conn.execute(
                    "SELECT (SELECT count(*) FROM recurring_occurrences),"
                    " (SELECT count(*) FROM transactions),"
                    " (SELECT count(*) FROM budgets b WHERE b.mode = 'hard' AND b.amount <"
                    "   (SELECT coalesce(sum(amount), 0) FROM monthly_totals t"
                    "    WHERE t.ledger_id = b.ledger_id AND t.type = 'EXPENSE'"
                    "      AND t.month = make_date(b.year, b.month, 1)))"
                ).fetchone(),
                strict=True,
            )
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--per-ledger", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args(argv)
    total = args.rules * BACKLOG_MONTHS
    with bench_database() as url:
        print(machine(url))
        started = time.monotonic()
        seed(url, args.rules, args.per_ledger)
        print(
            f"seeded {args.rules} rules in {-(-args.rules // args.per_ledger)} ledgers "
            f"({total} dates due) in {time.monotonic() - started:.1f} s, "
            f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        for processes in (1, 2):
            result = run_workers(url, processes, args.seconds, total)
            print(
                f"{result['processes']} worker(s): {result['handled']} occurrences in "
                f"{result['seconds']:.1f} s = {result['rate']:.0f}/s"
            )
        print("check:", check(url))


if __name__ == "__main__":
    main()
