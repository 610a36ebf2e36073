"""Export through HTTP: memory that does not grow with the ledger, and the time it takes.

    .venv/bin/python -m bench.export [--transactions 100000] [--small 10000]

1. A fresh database (BENCH_DATABASE_URL's server, else the embedded one) with two ledgers of
   demo data (expense_api/demo.py: COPY, totals rebuilt, payees, tags and split receipts):
   --small and --transactions transactions.
2. gunicorn (production mode, 1 worker x 4 threads) serves it.
3. For each ledger and format (csv, ofx, json): GET /api/ledgers/{id}/export?format=..., read
   in 64 KiB pieces and thrown away; the time, the size, and the worker process's peak RSS
   (VmHWM) after it. The small ledger goes first: a peak that grew with the ledger would show
   between its figures and the big one's.

Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import http.client
import time
from urllib.parse import urlsplit

import psutil
import psycopg

from expense_api.demo import DEMO_PASSWORD, seed

from .common import Client, bench_database, machine, start_server


def _peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def _download(base: str, token: str, path: str) -> tuple[int, float]:
    """Bytes and seconds of a streamed GET, read in pieces."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    assert response.status == 200, response.status
    size = 0
    while piece := response.read(65536):
        size += len(piece)
    connection.close()
    return size, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    args = parser.parse_args(argv)
    with bench_database() as url:
        print(machine(url))
        with psycopg.connect(url) as conn:
            users = seed(conn, [args.small, args.transactions], years=3, label="export",
                         progress=False, bcrypt_rounds=4)  # fmt: skip
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        server = start_server(url, workers=1, threads=4, WORKER="off")
        try:
            [worker] = psutil.Process(server.process.pid).children()
            for user in users:
                client = Client(server.base)
                status, body = client.request(
                    "POST", "/api/auth/login", {"email": user.email, "password": DEMO_PASSWORD}
                )
                assert status == 200, body
                token = body["accessToken"]
                for format in ("csv", "ofx", "json"):
                    path = f"/api/ledgers/{user.ledger_id}/export?format={format}"
                    size, seconds = _download(server.base, token, path)
                    print(
                        f"{user.transactions:>9,} transactions  {format:<4} "
                        f"{size / 2**20:7.1f} MiB in {seconds:6.2f} s "
                        f"({user.transactions / seconds:,.0f} transactions/s); "
                        f"worker peak RSS {_peak_rss_mib(worker.pid):.0f} MiB"
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
