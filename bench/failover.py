"""Losing the primary database, on 127.0.0.1 only: `python -m bench.cluster --failover`.

pg_auto_failover (Debian's postgresql-15-auto-failover) runs a monitor and three PostgreSQL 15
nodes, each under its keeper (`pg_autoctl run`): a primary and two standbys, with
number_sync_standbys = 1, so a COMMIT is acknowledged only once a standby has it on disk
(synchronous_commit = on, synchronous_standby_names = 'ANY 1 (the two standbys)'). Two API
instances (gunicorn through docker/entrypoint.sh, each with its background worker) connect with
a multi-host DATABASE_URL and target_session_attrs=read-write, so libpq finds the primary by
itself; haproxy is in front. Then, for each run:

1. several clients write enforced expenses against hard budgets through haproxy, each retrying
   an uncertain write with the same Idempotency-Key and logging every write the API
   acknowledged; meanwhile recurring rules are created (the workers create their occurrences)
   and a webhook endpoint receives a delivery for each of those transactions;
2. the primary's node is lost: SIGKILL to its keeper's process group (pg_autoctl, the
   postmaster and its backends); `--kill postmaster` kills the postmaster alone instead, which
   its keeper restarts in place while the monitor may start an election (docs/SCALING.md);
3. the time without a primary (a probe connecting with target_session_attrs=read-write) and
   the time until a write through haproxy succeeds again are measured; every answer during the
   outage must be a 201, a 409 or a 503 `database_unavailable` with Retry-After (never a 500,
   never slower than the pool's timeout allows);
4. the old primary's keeper is started again, the clients still writing: it rejoins as a
   standby (pg_rewind, or a new base backup);
5. checks on the new primary: every acknowledged write is there, none twice; no hard budget
   overspent; monthly_totals equal a GROUP BY over the rows; every node has replayed the
   primary's WAL; the suite's 40-way race runs again; every rule has each of its dates exactly
   once; every webhook event was delivered under its one webhook-id.

The next run kills whichever node is then the primary. Everything runs as an unprivileged user
(runuser) when started as root, and is stopped on exit, error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg
from cryptography.fernet import Fernet

from bench.cluster import LIVE_TESTS, PG_BIN, ROLE, Cluster, _user, _wait_for, live_tests
from bench.cluster import missing_tools as cluster_missing_tools
from bench.common import UNLIMITED
from devtools.servers import LiveServer, call, free_port
from expense_api.db.migrate import apply_migrations

NODES = ("node1", "node2", "node3")
# The monitor's failure detection and promotion, shortened for loopback (defaults: checks every
# 5 s, a node unhealthy after 20 s, 30 s waiting for the old primary to demote itself). The
# keepers' network_partition_timeout (a primary that cannot reach the monitor nor any standby
# demotes itself after it) must stay below primary_demote_timeout, so that a primary cut off by
# a network partition has stopped accepting writes before its successor is promoted.
MONITOR_SETTINGS = {
    "health_check_period": 1000,
    "health_check_timeout": 1000,
    "health_check_max_retries": 1,
    "health_check_retry_delay": 500,
    "node_considered_unhealthy_timeout": 3000,
    "primary_demote_timeout": 5000,
}
NETWORK_PARTITION_TIMEOUT = 3  # seconds
# Every server: loopback only, sockets in the cluster's folder, little memory (pg_autoctl's
# own tuning asks for a quarter of the machine's memory per node).
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "shared_buffers": "32MB",
    "work_mem": "4MB",
    "maintenance_work_mem": "64MB",
    "effective_cache_size": "1GB",
    "max_connections": "150",
    "synchronous_commit": "on",
}
DB_POOL_TIMEOUT = 3  # the API's DB_POOL_TIMEOUT here (its default)
# An answer slower than this during the outage is a hang: the pool's timeout, plus a connect
# timeout's worth for a connection attempt under way, plus scheduling on two busy cores.
HANG_SECONDS = DB_POOL_TIMEOUT + 5
# Each load ledger's hard budgets, one per month of 2026 and 2027: a tight one every other month
# (4 writes of AMOUNT: the ledger's clients contend for it and most of their writes there are
# refused) and a roomy one (80 writes) in between, so that writes are acknowledged all along.
MONTHS = [(year, month) for year in (2026, 2027) for month in range(1, 13)]
BUDGETS = {
    month: Decimal("10.00") if number % 2 == 0 else Decimal("200.00")
    for number, month in enumerate(MONTHS)
}
AMOUNT = Decimal("2.50")


def missing_tools() -> list[str]:
    lacking = cluster_missing_tools()
    if not shutil.which("pg_autoctl"):
        lacking.append("pg_autoctl")
    if not (PG_BIN.parent / "lib" / "pgautofailover.so").exists():
        lacking.append("pgautofailover extension")
    return lacking


def _kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_group(process: subprocess.Popen, seconds: float = 30) -> None:
    """SIGTERM to the keeper's whole process group (pg_autoctl stops its Postgres with a fast
    shutdown), then SIGKILL to whatever is left."""
    _kill_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    while _group_alive(process.pid) and time.monotonic() < deadline:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.2)
    _kill_group(process.pid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


class FailoverCluster(Cluster):
    def __init__(self):
        super().__init__()
        self.ports.update({name: free_port() for name in ("monitor", *NODES)})
        self.keepers: dict[str, subprocess.Popen] = {}
        self.xdg = {name: self.dir / "xdg" / name for name in ("config", "data", "runtime")}
        for path in (self.dir / "xdg", *self.xdg.values()):
            path.mkdir(mode=0o700)
            if self.user:
                os.chown(path, self.user.pw_uid, self.user.pw_gid)

    # --- pg_autoctl ----------------------------------------------------------------------------

    def _env(self) -> list[str]:
        # pg_autoctl keeps its configuration and state under the XDG folders: ours, not the
        # user's home, so that runs never share them. PGHOST: where it finds the local server's
        # socket (unix_socket_directories, set by _initdb).
        return ["env", f"PGHOST={self.dir}", f"XDG_CONFIG_HOME={self.xdg['config']}",
                f"XDG_DATA_HOME={self.xdg['data']}",
                f"XDG_RUNTIME_DIR={self.xdg['runtime']}", f"PATH={PG_BIN}:/usr/bin:/bin"]  # fmt: skip

    def autoctl(self, *args: str) -> str:
        return self.run(*self._env(), "pg_autoctl", *args)

    def start_keeper(self, name: str) -> None:
        """`pg_autoctl run` for a node (or the monitor), in a process group of its own."""
        log = open(self.dir / f"{name}.log", "a")  # noqa: SIM115 - closed with the stack
        self.stack.callback(log.close)
        command = self._as_user(
            [*self._env(), "pg_autoctl", "run", "--pgdata", str(self.dir / name)]
        )
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, cwd=self.dir)  # fmt: skip
        self.stack.callback(_stop_group, process)
        self.keepers[name] = process

    def kill_postmaster(self, name: str) -> int:
        """SIGKILL to the node's postmaster alone: its keeper is left running (and restarts it,
        or the monitor fails over: whichever comes first). Returns the postmaster's pid."""
        postmaster = int((self.dir / name / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        return postmaster

    def lose(self, name: str) -> int:
        """The node is lost: SIGKILL to its keeper's whole process group (pg_autoctl, the
        postmaster, the backends), at once. Returns the postmaster's pid."""
        postmaster = int((self.dir / name / "postmaster.pid").read_text().split()[0])
        _kill_group(self.keepers[name].pid)
        self.keepers[name].wait(timeout=10)
        return postmaster

    def _initdb(self, name: str) -> None:
        data = self.dir / name
        self.run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        # postgresql.auto.conf is read last, after pg_autoctl's own include; a base backup copies
        # it to the standbys. The port is pg_autoctl's, per node.
        settings = {**SERVER_SETTINGS, "unix_socket_directories": str(self.dir)}
        with open(data / "postgresql.auto.conf", "a") as conf:
            conf.writelines(f"{key} = '{value}'\n" for key, value in settings.items())

    def monitor_url(self, user: str = "autoctl_node") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.ports['monitor']}/pg_auto_failover"

    def url(self, server: str = "primary", user: str = ROLE, database: str = ROLE) -> str:
        """Cluster.url's "primary" (the suite's LIVE_DATABASE_URL): whichever node is primary."""
        if server == "primary" and (user, database) == (ROLE, ROLE):
            return self.database_url()
        return self.node_url(server, user, database)

    def node_url(self, name: str, user: str = "postgres", database: str = ROLE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.ports[name]}/{database}"

    def database_url(self) -> str:
        """The API's DATABASE_URL: every node, libpq keeps the one that accepts writes. Hosts
        and ports as query parameters: yoyo (migrations) cannot parse a multi-host netloc."""
        hosts = ",".join("127.0.0.1" for _ in NODES)
        ports = ",".join(str(self.ports[name]) for name in NODES)
        return (f"postgresql:///{ROLE}?host={hosts}&port={ports}&user={ROLE}"
                "&target_session_attrs=read-write")  # fmt: skip

    def start_formation(self) -> None:
        pg_ctl = str(PG_BIN / "pg_ctl")
        common = ["--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl", "--pgctl", pg_ctl]
        started = time.monotonic()

        def step(what: str) -> None:
            print(f"  {what}: {time.monotonic() - started:.1f} s")

        self._initdb("monitor")
        self.autoctl("create", "monitor", "--pgdata", str(self.dir / "monitor"),
                     "--pgport", str(self.ports["monitor"]), *common)  # fmt: skip
        # pg_autoctl starts the monitor with -h from this setting ('*' by default).
        self.autoctl("config", "set", "--pgdata", str(self.dir / "monitor"),
                     "postgresql.listen_addresses", "127.0.0.1")  # fmt: skip
        self.start_keeper("monitor")
        _wait_for(lambda: _answers(self.monitor_url("postgres")), "the monitor")
        with psycopg.connect(self.monitor_url("postgres"), autocommit=True) as conn:
            for name, value in MONITOR_SETTINGS.items():
                conn.execute(f"ALTER SYSTEM SET pgautofailover.{name} = {int(value)}")
            conn.execute("SELECT pg_reload_conf()")
        step("monitor up")

        def create(name: str) -> None:
            self.autoctl("create", "postgres", "--pgdata", str(self.dir / name),
                         "--pgport", str(self.ports[name]), "--listen", "127.0.0.1", "--name", name,
                         "--username", "postgres", "--dbname", ROLE, "--monitor", self.monitor_url(),
                         *common)  # fmt: skip
            self.autoctl("config", "set", "--pgdata", str(self.dir / name),
                         "timeout.network_partition_timeout", str(NETWORK_PARTITION_TIMEOUT))  # fmt: skip

        self._initdb(NODES[0])  # the primary (the standbys are base backups of it)
        create(NODES[0])
        self.start_keeper(NODES[0])
        self.wait_states({NODES[0]: "single"}, 60)
        _wait_for(lambda: _answers(self.node_url(NODES[0])), NODES[0])
        with psycopg.connect(self.node_url(NODES[0]), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN")
            conn.execute(f"ALTER DATABASE {ROLE} OWNER TO {ROLE}")
            conn.execute(f"ALTER SCHEMA public OWNER TO {ROLE}")
        apply_migrations(self.database_url())
        with psycopg.connect(self.node_url(NODES[0]), autocommit=True) as conn:
            # Else each base backup waits for a spread checkpoint of the migrations' pages.
            conn.execute("CHECKPOINT")
        step(f"{NODES[0]} up, migrated")
        with ThreadPoolExecutor(2) as pool:  # both base backups at once
            list(pool.map(create, NODES[1:]))
        for name in NODES[1:]:
            self.start_keeper(name)
        step("standbys created")
        self.autoctl("set", "formation", "number-sync-standbys", "1",
                     "--pgdata", str(self.dir / NODES[0]))  # fmt: skip
        self.wait_states({NODES[0]: "primary", NODES[1]: "secondary", NODES[2]: "secondary"}, 90)
        step("standbys streaming, synchronous")

    # --- state ---------------------------------------------------------------------------------

    def states(self) -> dict[str, tuple[str, str]]:
        """node -> (reported state, assigned state), from the monitor."""
        with psycopg.connect(self.monitor_url("postgres"), connect_timeout=2) as conn:
            rows = conn.execute(
                "SELECT nodename, reportedstate::text, goalstate::text FROM pgautofailover.node"
            ).fetchall()
        return {name: (reported, goal) for name, reported, goal in rows}

    def wait_states(self, wanted: dict[str, str], seconds: float) -> float:
        """Waits until each node reports (and is assigned) its wanted state; returns the wait."""
        started = time.monotonic()
        deadline = started + seconds
        last = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(psycopg.Error):
                last = self.states()
                if all(last.get(name) == (state, state) for name, state in wanted.items()):
                    return time.monotonic() - started
            time.sleep(0.2)
        raise RuntimeError(f"nodes did not reach {wanted} within {seconds:.0f} s: {last}")

    def primary(self) -> str:
        """The node the monitor has as primary (assigned and reported)."""
        states = self.states().items()
        return next(name for name, state in states if state == ("primary", "primary"))

    def events_since(self, since: dt.datetime) -> list[tuple[dt.datetime, str, str, str, str]]:
        with psycopg.connect(self.monitor_url("postgres")) as conn:
            return conn.execute(
                "SELECT eventtime, nodename, reportedstate::text, goalstate::text, description"
                " FROM pgautofailover.event WHERE eventtime >= %s ORDER BY eventid",
                (since,),
            ).fetchall()

    # --- the API -------------------------------------------------------------------------------

    def start_apis(self) -> None:
        env = {
            "APP_ENV": "test",  # as the suite's live server: http:// webhooks on loopback
            "JWT_SECRET_KEY": "failover-" + "k" * 40,
            "WEBHOOK_SECRETS_KEY": Fernet.generate_key().decode(),
            "DATABASE_URL": self.database_url(),
            "DB_POOL_TIMEOUT": str(DB_POOL_TIMEOUT),
            "WORKER": "on",  # each instance's background worker: they share the work
            "WORKER_TICK_SECONDS": "1",
            "WEBHOOK_CONNECT_TIMEOUT_SECONDS": "1",
            "WEBHOOK_READ_TIMEOUT_SECONDS": "2",
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
            "WEB_CONCURRENCY": "2",
            "WEB_THREADS": "8",
            "TRUSTED_PROXY_COUNT": "1",
            "LOG_LEVEL": "WARNING",
            # The load's few accounts behind one proxy address are a flood by design.
            **UNLIMITED,
        }
        with ThreadPoolExecutor(2) as pool:  # both at once: each takes seconds to start
            starting = [pool.submit(LiveServer, {**env, "DATA_DIR": str(self.dir / f"api{n}")})
                        for n in (1, 2)]  # fmt: skip
        for future in starting:
            if future.exception() is None:
                self.stack.callback(future.result().stop)
                self.apis.append(future.result())
        for future in starting:
            future.result()  # raises what a start raised, once both are registered for stop


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Ledger:
    token: str
    category: int
    ledger_id: int


@dataclass
class Log:
    """What the clients saw: every acknowledged write, every answer's status."""

    acknowledged: dict[str, int] = field(default_factory=dict)  # Idempotency-Key -> id
    ack_times: list[tuple[float, float]] = field(default_factory=list)  # (sent, answered)
    refused: set[str] = field(default_factory=set)  # 409 budget_exceeded: final
    unresolved: set[str] = field(default_factory=set)  # no final answer before the end
    replayed: int = 0  # 201s answered from a stored Idempotency-Key answer
    statuses: dict[str, int] = field(default_factory=dict)
    slowest_503: float = 0.0
    slowest: float = 0.0
    hangs: int = 0  # answers slower than HANG_SECONDS
    # Any answer but a 201, a 409 budget_exceeded, a 503 database_unavailable with Retry-After,
    # or an answer that asks for the retry (409 idempotency_key_in_progress, 503
    # transaction_conflict): a 500, haproxy's own page, a reset, another status.
    unexpected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str) -> None:
        self.statuses[what] = self.statuses.get(what, 0) + 1


def _post(base: str, path: str, body: dict, headers: dict) -> tuple[int, dict | None, dict]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request(
            "POST", path, json.dumps(body), {"Content-Type": "application/json", **headers}
        )
        response = conn.getresponse()
        raw = response.read()
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = None  # haproxy's own error page
        return response.status, answer, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def write_until_final(base: str, ledger: Ledger, body: dict, log: Log, deadline: float) -> None:
    """One write, sent again with the same Idempotency-Key until its answer is final (201 or
    409 budget_exceeded) or the deadline passes."""
    key = str(uuid.uuid4())
    body = {**body, "description": key}
    headers = {"Authorization": f"Bearer {ledger.token}", "Idempotency-Key": key}
    while True:
        sent = time.monotonic()
        try:
            status, answer, answer_headers = _post(base, "/api/transactions", body, headers)
        except (OSError, http.client.HTTPException) as error:
            status, answer, answer_headers = type(error).__name__, None, {}
        took = time.monotonic() - sent
        code = (answer or {}).get("code") if isinstance(answer, dict) else None
        with log.lock:
            log.count(f"{status} {code}" if code else str(status))
            log.slowest = max(log.slowest, took)
            log.hangs += took > HANG_SECONDS
            if status == 201:
                log.acknowledged[key] = answer["id"]
                log.ack_times.append((sent, time.monotonic()))
                log.replayed += answer_headers.get("idempotent-replayed") == "true"
                return
            if status == 409 and code == "budget_exceeded":
                log.refused.add(key)
                return
            if status == 503 and code == "database_unavailable":
                log.slowest_503 = max(log.slowest_503, took)
            retry_after = "retry-after" in answer_headers
            expected = (
                (status == 503 and code in ("database_unavailable", "transaction_conflict")
                 and retry_after)
                or (status == 409 and code == "idempotency_key_in_progress")
            )  # fmt: skip
            log.unexpected += not expected
        if time.monotonic() > deadline:
            with log.lock:
                log.unresolved.add(key)
            return
        # Retry-After is 2 s; a shorter pause here measures the recovery more finely.
        time.sleep(0.25)


def load_ledgers(base: str, count: int) -> list[Ledger]:
    ledgers = []
    for number in range(count):
        token, category = _user(base, f"failover{number}")
        for (year, month), limit in BUDGETS.items():
            budget = {"categoryId": category, "amount": str(limit), "month": month, "year": year}
            assert call(base, "POST", "/api/budgets", budget, token)[0] == 201
        ledgers.append(Ledger(token, category, _default_ledger(base, token)))
    return ledgers


def _default_ledger(base: str, token: str) -> int:
    status, answer, _ = call(base, "GET", "/api/ledgers", None, token)
    assert status == 200, answer
    return answer["items"][0]["id"]


def writers(base: str, ledgers: list[Ledger], clients: int, log: Log, stop: threading.Event):
    def client(number: int) -> None:
        ledger = ledgers[number % len(ledgers)]
        sequence = 0
        while not stop.is_set():
            sequence += 1
            # Three writes to a month, then the next: the clients of a ledger contend for the
            # same months' budgets, which fill up (then 409) as the run goes on.
            year, month = MONTHS[(sequence // 3 + number) % len(MONTHS)]
            body = {"amount": str(AMOUNT), "type": "EXPENSE", "categoryId": ledger.category,
                    "date": f"{year}-{month:02d}-15"}  # fmt: skip
            write_until_final(base, ledger, body, log, deadline=time.monotonic() + 90)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    return threads


# --- the worker's side: recurring rules and a webhook receiver ---------------------------------


class Receiver:
    """A webhook endpoint on loopback: records every webhook-id it is sent, answers 204."""

    def __init__(self):
        self.ids: list[str] = []
        received = self.ids

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(self.headers.get("webhook-id"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


RULE_DATES = 10


def rule_maker(base: str, ledger: Ledger, rules: list[str], stop: threading.Event):
    """Creates a recurring rule every half second (each 10 daily dates in the past, caught up
    at once by the workers), retrying with its Idempotency-Key until answered."""

    def make() -> None:
        number = 0
        start = (dt.date.today() - dt.timedelta(days=30)).isoformat()
        while not stop.is_set():
            number += 1
            name = f"rule-{number}-{uuid.uuid4().hex[:8]}"
            body = {"amount": "1.00", "type": "EXPENSE", "categoryId": ledger.category,
                    "description": name, "frequency": "daily", "startDate": start,
                    "count": RULE_DATES}  # fmt: skip
            headers = {"Authorization": f"Bearer {ledger.token}", "Idempotency-Key": name}
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError, http.client.HTTPException):
                    if _post(base, "/api/recurring", body, headers)[0] == 201:
                        rules.append(name)
                        break
                time.sleep(0.25)
            stop.wait(0.5)

    thread = threading.Thread(target=make, daemon=True)
    thread.start()
    return thread


def worker_checks(cluster: FailoverCluster, ledger: Ledger, rules: list[str], receiver: Receiver,
                  seconds: float) -> tuple[bool, str]:  # fmt: skip
    """Waits (up to `seconds`) for every rule's dates and every delivery; then checks each
    date exists once and each event was delivered under its one webhook-id."""
    url = cluster.database_url()
    deadline = time.monotonic() + seconds
    while True:
        with psycopg.connect(url, connect_timeout=3) as conn:
            created = dict(conn.execute(
                "SELECT description, count(*) FROM transactions WHERE ledger_id = %s"
                " AND description = ANY(%s) GROUP BY 1", (ledger.ledger_id, rules)).fetchall())  # fmt: skip
            duplicates = conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM transactions WHERE ledger_id = %s AND"
                " description = ANY(%s) GROUP BY description, occurred_on HAVING count(*) > 1) d",
                (ledger.ledger_id, rules)).fetchone()[0]  # fmt: skip
            events = dict(conn.execute(
                "SELECT e.message_id, d.status FROM webhook_events e JOIN webhook_deliveries d"
                " ON d.ledger_id = e.ledger_id AND d.event_id = e.id WHERE e.ledger_id = %s",
                (ledger.ledger_id,)).fetchall())  # fmt: skip
            per_event = conn.execute(
                "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM webhook_deliveries"
                " WHERE ledger_id = %s GROUP BY event_id) d", (ledger.ledger_id,)).fetchone()[0]  # fmt: skip
        complete = all(created.get(rule) == RULE_DATES for rule in rules)
        delivered = all(status == "delivered" for status in events.values())
        if (complete and delivered) or time.monotonic() > deadline:
            break
        time.sleep(1)
    received = receiver.ids
    unknown = set(received) - set(events)
    never = set(events) - set(received)
    repeated = len(received) - len(set(received))
    occurrences = sum(created.values())
    ok = (complete and delivered and duplicates == 0 and per_event <= 1 and not unknown
          and not never and occurrences == RULE_DATES * len(rules))  # fmt: skip
    summary = (f"worker: {len(rules)} rules, {occurrences} occurrences (expected "
               f"{RULE_DATES * len(rules)}), {duplicates} dates twice; {len(events)} webhook "
               f"events, {sum(s == 'delivered' for s in events.values())} delivered, "
               f"{len(set(received))} ids received ({repeated} received again under the same id, "
               f"{len(unknown)} unknown, {len(never)} never received), deliveries per event "
               f"at most {per_event}")  # fmt: skip
    return ok, summary


# --- one run ----------------------------------------------------------------------------------


def probe_primary(url: str, since: float, stop: threading.Event, found: list) -> None:
    """Tries every 50 ms to open a read-write session; records when one first succeeds, and
    the port of the server that accepted it."""
    while not stop.is_set():
        try:
            with psycopg.connect(url, connect_timeout=1) as conn:
                conn.execute("SELECT 1")
                found.extend((time.monotonic() - since, conn.info.port))
            return
        except psycopg.Error:
            time.sleep(0.05)


@dataclass
class RunResult:
    number: int
    killed: str
    new_primary: str
    without_primary: float
    first_write: float
    rejoin: float
    rejoined_by: str
    acknowledged: int
    stored: int
    lost: int
    twice: int
    overspent: int
    at_limit: int
    totals_mismatch: int
    statuses: dict
    slowest_503: float
    replayed: int
    unresolved: int
    hangs: int
    unexpected: int
    single_copy: int
    standbys_ok: bool
    race_ok: bool
    worker_ok: bool
    worker_summary: str
    events: str

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.twice == 0 and self.overspent == 0
                and self.totals_mismatch == 0 and self.hangs == 0 and self.unexpected == 0
                and self.unresolved == 0 and self.standbys_ok and self.race_ok
                and self.worker_ok)  # fmt: skip


def one_run(cluster: FailoverCluster, number: int, *, clients: int, before: float, after: float,
            quick: bool, kill: str = "node") -> RunResult:  # fmt: skip
    base = cluster.base("both")
    ledgers = load_ledgers(base, 3)
    token, category = _user(base, f"worker{number}")
    worker_ledger = Ledger(token, category, _default_ledger(base, token))
    receiver = Receiver()
    hook = {"url": receiver.url, "events": ["transaction.created"]}
    assert call(base, "POST", "/api/webhooks", hook, token)[0] == 201
    log, rules, stop = Log(), [], threading.Event()
    threads = writers(base, ledgers, clients, log, stop)
    threads.append(rule_maker(base, worker_ledger, rules, stop))
    try:
        time.sleep(before)
        victim = cluster.primary()
        started_at = dt.datetime.now(dt.UTC)
        killed = time.monotonic()
        postmaster = cluster.lose(victim) if kill == "node" else cluster.kill_postmaster(victim)
        found: list[float] = []
        probe_stop = threading.Event()
        probe = threading.Thread(target=probe_primary,
                                 args=(cluster.database_url(), killed, probe_stop, found))  # fmt: skip
        probe.start()
        probe.join(timeout=120)
        probe_stop.set()
        if not found:
            raise RuntimeError("no new primary within 120 s")
        # The monitor still lists the dead node as primary: the new one is the server that
        # accepted the probe's read-write session.
        new_primary = next(name for name in NODES if cluster.ports[name] == found[1])
        time.sleep(after)
        # The old primary's keeper again (when it was lost with its node), the clients still
        # writing: it rejoins as a standby, and must never take a write on its old timeline.
        rejoin_started = time.monotonic()
        keeper_log = cluster.dir / f"{victim}.log"
        log_before = keeper_log.stat().st_size
        if cluster.keepers[victim].poll() is not None:
            cluster.start_keeper(victim)
        wanted = {name: "primary" if name == new_primary else "secondary" for name in NODES}
        cluster.wait_states(wanted, 120)
        rejoin = time.monotonic() - rejoin_started
        with open(keeper_log, errors="replace") as text:
            text.seek(log_before)
            said = text.read()
        rewound, rebuilt = "bin/pg_rewind " in said, "bin/pg_basebackup " in said
        how = ("pg_rewind failed, a new base backup" if rewound and rebuilt
               else "a new base backup" if rebuilt else "pg_rewind" if rewound
               else "restarted by its keeper")  # fmt: skip
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    first_write = min((answered - killed for sent, answered in log.ack_times if sent > killed),
                      default=float("nan"))  # fmt: skip
    # Checks on the new primary.
    with psycopg.connect(cluster.database_url()) as conn:
        ids = list(log.acknowledged.values())
        keys = list(log.acknowledged)
        stored = conn.execute(
            "SELECT count(*) FROM transactions WHERE id = ANY(%s)", (ids,)
        ).fetchone()[0]
        per_key = conn.execute(
            "SELECT count(*) FILTER (WHERE n > 1), coalesce(sum(n), 0) FROM (SELECT count(*) AS n"
            " FROM transactions WHERE description = ANY(%s) GROUP BY description) k", (keys,)
        ).fetchone()  # fmt: skip
        refused_stored = conn.execute(
            "SELECT count(*) FROM transactions WHERE description = ANY(%s)", (list(log.refused),)
        ).fetchone()[0]
        ledger_ids = [ledger.ledger_id for ledger in ledgers]
        # Against the budgets as stored, each month's expenses of its category.
        overspent, at_limit = conn.execute(
            """
            SELECT count(*) FILTER (WHERE s.spent > b.amount),
                   count(*) FILTER (WHERE s.spent = b.amount)
            FROM budgets b, LATERAL (
                SELECT coalesce(sum(t.amount), 0) AS spent FROM transactions t
                WHERE t.ledger_id = b.ledger_id AND t.category_id = b.category_id
                  AND t.type = 'EXPENSE' AND t.occurred_on >= make_date(b.year, b.month, 1)
                  AND t.occurred_on < make_date(b.year, b.month, 1) + interval '1 month'
            ) s
            WHERE b.ledger_id = ANY(%s) AND b.mode = 'hard'
            """,
            (ledger_ids,),
        ).fetchone()
        mismatch = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT ledger_id, date_trunc('month', occurred_on)::date AS month, category_id,
                       type, sum(amount) AS amount, count(*) AS n
                FROM transactions WHERE ledger_id = ANY(%(l)s) GROUP BY 1, 2, 3, 4
            ) t FULL JOIN (
                SELECT ledger_id, month, category_id, type, amount, tx_count AS n
                FROM monthly_totals WHERE ledger_id = ANY(%(l)s) AND tx_count > 0
            ) m USING (ledger_id, month, category_id, type)
            WHERE t.amount IS DISTINCT FROM m.amount OR t.n IS DISTINCT FROM m.n
            """,
            {"l": ledger_ids},
        ).fetchone()[0]
    lost = len(log.acknowledged) - stored
    twice = per_key[0] + refused_stored
    standbys_ok = replicas_caught_up(cluster, new_primary, list(log.acknowledged.values()))
    race_ok = live_tests(cluster, LIVE_TESTS[:1])
    worker_ok, worker_summary = worker_checks(cluster, worker_ledger, rules, receiver,
                                              seconds=60 if quick else 90)  # fmt: skip
    receiver.close()
    history = cluster.events_since(started_at)
    events = _events_summary(history, started_at, victim)
    # pg_auto_failover turns synchronous replication off when it assigns stop_replication (on
    # the way to promoting a standby) or wait_primary (a primary without a healthy standby), and
    # sets synchronous_standby_names again on the way to primary: writes acknowledged in between
    # were on one server when acknowledged (streamed to the standbys within milliseconds, but not
    # waited for). Counted from the assignment, a little early: an upper bound.
    off = back = None
    for when, name, reported, goal, _ in history:
        at = killed + (when - started_at).total_seconds()
        if name == new_primary and off is None and goal in ("stop_replication", "wait_primary"):
            off = at
        elif name == new_primary and off is not None and reported == goal == "primary":
            back = at
            break
    single_copy = (
        0
        if off is None
        else sum(off <= answered < (back or float("inf")) for _sent, answered in log.ack_times)
    )
    what = "keeper and postmaster" if kill == "node" else "postmaster alone"
    print(f"  killed {victim} ({what}, postmaster pid {postmaster}); the monitor: {events}")
    return RunResult(
        number, victim, new_primary, found[0], first_write, rejoin, how, len(log.acknowledged),
        stored, lost, twice, overspent, at_limit, mismatch, dict(sorted(log.statuses.items())),
        log.slowest_503, log.replayed, len(log.unresolved), log.hangs, log.unexpected, single_copy,
        standbys_ok, race_ok, worker_ok, worker_summary, events,
    )  # fmt: skip


def _events_summary(events, since: dt.datetime, victim: str) -> str:
    """When the monitor marked the killed node unhealthy (and healthy again, when its keeper
    restarted it), and when a primary reported wait_primary (writable, synchronous replication
    not yet back) and primary."""
    marks, victim_back = {}, False
    for when, name, reported, goal, description in events:
        at = f"+{(when - since).total_seconds():.1f} s"
        if name == victim and "marked as unhealthy" in description:
            marks.setdefault(f"{name} unhealthy", at)
        elif name == victim and "marked as healthy" in description:
            marks.setdefault(f"{name} healthy", at)
            victim_back = True
        elif (
            (name != victim or victim_back)
            and reported == goal
            and reported
            in (
                "wait_primary",
                "primary",
            )
        ):
            marks.setdefault(f"{name} {reported}", at)
    return ", ".join(f"{what} at {at}" for what, at in marks.items()) or "no events"


def replicas_caught_up(cluster: FailoverCluster, primary: str, ids: list[int]) -> bool:
    """Each standby has replayed the primary's WAL up to now, and holds every write the run's
    clients saw acknowledged (counts of all rows would race the workers, still writing)."""
    with psycopg.connect(cluster.node_url(primary), autocommit=True) as conn:
        lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        sync = conn.execute("SHOW synchronous_standby_names").fetchone()[0]
        commit = conn.execute("SHOW synchronous_commit").fetchone()[0]
    ok = True
    for name in NODES:
        if name == primary:
            continue
        with psycopg.connect(cluster.node_url(name), autocommit=True) as conn:
            deadline = time.monotonic() + 15
            replayed = False
            while not replayed and time.monotonic() < deadline:
                replayed = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)
                ).fetchone()[0]
                time.sleep(0 if replayed else 0.1)
            present = conn.execute(
                "SELECT count(*) FROM transactions WHERE id = ANY(%s)", (ids,)
            ).fetchone()[0]
        ok &= replayed and present == len(ids)
        print(f"  {name} (standby): {'replayed' if replayed else 'NOT replayed'} up to {lsn}, "
              f"{present} of the {len(ids)} acknowledged writes")  # fmt: skip
    print(f"  {primary}: synchronous_commit = {commit}, synchronous_standby_names = {sync}")
    return ok and bool(sync)


def report(result: RunResult) -> None:
    print(f"run {result.number}: killed {result.killed}, new primary {result.new_primary}; "
          f"without a primary {result.without_primary:.1f} s, first acknowledged write after "
          f"{result.first_write:.1f} s; {result.acknowledged} writes acknowledged, "
          f"{result.stored} stored, {result.lost} lost, {result.twice} twice; "
          f"overspent {result.overspent}; totals mismatches {result.totals_mismatch}; "
          f"{result.at_limit} of {3 * len(BUDGETS)} hard budgets at their limit; "
          f"primary and two standbys again {result.rejoin:.1f} s later ({result.rejoined_by})")  # fmt: skip
    print(f"  {result.single_copy} writes acknowledged before synchronous replication was back")
    print(f"  answers: {result.statuses}; {result.replayed} 201s replayed from an Idempotency-Key, "
          f"{result.unresolved} writes without a final answer; slowest 503 "
          f"{result.slowest_503:.2f} s, {result.hangs} over {HANG_SECONDS} s, {result.unexpected} "
          "other answers")  # fmt: skip
    print(f"  {result.worker_summary}")
    print(f"  standbys after rejoin: {'caught up' if result.standbys_ok else 'NOT caught up'}; "
          f"race after rejoin: {'passed' if result.race_ok else 'FAILED'}")  # fmt: skip
    print(f"run {result.number}: {'ok' if result.ok else 'FAILED'}")


def main(runs: int, quick: bool, kill: str = "node") -> bool:
    lacking = missing_tools()
    if lacking:
        print("bench.cluster --failover needs: " + ", ".join(lacking)
              + " (apt-get install -y postgresql-15 postgresql-15-auto-failover pgbouncer haproxy)")  # fmt: skip
        return False

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    cluster = FailoverCluster()
    ok, results = True, []
    try:
        cluster.start_formation()
        cluster.start_apis()
        cluster.start_haproxy(check="/healthz")
        print(f"failover cluster up in {time.monotonic() - started:.0f} s: monitor "
              f":{cluster.ports['monitor']}, "
              + ", ".join(f"{n} :{cluster.ports[n]}" for n in NODES)
              + f" (pg_auto_failover, number_sync_standbys=1), API "
              f"{' '.join(f':{s.port}' for s in cluster.apis)}, haproxy :{cluster.ports['both']}")  # fmt: skip
        for number in range(1, runs + 1):
            try:
                result = one_run(cluster, number, clients=6 if quick else 8,
                                 before=3 if quick else 8, after=3 if quick else 8, quick=quick,
                                 kill=kill)  # fmt: skip
            except RuntimeError as error:  # no primary, or the nodes stuck: no further run
                print(f"run {number}: FAILED: {error}")
                print(f"  the monitor: {cluster.states()}")
                ok = False
                break
            report(result)
            results.append(result)
            ok &= result.ok
    except KeyboardInterrupt:
        print("interrupted: stopping the cluster")
        ok = False
    finally:
        cluster.close()
    print(
        f"failover: {len(results)} run(s) in {time.monotonic() - started:.0f} s, everything stopped"
    )
    print("failover: all checks passed" if ok else "failover: a check FAILED")
    return ok
