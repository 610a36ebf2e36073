"""Soak: a mixed workload (reads, writes, analytics) at about 80% of measured capacity.

    .venv/bin/python -m bench.soak [--seconds 300] [--load 0.8]

Seeds a few users, starts gunicorn, measures capacity with a closed loop, then holds an open-loop
arrival rate of `--load` x capacity for `--seconds`, sampling each worker's memory (RSS) every
5 s. Prints status counts, 5xx (must be 0), p50/p95/p99, and each worker's RSS at start and end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import uuid
from datetime import UTC, datetime

import psutil
import psycopg

from expense_api.demo import DEMO_PASSWORD, seed

from .common import Client, bench_database, machine, start_server, summarize_ms
from .load import closed_loop, open_loop

TODAY = datetime.now(UTC).date()


def _workload(categories: dict[str, list[int]], tokens: list[str]):
    rng = random.Random(7)
    period = f"month={TODAY.month}&year={TODAY.year}"

    def make(index: int):
        pick = rng.random()
        if pick < 0.2:  # write: an expense with a fresh idempotency key
            token_index = index % len(tokens)
            body = {"amount": f"{rng.randrange(100, 5000) / 100:.2f}", "type": "EXPENSE",
                    "categoryId": rng.choice(categories[tokens[token_index]]), "date": TODAY.isoformat(),
                    "description": "soak"}  # fmt: skip
            headers = {
                "Idempotency-Key": uuid.uuid4().hex,
                "Authorization": f"Bearer {tokens[token_index]}",
            }
            return "POST", "/api/transactions", body, headers
        if pick < 0.45:
            return "GET", f"/api/transactions?{period}&limit=50", None, None
        if pick < 0.55:
            return "GET", "/api/categories", None, None
        if pick < 0.7:
            return "GET", f"/api/summary?{period}", None, None
        if pick < 0.8:
            return "GET", f"/api/category-breakdown?{period}", None, None
        if pick < 0.9:
            return "GET", "/api/trends?months=12", None, None
        return "GET", f"/api/budget-usage?{period}", None, None

    return make


def _rss_mb(pids: list[int]) -> dict[int, float]:
    return {pid: psutil.Process(pid).memory_info().rss / 2**20 for pid in pids}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--load", type=float, default=0.8)
    parser.add_argument("--users", type=int, default=4)
    args = parser.parse_args()
    with bench_database() as url:
        print(machine(url))
        with psycopg.connect(url) as conn:
            users = seed(conn, [20_000] * args.users, years=2, progress=False)
        server = start_server(url)
        try:
            tokens, categories = [], {}
            for user in users:
                client = Client(server.base)
                status, body = client.request(
                    "POST", "/api/auth/login", {"email": user.email, "password": DEMO_PASSWORD}
                )
                assert status == 200, body
                tokens.append(body["accessToken"])
                client.token = body["accessToken"]
                categories[body["accessToken"]] = [
                    item["id"] for item in client.request("GET", "/api/categories")[1]["items"]
                ]
            # Budgets must not refuse soak writes: raise this month's to far above anything spent.
            with psycopg.connect(url) as conn:
                conn.execute("UPDATE budgets SET amount = 1e12, mode = 'soft'")
            make = _workload(categories, tokens)
            capacity = asyncio.run(closed_loop(server.base, tokens, 16, 15, make))
            rate = capacity.rate * args.load
            print(
                f"capacity (closed loop, 16 clients, 15 s): {capacity.rate:.0f} req/s; soaking at {rate:.0f} req/s for {args.seconds} s"
            )
            master = psutil.Process(server.process.pid)
            workers = [child.pid for child in master.children()]
            samples = [_rss_mb(workers)]
            results = asyncio.run(
                open_loop(
                    server.base,
                    tokens,
                    rate,
                    args.seconds,
                    make,
                    on_tick=lambda _: samples.append(_rss_mb(workers)),
                )
            )
            samples.append(_rss_mb(workers))
        finally:
            server.stop()
    stats = summarize_ms(results.latencies)
    print(f"requests: {results.requests} in {results.seconds:.0f} s ({results.rate:.0f} req/s)")
    print(
        f"statuses: {dict(sorted(results.statuses.items()))}; connection errors: {dict(results.errors)}"
    )
    print(f"5xx: {results.server_errors()}")
    print(f"latency ms: p50 {stats['p50']:.2f}  p95 {stats['p95']:.2f}  p99 {stats['p99']:.2f}")
    for pid in workers:
        series = [sample[pid] for sample in samples]
        warm = series[min(2, len(series) - 1)]  # after the first 10 s: imports and caches are in
        print(
            f"worker {pid}: RSS {series[0]:.1f} MB at start, {warm:.1f} MB warm, {series[-1]:.1f} MB at end "
            f"({(series[-1] - warm) / warm * 100:+.1f}% since warm), max {max(series):.1f} MB"
        )


if __name__ == "__main__":
    main()
