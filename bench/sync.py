"""Delta sync through HTTP: a few changes in a big ledger, and a whole ledger paged.

    .venv/bin/python -m bench.sync [--transactions 1000000] [--full-state-transactions 100000]
                                   [--changes 100] [--requests 200] [--explain]

1. A fresh database (BENCH_DATABASE_URL's server, else the embedded one) with two ledgers of
   demo data (expense_api/demo.py: COPY, totals rebuilt): one of --transactions transactions,
   one of --full-state-transactions. Their change log is bulk-loaded by SQL as migration 0016
   gives existing data: one `created` entry per entity (the ledger, its member, categories,
   budgets, transactions), numbered in one go, and the ledger's knowledge set to match.
2. gunicorn (production mode, 1 worker x 4 threads, 127.0.0.1 only) serves it.
3. Full state: GET /api/ledgers/{id}/sync of the second ledger, then again with each answer's
   `knowledge` while `hasMore`: the pages, their sizes, the total time, and the worker
   process's peak RSS (VmHWM) before and after, so the cost of paging shows (no answer holds
   the ledger: each holds 1000 entities).
4. Delta: K = the big ledger's knowledge; --changes changes through the API (descriptions
   changed, income recorded, transactions deleted: distinct transactions); then
   GET .../sync?since=K, --requests times after a warm-up: p50/p95/p99, and the same for a
   `since` with nothing after it. Each answer is checked (every change there, once).

Prints figures; asserts nothing about speed. The server stops when the run ends.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import psutil
import psycopg

from expense_api.db.sqlfiles import queries
from expense_api.demo import DEMO_PASSWORD, seed
from expense_api.services.changes import sync as sync_service

from .common import Client, bench_database, machine, start_server, summarize_ms

# Migration 0016's backfill, for one ledger, with the seqs given here: after the ledger's
# knowledge (0 in a fresh database), in the order the entities were made.
LOG_EVERYTHING = """
WITH existing AS (
    SELECT 0 AS rank, 'ledger' AS entity, %(ledger)s::bigint AS entity_id
    UNION ALL SELECT 1, 'member', user_id FROM ledger_members WHERE ledger_id = %(ledger)s
    UNION ALL SELECT 2, 'category', id FROM categories WHERE ledger_id = %(ledger)s
    UNION ALL SELECT 3, 'budget', id FROM budgets WHERE ledger_id = %(ledger)s
    UNION ALL SELECT 4, 'transaction', id FROM transactions WHERE ledger_id = %(ledger)s
)
INSERT INTO ledger_changes (ledger_id, seq, via, entity, entity_id, op)
SELECT %(ledger)s,
       (SELECT coalesce(max(seq), 0) FROM ledger_changes WHERE ledger_id = %(ledger)s)
           + row_number() OVER (ORDER BY e.rank, e.entity_id),
       'cli', e.entity, e.entity_id, 'created'
FROM existing e
WHERE NOT EXISTS (SELECT 1 FROM ledger_changes c WHERE c.ledger_id = %(ledger)s
                  AND c.entity = e.entity AND c.entity_id = e.entity_id)
"""
SET_KNOWLEDGE = """
INSERT INTO ledger_generations AS g (ledger_id, generation, knowledge)
SELECT %(ledger)s, gen_random_uuid(), max(seq) FROM ledger_changes WHERE ledger_id = %(ledger)s
ON CONFLICT (ledger_id) DO UPDATE SET knowledge = EXCLUDED.knowledge, generation = EXCLUDED.generation
"""


def load(url: str, transactions: int, label: str):
    """A user whose default ledger holds `transactions` transactions and their log entries."""
    with psycopg.connect(url) as conn:
        [user] = seed(conn, [transactions], years=3, label=label, progress=False, bcrypt_rounds=4)
        conn.execute(LOG_EVERYTHING, {"ledger": user.ledger_id})
        conn.execute(SET_KNOWLEDGE, {"ledger": user.ledger_id})
    return user


def _login(base: str, email: str) -> Client:
    client = Client(base)
    status, body = client.request(
        "POST", "/api/auth/login", {"email": email, "password": DEMO_PASSWORD}
    )
    assert status == 200, body
    client.token = body["accessToken"]
    return client


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set since it started (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def full_state(base: str, client: Client, ledger_id: int, worker: int, transactions: int) -> dict:
    """Pages the whole ledger through hasMore; checks each transaction came exactly once."""
    before = _peak_rss_mb(worker)
    seen: set[int] = set()
    sizes, times = [], []
    since, started = None, time.perf_counter()
    while True:
        path = f"/api/ledgers/{ledger_id}/sync" + ("" if since is None else f"?since={since}")
        page_started = time.perf_counter()
        client.connection.request("GET", path, headers={"Authorization": f"Bearer {client.token}"})
        response = client.connection.getresponse()
        raw = response.read()
        times.append(time.perf_counter() - page_started)
        assert response.status == 200, raw[:300]
        body = json.loads(raw)
        sizes.append(len(raw))
        ids = [t["id"] for t in body["transactions"]]
        assert not seen & set(ids), "a transaction came twice"
        seen.update(ids)
        since = body["knowledge"]
        if not body["hasMore"]:
            break
    total = time.perf_counter() - started
    assert len(seen) == transactions, (len(seen), transactions)
    return {
        "pages": len(sizes),
        "seconds": total,
        "page_ms": summarize_ms(times),
        "largest_page_kib": max(sizes) / 1024,
        "all_pages_mib": sum(sizes) / 2**20,
        "rss_before_mib": before,
        "rss_peak_mib": _peak_rss_mb(worker),
    }


def make_changes(client: Client, ledger_id: int, changes: int, rng: random.Random) -> set:
    """`changes` changes of distinct transactions through the API: descriptions changed (60%),
    income recorded (30%) and transactions deleted (10%); the (entity, id) of each."""
    prefix = f"/api/ledgers/{ledger_id}"
    categories = client.request("GET", f"{prefix}/categories")[1]["items"]
    salary = next(c["id"] for c in categories if c["name"] == "Salary")
    page = client.request("GET", f"{prefix}/transactions?from=2000-01-01&limit=100")[1]
    existing = [t["id"] for t in page["items"]]
    rng.shuffle(existing)
    touched = set()
    for index in range(changes):
        kind = index % 10
        if kind < 6 or not existing:
            target = existing.pop()
            status, body = client.request(
                "PATCH", f"{prefix}/transactions/{target}", {"description": f"changed {index}"}
            )
        elif kind < 9:
            body = {"amount": "10.00", "type": "INCOME", "categoryId": salary,
                    "date": "2026-01-15", "description": f"new {index}"}  # fmt: skip
            status, body = client.request("POST", f"{prefix}/transactions", body)
            target = body["id"]
        else:
            target = existing.pop()
            status, body = client.request("DELETE", f"{prefix}/transactions/{target}")
        assert status < 300, (status, body)
        touched.add(("transaction", target))
    return touched


def delta(client: Client, ledger_id: int, since: int, expected: set, requests: int) -> dict:
    path = f"/api/ledgers/{ledger_id}/sync?since={since}"
    status, body = client.request("GET", path)
    assert status == 200 and not body["hasMore"], body
    got = [("transaction", t["id"]) for t in body["transactions"]]
    got += [(t["entity"], t["id"]) for t in body["deleted"]]
    assert len(got) == len(set(got)) and set(got) == expected, (len(got), len(expected))
    for _ in range(max(10, requests // 10)):  # warm: plans, caches, connections
        client.timed("GET", path)
    return summarize_ms([client.timed("GET", path) for _ in range(requests)])


def explain(url: str, ledger_id: int, since: int) -> None:
    params = {"ledger_id": ledger_id, "since": since, "limit": sync_service.PAGE_SIZE + 1,
              "entities": list(sync_service.ENTITIES)}  # fmt: skip
    with psycopg.connect(url) as conn:
        plan = conn.execute(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + queries.sync.latest_changes.sql, params
        )
        print(f"\n-- EXPLAIN ANALYZE latest_changes since={since}")
        print("\n".join(row[0] for row in plan))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=1_000_000, help="the delta's ledger")
    parser.add_argument("--full-state-transactions", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    with bench_database() as url:
        print(machine(url))
        started = time.perf_counter()
        big = load(url, args.transactions, "big")
        whole = load(url, args.full_state_transactions, "whole")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(
            f"seeded {args.transactions:,} + {args.full_state_transactions:,} transactions with "
            f"their change log in {time.perf_counter() - started:.0f} s"
        )
        # One web worker (its peak RSS is the figure), no background worker process.
        server = start_server(url, workers=1, threads=4, WORKER="off")
        try:
            [worker] = psutil.Process(server.process.pid).children()
            client = _login(server.base, whole.email)
            client.request("GET", f"/api/ledgers/{whole.ledger_id}/sync?since=0")  # warm
            state = full_state(
                server.base, client, whole.ledger_id, worker.pid, args.full_state_transactions
            )
            print(
                f"\nfull state of {args.full_state_transactions:,} transactions: "
                f"{state['pages']} pages in {state['seconds']:.2f} s "
                f"(a page p50 {state['page_ms']['p50']:.1f} ms, p95 {state['page_ms']['p95']:.1f} ms); "
                f"largest page {state['largest_page_kib']:.0f} KiB, all pages "
                f"{state['all_pages_mib']:.1f} MiB; worker peak RSS {state['rss_peak_mib']:.0f} MiB "
                f"(before paging {state['rss_before_mib']:.0f} MiB)"
            )

            client = _login(server.base, big.email)
            knowledge = _knowledge(url, big.ledger_id)
            touched = make_changes(client, big.ledger_id, args.changes, random.Random(7))
            changed = delta(client, big.ledger_id, knowledge, touched, args.requests)
            latest = _knowledge(url, big.ledger_id)
            quiet = delta(client, big.ledger_id, latest, set(), args.requests)
            print(
                f"\ndelta of {args.changes} changes in a ledger of {args.transactions:,} "
                f"transactions ({latest:,} log entries), {args.requests} requests through HTTP:"
            )
            print(
                f"  since K (the {len(touched)} changed):  p50 {changed['p50']:.2f} ms  "
                f"p95 {changed['p95']:.2f} ms  p99 {changed['p99']:.2f} ms"
            )
            print(
                f"  since now (nothing):      p50 {quiet['p50']:.2f} ms  "
                f"p95 {quiet['p95']:.2f} ms  p99 {quiet['p99']:.2f} ms"
            )
        finally:
            server.stop()
        if args.explain:
            explain(url, big.ledger_id, knowledge)
            explain(url, big.ledger_id, 0)


def _knowledge(url: str, ledger_id: int) -> int:
    with psycopg.connect(url) as conn:
        return queries.sync.knowledge(conn, ledger_id=ledger_id)


if __name__ == "__main__":
    main()
