"""The README's run command end to end: gunicorn, embedded PostgreSQL, data kept across restarts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Service:
    def __init__(self, data_dir: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET_KEY")}
        env.update(
            PORT=str(self.port), DATA_DIR=str(data_dir), WEB_CONCURRENCY="2", BCRYPT_ROUNDS="4"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "expense_api.cli", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._wait_until_up()

    def _wait_until_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("service exited:\n" + self.process.stdout.read())
            try:
                if _call(self.base, "GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError("service did not become ready")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=30)
        return output


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
    service = Service(tmp_path)
    try:
        user = {"name": "Restart", "email": "restart@example.com", "password": "password123"}
        assert _call(service.base, "POST", "/api/auth/register", user)[0] == 201
    finally:
        output = service.stop()
    assert service.process.returncode == 0, output
    assert "stopping embedded PostgreSQL" in output
    assert not _postgres_running(tmp_path / "postgres")

    service = Service(tmp_path)
    try:
        credentials = {"email": user["email"], "password": user["password"]}
        status, tokens = _call(service.base, "POST", "/api/auth/login", credentials)
        assert status == 200, tokens
        status, me = _call(service.base, "GET", "/api/auth/me", token=tokens["accessToken"])
        assert (status, me["user"]["email"]) == (200, user["email"])
        status, problem = _call(service.base, "GET", "/api/nothing-here")
        assert (status, problem["code"]) == (404, "not_found")
    finally:
        service.stop()
    assert not _postgres_running(tmp_path / "postgres")


def test_serve_refuses_production_without_a_secret(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET_KEY"}
    env.update(APP_ENV="production", DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "expense_api.cli", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "JWT_SECRET_KEY is required in production" in result.stderr
