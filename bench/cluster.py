"""The scale-out shape, on 127.0.0.1 only: a PostgreSQL 15 primary and a streaming replica
(pg_basebackup), PgBouncer in transaction mode, two API instances (gunicorn, started through
docker/entrypoint.sh like the image, DB_POOL_MODE=transaction) and haproxy in front. Then:

1. the suite's live HTTP tests (the 40-way budget race among them) through haproxy;
2. throughput through haproxy with one instance behind it vs two;
3. the cost of psycopg's prepared statements, which transaction pooling rules out;
4. one instance killed (SIGKILL) during writes: every acknowledged write is stored;
5. the replica has replayed everything the primary committed.

    python -m bench.cluster              # full run (3-5 minutes on the 2 shared cores here)
    python -m bench.cluster --quick      # bounded: what tests/ops/test_cluster.py runs
    python -m bench.cluster --failover   # losing the primary instead: bench/failover.py, 5 runs

Uses Debian's packages (postgresql-15, pgbouncer, haproxy); the servers run as an unprivileged
user (runuser) when started as root, since PostgreSQL refuses root. Everything it started is
stopped on exit, on error and on Ctrl-C/SIGTERM. Exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

from bench.common import summarize_ms
from bench.load import closed_loop
from devtools.servers import PROJECT_ROOT, LiveServer, call, free_port
from expense_api.config import load_settings
from expense_api.db.migrate import apply_migrations
from expense_api.db.pool import role_settings_sql

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
ROLE = "expense"

# The suite's tests that talk HTTP to a live service (conftest.py's live_server), run here with
# LIVE_BASE_URL = haproxy. The 40-way race is test_http_writers_on_category_and_overall_budgets.
LIVE_TESTS = [
    "tests/money/test_concurrency.py::test_http_writers_on_category_and_overall_budgets",
    "tests/money/test_concurrency.py::test_http_writers_on_one_hard_budget_never_overspend",
    "tests/money/test_concurrency.py::test_moves_between_two_months_never_deadlock_or_overspend",
    "tests/http/test_web_security.py::test_throttling_holds_across_gunicorn_workers",
    "tests/http/test_routing.py::test_through_gunicorn",
    "tests/ops/test_clients.py::test_curl_walkthrough",
    "tests/ops/test_clients.py::test_postman_collection_with_newman",
]


def missing_tools() -> list[str]:
    """What this command needs and the machine lacks (empty: it can run)."""
    needed = [str(PG_BIN / name) for name in ("initdb", "pg_ctl", "pg_basebackup", "postgres")]
    lacking = [path for path in needed if not os.access(path, os.X_OK)]
    lacking += [tool for tool in ("pgbouncer", "haproxy") if not _which(tool)]
    if os.geteuid() == 0 and not _which("runuser"):
        lacking.append("runuser")
    return lacking


def _which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")


class Cluster:
    """Starts the servers in a folder of their own; `close()` stops whatever was started."""

    def __init__(self):
        self.stack = contextlib.ExitStack()
        self.dir = Path(tempfile.mkdtemp(prefix="expense-cluster-"))
        self.stack.callback(shutil.rmtree, self.dir, ignore_errors=True)
        self.user = None
        if os.geteuid() == 0:  # CI runs as root; PostgreSQL refuses to
            name = "postgres" if _exists("postgres") else "nobody"
            self.user = pwd.getpwnam(name)
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self.ports = {
            name: free_port() for name in ("primary", "replica", "pgbouncer", "both", "one")
        }
        self.apis: list[LiveServer] = []

    # --- processes ---------------------------------------------------------------------------

    def _as_user(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", self.user.pw_name, "--", *command] if self.user else command

    def run(self, *command: str) -> str:
        # cwd: the unprivileged user may not be able to enter ours (a clone under /root, say),
        # and PostgreSQL's tools refuse to run where they cannot read the current directory.
        result = subprocess.run(self._as_user(list(command)), capture_output=True, text=True,
                                timeout=120, cwd=self.dir)  # fmt: skip
        if result.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def spawn(self, name: str, *command: str) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the stack
        self.stack.callback(log.close)
        process = subprocess.Popen(self._as_user(list(command)), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, cwd=self.dir)  # fmt: skip
        self.stack.callback(_stop, process)
        return process

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text)
        if self.user:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)
        return path

    def close(self) -> None:
        self.stack.close()

    # --- servers -----------------------------------------------------------------------------

    def url(self, server: str, user: str = ROLE, database: str = ROLE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.ports[server]}/{database}"

    def start_postgres(self) -> None:
        primary, replica = self.dir / "primary", self.dir / "replica"
        self.run(str(PG_BIN / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.ports['primary']}\n"
                f"unix_socket_directories = '{self.dir}'\nwal_level = replica\n"
                "max_wal_senders = 4\nhot_standby = on\nmax_connections = 150\n"
            )
        self._pg_start(primary, "primary")
        with psycopg.connect(self.url("primary", "postgres", "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN")
            conn.execute(f"CREATE DATABASE {ROLE} OWNER {ROLE}")
            # What an operator runs for DB_POOL_MODE=transaction; the API checks it at start.
            for statement in role_settings_sql(ROLE, load_settings({"APP_ENV": "test"})):
                conn.execute(statement)
        apply_migrations(self.url("primary"))  # straight to the primary, not through PgBouncer
        self.run(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.ports["primary"]),
                 "-U", "postgres", "-D", str(replica), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        with open(replica / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.ports['replica']}\n")
        self._pg_start(replica, "replica")

    def _pg_start(self, data: Path, name: str) -> None:
        pg_ctl = str(PG_BIN / "pg_ctl")
        self.run(
            pg_ctl, "-D", str(data), "-l", str(self.dir / f"{name}.log"), "-w", "-t", "60", "start"
        )
        self.stack.callback(self.run, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")

    def start_pgbouncer(self) -> None:
        self.write("userlist.txt", f'"{ROLE}" ""\n')
        config = self.write("pgbouncer.ini", f"""
[databases]
{ROLE} = host=127.0.0.1 port={self.ports["primary"]} dbname={ROLE} user={ROLE}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.ports["pgbouncer"]}
unix_socket_dir =
auth_type = trust
auth_file = {self.dir / "userlist.txt"}
pool_mode = transaction
max_client_conn = 400
default_pool_size = 40
""")  # fmt: skip
        self.spawn("pgbouncer", _which("pgbouncer"), str(config))
        _wait_for(lambda: _answers(self.url("pgbouncer")), "PgBouncer")

    def start_apis(self) -> None:
        env = {
            # test, as the suite's own live server: the Postman collection registers an http://
            # webhook on loopback, which production refuses (https only).
            "APP_ENV": "test",
            "JWT_SECRET_KEY": "cluster-" + "k" * 40,
            "WEBHOOK_SECRETS_KEY": Fernet.generate_key().decode(),
            "DATABASE_URL": self.url("pgbouncer"),
            "DB_POOL_MODE": "transaction",
            "READ_DATABASE_URL": self.url("replica"),  # reports and lists, read-your-writes
            "WORKER": "off",
            "WEB_CONCURRENCY": "2",
            "WEB_THREADS": "8",
            "TRUSTED_PROXY_COUNT": "1",  # haproxy adds X-Forwarded-For
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",  # the Postman collection's endpoint
            "LOG_LEVEL": "WARNING",
            # Its load runs through one account and haproxy's one address: never refused.
            "RATE_LIMIT_PER_ACCOUNT": "1000000000",
            "RATE_LIMIT_PER_ADDRESS": "1000000000",
        }
        for number in (1, 2):
            server = LiveServer({**env, "DATA_DIR": str(self.dir / f"api{number}")})
            self.stack.callback(server.stop)
            self.apis.append(server)

    def start_haproxy(self, check: str = "/readyz") -> None:
        """`check`: the instances' health check; the failover scenario checks /healthz (the
        process answers), so that while there is no primary the API itself answers 503
        database_unavailable with Retry-After instead of haproxy's own 503 page."""
        api1, api2 = (server.port for server in self.apis)
        config = self.write("haproxy.cfg", f"""
global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A health check waits its turn behind the requests in flight: under the 40-way race an
    # instance's threads are all busy for longer than the check interval, and a 500 ms limit
    # would mark both instances down (503 for everyone) although both are working.
    timeout check 5s
    option forwardfor
    retries 3
    option redispatch
frontend both
    bind 127.0.0.1:{self.ports["both"]}
    default_backend both
frontend one
    bind 127.0.0.1:{self.ports["one"]}
    default_backend one
backend both
    balance roundrobin
    option httpchk GET {check}
    server api1 127.0.0.1:{api1} check inter 500ms fall 2 rise 2
    server api2 127.0.0.1:{api2} check inter 500ms fall 2 rise 2
backend one
    option httpchk GET {check}
    server api1 127.0.0.1:{api1} check inter 500ms fall 2 rise 2
""")  # fmt: skip
        self.spawn("haproxy", _which("haproxy"), "-f", str(config), "-db")
        _wait_for(lambda: call(self.base("both"), "GET", "/readyz")[0] == 200, "haproxy")

    def base(self, frontend: str) -> str:
        return f"http://127.0.0.1:{self.ports[frontend]}"


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2, prepare_threshold=None) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _wait_for(ready, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if ready():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready")


# --- the checks ------------------------------------------------------------------------------


def live_tests(cluster: Cluster, tests: list[str]) -> bool:
    """The suite's live HTTP tests, through haproxy (both instances), on the primary's data."""
    env = {
        **os.environ,
        "LIVE_BASE_URL": cluster.base("both"),
        "LIVE_DATABASE_URL": cluster.url("primary"),
    }
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)  # fmt: skip
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "no output"
    print(f"live HTTP tests through haproxy: {summary} ({time.monotonic() - started:.0f} s)")
    if result.returncode:
        print(result.stdout[-4000:] + result.stderr[-2000:])
    return result.returncode == 0


def _user(base: str, name: str) -> tuple[str, int]:
    email = f"{name}-{os.urandom(4).hex()}@example.com"
    body = {"name": name, "email": email, "password": "password123"}
    assert call(base, "POST", "/api/auth/register", body)[0] == 201
    status, tokens, _ = call(
        base, "POST", "/api/auth/login", {"email": email, "password": "password123"}
    )
    assert status == 200
    token = tokens["accessToken"]
    status, category, _ = call(base, "POST", "/api/categories", {"name": "Food"}, token)
    assert status == 201
    return token, category["id"]


def throughput(cluster: Cluster, seconds: float, clients: int) -> None:
    base = cluster.base("both")
    users = [_user(base, f"load{n}") for n in range(8)]
    tokens = [token for token, _ in users]
    category = {token: category for token, category in users}

    def write(index: int):
        token = tokens[index % len(tokens)]
        body = {
            "amount": "1.25",
            "type": "EXPENSE",
            "categoryId": category[token],
            "date": "2026-03-09",
        }
        return "POST", "/api/transactions", body, {"Authorization": f"Bearer {token}"}

    def read(index: int):
        return "GET", "/api/transactions?limit=20", None, None

    print(f"throughput through haproxy ({clients} clients, closed loop, {seconds:.0f} s each):")
    for label, make in (("expense writes", write), ("list reads", read)):
        rates = {}
        for frontend, instances in (("one", "one instance "), ("both", "two instances")):
            results = asyncio.run(
                closed_loop(cluster.base(frontend), tokens, clients, seconds, make)
            )
            latency = summarize_ms(results.latencies)
            rates[frontend] = results.rate
            print(f"  {label:14} {instances}: {results.rate:7.0f} req/s, p50 {latency['p50']:.1f} ms, "
                  f"p99 {latency['p99']:.1f} ms, statuses {dict(results.statuses)}, errors {dict(results.errors)}")  # fmt: skip
        print(f"  {label:14} two / one    : {rates['both'] / rates['one']:.2f}x")


PREPARE_QUERY = """
SELECT t.id, t.amount, t.type, t.occurred_on, c.name
FROM transactions t JOIN categories c ON c.ledger_id = t.ledger_id AND c.id = t.category_id
WHERE t.ledger_id = %s ORDER BY t.occurred_on DESC, t.id DESC LIMIT 20
"""


def prepared_cost(cluster: Cluster, runs: int) -> None:
    """The same list query on three connections: prepared (psycopg's default after 5 runs) vs
    never prepared (DB_POOL_MODE=transaction), direct and through PgBouncer. Batches alternate
    between them so that the machine's noise falls on all three; medians of the batches."""
    with psycopg.connect(cluster.url("primary")) as conn:
        ledger = conn.execute(
            "SELECT ledger_id FROM transactions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    variants = {"prepared, direct       ": ("primary", 0),
                "not prepared, direct   ": ("primary", None),
                "not prepared, PgBouncer": ("pgbouncer", None)}  # fmt: skip
    batches, batch = 10, max(runs // 10, 10)
    samples: dict[str, list[float]] = {label: [] for label in variants}
    with contextlib.ExitStack() as stack:
        conns = {label: stack.enter_context(psycopg.connect(cluster.url(server), prepare_threshold=threshold, autocommit=True))
                 for label, (server, threshold) in variants.items()}  # fmt: skip
        for conn in conns.values():
            for _ in range(20):
                conn.execute(PREPARE_QUERY, (ledger,)).fetchall()
        for _ in range(batches):
            for label, conn in conns.items():
                started = time.perf_counter()
                for _ in range(batch):
                    conn.execute(PREPARE_QUERY, (ledger,)).fetchall()
                samples[label].append((time.perf_counter() - started) / batch * 1000)
    print(
        f"one list query (20 rows), {batches} alternating batches of {batch} runs, median per query:"
    )
    for label, values in samples.items():
        print(
            f"  {label}: {statistics.median(values):.3f} ms (batches {min(values):.3f}..{max(values):.3f})"
        )


def kill_one_during_writes(cluster: Cluster, seconds: float) -> bool:
    """Writes through haproxy while api2 is killed (SIGKILL, workers first): every write
    answered 201 must be in the database; failures only for requests in flight."""
    base = cluster.base("both")
    token, category = _user(base, "kill")
    acknowledged, failures, stop = [], [], threading.Event()
    lock = threading.Lock()

    def writer(number: int) -> None:
        index = 0
        while not stop.is_set():
            index += 1
            body = {"amount": "1.00", "type": "EXPENSE", "categoryId": category, "date": "2026-04-01",
                    "description": f"kill-{number}-{index}"}  # fmt: skip
            try:
                status, answer, _ = call(base, "POST", "/api/transactions", body, token)
            except ValueError:  # not JSON: haproxy's own error page (502/503)
                status, answer = "proxy error page", None
            except Exception as error:  # a reset, a cut-off answer: a failed request
                status, answer = type(error).__name__, None
            with lock:
                (acknowledged.append(answer["id"]) if status == 201 else failures.append(status))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    time.sleep(seconds / 2)
    victim = cluster.apis[1].process.pid
    for child in _children(victim):
        os.kill(child, signal.SIGKILL)
    os.kill(victim, signal.SIGKILL)
    time.sleep(seconds / 2)
    stop.set()
    for thread in threads:
        thread.join()
    with psycopg.connect(cluster.url("primary")) as conn:
        stored = {row[0] for row in conn.execute(
            "SELECT id FROM transactions WHERE description LIKE 'kill-%%' AND id = ANY(%s)", (acknowledged,))}  # fmt: skip
    lost = len(set(acknowledged) - stored)
    print(f"api2 killed during writes: {len(acknowledged)} acknowledged, {lost} lost; "
          f"{len(failures)} failed ({_counts(failures)})")  # fmt: skip
    return lost == 0


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    children.append(int(entry.name))
    return children


def _counts(items: list) -> dict:
    counts: dict = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def replica_caught_up(cluster: Cluster) -> bool:
    with psycopg.connect(cluster.url("primary", "postgres"), autocommit=True) as primary:
        lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        count = primary.execute("SELECT count(*) FROM transactions").fetchone()[0]
        state = primary.execute("SELECT state FROM pg_stat_replication").fetchone()
    with psycopg.connect(cluster.url("replica"), autocommit=True) as replica:
        deadline = time.monotonic() + 10
        while (
            replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]
            is not True
        ):
            if time.monotonic() > deadline:
                print("replica: did not replay the primary's WAL within 10 s")
                return False
            time.sleep(0.05)
        on_replica = replica.execute("SELECT count(*) FROM transactions").fetchone()[0]
    print(f"replica ({state[0] if state else 'not streaming'}): replayed to {lsn}, "
          f"{on_replica} transactions (primary {count})")  # fmt: skip
    return on_replica == count and state is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="bounded run (the suite's): the 40-way race only, short loads",
    )
    parser.add_argument("--seconds", type=float, default=None, help="seconds per throughput run")
    parser.add_argument(
        "--failover",
        action="store_true",
        help="the failover scenario instead (bench/failover.py): pg_auto_failover, the primary "
        "lost under write load, --runs times",
    )
    parser.add_argument(
        "--runs", type=int, default=None, help="failover runs (default 5, --quick 1)"
    )
    parser.add_argument(
        "--kill",
        choices=("node", "postmaster"),
        default="node",
        help="failover: what is killed (SIGKILL): the primary's node (its keeper's process group:"
        " pg_autoctl, the postmaster, the backends) or its postmaster alone (the keeper restarts it)",
    )
    args = parser.parse_args(argv)
    if args.failover:
        from bench import failover

        runs = args.runs or (1 if args.quick else 5)
        return 0 if failover.main(runs, args.quick, args.kill) else 1
    lacking = missing_tools()
    if lacking:
        print(
            "bench.cluster needs: "
            + ", ".join(lacking)
            + " (apt-get install -y postgresql-15 pgbouncer haproxy)"
        )
        return 2
    seconds = args.seconds or (2.0 if args.quick else 8.0)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    cluster = Cluster()
    ok = True
    try:
        started = time.monotonic()
        cluster.start_postgres()
        cluster.start_pgbouncer()
        cluster.start_apis()
        cluster.start_haproxy()
        ports = cluster.ports
        print(f"cluster up in {time.monotonic() - started:.0f} s: primary :{ports['primary']}, replica "
              f":{ports['replica']} (streaming), PgBouncer :{ports['pgbouncer']} (transaction), API "
              f"{' '.join(f':{s.port}' for s in cluster.apis)}, haproxy :{ports['both']} (both) "
              f":{ports['one']} (api1 only)")  # fmt: skip
        ok &= live_tests(cluster, LIVE_TESTS[:1] if args.quick else LIVE_TESTS)
        throughput(cluster, seconds, clients=16 if args.quick else 32)
        prepared_cost(cluster, runs=300 if args.quick else 3000)
        ok &= kill_one_during_writes(cluster, seconds=4 if args.quick else 8)
        ok &= replica_caught_up(cluster)
    except KeyboardInterrupt:
        print("interrupted: stopping the cluster")
        ok = False
    finally:
        cluster.close()
    print("cluster: all checks passed" if ok else "cluster: a check FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
