"""Bank imports through HTTP: a big CSV and a big OFX uploaded, previewed and committed.

    .venv/bin/python -m bench.imports [--csv-rows 100000] [--ofx-rows 20000] [--runs 3]

1. The files are made here, from a seed: a CSV as a bank's website gives it (`Date, Payee,
   Description, Amount`: several payees, expenses and income, decimal points, no bank id, so
   deduplication goes by the occurrence-counted import id, with same-day twins) and an OFX 2.x
   XML checking statement (every STMTTRN with its FITID: deduplication by bank id).
2. A fresh database (BENCH_DATABASE_URL's server, else the embedded one); for each file its own
   gunicorn (production mode, as deployed: 1 worker x 4 threads, WORKER=off), so that the
   worker's figures are that file's alone.
3. Each run: the load average, then a new user (an empty ledger) and, through HTTP,
   - upload + preview: POST /api/ledgers/{id}/imports (multipart/form-data, `file`), 201;
   - GET of the import (its counts: every row `new`);
   - commit: POST .../imports/{importId}/commit (every row becomes a transaction);
   - the same file again: upload + preview with every row a `duplicate`, then discarded.
   Each step's time, rows/s, and the worker's peak RSS during it (VmHWM, reset before each
   step by writing 5 to /proc/<pid>/clear_refs; without that, the peak since the worker began).
   Medians over --runs.
4. Statements of a commit: an in-process app (the same code, Flask's test client) commits a
   file of --statement-rows and one ten times bigger, with libpq's protocol trace on every
   connection the request borrows: one statement per CommandComplete PostgreSQL sent back
   (COPY included; a trigger's statements run inside the statement that fired them). A
   set-based commit has the same number at both sizes; the command tags show each statement's
   row count.

Prints figures; asserts nothing about speed (only that each answer is the expected one).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import psutil
import psycopg

from .common import PRODUCTION_SECRETS, UNLIMITED, bench_database, machine, start_server

PASSWORD = "bench-imports-1"
CURRENCY = "USD"
LAST_DAY = date(2026, 11, 30)  # fixed, so the files are the same whatever the day

# (payee, description, lowest, highest in cents); negative: money out.
EXPENSES = [
    ("Corner Market", "Card payment", 350, 9_500),
    ("FreshMart Superstore", "Card payment", 1_200, 24_000),
    ("Cafe Luna", "Contactless", 280, 1_450),
    ("City Transit", "Monthly pass top-up", 250, 9_000),
    ("Shell 0441", "Fuel", 2_500, 9_800),
    ("Amazon Marketplace", "Online purchase", 599, 18_999),
    ("Netflix.com", "Subscription", 1_549, 1_549),
    ("Spotify AB", "Subscription", 1_099, 1_099),
    ("Riverside Pharmacy", "Card payment", 420, 6_300),
    ("Hardware Depot", "Card payment", 899, 45_000),
    ("Green Power Utility", "Direct debit", 6_000, 21_000),
    ("Trattoria Roma", "Card payment", 2_400, 14_500),
    ("Uber *Trip", "Card payment", 790, 4_800),
    ("Bookshop on Main", "Card payment", 999, 6_500),
    ("ATM Withdrawal", "Cash 5th Avenue", 2_000, 30_000),
]
INCOME = [
    ("ACME Corp Payroll", "Salary", 245_000, 245_000),
    ("Refund Amazon", "Refund", 599, 8_999),
    ("Interest", "Savings interest", 1, 950),
    ("J. Smith", "Transfer from J. Smith", 1_000, 50_000),
]


def _entries(rows: int, seed: int) -> list[tuple[date, str, str, int]]:
    """`rows` bank lines (date, payee, description, signed cents), oldest first: about 80 a
    day, ending on LAST_DAY; coffee twins on some days (two identical lines)."""
    rng = random.Random(seed)
    days = max(1, rows // 80)
    first = LAST_DAY - timedelta(days=days - 1)
    entries = []
    while len(entries) < rows:
        on = first + timedelta(days=rng.randrange(days))
        if rng.random() < 0.06:
            payee, text, low, high = rng.choice(INCOME)
            sign = 1
        else:
            payee, text, low, high = rng.choice(EXPENSES)
            sign = -1
        cents = sign * rng.randint(low, high)
        entries.append((on, payee, text, cents))
        if payee == "Cafe Luna" and rng.random() < 0.2 and len(entries) < rows:
            entries.append((on, payee, text, cents))  # two identical purchases on one day
    entries.sort(key=lambda entry: entry[0])
    return entries


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def make_csv(rows: int, seed: int = 29) -> bytes:
    """A bank's CSV export: a header, then one line per entry (no bank id)."""
    out = io.StringIO()
    out.write("Date,Payee,Description,Amount\r\n")
    for number, (on, payee, text, cents) in enumerate(_entries(rows, seed)):
        description = f"{text} {number % 9000 + 1000}" if cents < 0 else text
        out.write(f"{on.isoformat()},{payee},{description},{_amount(cents)}\r\n")
    return out.getvalue().encode()


def make_ofx(rows: int, seed: int = 30, currency: str = CURRENCY) -> bytes:
    """An OFX 2.2 XML checking-account statement, every transaction with its FITID."""
    entries = _entries(rows, seed)
    start, end = entries[0][0], entries[-1][0]
    out = io.StringIO()
    out.write(
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" '
        'NEWFILEUID="NONE"?>\n'
        "<OFX>\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        f"<DTSERVER>{end:%Y%m%d}120000.000[-5:EST]</DTSERVER><LANGUAGE>ENG</LANGUAGE>"
        "<FI><ORG>Example Bank</ORG><FID>1001</FID></FI></SONRS></SIGNONMSGSRSV1>\n"
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE>"
        f"<SEVERITY>INFO</SEVERITY></STATUS><STMTRS><CURDEF>{currency}</CURDEF>\n"
        "<BANKACCTFROM><BANKID>121000248</BANKID><ACCTID>4417001234</ACCTID>"
        "<ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>\n"
        f"<BANKTRANLIST><DTSTART>{start:%Y%m%d}</DTSTART><DTEND>{end:%Y%m%d}</DTEND>\n"
    )
    balance = 0
    for number, (on, payee, text, cents) in enumerate(entries, 1):
        balance += cents
        kind = "CREDIT" if cents > 0 else ("ATM" if payee.startswith("ATM") else "DEBIT")
        out.write(
            f"<STMTTRN><TRNTYPE>{kind}</TRNTYPE>"
            f"<DTPOSTED>{on:%Y%m%d}120000.000[-5:EST]</DTPOSTED>"
            f"<TRNAMT>{_amount(cents)}</TRNAMT><FITID>{on:%Y%m%d}{number:07d}</FITID>"
            f"<NAME>{payee.replace('&', '&amp;')}</NAME><MEMO>{text}</MEMO></STMTTRN>\n"
        )
    out.write(
        "</BANKTRANLIST>\n"
        f"<LEDGERBAL><BALAMT>{_amount(balance)}</BALAMT>"
        f"<DTASOF>{end:%Y%m%d}</DTASOF></LEDGERBAL>\n"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1>\n</OFX>\n"
    )
    return out.getvalue().encode()


# --- HTTP ------------------------------------------------------------------------------------


class Http:
    """One keep-alive connection; JSON or multipart bodies; long timeouts (big files)."""

    def __init__(self, base: str, token: str | None = None):
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        self.token = token

    def send(self, method: str, path: str, body: bytes | None = None, content_type=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if content_type:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        seconds = time.perf_counter() - started
        payload = json.loads(raw) if raw else None
        return response.status, payload, seconds

    def json(self, method: str, path: str, body=None, expect: int = 200):
        data = None if body is None else json.dumps(body).encode()
        status, payload, seconds = self.send(
            method, path, data, "application/json" if data else None
        )
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {payload}")
        return payload, seconds

    def upload(self, path: str, name: str, data: bytes, **fields: str):
        body, content_type = multipart(name, data, fields)
        status, payload, seconds = self.send("POST", path, body, content_type)
        if status != 201:
            raise RuntimeError(f"POST {path}: {status} {payload}")
        return payload, seconds


def multipart(file_name: str, data: bytes, fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = "bench-" + uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    parts += [data, f"\r\n--{boundary}--\r\n".encode()]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def new_user(base: str, label: str) -> tuple[Http, int]:
    """A registered, logged-in user and their ledger."""
    email = f"{label}-{uuid.uuid4().hex[:8]}@bench.example"
    client = Http(base)
    client.json("POST", "/api/auth/register",
                {"name": label, "email": email, "password": PASSWORD, "currency": CURRENCY},
                expect=201)  # fmt: skip
    tokens, _ = client.json("POST", "/api/auth/login", {"email": email, "password": PASSWORD})
    client.token = tokens["accessToken"]
    ledgers, _ = client.json("GET", "/api/ledgers")
    return client, ledgers["items"][0]["id"]


# --- The worker's memory ---------------------------------------------------------------------


class PeakRss:
    """The worker's peak resident memory (VmHWM) per step, reset before each when Linux lets us
    (writing 5 to /proc/<pid>/clear_refs); else the peak since the worker started."""

    def __init__(self, pid: int):
        self.pid = pid
        self.resettable = self.reset()

    def reset(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as refs:
                refs.write("5")
            return True
        except OSError:
            return False

    def field_mib(self, name: str) -> float:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {name} for {self.pid}")

    def current(self) -> float:
        return self.field_mib("VmRSS")

    def peak(self) -> float:
        return self.field_mib("VmHWM")


@contextlib.contextmanager
def step(rss: PeakRss, figures: dict, name: str) -> Iterator[None]:
    rss.reset()
    yield
    figures[name + "_rss"] = rss.peak()


# --- One file through HTTP -------------------------------------------------------------------


def one_run(base: str, rss: PeakRss, name: str, data: bytes, rows: int) -> dict:
    client, ledger = new_user(base, "importer")
    path = f"/api/ledgers/{ledger}/imports"
    figures: dict[str, float] = {}
    with step(rss, figures, "upload"):
        created, figures["upload"] = client.upload(path, name, data, account="checking")
    counts, figures["get"] = client.json("GET", f"{path}/{created['id']}")
    expected = {"new": rows, "duplicate": 0, "match": 0, "invalid": 0}
    if counts["counts"] != expected:
        raise RuntimeError(f"{name}: counts {counts['counts']}, expected {expected}")
    with step(rss, figures, "commit"):
        status, committed, figures["commit"] = client.send("POST", f"{path}/{created['id']}/commit")
    if status != 200:
        # A figure too (the statement timeout, at the production default): shown, and the run
        # ends here, since the file was not imported.
        code = (committed or {}).get("code", "")
        print(
            f"    upload+preview {figures['upload']:.2f} s (peak RSS {figures['upload_rss']:.0f} "
            f"MiB); commit FAILED after {figures['commit']:.2f} s: {status} {code}"
        )
        figures["failed"] = f"{status} {code} after {figures['commit']:.2f} s"
        return figures
    with step(rss, figures, "again"):
        again, figures["again"] = client.upload(path, name, data, account="checking")
    expected = {"new": 0, "duplicate": rows, "match": 0, "invalid": 0}
    if again["counts"] != expected:
        raise RuntimeError(f"{name} again: counts {again['counts']}, expected {expected}")
    client.json("DELETE", f"{path}/{again['id']}", expect=204)
    client.connection.close()
    return figures


def bench_file(url: str, name: str, data: bytes, rows: int, runs: int, env: dict) -> dict:
    server = start_server(url, workers=1, threads=env.pop("threads"), WORKER="off", **env)
    try:
        [worker] = psutil.Process(server.process.pid).children()
        rss = PeakRss(worker.pid)
        figures = {"idle_rss": rss.current(), "rows": rows, "mib": len(data) / 2**20}
        if not rss.resettable:
            print("  (VmHWM cannot be reset here: each peak is the worker's peak so far)")
        samples: list[dict] = []
        for run in range(1, runs + 1):
            load = " ".join(f"{value:.2f}" for value in os.getloadavg())
            print(f"  {name} run {run}/{runs}: load average {load}")
            samples.append(one_run(server.base, rss, name, data, rows))
            shown = samples[-1]
            if "failed" in shown:
                continue
            print(
                f"    upload+preview {shown['upload']:.2f} s, GET {shown['get'] * 1000:.0f} ms, "
                f"commit {shown['commit']:.2f} s, again {shown['again']:.2f} s; peak RSS "
                f"{shown['upload_rss']:.0f} / {shown['commit_rss']:.0f} / "
                f"{shown['again_rss']:.0f} MiB"
            )
        failed = [sample["failed"] for sample in samples if "failed" in sample]
        if failed:
            figures["failed"] = f"{len(failed)} of {runs} commits failed: {failed[0]}"
            samples = [sample for sample in samples if "failed" not in sample] or samples
        for key in samples[0]:
            if key != "failed":
                figures[key] = statistics.median(sample[key] for sample in samples)
        figures["max_rss"] = max(
            sample[key]
            for sample in samples
            for key in ("upload_rss", "commit_rss", "again_rss")
            if key in sample
        )
        return figures
    finally:
        server.stop()


# --- Statements of a commit ------------------------------------------------------------------


# A Parse message's contents in libpq's trace: "name" "query text" parameter count, types.
_PARSE = re.compile(r'\s*"([^"]*)" "(.*)" \d+(?: \d+)*\s*$', re.DOTALL)


def _messages(text: str) -> Iterator[tuple[float | None, str, str, str]]:
    """(time, direction, message, contents) of each message of libpq's trace: a line is
    [a timestamp, a tab,] F or B, a tab, the length, ...; a statement's text may go on over
    several lines."""
    current: list | None = None
    for line in text.split("\n"):
        fields = line.split("\t", 4)
        stamp = None
        if fields[0] not in ("F", "B") and len(fields) > 1 and fields[1] in ("F", "B"):
            with contextlib.suppress(ValueError):
                stamp = datetime.fromisoformat(fields[0]).timestamp()
                fields = fields[1:]
        else:
            fields = line.split("\t", 3)
        if len(fields) >= 3 and fields[0] in ("F", "B") and fields[1].isdigit():
            if current:
                yield current[0], current[1], current[3], current[4]
            current = [stamp, *fields, *[""] * (4 - len(fields))]
        elif current is not None:
            current[4] += "\n" + line
    if current:
        yield current[0], current[1], current[3], current[4]


class Statements:
    """The statements PostgreSQL completed for a connection, read from libpq's protocol trace:
    one per CommandComplete, with its command tag and the text the client sent for it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []  # (command tag, statement text)
        self.seconds: list[float | None] = []  # each one's time (with the trace's timestamps)
        self.failed: str | None = None  # the commit's answer when it failed

    def read_trace(self, text: str) -> None:
        prepared: dict[str, str] = {}
        unnamed = ""
        pending: list[tuple[str, float | None]] = []  # sent, in order, not yet completed
        answered = None  # when the server last sent something
        for stamp, direction, message, contents in _messages(text):
            if direction == "F" and message == "Parse":
                parsed = _PARSE.match(contents)
                name, query = parsed.groups() if parsed else ("?", "?")
                if name:
                    prepared[name] = query
                else:
                    unnamed = query
            elif direction == "F" and message == "Bind":
                statement = contents.split('"')[3] if contents.count('"') >= 4 else "?"
                sent = prepared.get(statement, f"(prepared before: {statement})")
                pending.append((sent if statement else unnamed, stamp))
            elif direction == "F" and message == "Query":
                pending.append((contents.strip().removeprefix('"').removesuffix('"'), stamp))
            elif direction == "B" and message == "CommandComplete":
                tag = contents.strip().strip('"')
                sent, since = pending.pop(0) if pending else ("?", None)
                if tag in ("BEGIN", "COMMIT"):
                    sent = tag  # the first request's BEGIN shows no text of its own in the trace
                self.items.append((tag, " ".join(sent.split())))
                began = max(t for t in (since, answered) if t is not None) if since else None
                self.seconds.append(None if began is None else stamp - began)
            if direction == "B" and message in ("CommandComplete", "ReadyForQuery"):
                answered = stamp  # the server's answers come in one piece: the ends count

    def __len__(self) -> int:
        return len(self.items)


@contextlib.contextmanager
def _traced(conn: psycopg.Connection, into: Statements) -> Iterator[None]:
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(os.dup(trace.fileno()))  # libpq closes its own copy on untrace
        try:
            yield
        finally:
            conn.pgconn.untrace()
            trace.seek(0)
            into.read_trace(trace.read())


@contextlib.contextmanager
def count_pool_statements(pool) -> Iterator[Statements]:
    """Every statement of the connections `pool` lends inside the block (one request at a
    time), from when each is lent to when it comes back."""
    counted = Statements()
    getconn, putconn = pool.getconn, pool.putconn
    open_traces: dict[int, contextlib.ExitStack] = {}

    def lend(*args, **kwargs):
        conn = getconn(*args, **kwargs)
        stack = contextlib.ExitStack()
        stack.enter_context(_traced(conn, counted))
        open_traces[id(conn)] = stack
        return conn

    def take_back(conn, *args, **kwargs):
        stack = open_traces.pop(id(conn), None)
        if stack is not None:
            stack.close()
        return putconn(conn, *args, **kwargs)

    pool.getconn, pool.putconn = lend, take_back
    try:
        yield counted
    finally:
        del pool.getconn, pool.putconn


def commit_statements(url: str, sizes: list[int], env: dict, make=None) -> dict[int, Statements]:
    """The statements of the commit of a CSV (or `make(rows, seed)`'s file) of each size, in an
    in-process app."""
    from expense_api.api.app import create_app
    from expense_api.config import load_settings

    settings = load_settings(
        {"APP_ENV": "production", "LOG_LEVEL": "WARNING", "BCRYPT_ROUNDS": "4",
         "WORKER": "off", **UNLIMITED, **PRODUCTION_SECRETS, **env}
    )  # fmt: skip
    app = create_app(settings, url)
    pool = app.extensions["database"].pool
    client = app.test_client()
    found = {}
    try:
        for size in sizes:
            email = f"counted-{uuid.uuid4().hex[:8]}@bench.example"
            body = {"name": "counted", "email": email, "password": PASSWORD}
            assert client.post("/api/auth/register", json=body).status_code == 201
            login = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
            headers = {"Authorization": f"Bearer {login.get_json()['accessToken']}"}
            ledger = client.get("/api/ledgers", headers=headers).get_json()["items"][0]["id"]
            path = f"/api/ledgers/{ledger}/imports"
            data = (make or make_csv)(size, seed=size)
            form = {"file": (io.BytesIO(data), "bank"), "account": "a"}
            response = client.post(path, data=form, headers=headers)
            assert response.status_code == 201, response.get_json()
            with count_pool_statements(pool) as counted:
                committed = client.post(
                    f"{path}/{response.get_json()['id']}/commit", headers=headers
                )
            answer = committed.get_json()
            if committed.status_code != 200:
                counted.failed = f"{committed.status_code} {answer.get('code')}"
            else:
                assert answer["counts"]["new"] == size, answer
            found[size] = counted
    finally:
        app.extensions["database"].close()
    return found


# --- Report ----------------------------------------------------------------------------------


def report(results: dict[str, dict]) -> None:
    print()
    print(
        f"{'file':<5} {'rows':>8} {'MiB':>5} | {'upload+preview':>16} {'rows/s':>8} | "
        f"{'GET':>6} | {'commit':>8} {'rows/s':>8} | {'again (dup)':>11} {'rows/s':>8} | "
        f"{'RSS idle':>8} {'peak up':>7} {'commit':>6} {'again':>6}"
    )
    for name, f in results.items():
        rows = f["rows"]
        if "failed" in f:
            print(f"{name:<5} {rows:>8,}: {f['failed']}; upload+preview {f['upload']:.2f} s")
        if "commit" not in f or "again" not in f:
            continue
        print(
            f"{name:<5} {rows:>8,} {f['mib']:>5.1f} | {f['upload']:>14.2f} s "
            f"{rows / f['upload']:>8,.0f} | {f['get'] * 1000:>4.0f}ms | {f['commit']:>6.2f} s "
            f"{rows / f['commit']:>8,.0f} | {f['again']:>9.2f} s {rows / f['again']:>8,.0f} | "
            f"{f['idle_rss']:>6.0f}Mi {f['upload_rss']:>5.0f}Mi {f['commit_rss']:>4.0f}Mi "
            f"{f['again_rss']:>4.0f}Mi"
        )
    for name, f in results.items():
        if "commit" not in f or "again" not in f:
            continue
        print(
            f"{name}: commit / upload+preview {f['commit'] / f['upload']:.2f}x; "
            f"again / first upload {f['again'] / f['upload']:.2f}x; worker peak over "
            f"idle {f['max_rss'] - f['idle_rss']:.0f} MiB "
            f"({(f['max_rss'] - f['idle_rss']) / f['mib']:.1f}x the file's size)"
        )
    if len(results) == 2 and all("again" in f for f in results.values()):
        (a, fa), (b, fb) = results.items()
        per_row = (fb["upload"] / fb["rows"]) / (fa["upload"] / fa["rows"])
        print(f"upload+preview time per row, {b} / {a}: {per_row:.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--ofx-rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="the worker's threads")
    parser.add_argument(
        "--statement-timeout-ms", type=int,
        help="the service's DB_STATEMENT_TIMEOUT_MS (default: its own, 5000)",
    )  # fmt: skip
    parser.add_argument(
        "--statement-rows", type=int, default=500,
        help="the smaller commit whose statements are counted (the other is 10x)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    files = {
        "csv": ("bank.csv", make_csv(args.csv_rows), args.csv_rows),
        "ofx": ("statement.ofx", make_ofx(args.ofx_rows), args.ofx_rows),
    }
    with bench_database() as url:
        print(machine(url))
        results = {}
        timeout = {}
        if args.statement_timeout_ms is not None:
            timeout["DB_STATEMENT_TIMEOUT_MS"] = str(args.statement_timeout_ms)
            print(f"DB_STATEMENT_TIMEOUT_MS={args.statement_timeout_ms} (not the default 5000)")
        for label, (name, data, rows) in files.items():
            print(f"{label}: {rows:,} rows, {len(data) / 2**20:.1f} MiB")
            env = {"threads": args.threads, **timeout}
            results[label] = bench_file(url, name, data, rows, args.runs, env)
        report(results)
        sizes = [args.statement_rows, 10 * args.statement_rows]
        counted = commit_statements(url, sizes, timeout)
        print()
        for size, statements in counted.items():
            failed = f" (FAILED: {statements.failed})" if statements.failed else ""
            print(f"commit of {size:,} CSV rows (in process): {len(statements)} statements{failed}")
        small, big = (counted[size] for size in sizes)
        same = [tag.split()[0] for tag, _ in small.items] == [
            tag.split()[0] for tag, _ in big.items
        ]
        print(f"  same statements at both sizes: {'yes' if same else 'NO'}")
        print(f"  the {sizes[1]:,}-row commit's statements (ms: from the trace's timestamps):")
        for (tag, text), seconds in zip(big.items, big.seconds, strict=True):
            took = "" if seconds is None else f"{seconds * 1000:8.1f}"
            print(f"  {tag:<16} {took:>8} {text[:90]}")


if __name__ == "__main__":
    main()
