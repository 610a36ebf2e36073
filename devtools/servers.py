"""Tools for the test suite and the benchmarks: throwaway databases and a live gunicorn server.

They live in the package, not in tests/, so that bench/ and tests/ share one copy without either
importing the other. The service itself never imports this module. It stays free of Flask (it
only imports migrate, embedded and config from the package): whoever uses it drives the service
from outside, over HTTP, the way a client would.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from expense_api.config import PROJECT_ROOT
from expense_api.db.migrate import apply_migrations

# --- Round trips ---------------------------------------------------------------------------


class RoundTrips:
    """The round trips between a connection and PostgreSQL while counting (see `count_round_trips`):
    `count`, and `exchanges`, what the client sent each time (message names, in order)."""

    def __init__(self) -> None:
        self.exchanges: list[list[str]] = []

    @property
    def count(self) -> int:
        return len(self.exchanges)

    def read_trace(self, text: str) -> None:
        """libpq's protocol trace: each run of messages the client sent ("F") that the server
        then answered ("B") is one round trip, a wait for the server."""
        sent: list[str] = []
        for line in text.splitlines():
            # "F|B <tab> length <tab> message [<tab> contents]"; a simple query keeps its text.
            fields = line.split("\t")
            direction, message = fields[0], " ".join(fields[2:3])
            if message == "Query":
                message = "Query " + " ".join(fields[3:4]).strip()
            if direction == "F":
                sent.append(message)
            elif direction == "B" and sent:
                self.exchanges.append(sent)
                sent = []


@contextlib.contextmanager
def count_round_trips(conn: psycopg.Connection) -> Iterator[RoundTrips]:
    """Counts the round trips `conn` makes inside the block, from libpq's protocol trace."""
    counted = RoundTrips()
    with tempfile.TemporaryFile("w+") as trace:
        # libpq closes the file it was given on untrace: give it a descriptor of its own.
        conn.pgconn.trace(os.dup(trace.fileno()))
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield counted
        finally:
            conn.pgconn.untrace()
            trace.seek(0)
            counted.read_trace(trace.read())


@contextlib.contextmanager
def count_pool_round_trips(pool) -> Iterator[RoundTrips]:
    """Counts the round trips of every connection a psycopg_pool pool lends inside the block,
    from when it is lent (after the pool's own check) to when it comes back; for one request
    at a time (an in-process app driven by a test client)."""
    counted = RoundTrips()
    getconn, putconn = pool.getconn, pool.putconn
    tracing: dict[int, contextlib.AbstractContextManager] = {}

    def lend(*args, **kwargs):
        conn = getconn(*args, **kwargs)
        tracing[id(conn)] = counting = count_round_trips(conn)
        one = counting.__enter__()
        counting.into = one  # type: ignore[attr-defined]
        return conn

    def take_back(conn, *args, **kwargs):
        counting = tracing.pop(id(conn), None)
        if counting is not None:
            counting.__exit__(None, None, None)
            counted.exchanges.extend(counting.into.exchanges)  # type: ignore[attr-defined]
        return putconn(conn, *args, **kwargs)

    pool.getconn, pool.putconn = lend, take_back
    try:
        yield counted
    finally:
        del pool.getconn, pool.putconn  # the class's own methods again


# --- Throwaway databases -------------------------------------------------------------------


@contextlib.contextmanager
def database_server(url_variable: str, data_folder: str) -> Iterator[str]:
    """A URL with rights to create databases: the environment variable `url_variable` (e.g.
    TEST_DATABASE_URL) when set, else an embedded server kept in `.data/<data_folder>`, which is
    stopped when the block ends."""
    configured = os.environ.get(url_variable)
    if configured:
        yield configured
        return
    from expense_api.db import embedded

    server, admin_url = embedded.start(PROJECT_ROOT / ".data" / data_folder, "postgres")
    try:
        yield admin_url
    finally:
        server.cleanup()


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name (a URL, since yoyo needs one)."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _create_database(admin_url: str, prefix: str, template: str | None = None) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)
    return name


def _drop_database(admin_url: str, name: str) -> None:
    # FORCE: a failed test or benchmark may have left connections open (a live server's pool).
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def throwaway_database(
    admin_url: str, prefix: str, migrate: bool = True, keep: bool = False,
    template: str | None = None,
) -> Iterator[str]:  # fmt: skip
    """The URL of a new database `<prefix>_<random>` on admin_url's server, with every migration
    applied (none with migrate=False), or a copy of `template` (a database made by
    `migrated_template`: copying it is ~10x faster than migrating); dropped when the block ends
    unless `keep`."""
    name = _create_database(admin_url, prefix, template)
    try:
        url = with_database(admin_url, name)
        if migrate and template is None:
            apply_migrations(url)
        yield url
    finally:
        if not keep:
            _drop_database(admin_url, name)


@contextlib.contextmanager
def migrated_template(admin_url: str, prefix: str = "expense_api_template") -> Iterator[str]:
    """The name of a migrated database to copy new ones from (`throwaway_database(template=)`),
    dropped when the block ends. Nothing may stay connected to it: PostgreSQL copies a template
    only while it has no sessions."""
    with throwaway_database(admin_url, prefix) as url:
        yield urlsplit(url).path.lstrip("/")


@contextlib.contextmanager
def migrated_database(
    url_variable: str, data_folder: str, prefix: str, keep: bool = False
) -> Iterator[str]:
    """A migrated throwaway database on the server that `database_server(url_variable,
    data_folder)` picks, for as long as the block runs (and the database after it with `keep`)."""
    with (
        database_server(url_variable, data_folder) as admin_url,
        throwaway_database(admin_url, prefix, keep=keep) as url,
    ):
        yield url


# --- A live service over HTTP --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base: str, method: str, path: str, body=None, token: str | None = None, headers=None):
    """One HTTP request; returns (status, parsed JSON body or None, headers)."""
    sent = {"Content-Type": "application/json"} if body is not None else {}
    sent.update(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    # S310 (file: and custom schemes): base is always the http:// address of a server we started.
    request = urllib.request.Request(base + path, data=data, method=method, headers=sent)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None, dict(error.headers)


ENTRYPOINT = PROJECT_ROOT / "docker" / "entrypoint.sh"


class LiveServer:
    """`docker/entrypoint.sh serve` (the image's entry) with the given environment (APP_ENV
    development unless given); stops on stop()."""

    def __init__(self, env_overrides: dict[str, str], ready_seconds: float = 60):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET_KEY")}
        env.setdefault("APP_ENV", "development")  # the entry script defaults to production
        env.update(PORT=str(self.port), HOST="127.0.0.1", BCRYPT_ROUNDS="4", **env_overrides)
        # The image's entry script, with this interpreter first on PATH: the command the
        # Docker image runs is the one every live test runs.
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        # A file, not a pipe: nobody reads a pipe while the server runs, and once its buffer is
        # full the access log blocks every worker.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            [str(ENTRYPOINT), "serve"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + ready_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("service exited:\n" + self.output())
            try:
                if call(self.base, "GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError("service did not become ready")

    def output(self) -> str:
        # pread, not seek + read: the server's processes write through this same open file, at
        # its one shared position; moving it back to read made their next line overwrite the
        # middle of the log (seen as a JSON line cut in two).
        fd = self.log.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", errors="replace")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.output()


# --- A Redis of one's own ------------------------------------------------------------------


class RedisServer:
    """`redis-server` on a free loopback port, no persistence (a restart is an empty cache);
    `kill()` ends it at once (SIGKILL, as a crash would), `start()` brings it back on the same
    port. `RedisServer.available()` says whether the binary is installed."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self, ready_seconds: float = 10) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        self.process = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + ready_seconds
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
