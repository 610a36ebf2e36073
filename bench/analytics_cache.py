"""The analytics cache: PostgreSQL CPU per report and requests per second, without and with it.

    .venv/bin/python -m bench.analytics_cache [--users 20] [--transactions 2000] [--seconds 15]
        [--clients 16] [--workers 4] [--write-percent 0,5]

Seeds `--users` demo users in a fresh database, starts a redis-server of its own on a free
loopback port, and runs gunicorn with `--workers` processes on that one database twice: without
ANALYTICS_CACHE_URL, then with it. Each time, `--clients` keep-alive clients (the asyncio load
generator) ask for the four reports over a few periods, each client as one user, for
`--seconds`, after one warm-up pass over every request; runs alternate without and with the
cache (`--rounds`), since a shared machine's load drifts. With a write percentage, that share of requests records an expense instead (each
write replaces the ledger's generation, so the next reads of that ledger miss). It prints
requests per second, p50/p99, the CPU each request cost PostgreSQL, the service and the load
tool (from /proc), and the cache's hits and misses from /metrics. It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import urllib.request

import psycopg

from devtools.servers import RedisServer
from expense_api.demo import DEMO_PASSWORD, seed

from . import cpu
from .common import Client, bench_database, machine, start_server, summarize_ms
from .load import closed_loop

REPORTS = (
    "/api/summary?year=2025&month={m}",
    "/api/category-breakdown?year=2025&month={m}",
    "/api/budget-usage?year=2025&month={m}",
    "/api/trends?from=2025-01-01&to=2025-12-31",
    "/api/summary?from=2025-01-01&to=2025-12-31",
)
MONTHS = 3  # reports over 3 months: 20 users x 11 distinct requests, all cached after warm-up


def _maker(tokens: list[str], ledger_categories: list[int], write_percent: int, floor=False):
    """`floor`: GET /api/auth/me instead of reports (what any authenticated request costs)."""

    def make(index: int):
        user = index % len(tokens)
        if floor:
            return "GET", "/api/auth/me", None, {"Authorization": f"Bearer {tokens[user]}"}
        if write_percent and index % 100 < write_percent:
            body = {"amount": "1.25", "type": "INCOME", "date": f"2025-{index % 12 + 1:02d}-10",
                    "categoryId": ledger_categories[user]}  # fmt: skip
            return "POST", "/api/transactions", body, {"Authorization": f"Bearer {tokens[user]}"}
        slot = index // len(tokens)
        path = REPORTS[slot % len(REPORTS)].format(m=slot // len(REPORTS) % MONTHS + 1)
        return "GET", path, None, {"Authorization": f"Bearer {tokens[user]}"}

    return make


def _scrape(base: str) -> dict[str, float]:
    with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    pattern = r'^expense_api_analytics_cache_lookups_total\{report="[^"]+",result="(\w+)"\} (\S+)$'
    for result, value in re.findall(pattern, text, re.MULTILINE):
        found[result] = found.get(result, 0.0) + float(value)
    errors = r"^expense_api_analytics_cache_errors_total\{[^}]*\} (\S+)$"
    found["redis errors"] = sum(float(v) for v in re.findall(errors, text, re.MULTILINE))
    return found


def _run(url: str, postmaster, args, write_percent: int, cache_url: str | None, users,
         floor: bool = False) -> str:  # fmt: skip
    env = {"ANALYTICS_CACHE_URL": cache_url} if cache_url else {}
    env["ANALYTICS_CACHE_TIMEOUT_MS"] = str(args.cache_timeout_ms)
    server = start_server(url, workers=args.workers, threads=args.threads, **env)
    try:
        tokens, categories = [], []
        for user in users:
            client = Client(server.base)
            status, body = client.request(
                "POST", "/api/auth/login", {"email": user.email, "password": DEMO_PASSWORD}
            )
            assert status == 200, body
            client.token = body["accessToken"]
            tokens.append(body["accessToken"])
            categories.append(client.request("GET", "/api/categories")[1]["items"][0]["id"])
        make = _maker(tokens, categories, write_percent, floor)
        for index in range(len(tokens) * len(REPORTS) * MONTHS):  # every request once: warm
            method, path, body, headers = make(index)
            if method == "GET":
                Client(server.base, headers["Authorization"].split()[1]).timed(method, path)
        lookups_before = _scrape(server.base)
        before = cpu.snapshot(server.process.pid, postmaster)
        results = asyncio.run(closed_loop(server.base, tokens, args.clients, args.seconds, make))
        after = cpu.snapshot(server.process.pid, postmaster)
        lookups = {k: v - lookups_before.get(k, 0.0) for k, v in _scrape(server.base).items()}
    finally:
        server.stop()
    stats = summarize_ms(results.latencies)
    errors = sum(n for status, n in results.statuses.items() if status >= 400)
    errors += sum(results.errors.values())
    used = cpu.per_request_ms(before, after, results.requests, "client")
    redis_errors = lookups.pop("redis errors", 0)
    looked = sum(lookups.values())
    hit_rate = f"{lookups.get('hit', 0) / looked:.0%} hits" if looked else "no lookups"
    hit_rate += f", {redis_errors:.0f} Redis errors" if cache_url else ""
    label = "redis cache" if cache_url else "no cache   "
    if floor:
        label = "GET /api/auth/me (the floor)"
    return (
        f"{label} writes {write_percent:>2}%: {results.rate:7.0f} req/s  p50 {stats['p50']:.1f} ms"
        f"  p99 {stats['p99']:.1f} ms  errors {errors}  CPU per request: {used}  ({hit_rate})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--transactions", type=int, default=2000, help="per user")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--write-percent", default="0,5", help="comma-separated percentages")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of without/with")
    parser.add_argument("--cache-timeout-ms", type=int, default=20)
    args = parser.parse_args()
    if not RedisServer.available():
        raise SystemExit("redis-server is not installed: nothing to compare")
    redis = RedisServer()
    try:
        with bench_database() as url:
            print(machine(url))
            started = time.perf_counter()
            with psycopg.connect(url) as conn:
                users = seed(conn, [args.transactions] * args.users, years=2, progress=False,
                             end=None, label="cache", bcrypt_rounds=4)  # fmt: skip
                conn.execute("ANALYZE")
            print(f"seeded {args.users} users x {args.transactions} transactions "
                  f"in {time.perf_counter() - started:.0f} s; {args.workers} gunicorn workers x "
                  f"{args.threads} threads, {args.clients} clients, {args.seconds} s each")  # fmt: skip
            postmaster = cpu.postmaster_of(url)
            print(_run(url, postmaster, args, 0, None, users, floor=True), flush=True)
            runs = [
                (int(percent), cache_url)
                for percent in args.write_percent.split(",")
                for _ in range(args.rounds)
                for cache_url in (None, redis.url)
            ]
            for percent, cache_url in runs:
                if cache_url:
                    redis.kill()  # an empty cache for each run, filled by the warm-up
                    redis.start()
                print(_run(url, postmaster, args, percent, cache_url, users), flush=True)
    finally:
        redis.kill()


if __name__ == "__main__":
    main()
