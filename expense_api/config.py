"""Settings read from the environment (and a `.env` file), validated once at start-up.

Every setting is listed in SETTINGS with its default and meaning; the README's configuration
table is checked against this list by a test, so a setting cannot go undocumented.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_LENGTH = 32

# name -> (default, description). Defaults are strings, as they would come from the environment.
SETTINGS: dict[str, tuple[str | None, str]] = {
    "APP_ENV": ("development", "development, production or test"),
    "HOST": ("127.0.0.1", "address gunicorn binds to"),
    "PORT": ("3000", "port gunicorn binds to"),
    "WEB_CONCURRENCY": ("2", "gunicorn worker processes"),
    "WEB_THREADS": ("4", "threads per gunicorn worker (gthread; sync workers have one)"),
    "WEB_WORKER_CLASS": ("gthread", "gunicorn worker type: gthread (balanced) or sync"),
    "DATABASE_URL": (None, "PostgreSQL URL; unset: an embedded PostgreSQL under DATA_DIR"),
    "TEST_DATABASE_URL": (None, "server the tests create a throwaway database on; unset: embedded"),
    "DATA_DIR": (".data", "folder for the embedded database and the development JWT secret"),
    "DB_POOL_MIN": ("1", "connections each worker keeps open"),
    "DB_POOL_MAX": ("", "most connections per worker; empty: WEB_THREADS + 1"),
    "DB_POOL_TIMEOUT": ("3", "seconds a request waits for a connection before 503"),
    "DB_CONNECT_TIMEOUT": ("3", "seconds to wait when opening a connection"),
    "DB_STATEMENT_TIMEOUT_MS": ("5000", "longest a single SQL statement may run"),
    "DB_POOL_MODE": (
        "session",
        "session: settings sent at connect; transaction: behind PgBouncer's transaction pooling "
        "(role-level settings checked at start, no prepared statements)",
    ),
    "READ_DATABASE_URL": (
        None,
        "streaming replica for the reports and the transaction list (read-your-writes: used once "
        "it has replayed what the primary committed, else the primary); unset: primary only",
    ),
    "READ_REPLICA_WAIT_MS": (
        "100",
        "longest a read waits for the replica to catch up before reading the primary (0..5000)",
    ),
    "JWT_SECRET_KEY": (None, "HS256 signing key, at least 32 characters; required in production"),
    "JWT_ACCESS_TOKEN_MINUTES": ("15", "lifetime of an access token"),
    "JWT_REFRESH_TOKEN_DAYS": ("30", "lifetime of a refresh token"),
    "REFRESH_REUSE_GRACE_SECONDS": (
        "30",
        "seconds after a refresh in which its old refresh token gets 401 without ending the "
        "session (0..300)",
    ),
    "BCRYPT_ROUNDS": ("12", "bcrypt cost factor (4..31)"),
    "LOGIN_MAX_FAILURES_PER_EMAIL": ("5", "failed logins for one email before 429"),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": ("20", "failed logins from one client address before 429"),
    "LOGIN_THROTTLE_SECONDS": ("900", "window in which failed logins are counted"),
    "THROTTLE_STORE": ("postgres", "where failed-login counters live: postgres or redis"),
    "REDIS_URL": ("redis://127.0.0.1:6379/0", "Redis for THROTTLE_STORE=redis"),
    "TRUSTED_PROXY_COUNT": ("0", "reverse proxies in front whose X-Forwarded-For is trusted"),
    "CORS_ORIGINS": ("", "comma-separated origins allowed to call the API from a browser"),
    "MAX_CONTENT_LENGTH": ("1048576", "largest request body in bytes (413 above)"),
    "LOG_LEVEL": ("INFO", "log level of the service"),
    "LOG_FORMAT": ("console", "console (lines for people) or json (one JSON object per line)"),
    "METRICS_TOKEN": ("", "bearer token /metrics requires; empty: /metrics is open"),
    "PROMETHEUS_MULTIPROC_DIR": (
        "",
        "folder the processes' metrics are summed from; empty: a new temporary folder per start",
    ),
    "ANALYTICS_CACHE_URL": ("", "Redis URL of the analytics cache; empty: no cache"),
    "ANALYTICS_CACHE_TIMEOUT_MS": (
        "20",
        "longest wait for Redis before a report is computed from PostgreSQL (1..1000)",
    ),
    "ANALYTICS_CACHE_TTL_SECONDS": ("86400", "how long a cached report is kept (60..2592000)"),
    "WORKER": (
        "on",
        "on: `expense-api serve` runs the background worker beside gunicorn; off: run "
        "`expense-api worker` apart",
    ),
    "WORKER_TICK_SECONDS": (
        "2",
        "seconds the worker waits, when it has nothing to do, before looking for due work (1..60)",
    ),
    "WORKER_METRICS_PORT": (
        "0",
        "a worker run apart (`expense-api worker`) serves its own /metrics on HOST at this port; "
        "0: none (under `expense-api serve` its metrics are in the API's /metrics)",
    ),
    "WEBHOOK_SECRETS_KEY": (
        None,
        "Fernet key(s) encrypting webhook secrets at rest, comma-separated (the first encrypts); "
        "required in production",
    ),
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS": (
        "false",
        "true: webhooks may go to loopback, private and link-local addresses (tests, a LAN)",
    ),
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS": ("5", "seconds a webhook delivery waits to connect"),
    "WEBHOOK_READ_TIMEOUT_SECONDS": ("10", "seconds a webhook delivery waits for the answer"),
    "WEBHOOK_HISTORY_DAYS": ("30", "days webhook events and deliveries are kept (prune)"),
    "GRAPHQL_INTROSPECTION": (
        "",
        "GraphQL introspection (GraphiQL's schema docs): on or off; empty: on, but off in "
        "production",
    ),
}

ENVIRONMENTS = ("development", "production", "test")


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the service refuses to start."""


def _int(env: dict[str, str], name: str, low: int, high: int) -> int:
    raw = env.get(name) or SETTINGS[name][0]
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name) or SETTINGS[name][0]
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _bool(env: dict[str, str], name: str) -> bool:
    value = (env.get(name) or SETTINGS[name][0] or "").strip().lower()
    if value not in ("true", "false"):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return value == "true"


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigError(
                f"CORS_ORIGINS entries must be http(s)://host[:port] or *, got {origin!r}"
            )
    return origins


@dataclass(frozen=True)
class Settings:
    app_env: str
    host: str
    port: int
    web_concurrency: int
    web_threads: int
    web_worker_class: str
    database_url: str | None
    data_dir: Path
    db_pool_min: int
    db_pool_max: int
    db_pool_timeout: int
    db_connect_timeout: int
    db_statement_timeout_ms: int
    db_pool_mode: str
    read_database_url: str | None
    read_replica_wait_ms: int
    jwt_secret_key: str = field(repr=False)
    jwt_access_token_minutes: int
    jwt_refresh_token_days: int
    refresh_reuse_grace_seconds: int
    bcrypt_rounds: int
    login_max_failures_per_email: int
    login_max_failures_per_address: int
    login_throttle_seconds: int
    throttle_store: str
    redis_url: str
    trusted_proxy_count: int
    cors_origins: tuple[str, ...]
    max_content_length: int
    log_level: str
    worker_enabled: bool
    worker_tick_seconds: int
    worker_metrics_port: int
    log_format: str
    metrics_token: str = field(repr=False)
    analytics_cache_url: str = field(repr=False)
    analytics_cache_timeout_ms: int
    analytics_cache_ttl_seconds: int
    webhook_secrets_key: str = field(repr=False)
    webhook_allow_private_networks: bool
    webhook_connect_timeout_seconds: int
    webhook_read_timeout_seconds: int
    webhook_history_days: int
    graphql_introspection: bool = True

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"


def load_environment() -> dict[str, str]:
    """The process environment, with `.env` from the project root filling unset names."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    return dict(os.environ)


def resolve_data_dir(env: dict[str, str]) -> Path:
    path = Path(env.get("DATA_DIR") or SETTINGS["DATA_DIR"][0])
    return path if path.is_absolute() else PROJECT_ROOT / path


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    env = load_environment() if env is None else env
    app_env = env.get("APP_ENV") or "development"
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {app_env!r}")
    data_dir = resolve_data_dir(env)
    worker_class = _choice(env, "WEB_WORKER_CLASS", ("gthread", "sync"))
    threads = _int(env, "WEB_THREADS", 1, 256)
    if worker_class == "sync":
        threads = 1  # gunicorn would quietly turn a sync worker with threads into gthread
    # Empty means "one per thread, plus one", so it is checked only when set.
    pool_max = _int(env, "DB_POOL_MAX", 1, 1000) if env.get("DB_POOL_MAX") else threads + 1
    log_level = (env.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be a logging level name, got {log_level!r}")
    values = dict(
        app_env=app_env,
        host=env.get("HOST") or "127.0.0.1",
        port=_int(env, "PORT", 1, 65535),
        web_concurrency=_int(env, "WEB_CONCURRENCY", 1, 64),
        web_threads=threads,
        web_worker_class=worker_class,
        database_url=env.get("DATABASE_URL") or None,
        data_dir=data_dir,
        db_pool_min=_int(env, "DB_POOL_MIN", 0, 100),
        db_pool_max=pool_max,
        db_pool_timeout=_int(env, "DB_POOL_TIMEOUT", 1, 60),
        db_connect_timeout=_int(env, "DB_CONNECT_TIMEOUT", 1, 60),
        db_statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 0, 3_600_000),
        db_pool_mode=_choice(env, "DB_POOL_MODE", ("session", "transaction")),
        read_database_url=env.get("READ_DATABASE_URL") or None,
        read_replica_wait_ms=_int(env, "READ_REPLICA_WAIT_MS", 0, 5000),
        jwt_secret_key=env.get("JWT_SECRET_KEY") or "",
        jwt_access_token_minutes=_int(env, "JWT_ACCESS_TOKEN_MINUTES", 1, 24 * 60),
        jwt_refresh_token_days=_int(env, "JWT_REFRESH_TOKEN_DAYS", 1, 365),
        # Seconds, not minutes: long enough for a client's retry, short enough for a thief.
        refresh_reuse_grace_seconds=_int(env, "REFRESH_REUSE_GRACE_SECONDS", 0, 300),
        bcrypt_rounds=_int(env, "BCRYPT_ROUNDS", 4, 31),
        login_max_failures_per_email=_int(env, "LOGIN_MAX_FAILURES_PER_EMAIL", 1, 10_000),
        login_max_failures_per_address=_int(env, "LOGIN_MAX_FAILURES_PER_ADDRESS", 1, 100_000),
        login_throttle_seconds=_int(env, "LOGIN_THROTTLE_SECONDS", 1, 86_400),
        throttle_store=_choice(env, "THROTTLE_STORE", ("postgres", "redis")),
        redis_url=env.get("REDIS_URL") or SETTINGS["REDIS_URL"][0],
        trusted_proxy_count=_int(env, "TRUSTED_PROXY_COUNT", 0, 10),
        cors_origins=_origins(env.get("CORS_ORIGINS") or ""),
        max_content_length=_int(env, "MAX_CONTENT_LENGTH", 1024, 100 * 1024 * 1024),
        log_level=log_level,
        log_format=_choice(env, "LOG_FORMAT", ("console", "json")),
        metrics_token=env.get("METRICS_TOKEN") or "",
        analytics_cache_url=env.get("ANALYTICS_CACHE_URL") or "",
        analytics_cache_timeout_ms=_int(env, "ANALYTICS_CACHE_TIMEOUT_MS", 1, 1000),
        analytics_cache_ttl_seconds=_int(env, "ANALYTICS_CACHE_TTL_SECONDS", 60, 2_592_000),
        worker_enabled=_choice(env, "WORKER", ("on", "off")) == "on",
        worker_tick_seconds=_int(env, "WORKER_TICK_SECONDS", 1, 60),
        worker_metrics_port=_int(env, "WORKER_METRICS_PORT", 0, 65535),
        webhook_secrets_key=env.get("WEBHOOK_SECRETS_KEY") or "",
        webhook_allow_private_networks=_bool(env, "WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
        webhook_connect_timeout_seconds=_int(env, "WEBHOOK_CONNECT_TIMEOUT_SECONDS", 1, 60),
        webhook_read_timeout_seconds=_int(env, "WEBHOOK_READ_TIMEOUT_SECONDS", 1, 60),
        webhook_history_days=_int(env, "WEBHOOK_HISTORY_DAYS", 1, 3650),
        graphql_introspection=_introspection(env, app_env),
    )
    values.update(overrides)
    if pool_max < values["db_pool_min"]:
        raise ConfigError("DB_POOL_MAX must not be below DB_POOL_MIN")
    values["jwt_secret_key"] = _jwt_secret(values["jwt_secret_key"], app_env, data_dir)
    values["webhook_secrets_key"] = _webhook_secrets_key(
        values["webhook_secrets_key"], app_env, data_dir
    )
    return Settings(**values)


def _introspection(env: dict[str, str], app_env: str) -> bool:
    """Introspection tells anyone with a token the whole schema: on while developing, off in
    production unless the operator turns it on."""
    choice = _choice(env, "GRAPHQL_INTROSPECTION", ("", "on", "off"))
    return choice == "on" if choice else app_env != "production"


def _jwt_secret(configured: str, app_env: str, data_dir: Path) -> str:
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"JWT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return configured
    if app_env == "production":
        raise ConfigError(
            "JWT_SECRET_KEY is required in production: set it to a random string of at least "
            f"{MIN_SECRET_LENGTH} characters"
        )
    # Development and tests: one random secret, generated once and kept so tokens survive restarts.
    return _kept_secret(data_dir / "jwt-secret", lambda: secrets.token_urlsafe(48))


def _webhook_secrets_key(configured: str, app_env: str, data_dir: Path) -> str:
    from cryptography.fernet import Fernet  # here: only this setting needs it

    if not configured:
        if app_env == "production":
            raise ConfigError(
                "WEBHOOK_SECRETS_KEY is required in production (generate one with: python -c "
                "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            )
        # Development and tests: generated once and kept, like the JWT secret, so the secrets
        # stored by one run can still be read by the next (and by the delivery job).
        configured = _kept_secret(
            data_dir / "webhook-secrets-key", lambda: Fernet.generate_key().decode()
        )
    try:
        for key in configured.split(","):
            Fernet(key.strip())
    except ValueError:
        raise ConfigError(
            "WEBHOOK_SECRETS_KEY must be one or more comma-separated Fernet keys (32 url-safe "
            "base64-encoded bytes each)"
        ) from None
    return configured


def _kept_secret(path: Path, make) -> str:
    """The secret kept in `path` (mode 600), made by `make()` the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by a process starting beside this one
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()
