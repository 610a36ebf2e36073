"""Configuration: validated at start-up, production needs a strong secret, all documented."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from expense_api import cli
from expense_api.config import (
    PROJECT_ROOT,
    SETTINGS,
    ConfigError,
    Settings,
    load_settings,
    read,
    readme_table,
)


def test_production_refuses_to_start_without_a_secret(tmp_path):
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY is required"):
        load_settings({"APP_ENV": "production", "DATA_DIR": str(tmp_path)})


def test_production_refuses_a_short_secret(tmp_path):
    env = {"APP_ENV": "production", "JWT_SECRET_KEY": "short", "DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings(env)


def test_production_accepts_a_strong_secret(tmp_path):
    settings = load_settings(
        {"APP_ENV": "production", "JWT_SECRET_KEY": "s" * 48, "DATA_DIR": str(tmp_path),
         "WEBHOOK_SECRETS_KEY": WEBHOOK_KEY}
    )  # fmt: skip
    assert settings.is_production
    assert not (tmp_path / "jwt-secret").exists()
    assert not (tmp_path / "webhook-secrets-key").exists()


WEBHOOK_KEY = "l" * 43 + "="  # a Fernet key: 32 bytes, url-safe base64


def test_production_refuses_to_start_without_a_webhook_secrets_key(tmp_path):
    env = {"APP_ENV": "production", "JWT_SECRET_KEY": "s" * 48, "DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="WEBHOOK_SECRETS_KEY is required"):
        load_settings(env)
    with pytest.raises(ConfigError, match="Fernet keys"):
        load_settings({**env, "WEBHOOK_SECRETS_KEY": "not-a-key"})
    keys = f"{WEBHOOK_KEY}, {'k' * 43}="  # the first encrypts, both decrypt
    assert load_settings({**env, "WEBHOOK_SECRETS_KEY": keys}).webhook_secrets_key == keys


def test_development_generates_a_webhook_secrets_key_once_and_keeps_it(tmp_path):
    first = load_settings({"DATA_DIR": str(tmp_path)}).webhook_secrets_key
    assert first == load_settings({"DATA_DIR": str(tmp_path)}).webhook_secrets_key
    assert (tmp_path / "webhook-secrets-key").stat().st_mode & 0o077 == 0


def test_development_generates_a_secret_once_and_keeps_it(tmp_path):
    (first,) = load_settings({"DATA_DIR": str(tmp_path)}).jwt_secret_keys
    (second,) = load_settings({"DATA_DIR": str(tmp_path)}).jwt_secret_keys
    assert len(first) >= 32 and first == second
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "70000"),
        ("BCRYPT_ROUNDS", "3"),
        ("APP_ENV", "staging"),
        ("LOG_LEVEL", "LOUD"),
        ("WEB_WORKER_CLASS", "eventlet"),
        ("DB_POOL_MAX", "many"),
        ("DB_POOL_MAX", "0"),
        ("DB_POOL_MAX", "100000"),
        ("REFRESH_REUSE_GRACE_SECONDS", "-1"),
        ("REFRESH_REUSE_GRACE_SECONDS", "301"),
        ("REFRESH_REUSE_GRACE_SECONDS", "soon"),
        ("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "yes"),
        ("WEBHOOK_READ_TIMEOUT_SECONDS", "0"),
        ("WORKER", "maybe"),
        ("GRAPHQL_INTROSPECTION", "yes"),
        ("CORS_ORIGINS", "example.com"),
        ("DB_POOL_MIN", "6"),  # above DB_POOL_MAX's default of WEB_THREADS + 1
    ],
)
def test_invalid_values_are_refused(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({"DATA_DIR": str(tmp_path), name: value})


def test_defaults(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    assert (settings.host, settings.port, settings.bcrypt_rounds) == ("127.0.0.1", 3000, 12)
    assert settings.db_pool_max == settings.web_threads + 1
    assert settings.refresh_reuse_grace_seconds == 30


def test_sync_workers_have_one_thread_and_a_pool_to_match(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "WEB_WORKER_CLASS": "sync", "WEB_THREADS": "8"}
    settings = load_settings(env)
    # gunicorn would otherwise run gthread with 8 threads under the name sync.
    assert (settings.web_worker_class, settings.web_threads, settings.db_pool_max) == ("sync", 1, 2)


def test_the_readme_table_is_the_settings_table():
    """The README's configuration table is exactly what `expense-api settings` prints."""
    assert readme_table() in (PROJECT_ROOT / "README.md").read_text()


def test_the_settings_command_prints_the_table(capsys):
    assert cli.main(["settings"]) == 0
    assert capsys.readouterr().out == readme_table()


def test_the_current_values_hide_secrets(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JWT_SECRET_KEY", "s" * 40)
    assert cli.main(["settings", "--current"]) == 0
    out = capsys.readouterr().out
    assert "JWT_SECRET_KEY=(set)" in out and "s" * 40 not in out


def test_every_setting_is_a_field_or_read_elsewhere():
    fields = {field.name for field in dataclasses.fields(Settings)}
    for setting in SETTINGS.values():
        assert setting.field_name is None or setting.field_name in fields, setting.name
    shown = repr(load_settings({"JWT_SECRET_KEY": f"{'k' * 40},{'o' * 40}"}))
    assert "jwt_secret_keys" not in shown and "k" * 40 not in shown and "o" * 40 not in shown


def test_every_default_passes_its_own_check(tmp_path):
    for setting in SETTINGS.values():
        read(setting, {})  # raises ConfigError if a default contradicts its reader


def _environment_names_read_in(path: Path) -> set[str]:
    """Names given as literals to os.environ.get / os.getenv / os.environ[...] in a module."""
    tree = ast.parse(path.read_text())
    constants = {  # module-level NAME = "VALUE", so os.environ.get(NAME) counts too
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv"):
            argument = node.args[0] if node.args else None
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            argument = node.slice
        else:
            continue
        if isinstance(argument, ast.Name):
            argument = ast.Constant(constants.get(argument.id))
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            names.add(argument.value)
    return names


def test_the_package_reads_no_variable_the_table_does_not_list():
    package = PROJECT_ROOT / "expense_api"
    for module in package.rglob("*.py"):
        unlisted = _environment_names_read_in(module) - set(SETTINGS)
        assert not unlisted, f"{module.relative_to(PROJECT_ROOT)} reads {unlisted} directly"


def test_a_session_may_not_end_before_its_refresh_token(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "SESSION_MAX_DAYS": "20", "JWT_REFRESH_TOKEN_DAYS": "30"}
    with pytest.raises(ConfigError, match="SESSION_MAX_DAYS must not be below"):
        load_settings(env)
