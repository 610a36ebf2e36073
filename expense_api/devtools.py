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

from .config import PROJECT_ROOT
from .migrate import apply_migrations

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
    from . import embedded  # only here: pgserver is an optional extra

    server, admin_url = embedded.start(PROJECT_ROOT / ".data" / data_folder, "postgres")
    try:
        yield admin_url
    finally:
        server.cleanup()


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name (a URL, since yoyo needs one)."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _create_database(admin_url: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def _drop_database(admin_url: str, name: str) -> None:
    # FORCE: a failed test or benchmark may have left connections open (a live server's pool).
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def throwaway_database(
    admin_url: str, prefix: str, migrate: bool = True, keep: bool = False
) -> Iterator[str]:
    """The URL of a new database `<prefix>_<random>` on admin_url's server, with every migration
    applied (none with migrate=False); dropped when the block ends unless `keep`."""
    name = _create_database(admin_url, prefix)
    try:
        url = with_database(admin_url, name)
        if migrate:
            apply_migrations(url)
        yield url
    finally:
        if not keep:
            _drop_database(admin_url, name)


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
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.output()
