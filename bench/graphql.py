"""The dashboard's one GraphQL query against the REST calls it replaces.

    .venv/bin/python -m bench.graphql [--sizes 10000,1000000] [--requests 300] [--seconds 10]

Seeds one user per size (the demo seeder: COPY, years of transactions, budgets), starts gunicorn
(2 workers x 4 threads, production settings) and, per size, measures:
- latency: p50/p95 of one dashboard load, one client, sequential: the GraphQL query, and the
  four REST calls it replaces one after another (summary, budget usage, the month's latest
  transactions, unread alerts), timed together;
- throughput: dashboard loads per second with --clients keep-alive clients for --seconds.
Both answers are checked to hold the same values before timing. Prints figures only.
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg

from expense_api.demo import DEMO_PASSWORD, seed

from .common import Client, bench_database, machine, start_server, summarize_ms

TODAY = datetime.now(UTC).date()
MONTH = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)  # the last full month
PERIOD = f"month={MONTH.month}&year={MONTH.year}"
REST_CALLS = [
    f"/api/summary?{PERIOD}",
    f"/api/budget-usage?{PERIOD}",
    f"/api/transactions?{PERIOD}&limit=20",
    "/api/notifications?unread=true&limit=10",
]
DASHBOARD = """query Dashboard($ledger: Int!, $month: Int!, $year: Int!) {
  ledger(id: $ledger) {
    summary(month: $month, year: $year) {
      from to currency totalIncome totalExpense savings savingsRate }
    budgetUsage(month: $month, year: $year) {
      month year items { budgetId categoryId category budget spent remaining percentUsed mode } }
    transactions(first: 20, filter: {month: $month, year: $year}) {
      nodes { id amount type categoryId category description date createdAt
              createdBy { id name } }
      pageInfo { hasNextPage endCursor } }
  }
  notifications(unread: true, first: 10) {
    nodes { id ledgerId budgetId kind percentUsed createdAt readAt }
    pageInfo { hasNextPage endCursor } }
}"""


def _graphql_body(ledger_id: int) -> dict:
    variables = {"ledger": ledger_id, "month": MONTH.month, "year": MONTH.year}
    return {"query": DASHBOARD, "variables": variables}


def _check_same(client: Client, ledger_id: int) -> None:
    status, answer = client.request("POST", "/api/graphql", _graphql_body(ledger_id))
    assert status == 200 and "errors" not in answer, answer
    rest = [client.request("GET", path)[1] for path in REST_CALLS]
    ledger = answer["data"]["ledger"]
    assert ledger["summary"] == rest[0]
    assert ledger["budgetUsage"] == rest[1]
    assert ledger["transactions"]["nodes"] == rest[2]["items"]
    assert answer["data"]["notifications"]["nodes"] == rest[3]["items"]


def _graphql_load(client: Client, body: dict) -> float:
    return client.timed("POST", "/api/graphql", body)


def _rest_load(client: Client, _body: dict) -> float:
    return sum(client.timed("GET", path) for path in REST_CALLS)


def _latency(load, client: Client, body: dict, requests: int) -> dict[str, float]:
    for _ in range(max(10, requests // 10)):
        load(client, body)
    return summarize_ms([load(client, body) for _ in range(requests)])


def _throughput(load, base: str, token: str, body: dict, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def run(index: int) -> None:
        client = Client(base, token)
        while time.perf_counter() < stop:
            load(client, body)
            done[index] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with bench_database() as url:
        print(machine(url))
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            users = seed(conn, sizes, years=args.years, label="dash", rng_seed=3, progress=False)
            conn.execute("ANALYZE")
        print(f"seeded {sum(sizes):,} transactions in {time.perf_counter() - started:.0f} s")
        server = start_server(url)
        try:
            print(
                f"\n{'transactions':>12} {'door':26} {'p50 ms':>8} {'p95 ms':>8} "
                f"{'dashboards/s':>13} {'HTTP req/s':>11}"
            )
            for user in users:
                status, tokens = Client(server.base).request(
                    "POST", "/api/auth/login", {"email": user.email, "password": DEMO_PASSWORD}
                )
                assert status == 200, tokens
                token = tokens["accessToken"]
                client = Client(server.base, token)
                _check_same(client, user.ledger_id)
                body = _graphql_body(user.ledger_id)
                for label, load, calls in (
                    ("GraphQL (1 request)", _graphql_load, 1),
                    (f"REST ({len(REST_CALLS)} requests)", _rest_load, len(REST_CALLS)),
                ):
                    # A fresh connection: gunicorn closes one left idle (keep-alive 2 s).
                    latency = _latency(load, Client(server.base, token), body, args.requests)
                    rate = _throughput(load, server.base, token, body, args.clients, args.seconds)
                    print(
                        f"{user.transactions:>12,} {label:26} {latency['p50']:>8.2f} "
                        f"{latency['p95']:>8.2f} {rate:>13.1f} {rate * calls:>11.1f}"
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
