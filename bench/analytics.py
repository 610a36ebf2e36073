"""Analytics latency against the number of a user's transactions.

    .venv/bin/python -m bench.analytics [--sizes 10000,100000,1000000] [--others 20] [--requests 200]

Seeds one user per size (and `--others` users of 10k beside them) in a fresh database, starts
gunicorn, warms it, and measures p50/p95 of each analytics endpoint through HTTP for a month and
for a year, then the ratio of the largest size's p50 to the smallest's. It also times the same
summary computed from the transactions by index alone (with a covering index), which is the
design the totals tables were measured against, and prints EXPLAIN plans with --explain.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import psycopg

from expense_api.db.sqlfiles import queries
from expense_api.demo import DEMO_PASSWORD, seed
from expense_api.domain.periods import Period, totals_ranges

from .common import Client, bench_database, machine, start_server, summarize_ms

TODAY = datetime.now(UTC).date()
LAST_FULL_MONTH = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
MONTH = f"month={LAST_FULL_MONTH.month}&year={LAST_FULL_MONTH.year}"
YEAR = f"from={TODAY.year - 1}-01-01&to={TODAY.year - 1}-12-31"
ENDPOINTS = {
    ("summary", "month"): f"/api/summary?{MONTH}",
    ("summary", "year"): f"/api/summary?{YEAR}",
    ("category-breakdown", "month"): f"/api/category-breakdown?{MONTH}",
    ("category-breakdown", "year"): f"/api/category-breakdown?{YEAR}",
    ("budget-usage", "month"): f"/api/budget-usage?{MONTH}",
    ("trends", "month"): f"/api/trends?from={LAST_FULL_MONTH}&to={LAST_FULL_MONTH.replace(day=28)}",
    ("trends", "year"): "/api/trends?months=12",
}
DIRECT_SUMMARY = """
SELECT type, sum(amount) FROM transactions
WHERE ledger_id = %(ledger_id)s AND occurred_on BETWEEN %(start)s AND %(end)s GROUP BY type
"""


def _login(base: str, email: str) -> str:
    status, body = Client(base).request(
        "POST", "/api/auth/login", {"email": email, "password": DEMO_PASSWORD}
    )
    assert status == 200, body
    return body["accessToken"]


def _measure(client: Client, path: str, requests: int) -> dict[str, float]:
    for _ in range(max(10, requests // 10)):  # warm: caches, plans, connections
        client.timed("GET", path)
    return summarize_ms([client.timed("GET", path) for _ in range(requests)])


def _direct(url: str, ledger_id: int, period: Period, requests: int) -> float:
    with psycopg.connect(url) as conn:
        samples = []
        params = {"ledger_id": ledger_id, "start": period.start, "end": period.end}
        for _ in range(requests + 10):
            started = time.perf_counter()
            conn.execute(DIRECT_SUMMARY, params).fetchall()
            samples.append(time.perf_counter() - started)
        return statistics.median(samples[10:]) * 1000


def _explain(url: str, ledger_id: int) -> None:
    year = Period(date(TODAY.year - 1, 1, 1), date(TODAY.year - 1, 12, 31))
    partial = Period(date(TODAY.year - 1, 1, 15), date(TODAY.year - 1, 11, 20))
    with psycopg.connect(url) as conn:
        for label, query, params in [
            ("summary, a year", queries.reports.summary, totals_ranges(year)),
            ("summary, 15 Jan - 20 Nov", queries.reports.summary, totals_ranges(partial)),
            (
                "category breakdown, a year",
                queries.reports.category_breakdown,
                totals_ranges(year),
            ),
        ]:
            print(f"\n-- EXPLAIN ANALYZE: {label} (user with the most transactions)")
            plan = conn.execute(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + query.sql,
                {"ledger_id": ledger_id, **params},
            )
            print("\n".join(row[0] for row in plan))
        print("\n-- EXPLAIN ANALYZE: the same year summary from transactions, index alone")
        params = {"ledger_id": ledger_id, "start": year.start, "end": year.end}
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + DIRECT_SUMMARY, params)
        print("\n".join(row[0] for row in plan))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--others", type=int, default=20, help="users of 10k transactions beside")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with bench_database() as url:
        print(machine(url))
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            targets = seed(conn, sizes, years=args.years, label="size", rng_seed=1)
            seed(conn, [10_000] * args.others, years=args.years, label="other", rng_seed=2)
            conn.execute("ANALYZE")
        print(
            f"seeded {sum(sizes) + 10_000 * args.others:,} transactions in {time.perf_counter() - started:.0f} s"
        )
        server = start_server(url)
        try:
            results = {}
            for user in targets:
                client = Client(server.base, _login(server.base, user.email))
                for key, path in ENDPOINTS.items():
                    results[(user.transactions, *key)] = _measure(client, path, args.requests)
        finally:
            server.stop()
        print(
            f"\n{'endpoint':20} {'period':6} "
            + " ".join(f"{f'{s:,} p50/p95 ms':>22}" for s in sizes)
            + f" {'ratio p50':>10}"
        )
        for endpoint, period in ENDPOINTS:
            cells = [results[(size, endpoint, period)] for size in sizes]
            ratio = cells[-1]["p50"] / cells[0]["p50"]
            row = " ".join(f"{c['p50']:>13.2f} / {c['p95']:<6.2f}" for c in cells)
            print(f"{endpoint:20} {period:6} {row} {ratio:>9.2f}x")

        year = Period(date(TODAY.year - 1, 1, 1), date(TODAY.year - 1, 12, 31))
        print("\nyear summary SQL alone, p50 ms: totals tables vs transactions by index")
        with psycopg.connect(url, autocommit=True) as conn:
            # The best an index alone can do: an index-only scan over the period's rows.
            conn.execute(
                "CREATE INDEX bench_covering ON transactions (ledger_id, occurred_on) INCLUDE (type, amount)"
            )
            conn.execute("VACUUM ANALYZE transactions")
        for user in targets:
            with psycopg.connect(url) as conn:
                samples = []
                for _ in range(args.requests + 10):
                    started = time.perf_counter()
                    queries.reports.summary(conn, ledger_id=user.ledger_id, **totals_ranges(year))
                    samples.append(time.perf_counter() - started)
            totals_ms = statistics.median(samples[10:]) * 1000
            direct_ms = _direct(url, user.ledger_id, year, args.requests)
            print(
                f"  {user.transactions:>9,} tx: totals {totals_ms:7.2f}   index-only scan {direct_ms:8.2f}"
            )
        if args.explain:
            _explain(url, targets[-1].ledger_id)


if __name__ == "__main__":
    main()
