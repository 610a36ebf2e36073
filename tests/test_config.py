"""Configuration: validated at start-up, production needs a strong secret, all documented."""

from __future__ import annotations

import re

import pytest

from expense_api.config import PROJECT_ROOT, SETTINGS, ConfigError, load_settings


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
    first = load_settings({"DATA_DIR": str(tmp_path)}).jwt_secret_key
    second = load_settings({"DATA_DIR": str(tmp_path)}).jwt_secret_key
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


def test_every_setting_is_documented_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.MULTILINE))
    assert documented == set(SETTINGS), (
        f"undocumented: {set(SETTINGS) - documented}, stale: {documented - set(SETTINGS)}"
    )


def test_settings_module_and_readme_agree_on_defaults():
    readme = (PROJECT_ROOT / "README.md").read_text()
    for name, (default, _) in SETTINGS.items():
        row = re.search(rf"^\| `{name}` \| ([^|]*) \|", readme, re.MULTILINE)
        assert row, name
        shown = row.group(1).strip().strip("`")
        assert shown == (default or "—") or (default == "" and shown == "—"), (name, shown)
