"""Enforced expense writes through the API against PostgreSQL's own limit for the same SQL.

    .venv/bin/python -m bench.write_path [--scenario hot|spread|both] [--seconds 20] [--splits]

1. A fresh database (BENCH_DATABASE_URL's server, else the embedded one) seeded with 50 users,
   categories, existing transactions and hard budgets far too large to block (so every write
   runs the whole enforcement: scope lock, FOR UPDATE, spent, insert, totals upkeep).
2. gunicorn serves it with bin/serve's defaults (WEB_CONCURRENCY, WEB_THREADS, WEB_WORKER_CLASS
   as the environment or .env give them; --gunicorn-args adds options). Two scenarios, each a
   closed loop of keep-alive connections driven by wrk with a Lua script when wrk is on PATH
   (Debian: apt-get install wrk), else by the asyncio client in bench/load.py:
   - hot: one user, 16 connections, expenses in 4 categories (each with a hard budget, and the
     overall budget over them: every write queues on the same budget row lock), then
     GET /api/summary and GET /api/budget-usage under the same load;
   - spread: 50 users, 32 connections, expenses in all their expense categories, then
     GET /api/summary.
   With --splits, each scenario also measures split expenses of 3 lines (SPLIT_LINES), each
   line in another of the same categories (so 4 budgets locked and checked, not 2), right after
   the plain ones, and pgbench runs their SQL too.
   Printed: requests/s, p50/p99, errors, the CPU each request cost the service, PostgreSQL and
   the load tool, the CPU seconds of each gunicorn worker (the split), all from /proc, and the
   round trips to PostgreSQL per request (counted from libpq's protocol trace in an in-process
   run, devtools.servers.count_pool_round_trips).
3. The floor: bench/floor_app.py (Flask answering JSON with JSON, nothing else) under gunicorn
   with the same worker count and threads, for what the web stack alone costs.
4. pgbench runs the very same SQL transaction at the same concurrency, pipelined in the API's
   round trips (\\startpipeline / \\endpipeline): the statements are taken from sql/*.sql
   (--print-script shows them), with pgbench variables for the parameters.
5. The ratio API / pgbench is printed, and the number of hard budgets overspent.

Sessions get deterministic ids so that pgbench looks each one up exactly as the API does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import psycopg

from devtools.servers import free_port
from expense_api.config import PROJECT_ROOT, load_settings
from expense_api.db.sqlfiles import Query, queries
from expense_api.demo import CATEGORIES, EXPENSES, log_bulk_load, seed
from expense_api.services.changes import door

from . import cpu, wrk
from .common import (
    PRODUCTION_SECRETS,
    UNLIMITED,
    bench_database,
    machine,
    start_server,
    summarize_ms,
)
from .load import closed_loop

SECRET = "bench-" + "k" * 40
CATEGORIES_PER_USER = len(CATEGORIES)
TODAY = datetime.now(UTC).date()


def session_id(user_id: int) -> str:
    return f"00000000-0000-4000-8000-{user_id:012d}"


def _prepare(url: str, users: int, existing: int) -> list[str]:
    """Seeds with hard and huge budgets, opens one session per user; returns access tokens."""
    with psycopg.connect(url) as conn:
        seeded = seed(conn, [existing] * users, years=2, progress=False, rng_seed=3, budgets=False)
        # pgbench's scripts use one number (:uid) for the user and their default ledger.
        assert [user.id for user in seeded] == list(range(1, users + 1)), "needs a fresh database"
        assert all(user.ledger_id == user.id for user in seeded), "needs a fresh database"
        # ... and user k's categories are (k - 1) * CATEGORIES_PER_USER + 1 onwards, in
        # demo.CATEGORIES' order (its expense categories first).
        first = conn.execute(
            "SELECT array_agg(id ORDER BY id) FROM categories WHERE ledger_id = %s", (users,)
        ).fetchone()[0]
        assert first == list(
            range((users - 1) * CATEGORIES_PER_USER + 1, users * CATEGORIES_PER_USER + 1)
        ), first
        # This month, the overall budget and one for every expense category, hard and far too
        # large to refuse anything: each write then locks and checks two budgets, in the API and
        # in pgbench alike. Logged as the seed logs what it loads (the CLI's bulk path).
        conn.execute(
            "INSERT INTO budgets (ledger_id, year, month, category_id, amount, mode)"
            " SELECT l.id, %(year)s, %(month)s, c.id, 1e12, 'hard' FROM ledgers l"
            " LEFT JOIN categories c ON c.ledger_id = l.id AND c.name = ANY(%(expenses)s)"
            " UNION ALL SELECT l.id, %(year)s, %(month)s, NULL, 1e12, 'hard' FROM ledgers l",
            {"year": TODAY.year, "month": TODAY.month, "expenses": list(EXPENSES)},
        )
        with door.through("cli"):
            for user in seeded:
                log_bulk_load(conn, user.id, user.ledger_id)
        for user in seeded:
            queries.auth_sessions.insert(
                conn,
                user_id=user.id,
                session_id=session_id(user.id),
                refresh_jti=uuid.uuid4(),
                refresh_days=1,
                user_agent="bench",
                address=None,
            )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    now = datetime.now(UTC)
    return [
        jwt.encode(
            {
                "sub": str(user_id),
                "sid": session_id(user_id),
                "type": "access",
                "fresh": False,
                "jti": str(uuid.uuid4()),
                "iat": now,
                "nbf": now,
                "exp": now + timedelta(hours=2),
            },
            SECRET,
            algorithm="HS256",
        )
        for user_id in range(1, users + 1)
    ]


def _expense_maker(tokens: list[str], categories: int, lines: int = 0):
    """A random user's expense in one of their first `categories` expense categories; with
    `lines`, a split one whose lines are in that many consecutive ones of them (wrapping)."""
    rng = random.Random(11)
    users = len(tokens)

    def make(_index: int):
        user = rng.randrange(users)
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        if lines:
            start = rng.randrange(categories)
            cents = [rng.randrange(100, 5000) for _ in range(lines)]
            splits = [
                {"categoryId": user * CATEGORIES_PER_USER + 1 + (start + i) % categories,
                 "amount": f"{amount // 100}.{amount % 100:02d}"}
                for i, amount in enumerate(cents)
            ]  # fmt: skip
            total = sum(cents)
            body = {
                "amount": f"{total // 100}.{total % 100:02d}",
                "type": "EXPENSE",
                "splits": splits,
                "date": TODAY.isoformat(),
            }
            return "POST", "/api/transactions", body, headers
        category = user * CATEGORIES_PER_USER + rng.randrange(1, categories + 1)
        body = {
            "amount": f"{rng.randrange(100, 5000) / 100:.2f}",
            "type": "EXPENSE",
            "categoryId": category,
            "date": TODAY.isoformat(),
        }
        return "POST", "/api/transactions", body, headers

    return make


def _read_maker(tokens: list[str], path: str):
    rng = random.Random(12)

    def make(_index: int):
        return "GET", path, None, {"Authorization": f"Bearer {rng.choice(tokens)}"}

    return make


READS = {
    "summary": f"/api/summary?month={TODAY.month}&year={TODAY.year}",
    "budget-usage": f"/api/budget-usage?month={TODAY.month}&year={TODAY.year}",
}


# --- the same requests as wrk Lua scripts -----------------------------------------------------

_LUA_COMMON = """
local headers = {["Content-Type"] = "application/json"}
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
init = function(args)
  math.randomseed(1000 * (thread_number or 1) + %d)
end
"""


def _lua_tokens(tokens: list[str]) -> str:
    return "local tokens = {" + ",\n".join(wrk.lua_string(token) for token in tokens) + "}\n"


def expense_lua(tokens: list[str], categories: int) -> str:
    """wrk's version of _expense_maker: a random user's expense in one of their first
    `categories` expense categories."""
    return (
        _lua_tokens(tokens)
        + _LUA_COMMON % 11
        + f"""
local per_user, expense_categories, today = {CATEGORIES_PER_USER}, {categories}, "{TODAY}"
request = function()
  local user = math.random(#tokens)
  local cents = math.random(100, 4999)
  local category = (user - 1) * per_user + math.random(expense_categories)
  headers["Authorization"] = "Bearer " .. tokens[user]
  local body = string.format(
    '{{"amount": "%d.%02d", "type": "EXPENSE", "categoryId": %d, "date": "%s"}}',
    math.floor(cents / 100), cents % 100, category, today)
  return wrk.format("POST", "/api/transactions", headers, body)
end
"""
    )


def split_expense_lua(tokens: list[str], categories: int, lines: int) -> str:
    """wrk's version of _expense_maker with `lines`."""
    return (
        _lua_tokens(tokens)
        + _LUA_COMMON % 13
        + f"""
local per_user, expense_categories, today = {CATEGORIES_PER_USER}, {categories}, "{TODAY}"
local split_lines = {lines}
request = function()
  local user = math.random(#tokens)
  local start = math.random(expense_categories) - 1
  local parts, total = {{}}, 0
  for i = 0, split_lines - 1 do
    local cents = math.random(100, 4999)
    total = total + cents
    local category = (user - 1) * per_user + 1 + (start + i) % expense_categories
    parts[#parts + 1] = string.format('{{"categoryId": %d, "amount": "%d.%02d"}}',
      category, math.floor(cents / 100), cents % 100)
  end
  headers["Authorization"] = "Bearer " .. tokens[user]
  local body = string.format(
    '{{"amount": "%d.%02d", "type": "EXPENSE", "date": "%s", "splits": [%s]}}',
    math.floor(total / 100), total % 100, today, table.concat(parts, ", "))
  return wrk.format("POST", "/api/transactions", headers, body)
end
"""
    )


def read_lua(tokens: list[str], path: str) -> str:
    return (
        _lua_tokens(tokens)
        + _LUA_COMMON % 12
        + f"""
request = function()
  headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  return wrk.format("GET", "{path}", headers)
end
"""
    )


@dataclass(frozen=True)
class Measured:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu: str = ""  # CPU per request of the service, PostgreSQL and the load tool
    split: str = ""  # CPU seconds of each gunicorn worker


def _drive_asyncio(base: str, tokens: list[str], clients: int, seconds: int, maker) -> Measured:
    results = asyncio.run(closed_loop(base, tokens, clients, seconds, maker))
    stats = summarize_ms(results.latencies)
    ok = sum(count for status, count in results.statuses.items() if status < 400)
    errors = results.requests - ok + sum(results.errors.values())
    return Measured(results.rate, stats["p50"], stats["p99"], errors, results.requests)


def _drive_wrk(base: str, script: str, clients: int, seconds: int) -> Measured:
    result = wrk.run(base, script, connections=clients, seconds=seconds)
    return Measured(result.rate, result.p50_ms, result.p99_ms, result.errors, result.requests)


@contextlib.contextmanager
def floor_server(workers: int, threads: int, worker_class: str, gunicorn_args: str):
    """bench/floor_app.py under gunicorn, configured like the service; yields (base, pid)."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
        str(workers), "--threads", str(threads), "--worker-class", worker_class,
        "--access-logfile", "-", *shlex.split(gunicorn_args), "bench.floor_app:app",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while not _accepts(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the floor app did not start:\n{log.read().decode()}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}", process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


# --- pgbench: the same statements, from sql/*.sql -------------------------------------------


def _pgbench_sql(query: Query, values: dict[str, str]) -> str:
    """The query's own text with each %(name)s replaced by a pgbench expression."""
    missing = set(query.parameters) - values.keys()
    assert not missing, f"{query.name}: no pgbench value for {missing}"
    text = re.sub(r"%\((\w+)\)s", lambda match: values[match.group(1)], query.sql)
    return text.replace("%%", "%") + ";"


SPLIT_LINES = 3  # --splits: a split expense's lines, each in a budgeted category


SESSION = "('00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'))::uuid"


def _pipelined(*batches: list[str]) -> list[str]:
    """Each batch as one round trip, as the API sends it (pgbench's pipeline mode)."""
    return [line for batch in batches for line in ("\\startpipeline", *batch, "\\endpipeline")]


def expense_script(lines: int = 0) -> str:
    """One POST /api/transactions as the API runs it (no Idempotency-Key, no alert firing), in
    the API's two round trips: BEGIN and the session lookup; then the new row's id and names,
    the budget rule (enforce_budgets: the scope lock, the budget row locks with the later months
    of their rollover chains, the chains' read, the decision), the insert, its change-log entry
    (rendered by the database) and the COMMIT. With `lines`, a split expense: its lines'
    categories are :cid1.. (consecutive ones from a random start, as _expense_maker's), each
    line's cents :cents1.., its lines inserted after the transaction in the same round trip."""
    cids = [f":cid{i}" for i in range(1, lines + 1)] or [":cid"]
    cents = [f":cents{i}" for i in range(1, lines + 1)] or [":cents"]
    amount = ":total / 100.0" if lines else ":cents / 100.0"
    scopes = len(cids) + 1  # the overall budget's and each category's
    category = "NULL::bigint" if lines else ":cid"
    split_category_ids = f"ARRAY[{', '.join(cids)}]::bigint[]" if lines else "ARRAY[]::bigint[]"
    session = [
        "BEGIN;",
        _pgbench_sql(
            queries.auth_sessions.get_active_with_user, {"user_id": ":uid", "session_id": SESSION}
        ),
    ]
    write = [
        _pgbench_sql(
            queries.transactions.allocate,
            {
                "ledger_id": ":lid",
                "category_id": category,
                "split_category_ids": split_category_ids,
                "created_by": ":uid",
                "payee": "NULL::text",
                "tags": "ARRAY[]::text[]",
            },
        ),
        _pgbench_sql(
            queries.budgets.enforce,
            {
                "ledger_id": ":lid",
                "years": f"ARRAY[{', '.join([str(TODAY.year)] * scopes)}]",
                "months": f"ARRAY[{', '.join([str(TODAY.month)] * scopes)}]",
                "category_ids": f"ARRAY[NULL, {', '.join(cids)}]",
                "before": f"ARRAY[{', '.join(['0'] * scopes)}]",
                "after": f"ARRAY[{amount}, {', '.join(c + ' / 100.0' for c in cents)}]",
            },
        ),
        _pgbench_sql(
            queries.transactions.insert,
            {
                "ledger_id": ":lid",
                "created_by": ":uid",
                "category_id": category,
                "type": "'EXPENSE'",
                "amount": amount,
                "description": "''",
                "occurred_on": f"'{TODAY}'::date",
                "payee": "NULL::text",
                "currency": "NULL::text",  # the ledger's own currency
                "rate": "NULL::numeric",
                "foreign_amount": "NULL::numeric",
            },
        ),
        *(
            [
                _pgbench_sql(
                    queries.transactions.insert_splits,
                    {
                        "ledger_id": ":lid",
                        "id": "NULL",  # the transaction just inserted
                        "category_ids": split_category_ids,
                        "amounts": f"ARRAY[{', '.join(c + ' / 100.0' for c in cents)}]::numeric[]",
                        "memos": f"ARRAY[{', '.join(['NULL'] * lines)}]::text[]",
                        "foreign_amounts": f"ARRAY[{', '.join(['NULL'] * lines)}]::numeric[]",
                    },
                )
            ]
            if lines
            else []
        ),
        _pgbench_sql(
            queries.changes.record_new_transaction,
            {
                "ledger_id": ":lid",
                "actor_id": ":uid",
                "via": "'rest'",
                "request_id": "'pgbench'",
                "digits": "2",
                "currency": "'USD'",
                "digits_of": "'{}'",
                "event": "NULL::text",
            },
        ),
        "COMMIT;",
    ]
    header = [
        "\\set uid random(1, {users})",
        "\\set lid :uid",  # in the benchmark's fresh database, each user's ledger has their id
    ]
    if lines:
        header.append("\\set start random(0, {categories} - 1)")
        for i in range(1, lines + 1):
            header += [
                f"\\set cid{i} (:uid - 1) * {CATEGORIES_PER_USER} + 1"
                f" + (:start + {i - 1}) % {{categories}}",
                f"\\set cents{i} random(100, 4999)",
            ]
        header.append(f"\\set total {' + '.join(cents)}")
    else:
        header += [
            f"\\set cid (:uid - 1) * {CATEGORIES_PER_USER} + random(1, {{categories}})",
            "\\set cents random(100, 4999)",
        ]
    return "\n".join([*header, *_pipelined(session, write)]) + "\n"


def split_expense_script() -> str:
    """expense_script for a split expense of SPLIT_LINES lines (--splits)."""
    return expense_script(SPLIT_LINES)


def summary_script() -> str:
    """GET /api/summary as the API runs it: the session, then the summary, each a transaction
    of its own (a read sends no BEGIN or COMMIT: api/core/request_transaction.py)."""
    first = TODAY.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    session = [
        _pgbench_sql(
            queries.auth_sessions.get_active_with_user, {"user_id": ":uid", "session_id": SESSION}
        ),
    ]
    summary = _pgbench_sql(
        queries.reports.summary,
        {
            "ledger_id": ":lid",
            "month_from": f"'{first}'::date",
            "month_to": f"'{after}'::date",
            "head_from": "NULL::date",
            "head_to": "NULL::date",
            "tail_from": "NULL::date",
            "tail_to": "NULL::date",
        },
    )
    header = ["\\set uid random(1, {users})", "\\set lid :uid"]
    return "\n".join([*header, *_pipelined(session, [summary])]) + "\n"


def pgbench(url: str, script: str, clients: int, seconds: int) -> Measured:
    from pgserver._commands import POSTGRES_BIN_PATH

    postmaster = cpu.postmaster_of(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as handle:
        handle.write(script)
        handle.flush()
        command = [
            str(Path(POSTGRES_BIN_PATH) / "pgbench"), "-n", "-M", "prepared", "-c", str(clients),
            "-j", "2", "-T", str(seconds), "-f", handle.name, url,
        ]  # fmt: skip
        before = cpu.snapshot(0, postmaster)
        result = subprocess.run(command, capture_output=True, text=True)
        cpu.wait_for_backends_to_end(postmaster, before)
        after = cpu.snapshot(0, postmaster)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", result.stdout)
    if result.returncode != 0 or not match:
        raise RuntimeError(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if failed and int(failed.group(1)):
        raise RuntimeError(f"pgbench transactions failed:\n{result.stdout}")
    done = int(re.search(r"actually processed: (\d+)", result.stdout).group(1))
    latency = re.search(r"latency average = ([0-9.]+) ms", result.stdout)
    average_ms = float(latency.group(1)) if latency else float("nan")
    used = cpu.per_request_ms(before, after, done, "pgbench")
    return Measured(float(match.group(1)), average_ms, float("nan"), 0, done, used)


@dataclass(frozen=True)
class Scenario:
    name: str
    users: int  # the first `users` seeded users send requests
    clients: int  # keep-alive connections
    categories: int  # each user's first `categories` expense categories take the expenses
    reads: tuple[str, ...]  # READS measured after the writes, under the same load
    splits: bool = False  # also split writes ("split", SPLIT_LINES lines), after the plain ones

    @property
    def writes(self) -> tuple[str, ...]:
        return ("write", "split") if self.splits else ("write",)


def _script(text: str, scenario: Scenario) -> str:
    return text.replace("{users}", str(scenario.users)).replace(
        "{categories}", str(scenario.categories)
    )


def round_trips_in_process(url: str, tokens: list[str], scenario: Scenario, requests: int = 20):
    """Round trips to PostgreSQL per request of each kind, counted on the request's connection
    (libpq's protocol trace) in an in-process app driven by Flask's test client."""
    from devtools.servers import count_pool_round_trips
    from expense_api.api.app import create_app
    from expense_api.config import load_settings

    settings = load_settings(
        {"APP_ENV": "production", "LOG_LEVEL": "WARNING", **UNLIMITED, **PRODUCTION_SECRETS,
         "JWT_SECRET_KEY": SECRET}
    )  # fmt: skip
    app = create_app(settings, url)
    pool = app.extensions["database"].pool
    client = app.test_client()
    makers = {
        kind: _expense_maker(
            tokens[: scenario.users], scenario.categories, SPLIT_LINES if kind == "split" else 0
        )
        for kind in scenario.writes
    }
    makers.update(
        {read: _read_maker(tokens[: scenario.users], READS[read]) for read in scenario.reads}
    )
    counts = {}
    try:
        for kind, make in makers.items():
            for index in range(3):  # warm: prepared statements, the pool's connection
                method, path, body, headers = make(index)
                client.open(path, method=method, json=body, headers=headers)
            with count_pool_round_trips(pool) as counted:
                for index in range(requests):
                    method, path, body, headers = make(index)
                    response = client.open(path, method=method, json=body, headers=headers)
                    assert response.status_code < 300, response.get_json()
            counts[kind] = counted.count / requests
    finally:
        app.extensions["database"].close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", default="both", choices=("hot", "spread", "both"))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=32, help="spread scenario")
    parser.add_argument("--users", type=int, default=50, help="spread scenario")
    parser.add_argument("--hot-clients", type=int, default=16)
    parser.add_argument(
        "--existing", type=int, default=2000, help="transactions per user beforehand"
    )
    parser.add_argument(
        "--gunicorn-args",
        default="",
        help="extra gunicorn options (GUNICORN_CMD_ARGS); none by default: bin/serve's defaults",
    )
    parser.add_argument(
        "--load-tool", default="auto", choices=("auto", "wrk", "asyncio"),
        help="auto: wrk when it is on PATH, else the asyncio client in bench/load.py",
    )  # fmt: skip
    parser.add_argument(
        "--splits",
        action="store_true",
        help=f"also split expenses of {SPLIT_LINES} lines in budgeted categories, after the plain",
    )
    parser.add_argument("--print-script", action="store_true", help="print pgbench's script")
    parser.add_argument(
        "--skip-pgbench", action="store_true", help="API figures only (for tuning the server)"
    )
    parser.add_argument(
        "--skip-floor", action="store_true", help="do not measure bench/floor_app.py"
    )
    args = parser.parse_args()
    scenarios = []
    if args.scenario in ("hot", "both"):
        scenarios.append(
            Scenario("hot", 1, args.hot_clients, 4, ("summary", "budget-usage"), args.splits)
        )
    if args.scenario in ("spread", "both"):
        scenarios.append(
            Scenario("spread", args.users, args.clients, len(EXPENSES), ("summary",), args.splits)
        )
    if args.print_script:
        script = split_expense_script() if args.splits else expense_script()
        print(_script(script, scenarios[-1]))
        return
    tool = args.load_tool
    if tool == "auto":
        tool = "wrk" if wrk.available() else "asyncio"
    settings = load_settings()  # what bin/serve would run with here: its defaults, or .env

    def drive(base, pid, tokens, seconds, scenario, kind) -> Measured:
        tokens = tokens[: scenario.users]
        before = cpu.snapshot(pid, postmaster)
        if tool == "wrk":
            if kind == "write":
                script = expense_lua(tokens, scenario.categories)
            elif kind == "split":
                script = split_expense_lua(tokens, scenario.categories, SPLIT_LINES)
            else:
                script = read_lua(tokens, READS[kind])
            measured = _drive_wrk(base, script, scenario.clients, seconds)
        else:
            if kind in ("write", "split"):
                lines = SPLIT_LINES if kind == "split" else 0
                maker = _expense_maker(tokens, scenario.categories, lines)
            else:
                maker = _read_maker(tokens, READS[kind])
            measured = _drive_asyncio(base, tokens, scenario.clients, seconds, maker)
        after = cpu.snapshot(pid, postmaster)
        used = cpu.per_request_ms(before, after, measured.requests, tool)
        return replace(measured, cpu=used, split=cpu.worker_split(before, after))

    results: dict[tuple[str, str], Measured] = {}
    baselines: dict[tuple[str, str], Measured] = {}
    trips: dict[str, dict[str, float]] = {}
    with bench_database() as url:
        print(machine(url))
        users = max(scenario.users for scenario in scenarios)
        tokens = _prepare(url, users, args.existing)
        postmaster = cpu.postmaster_of(url)
        extra = {"GUNICORN_CMD_ARGS": args.gunicorn_args} if args.gunicorn_args else {}
        server = start_server(
            url, workers=settings.web_concurrency, threads=settings.web_threads, **extra
        )
        try:
            pid = server.process.pid
            for scenario in scenarios:
                # warm-up: prepared statements, caches
                drive(server.base, pid, tokens, 3, scenario, "write")
                for kind in (*scenario.writes, *scenario.reads):
                    results[scenario.name, kind] = drive(
                        server.base, pid, tokens, args.seconds, scenario, kind
                    )
        finally:
            server.stop()
        floor = None
        if not args.skip_floor:
            with floor_server(
                settings.web_concurrency,
                settings.web_threads,
                settings.web_worker_class,
                args.gunicorn_args,
            ) as (base, pid):
                drive(base, pid, tokens, 2, scenarios[-1], "write")
                floor = drive(base, pid, tokens, min(args.seconds, 10), scenarios[-1], "write")
        for scenario in scenarios:
            trips[scenario.name] = round_trips_in_process(url, tokens, scenario)
        over = _overspent(url)
        if not args.skip_pgbench:
            for scenario in scenarios:
                baselines[scenario.name, "write"] = pgbench(
                    url, _script(expense_script(), scenario), scenario.clients, args.seconds
                )
                if scenario.splits:
                    baselines[scenario.name, "split"] = pgbench(
                        url,
                        _script(split_expense_script(), scenario),
                        scenario.clients,
                        args.seconds,
                    )
                if "summary" in scenario.reads:
                    baselines[scenario.name, "summary"] = pgbench(
                        url, _script(summary_script(), scenario), scenario.clients, args.seconds
                    )
    _report(args, settings, tool, scenarios, results, baselines, trips, floor, over)


def _overspent(url: str) -> int:
    """Hard budgets whose month spent more than their amount, from the raw rows: the whole
    transactions for the overall budget, a category's transactions and split lines for its."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM budgets b WHERE b.mode = 'hard' AND b.amount < ("
            " SELECT COALESCE(sum(t.amount), 0) FROM ("
            "  SELECT ledger_id, occurred_on, type, amount, category_id, false AS line"
            "  FROM transactions"
            "  UNION ALL"
            "  SELECT ledger_id, occurred_on, type, amount, category_id, true FROM transaction_splits"
            " ) t WHERE t.ledger_id = b.ledger_id"
            " AND t.occurred_on >= make_date(b.year, b.month, 1)"
            " AND t.occurred_on < make_date(b.year, b.month, 1) + interval '1 month'"
            " AND t.type = 'EXPENSE'"
            " AND (b.category_id IS NULL AND NOT t.line OR t.category_id = b.category_id))"
        ).fetchone()[0]


def _report(args, settings, tool, scenarios, results, baselines, trips, floor, over) -> None:
    config = f"gunicorn {settings.web_concurrency} x {settings.web_worker_class}" + (
        f"/{settings.web_threads} threads" if settings.web_worker_class == "gthread" else ""
    )
    if args.gunicorn_args:
        config += f" ({args.gunicorn_args})"
    print(f"\n{config} (bin/serve's defaults), load by {tool}, {args.seconds} s each")
    labels = {
        "write": "POST /api/transactions (enforced)",
        "split": f"POST /api/transactions (enforced, {SPLIT_LINES} split lines)",
        **{kind: f"GET {path.split('?')[0]}" for kind, path in READS.items()},
    }
    for scenario in scenarios:
        print(
            f"\n{scenario.name}: {scenario.users} user(s), {scenario.clients} keep-alive clients, "
            f"{scenario.categories} categories with hard budgets + the overall budget"
        )
        for kind in (*scenario.writes, *scenario.reads):
            api = results[scenario.name, kind]
            rts = trips.get(scenario.name, {}).get(kind)
            print(
                f"{labels[kind]}\n  API     {api.rate:7.0f} req/s  p50 {api.p50_ms:5.1f} ms  "
                f"p99 {api.p99_ms:5.1f} ms  errors {api.errors}"
                + (f"  round trips/request {rts:.1f}" if rts is not None else "")
                + f"\n          CPU/request: {api.cpu}\n          CPU per worker: {api.split}"
            )
            base = baselines.get((scenario.name, kind))
            if base is not None:
                print(
                    f"  pgbench {base.rate:7.0f} tps    avg {base.p50_ms:5.1f} ms"
                    f"                       CPU/transaction: {base.cpu}"
                )
                print(f"  ratio API / pgbench: {api.rate / base.rate:.2f}")
    if floor is not None:
        print(
            f"\nFloor: bench/floor_app.py (Flask, JSON in and out, nothing else) on the same gunicorn"
            f"\n  POST    {floor.rate:7.0f} req/s  p50 {floor.p50_ms:5.1f} ms  "
            f"p99 {floor.p99_ms:5.1f} ms  errors {floor.errors}  CPU/request: {floor.cpu}"
            f"\n          CPU per worker: {floor.split}"
        )
    print(f"hard budgets overspent: {over}")


if __name__ == "__main__":
    main()
