"""Shared by the benchmarks: a throwaway database, a gunicorn server, and latency statistics.

Benchmarks print figures (medians, percentiles, ratios); they assert nothing about speed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from cryptography.fernet import Fernet

from devtools.servers import LiveServer, migrated_database


def bench_database(keep: bool = False):
    """A fresh migrated database on BENCH_DATABASE_URL's server (default: the embedded one)."""
    return migrated_database("BENCH_DATABASE_URL", "bench-postgres", "expense_api_bench", keep)


# Production mode needs its secrets: a JWT key and a webhook-secrets key, made up per run.
PRODUCTION_SECRETS = {
    "JWT_SECRET_KEY": "bench-" + "k" * 40,
    "WEBHOOK_SECRETS_KEY": Fernet.generate_key().decode(),
}


# The rate limiter runs, as deployed, but a benchmark's few accounts on one address are a
# flood by design: limits it never meets (tests/helpers.py's, which share these databases' store).
UNLIMITED = {
    "RATE_LIMIT_PER_ACCOUNT": "1000000000",
    "RATE_LIMIT_PER_ADDRESS": "1000000000",
    "RATE_LIMIT_WINDOW_SECONDS": "86400",
}


def server_env(database_url: str, workers: int = 2, threads: int = 4, **env) -> dict[str, str]:
    """The environment of a benchmark's gunicorn: production mode, as deployed."""
    return {
        "DATABASE_URL": database_url, "WEB_CONCURRENCY": str(workers),
        "WEB_THREADS": str(threads), "APP_ENV": "production", "LOG_LEVEL": "WARNING",
        **UNLIMITED, **PRODUCTION_SECRETS, **{k: str(v) for k, v in env.items()},
    }  # fmt: skip


def start_server(database_url: str, workers: int = 2, threads: int = 4, **env) -> LiveServer:
    return LiveServer(server_env(database_url, workers, threads, **env))


class Client:
    """A keep-alive HTTP client with one connection: low overhead for latency sampling."""

    def __init__(self, base: str, token: str | None = None):
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.token = token

    def request(self, method: str, path: str, body=None) -> tuple[int, object]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None

    def timed(self, method: str, path: str, body=None) -> float:
        started = time.perf_counter()
        status, payload = self.request(method, path, body)
        elapsed = time.perf_counter() - started
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {payload}")
        return elapsed


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summarize_ms(samples: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(samples) * 1000,
        "p95": percentile(samples, 0.95) * 1000,
        "p99": percentile(samples, 0.99) * 1000,
    }


def machine(database_url: str | None = None) -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    postgres = "PostgreSQL ?"
    if database_url:
        with contextlib.suppress(Exception), psycopg.connect(database_url) as conn:
            postgres = "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0]
    return f"{platform.node()}: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {postgres}"
