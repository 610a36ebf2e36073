"""The enforced write into a 12-month budget rollover chain beside the plain enforced write.

    .venv/bin/python -m bench.rollover [--runs 5] [--writes 300] [--statements 500]

1. A fresh database (BENCH_DATABASE_URL's server, else the embedded one) with three users, one
   per variant (so their writes never queue on each other's budget rows), each with the demo's
   transactions over two years (--existing) and, in the demo's first expense category, a hard
   category budget and a hard overall budget, far too large to refuse anything (every write
   runs the whole enforcement):
   - plain: this month's two budgets, rollover `none` (the enforced write as before issue 31);
   - last: the 12 months up to this one, rollover `both`; the write into this month, the
     chain's last (2 budgets locked; 12 months of each scope read back in one statement);
   - first: the same 12 months; the write into the chain's first month (its change reaches
     every later month: 24 budgets locked, 12 months of each scope read).
2. gunicorn with bin/serve's defaults. One keep-alive client sends expenses one after the other
   (latency, not throughput): --writes of one variant, then of the next, the three in turn
   (their order rotating from run to run), --runs times; the load average is printed before
   each run.
3. The budget rule alone, on one connection: the statement a write runs for it (sql/budgets.sql,
   enforce: the shared scope lock, the row locks, the chains' read and the decision, in the
   database) in a transaction rolled back, --statements times per variant, alternating; with
   the budgets each locks and the months each reads.

Printed: each run's medians, the medians of the runs' medians, each chain variant's ratio to
plain (of those medians, and each run's own with their median), the statements' medians, and hard budgets overspent (0). Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import jwt
import psycopg

from expense_api.db.pool import Batch
from expense_api.db.sqlfiles import queries
from expense_api.demo import EXPENSES, log_bulk_load, seed
from expense_api.repositories import budgets
from expense_api.services.budget_guard import Scope
from expense_api.services.changes import door

from .common import PRODUCTION_SECRETS, Client, bench_database, machine, start_server

CHAIN_MONTHS = 12
TODAY = datetime.now(UTC).date()


def months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


FIRST = months_back(TODAY, CHAIN_MONTHS - 1)


@dataclass(frozen=True)
class Variant:
    name: str
    words: str
    budget_months: int  # the months up to this one with budgets
    rollover: str
    write_month: date  # the first day of the month the writes go into


VARIANTS = [
    Variant("plain", "plain (no rollover)", 1, "none", TODAY.replace(day=1)),
    Variant("last", "chain of 12, write into the last month", CHAIN_MONTHS, "both",
            TODAY.replace(day=1)),
    Variant("first", "chain of 12, write into the first month", CHAIN_MONTHS, "both", FIRST),
]  # fmt: skip


@dataclass(frozen=True)
class Seeded:
    variant: Variant
    user_id: int
    ledger_id: int
    category_id: int
    token: str


def prepare(url: str, existing: int) -> list[Seeded]:
    """The users, their budgets (logged as the CLI's seed logs its loads) and access tokens."""
    category = next(iter(EXPENSES))
    with psycopg.connect(url) as conn:
        users = seed(conn, [existing] * len(VARIANTS), years=2, progress=False, rng_seed=31,
                     budgets=False, bcrypt_rounds=4, label="rollover")  # fmt: skip
        seeded = []
        with door.through("cli"):
            for variant, user in zip(VARIANTS, users, strict=True):
                category_id = conn.execute(
                    "SELECT id FROM categories WHERE ledger_id = %s AND name = %s",
                    (user.ledger_id, category),
                ).fetchone()[0]
                for back in range(variant.budget_months):
                    month = months_back(TODAY, back)
                    conn.execute(
                        "INSERT INTO budgets (ledger_id, year, month, category_id, amount, mode,"
                        " rollover) VALUES (%(l)s, %(y)s, %(m)s, %(c)s, 1e12, 'hard', %(r)s),"
                        " (%(l)s, %(y)s, %(m)s, NULL, 1e12, 'hard', %(r)s)",
                        {"l": user.ledger_id, "y": month.year, "m": month.month,
                         "c": category_id, "r": variant.rollover},
                    )  # fmt: skip
                log_bulk_load(conn, user.id, user.ledger_id)
                token = _token(conn, user.id)
                seeded.append(Seeded(variant, user.id, user.ledger_id, category_id, token))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return seeded


def _token(conn: psycopg.Connection, user_id: int) -> str:
    """An access token of a session of the user's own, signed with the benchmark server's key."""
    session = str(uuid.uuid4())
    queries.auth_sessions.insert(
        conn, user_id=user_id, session_id=session, refresh_jti=uuid.uuid4(), refresh_days=1,
        user_agent="bench", address=None,
    )  # fmt: skip
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "sid": session, "type": "access", "fresh": False,
              "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + timedelta(hours=4)}  # fmt: skip
    return jwt.encode(claims, PRODUCTION_SECRETS["JWT_SECRET_KEY"], algorithm="HS256")


def write_run(base: str, seeded: Seeded, writes: int, rng: random.Random) -> float:
    """The median of `writes` enforced expenses, one after the other, in milliseconds."""
    client = Client(base, seeded.token)
    month = seeded.variant.write_month
    path = f"/api/ledgers/{seeded.ledger_id}/transactions"
    client.timed("GET", f"/api/ledgers/{seeded.ledger_id}/categories")  # the connection, warm
    samples = []
    for _ in range(writes):
        cents = rng.randrange(100, 5000)
        body = {"type": "EXPENSE", "categoryId": seeded.category_id,
                "amount": f"{cents // 100}.{cents % 100:02d}",
                "date": month.replace(day=rng.randrange(1, 29)).isoformat()}  # fmt: skip
        samples.append(client.timed("POST", path, body))
    client.connection.close()
    return statistics.median(samples) * 1000


def statement_run(url: str, seeded: list[Seeded], rounds: int) -> dict[str, tuple[float, int, int]]:
    """{variant: (median µs, budgets locked, chain months read)} of the write's budget rule
    alone (sql/budgets.sql, enforce: the scope lock, the row locks, the chains' read, the
    decision) for a 1.00 expense, in a transaction rolled back each time, the variants
    alternating; the budgets it locks and the months it reads counted once, apart, by
    lock_chains and chains."""
    samples: dict[str, list[float]] = {s.variant.name: [] for s in seeded}
    shape: dict[str, tuple[int, int]] = {}
    one = Decimal("1.00")
    with psycopg.connect(url) as conn:
        for each in seeded:
            with Batch(conn) as batch:
                locked, months = budgets.lock_and_read_chains_later(
                    batch, ledger_id=each.ledger_id, scopes=_scopes(each)
                )
            shape[each.variant.name] = (len(locked.value()), len(months.value()))
            conn.rollback()
        for _ in range(rounds):
            for each in seeded:
                scopes = _scopes(each)
                started = time.perf_counter()
                with Batch(conn) as batch:
                    fired = budgets.enforce_later(
                        batch,
                        ledger_id=each.ledger_id,
                        scopes=scopes,
                        before=[Decimal(0)] * len(scopes),
                        after=[one] * len(scopes),
                    )
                fired.value()
                samples[each.variant.name].append(time.perf_counter() - started)
                conn.rollback()
    return {
        name: (statistics.median(values) * 1e6, *shape[name]) for name, values in samples.items()
    }


def _scopes(each: Seeded) -> list[Scope]:
    """The scopes a plain expense in the variant's write month raises: the overall budget's
    first, then its category's (the order budget_guard sends them in)."""
    month = each.variant.write_month
    return [Scope(month.year, month.month, None), Scope(month.year, month.month, each.category_id)]


def overspent(url: str) -> int:
    """Hard budgets whose month spent more than its amount (every amount here is far too large
    for rollover to matter)."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM budgets b WHERE b.mode = 'hard' AND b.amount <"
            " (SELECT coalesce(sum(amount), 0) FROM monthly_totals t"
            "  WHERE t.ledger_id = b.ledger_id AND t.type = 'EXPENSE'"
            "    AND t.month = make_date(b.year, b.month, 1)"
            "    AND (b.category_id IS NULL OR t.category_id = b.category_id))"
        ).fetchone()[0]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--writes", type=int, default=300, help="per variant and run")
    parser.add_argument("--statements", type=int, default=500, help="rounds of the statements")
    parser.add_argument("--existing", type=int, default=2000, help="transactions per user")
    args = parser.parse_args(argv)
    rng = random.Random(7)  # benchmark data, repeatable
    with bench_database() as url:
        print(machine(url))
        started = time.monotonic()
        seeded = prepare(url, args.existing)
        print(
            f"seeded {len(seeded)} users of {args.existing} transactions in "
            f"{time.monotonic() - started:.1f} s, at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
            f"chains {FIRST:%Y-%m} to {TODAY:%Y-%m}"
        )
        medians: dict[str, list[float]] = {s.variant.name: [] for s in seeded}
        server = start_server(url)
        try:
            for run in range(args.runs):
                turn = seeded[run % len(seeded) :] + seeded[: run % len(seeded)]
                print(f"run {run + 1} (load average {load_average()}):", end="", flush=True)
                for each in turn:
                    medians[each.variant.name].append(
                        write_run(server.base, each, args.writes, rng)
                    )
                    print(f"  {each.variant.name} {medians[each.variant.name][-1]:.2f} ms",
                          end="", flush=True)  # fmt: skip
                print()
        finally:
            server.stop()
        plain = statistics.median(medians["plain"])
        print(f"enforced write, one client, median of {args.runs} runs' medians "
              f"({args.writes} writes each):")  # fmt: skip
        for variant in VARIANTS:
            figure = statistics.median(medians[variant.name])
            # Each run's own ratio (the variants ran side by side), and their median.
            runs = zip(medians[variant.name], medians["plain"], strict=True)
            ratios = [ms / base for ms, base in runs]
            print(f"  {variant.words:<42} {figure:6.2f} ms  x{figure / plain:.2f}; per run "
                  f"{', '.join(f'{r:.2f}' for r in ratios)}: median x{statistics.median(ratios):.2f}")  # fmt: skip
        print(f"the budget round trip alone (one connection, load average {load_average()}; "
              f"median of {args.statements}):")  # fmt: skip
        alone = statement_run(url, seeded, args.statements)
        for variant in VARIANTS:
            micros, locked, read = alone[variant.name]
            print(f"  {variant.words:<42} {micros:7.0f} µs  x{micros / alone['plain'][0]:.2f}"
                  f"  ({locked} budgets locked, {read} chain months read)")  # fmt: skip
        print(f"hard budgets overspent: {overspent(url)}")


if __name__ == "__main__":
    main()
