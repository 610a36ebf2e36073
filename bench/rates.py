"""A whole ECB rates history imported into a ledger: where the time goes.

    .venv/bin/python -m bench.rates [--days 7200] [--runs 3] [--ledger-currency USD] [--profile]

1. A synthetic `eurofxref-hist.csv` made here from a seed, in the ECB's layout: newest day first,
   the ECB's 41 columns (the 11 withdrawn ones too, read and skipped), each currency a random walk
   written with the ECB's digits (4 to 6 significant), `N/A` before a currency's first day and
   after its last. --days weekdays back from 2026-11-30 (7,200: since 1999, about 200,000 rates).
2. A fresh migrated database (BENCH_DATABASE_URL's server, else the embedded one), one user.
   Migration 0016's numbering at COMMIT (an UPDATE joined to a window over the entries) was
   planned, once ledger_changes had statistics that put a new ledger's entries at one row, as a
   nested loop running the window again per entry: quadratic, a whole history's commit ran for
   17 minutes (docs/BENCHMARKS.md "Exchange-rate imports"). Migration 0022 numbers entry by
   entry by primary key. --analyzed runs one more first import after ANALYZE ledger_changes
   (the statistics that made the old plan) and prints its figures: linear, as the others.
3. Each run, in this process (services/rates.import_file on a psycopg connection with the
   service's session settings: UTC, the 5 s statement timeout), on a new empty ledger:
   - the first import (every rate created, each logged), committed;
   - the same file again (nothing changed: nothing written, nothing logged), committed.
   Each is split by wrapping what the service calls: parse (ratefiles.read), convert
   (ratefiles.convert), write (repositories/rates.upsert: the statements and their rows back),
   log (changes.hook.record_rates), commit (the change log's numbering runs at COMMIT); total
   is import_file plus the commit. Peak RSS of this process during the import (VmHWM, reset
   before it by writing 5 to /proc/self/clear_refs), above the RSS before it. Medians of --runs.
4. --profile: cProfile of one more first import's Python (the database's time shows as the
   psycopg calls that wait for it), the top functions by own time.

Prints figures; asserts nothing about speed (only that every rate is written, then none).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

from expense_api.domain import ratefiles
from expense_api.repositories import rates as rate_rows
from expense_api.services import ledgers
from expense_api.services import rates as rate_service
from expense_api.services.changes import door, hook

from .common import bench_database, machine

LAST_DAY = date(2026, 11, 30)  # fixed, so the file is the same whatever the day
SESSION = "-c TimeZone=UTC -c statement_timeout=5000"  # the service's (DB_STATEMENT_TIMEOUT_MS)

# The ECB's columns in its order: (code, a value per EUR, fraction digits, first day, last day).
COLUMNS = [
    ("USD", "1.1", 4, None, None), ("JPY", "130", 2, None, None),
    ("BGN", "1.9558", 4, "2000-07-19", "2025-12-31"), ("CYP", "0.58", 5, None, "2007-12-31"),
    ("CZK", "25", 3, None, None), ("DKK", "7.45", 4, None, None),
    ("EEK", "15.6466", 4, None, "2010-12-31"), ("GBP", "0.8", 5, None, None),
    ("HUF", "300", 2, None, None), ("LTL", "3.4528", 4, None, "2014-12-31"),
    ("LVL", "0.7", 4, None, "2013-12-31"), ("MTL", "0.43", 4, None, "2007-12-31"),
    ("PLN", "4.3", 4, None, None), ("ROL", "30000", 0, None, "2005-06-30"),
    ("RON", "4.5", 4, "2005-07-01", None), ("SEK", "10", 4, None, None),
    ("SIT", "239", 4, None, "2006-12-31"), ("SKK", "30", 3, None, "2008-12-31"),
    ("CHF", "1.2", 4, None, None), ("ISK", "140", 2, None, None),
    ("NOK", "10", 4, None, None), ("HRK", "7.5", 4, None, "2022-12-30"),
    ("RUB", "70", 4, None, "2022-03-01"), ("TRL", "1500000", 0, None, "2004-12-31"),
    ("TRY", "15", 4, "2005-01-03", None), ("AUD", "1.6", 4, None, None),
    ("BRL", "5.5", 4, "2008-01-02", None), ("CAD", "1.5", 4, None, None),
    ("CNY", "7.8", 4, "2005-04-01", None), ("HKD", "8.6", 4, None, None),
    ("IDR", "15000", 2, "2005-04-01", None), ("ILS", "4", 4, "2011-01-03", None),
    ("INR", "85", 4, "2009-01-02", None), ("KRW", "1400", 2, None, None),
    ("MXN", "20", 4, "2008-01-02", None), ("MYR", "4.8", 4, "2005-04-01", None),
    ("NZD", "1.7", 4, None, None), ("PHP", "60", 3, "2005-04-01", None),
    ("SGD", "1.5", 4, None, None), ("THB", "38", 3, "2005-04-01", None),
    ("ZAR", "18", 4, None, None),
]  # fmt: skip


def weekdays(count: int) -> list[date]:
    days, day = [], LAST_DAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days  # newest first, as the ECB writes them


def history(days: int, seed: int = 31) -> bytes:
    """The file: a header, then one line per weekday, newest first."""
    rng = random.Random(seed)
    walks = {code: Decimal(start) for code, start, *_ in COLUMNS}
    lines = ["Date," + ",".join(code for code, *_ in COLUMNS) + ","]
    for day in weekdays(days):
        cells = [day.isoformat()]
        for code, _start, digits, first, last in COLUMNS:
            walk = walks[code] * (1 + Decimal(rng.randint(-50, 50)) / 10_000)
            walks[code] = walk
            outside = (first and day.isoformat() < first) or (last and day.isoformat() > last)
            cells.append("N/A" if outside else f"{walk:.{digits}f}")
        lines.append(",".join(cells) + ",")
    return ("\n".join(lines) + "\n").encode()


class Phases:
    """Seconds spent in each function the service calls, wrapped for the block."""

    TARGETS = {
        "parse": (ratefiles, "read"),
        "convert": (ratefiles, "convert"),
        "write": (rate_rows, "upsert"),
        "log": (hook, "record_rates"),
    }

    def __init__(self):
        self.seconds = dict.fromkeys(self.TARGETS, 0.0)

    @contextlib.contextmanager
    def wrapped(self):
        originals = {name: getattr(*target) for name, target in self.TARGETS.items()}

        def timed(name, function):
            def run(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    self.seconds[name] += time.perf_counter() - started

            return run

        for name, (module, attribute) in self.TARGETS.items():
            setattr(module, attribute, timed(name, originals[name]))
        try:
            yield self
        finally:
            for name, (module, attribute) in self.TARGETS.items():
                setattr(module, attribute, originals[name])


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def new_ledger(url: str, user_id: int, currency: str, n: int) -> int:
    user = {"id": user_id, "currency": currency, "timezone": "UTC"}
    with door.through("rest"), psycopg.connect(url) as conn:
        return ledgers.create(conn, user, name=f"Rates {n}", currency=currency, timezone="UTC")[
            "id"
        ]


def one_import(url: str, user_id: int, ledger_id: int, data: bytes) -> dict:
    with door.through("rest"), psycopg.connect(url, options=SESSION) as conn:
        actor = ledgers.actor_in(conn, user_id=user_id, ledger_id=ledger_id)
        conn.commit()
        rss_before = _status("VmRSS")
        _reset_peak()
        with Phases().wrapped() as phases:
            started = time.perf_counter()
            answer = rate_service.import_file(conn, actor, data)
            before_commit = time.perf_counter()
            conn.commit()
            ended = time.perf_counter()
        return {
            **phases.seconds,
            "commit": ended - before_commit,
            "total": ended - started,
            "rates": answer["rates"],
            "peak_rss": _status("VmHWM") - rss_before,
        }


def run(url: str, user_id: int, data: bytes, currency: str, n: int) -> tuple[dict, dict]:
    ledger_id = new_ledger(url, user_id, currency, n)
    first = one_import(url, user_id, ledger_id, data)
    again = one_import(url, user_id, ledger_id, data)
    return first, again


def profile(url: str, user_id: int, data: bytes, currency: str, n: int) -> str:
    ledger_id = new_ledger(url, user_id, currency, n)
    profiler = cProfile.Profile()
    profiler.enable()
    one_import(url, user_id, ledger_id, data)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    stats.print_stats(18)
    return out.getvalue()


# The numbering UPDATE of ledger_changes_number() (migration 0016), for EXPLAIN.
def analyzed_import(url: str, user_id: int, data: bytes, currency: str, n: int) -> dict:
    """One more first import into a new ledger once ledger_changes has statistics (the ones that
    planned 0016's numbering as a nested loop): its figures."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE ledger_changes")
    ledger_id = new_ledger(url, user_id, currency, n)
    return one_import(url, user_id, ledger_id, data)


def show(label: str, results: list[dict]) -> None:
    def median(key):
        return statistics.median(result[key] for result in results)

    times = "  ".join(
        f"{key} {median(key):6.2f} s"
        for key in ("parse", "convert", "write", "log", "commit", "total")
    )
    every = ", ".join(f"{result['total']:.2f}" for result in results)
    print(
        f"{label:<22} {times}  (totals {every}); {results[0]['rates']:,} rates written; "
        f"peak RSS +{median('peak_rss') / 2**20:.0f} MiB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7_200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ledger-currency", default="USD")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--analyzed", action="store_true")
    args = parser.parse_args(argv)
    data = history(args.days)
    file = ratefiles.read(data, ratefiles.known_currencies())
    values = sum(len(row) for row in file.days.values())
    with bench_database() as url:
        print(machine(url))
        with open("/proc/loadavg") as load:
            average = " ".join(load.read().split()[:3])
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {average}; a file of "
            f"{len(data) / 2**20:.2f} MiB, {len(file.days):,} days, {values:,} values of "
            f"{len(file.currencies)} currencies ({len(file.skipped)} withdrawn skipped); "
            f"ledger in {args.ledger_currency}"
        )
        with psycopg.connect(url) as conn:
            user_id = conn.execute(
                "INSERT INTO users (name, email, password_hash)"
                " VALUES ('Bench', 'bench-rates@example.com', 'x') RETURNING id"
            ).fetchone()[0]
        firsts, agains = [], []
        for n in range(args.runs):
            first, again = run(url, user_id, data, args.ledger_currency, n)
            assert first["rates"] > 0 and again["rates"] == 0, (first, again)
            firsts.append(first)
            agains.append(again)
        show("first import", firsts)
        show("same file again", agains)
        if args.profile:
            print(profile(url, user_id, data, args.ledger_currency, args.runs))
        if args.analyzed:
            show("first import, ledger_changes analyzed",
                 [analyzed_import(url, user_id, data, args.ledger_currency, args.runs + 1)])  # fmt: skip


if __name__ == "__main__":
    main()
