"""The README's run command end to end: gunicorn, embedded PostgreSQL, data kept across restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.servers import LiveServer, call
from expense_api.config import PROJECT_ROOT


def _embedded_service(data_dir: Path) -> LiveServer:
    # No DATABASE_URL: the service starts its own PostgreSQL under DATA_DIR.
    return LiveServer({"DATA_DIR": str(data_dir), "WEB_CONCURRENCY": "2"})


def _postgres_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(180)
def test_serve_runs_on_embedded_postgres_and_keeps_data_across_restarts(tmp_path):
    service = _embedded_service(tmp_path)
    try:
        user = {"name": "Restart", "email": "restart@example.com", "password": "password123"}
        assert call(service.base, "POST", "/api/auth/register", user)[0] == 201
        # Python's tzdata has this zone and the embedded PostgreSQL 16.2 does not: refused, or
        # the worker could not tell when the ledger's dates are due (issue 25).
        unknown = {**user, "email": "zone@example.com", "timezone": "America/Coyhaique"}
        status, problem, _ = call(service.base, "POST", "/api/auth/register", unknown)
        assert (status, list(problem.get("errors", {}))) == (422, ["timezone"]), problem
    finally:
        output = service.stop()
    assert service.process.returncode == 0, output
    assert "stopping embedded PostgreSQL" in output
    assert not _postgres_running(tmp_path / "postgres")

    service = _embedded_service(tmp_path)
    try:
        credentials = {"email": user["email"], "password": user["password"]}
        status, tokens, _ = call(service.base, "POST", "/api/auth/login", credentials)
        assert status == 200, tokens
        status, me, _ = call(service.base, "GET", "/api/auth/me", token=tokens["accessToken"])
        assert (status, me["user"]["email"]) == (200, user["email"])
        status, problem, headers = call(service.base, "GET", "/api/nothing-here")
        assert (status, problem["code"]) == (404, "not_found")
        assert headers["Content-Type"] == "application/problem+json"
    finally:
        service.stop()
    assert not _postgres_running(tmp_path / "postgres")


def test_serve_refuses_production_without_a_secret(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET_KEY"}
    env.update(APP_ENV="production", DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "expense_api.cli", "serve"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "JWT_SECRET_KEY is required in production" in result.stderr
