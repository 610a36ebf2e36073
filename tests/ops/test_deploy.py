"""Deployment files: the Dockerfile (hadolint), compose.yaml (docker-compose config, offline),
the one entry script both the image and the tests run, and DB_POOL_MODE=transaction (what
PgBouncer's transaction pooling needs). The image itself is not built here: no registry."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from devtools.servers import ENTRYPOINT
from expense_api.config import ConfigError
from expense_api.db.pool import (
    Database,
    check_pooled_session_settings,
    connection_kwargs,
    role_settings_sql,
)
from tests.helpers import make_settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=os.path.dirname(sys.executable))
    if not found:
        pytest.skip(f"{name} is not installed (.ci/run installs it); not checked here")
    return found


def _entrypoint(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET_KEY")}
    base["PATH"] = os.path.dirname(sys.executable) + os.pathsep + base.get("PATH", "")
    base.update(env)
    return subprocess.run(
        [str(ENTRYPOINT), *args], env=base, capture_output=True, text=True, timeout=120
    )


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_tool("hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_the_entry_script_as_a_non_root_user_with_a_readiness_check():
    text = DOCKERFILE.read_text()
    final_stage = text.split("\nFROM ")[-1]
    assert "COPY docker/entrypoint.sh /usr/local/bin/expense-api-entrypoint" in final_stage
    assert 'ENTRYPOINT ["expense-api-entrypoint"]' in final_stage
    assert "USER 10001:10001" in final_stage
    assert "/readyz" in final_stage.split("HEALTHCHECK", 1)[1]
    assert "APP_ENV=production" in final_stage
    assert "pip install" not in final_stage  # dependencies come from the build stage only


def _compose_config(**env: str) -> subprocess.CompletedProcess:
    tool = _tool("docker-compose")
    secrets = {"JWT_SECRET_KEY": "k" * 40, "WEBHOOK_SECRETS_KEY": "w" * 44}
    run_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    run_env = {**secrets, **run_env} if "NO_SECRETS" not in env else run_env
    return subprocess.run(
        [tool, "--project-directory", str(ROOT), "-f", str(COMPOSE), "config"],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_file_is_valid_and_health_gated():
    yaml = pytest.importorskip("yaml")
    result = _compose_config()
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"postgres", "redis", "migrate", "pgbouncer", "api", "worker"}
    api = services["api"]
    assert api["environment"]["WORKER"] == "off"
    assert api["environment"]["DB_POOL_MODE"] == "transaction"
    assert "pgbouncer:6432" in api["environment"]["DATABASE_URL"]
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["migrate"]
    assert services["worker"]["command"] == ["worker"]
    assert "pgdata:/var/lib/postgresql/data" in " ".join(
        v if isinstance(v, str) else f"{v.get('source')}:{v.get('target')}"
        for v in services["postgres"]["volumes"]
    )


def test_compose_refuses_to_start_without_the_secrets():
    result = _compose_config(NO_SECRETS="1")
    assert result.returncode != 0
    assert "JWT_SECRET_KEY" in result.stderr


def test_entry_script_is_production_by_default_and_refuses_without_a_secret(tmp_path):
    result = _entrypoint("serve", DATA_DIR=str(tmp_path), APP_ENV="")
    assert result.returncode != 0
    assert "JWT_SECRET_KEY is required in production" in result.stderr


def test_entry_script_migrates(admin_url):
    from devtools.servers import throwaway_database

    with throwaway_database(admin_url, "expense_api_deploy", migrate=False) as url:
        result = _entrypoint("migrate", DATABASE_URL=url, APP_ENV="test")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("applied: 0001")
        again = _entrypoint("migrate", DATABASE_URL=url, APP_ENV="test")
        assert again.stdout.strip() == "applied: nothing, up to date"


# --- DB_POOL_MODE=transaction --------------------------------------------------------------


def test_transaction_mode_sends_no_startup_options_and_never_prepares():
    assert "options" in connection_kwargs(make_settings())
    kwargs = connection_kwargs(make_settings(DB_POOL_MODE="transaction"))
    assert "options" not in kwargs
    assert kwargs["prepare_threshold"] is None


def test_transaction_mode_pool_leaves_no_prepared_statement(own_database_url):
    settings = make_settings(DB_POOL_MODE="transaction")
    database = Database(own_database_url, settings)
    database.pool.open(wait=True)
    try:
        with database.pool.connection() as conn:
            for _ in range(20):  # psycopg prepares after 5 runs unless told not to
                conn.execute("SELECT count(*) FROM users WHERE id = %s", (1,))
            prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
    finally:
        database.close()
    assert prepared == 0


def _database_settings(url: str, **settings: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, autocommit=True) as conn:
        for key, value in settings.items():
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(name), sql.Identifier(key), sql.Literal(value)
                )
            )


def test_transaction_mode_refuses_to_start_without_role_level_settings(own_database_url):
    settings = make_settings(DB_POOL_MODE="transaction", DB_STATEMENT_TIMEOUT_MS="5000")
    _database_settings(own_database_url, TimeZone="America/Chicago", statement_timeout="0")
    with pytest.raises(ConfigError, match="ALTER ROLE") as refused:
        check_pooled_session_settings(own_database_url, settings)
    assert "America/Chicago" in str(refused.value)
    _database_settings(own_database_url, TimeZone="UTC", statement_timeout="5000")
    check_pooled_session_settings(own_database_url, settings)  # in force: starts
    _database_settings(own_database_url, statement_timeout="3000")
    with pytest.raises(ConfigError, match="3000ms"):
        check_pooled_session_settings(own_database_url, settings)


def test_role_settings_are_what_an_operator_runs():
    settings = make_settings(DB_STATEMENT_TIMEOUT_MS="4000")
    assert role_settings_sql('ex"pense', settings) == [
        'ALTER ROLE "ex""pense" SET TimeZone = \'UTC\'',
        'ALTER ROLE "ex""pense" SET statement_timeout = 4000',
    ]


def test_transaction_mode_needs_a_database_url(tmp_path):
    result = _entrypoint(
        "serve", APP_ENV="test", DB_POOL_MODE="transaction", DATA_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "DB_POOL_MODE=transaction needs DATABASE_URL" in result.stderr
