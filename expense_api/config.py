"""Settings read from the environment (and a `.env` file), validated once at start-up.

`TABLE` is the one place a setting is written: its name, default, meaning and how its value is
read and checked. Loading (`load_settings`), the `Settings` type, the error messages and the
README's configuration table (`expense-api settings`, checked by a test) all derive from it.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the service refuses to start."""


# Readers: each turns the raw string into a value or raises ValueError saying what it expects.
# `describe` is what the README adds to a setting's meaning (its range or choices).
@dataclass(frozen=True)
class Reader:
    read: Callable[[str], Any]
    describe: str = ""

    def __call__(self, raw: str) -> Any:
        return self.read(raw)


def integer(low: int, high: int) -> Reader:
    def read(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"must be a whole number, got {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return Reader(read, f"{low}..{high}")


def choice(*values: str, case_insensitive: bool = False) -> Reader:
    def read(raw: str) -> str:
        value = raw.strip().upper() if case_insensitive else raw
        if value not in values:
            raise ValueError(f"must be one of {', '.join(values)}, got {raw!r}")
        return value

    return Reader(read, " / ".join(v for v in values if v))


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise ValueError(f"must be true or false, got {raw!r}")
    return value == "true"


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValueError(f"entries must be http(s)://host[:port] or *, got {origin!r}")
    return origins


TEXT = Reader(str)
OPTIONAL_TEXT = Reader(lambda raw: raw or None)  # an empty value means "not set"
BOOLEAN = Reader(_boolean, "true / false")
ORIGINS = Reader(_origins)
ON_OFF = Reader(choice("on", "off").read, "on / off")


@dataclass(frozen=True)
class Setting:
    """One environment variable. `attribute` is its name on `Settings` (None: the variable is
    read by another program, e.g. prometheus_client or the test suite, and only documented here).
    `secret` keeps the value out of `repr` and logs."""

    name: str
    default: str  # as it would come from the environment; "" means unset
    meaning: str
    reader: Reader = TEXT
    attribute: str | None = ""
    secret: bool = False

    @property
    def field_name(self) -> str | None:
        return self.name.lower() if self.attribute == "" else self.attribute

    @property
    def readme_meaning(self) -> str:
        shown = self.reader.describe
        return f"{self.meaning} ({shown})" if shown and shown not in self.meaning else self.meaning


TABLE: tuple[Setting, ...] = (
    Setting("APP_ENV", "development", "mode", choice("development", "production", "test")),
    Setting("HOST", "127.0.0.1", "address gunicorn binds to"),
    Setting("PORT", "3000", "port gunicorn binds to", integer(1, 65535)),
    Setting("WEB_CONCURRENCY", "2", "gunicorn worker processes", integer(1, 64)),
    Setting(
        "WEB_THREADS", "4", "threads per gunicorn worker (gthread; sync workers have one)",
        integer(1, 256),
    ),
    Setting(
        "WEB_WORKER_CLASS", "gthread", "gunicorn worker type: gthread (balanced) or sync",
        choice("gthread", "sync"),
    ),
    Setting(
        "DATABASE_URL", "", "PostgreSQL URL; unset: an embedded PostgreSQL under DATA_DIR",
        OPTIONAL_TEXT,
    ),
    Setting(
        "TEST_DATABASE_URL", "",
        "server the tests create a throwaway database on; unset: embedded (read by the tests)",
        attribute=None,
    ),
    Setting(
        "DATA_DIR", ".data",
        "folder for the embedded database and the development secrets (relative: to the project)",
        Reader(lambda raw: Path(raw) if Path(raw).is_absolute() else PROJECT_ROOT / raw),
    ),
    Setting("DB_POOL_MIN", "1", "connections each worker keeps open", integer(0, 100)),
    Setting(
        "DB_POOL_MAX", "", "most connections per worker; empty: WEB_THREADS + 1",
        Reader(lambda raw: integer(1, 1000)(raw) if raw else None, "1..1000"),
    ),
    Setting(
        "DB_POOL_TIMEOUT", "3", "seconds a request waits for a connection before 503",
        integer(1, 60),
    ),
    Setting(
        "DB_CONNECT_TIMEOUT", "3", "seconds to wait when opening a connection", integer(1, 60)
    ),
    Setting(
        "DB_STATEMENT_TIMEOUT_MS", "5000", "longest a single SQL statement may run",
        integer(0, 3_600_000),
    ),
    Setting(
        "DB_POOL_MODE", "session",
        "session: settings sent at connect; transaction: behind PgBouncer's transaction pooling "
        "(role-level settings checked at start, no prepared statements)",
        choice("session", "transaction"),
    ),
    Setting(
        "READ_DATABASE_URL", "",
        "streaming replica for the reports and the transaction list (read-your-writes: used once "
        "it has replayed what the primary committed, else the primary); unset: primary only",
        OPTIONAL_TEXT,
    ),
    Setting(
        "READ_REPLICA_WAIT_MS", "100",
        "longest a read waits for the replica to catch up before reading the primary",
        integer(0, 5000),
    ),
    Setting(
        "JWT_SECRET_KEY", "",
        f"HS256 signing key(s), comma-separated, newest first (the first signs, all verify), each "
        f"at least {MIN_SECRET_LENGTH} characters; required in production",
        attribute="jwt_secret_keys",
        secret=True,
    ),
    Setting(
        "JWT_ACCESS_TOKEN_MINUTES", "15", "lifetime of an access token", integer(1, 24 * 60)
    ),
    Setting("JWT_REFRESH_TOKEN_DAYS", "30", "lifetime of a refresh token", integer(1, 365)),
    Setting(
        "SESSION_MAX_DAYS", "90",
        "longest a session lives after its login, however often it is refreshed (at least "
        "JWT_REFRESH_TOKEN_DAYS)",
        integer(1, 3650),
    ),
    # Seconds, not minutes: long enough for a client's retry, short enough for a thief.
    Setting(
        "REFRESH_REUSE_GRACE_SECONDS", "30",
        "seconds after a refresh in which its old refresh token gets 401 without ending the "
        "session",
        integer(0, 300),
    ),
    Setting("BCRYPT_ROUNDS", "12", "bcrypt cost factor", integer(4, 31)),
    Setting(
        "LOGIN_MAX_FAILURES_PER_EMAIL", "5", "failed logins for one email before 429",
        integer(1, 10_000),
    ),
    Setting(
        "LOGIN_MAX_FAILURES_PER_ADDRESS", "20",
        "failed logins from one client address before 429", integer(1, 100_000),
    ),
    Setting(
        "LOGIN_THROTTLE_SECONDS", "900", "window in which failed logins are counted",
        integer(1, 86_400),
    ),
    Setting(
        "THROTTLE_STORE", "postgres",
        "where failed-login and rate-limit counters live: postgres or redis",
        choice("postgres", "redis"),
    ),
    Setting("REDIS_URL", "redis://127.0.0.1:6379/0", "Redis for THROTTLE_STORE=redis"),
    # Far above a person or a normal script (docs/SECURITY.md, "Rate limits"): a flood's brake,
    # not a quota.
    Setting(
        "RATE_LIMIT_PER_ACCOUNT", "1200",
        "requests per window for one account (any token; REST and GraphQL) before 429",
        integer(1, 1_000_000_000),
    ),
    Setting(
        "RATE_LIMIT_PER_ADDRESS", "1200",
        "requests per window from one client address without a usable token before 429",
        integer(1, 1_000_000_000),
    ),
    Setting(
        "RATE_LIMIT_WINDOW_SECONDS", "60",
        "length of the rate limits' fixed windows (counted in THROTTLE_STORE)", integer(1, 86_400),
    ),
    Setting(
        "TRUSTED_PROXY_COUNT", "0", "reverse proxies in front whose X-Forwarded-For is trusted",
        integer(0, 10),
    ),
    Setting(
        "CORS_ORIGINS", "", "comma-separated origins allowed to call the API from a browser",
        ORIGINS,
    ),
    Setting(
        "MAX_CONTENT_LENGTH", "1048576", "largest request body in bytes (413 above)",
        integer(1024, 100 * 1024 * 1024),
    ),
    Setting(
        "LOG_LEVEL", "INFO", "log level of the service",
        choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", case_insensitive=True),
    ),
    Setting(
        "LOG_FORMAT", "console",
        "console (lines for people) or json (one JSON object per line)",
        choice("console", "json"),
    ),
    Setting(
        "METRICS_TOKEN", "", "bearer token /metrics requires; empty: /metrics is open",
        secret=True,
    ),
    Setting(
        "PROMETHEUS_MULTIPROC_DIR", "",
        "folder the processes' metrics are summed from; empty: a new temporary folder per start "
        "(read by prometheus_client)",
        attribute=None,
    ),
    Setting(
        "ANALYTICS_CACHE_URL", "", "Redis URL of the analytics cache; empty: no cache",
        secret=True,
    ),
    Setting(
        "ANALYTICS_CACHE_TIMEOUT_MS", "20",
        "longest wait for Redis before a report is computed from PostgreSQL", integer(1, 1000),
    ),
    Setting(
        "ANALYTICS_CACHE_TTL_SECONDS", "86400", "how long a cached report is kept",
        integer(60, 2_592_000),
    ),
    Setting(
        "WORKER", "on",
        "on: `expense-api serve` runs the background worker beside gunicorn; off: run "
        "`expense-api worker` apart",
        Reader(lambda raw: ON_OFF(raw) == "on"),
        attribute="worker_enabled",
    ),
    Setting(
        "WORKER_TICK_SECONDS", "2",
        "seconds the worker waits, when it has nothing to do, before looking for due work",
        integer(1, 60),
    ),
    Setting(
        "WORKER_METRICS_PORT", "0",
        "a worker run apart (`expense-api worker`) serves its own /metrics on HOST at this port; "
        "0: none (under `expense-api serve` its metrics are in the API's /metrics)",
        integer(0, 65535),
    ),
    Setting(
        "WEBHOOK_SECRETS_KEY", "",
        "Fernet key(s) encrypting webhook and two-factor (TOTP) secrets at rest, comma-separated "
        "(the first encrypts); required in production",
        secret=True,
    ),
    Setting(
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false",
        "true: webhooks may go to loopback, private and link-local addresses (tests, a LAN)",
        BOOLEAN,
    ),
    Setting(
        "WEBHOOK_CONNECT_TIMEOUT_SECONDS", "5", "seconds a webhook delivery waits to connect",
        integer(1, 60),
    ),
    Setting(
        "WEBHOOK_READ_TIMEOUT_SECONDS", "10", "seconds a webhook delivery waits for the answer",
        integer(1, 60),
    ),
    Setting(
        "WEBHOOK_HISTORY_DAYS", "30", "days webhook events and deliveries are kept (prune)",
        integer(1, 3650),
    ),
    Setting(
        "TOTP_MAX_FAILURES_PER_DAY", "20",
        "wrong two-factor codes one account may send in 24 hours; past it every code is refused "
        "(429) until the oldest is a day old",
        integer(1, 10_000),
    ),
    Setting(
        "SECURITY_EVENTS_DAYS", "365",
        "days an account's security events (logins, two-factor changes) are kept (prune)",
        integer(1, 3650),
    ),
    Setting(
        "GRAPHQL_INTROSPECTION", "",
        "GraphQL introspection (GraphiQL's schema docs): on or off; empty: on, but off in "
        "production",
        Reader(lambda raw: choice("", "on", "off")(raw) or None, "on / off"),
    ),
)  # fmt: skip

SETTINGS: dict[str, Setting] = {setting.name: setting for setting in TABLE}


def _is_production(self) -> bool:
    return self.app_env == "production"


# The type the service reads its settings from, made from the table: one field per setting.
Settings = dataclasses.make_dataclass(
    "Settings",
    [
        (setting.field_name, Any, dataclasses.field(repr=not setting.secret))
        for setting in TABLE
        if setting.field_name
    ],
    frozen=True,
    namespace={
        "is_production": property(_is_production),
        "__doc__": "The validated settings (see config.TABLE).",
        "__module__": __name__,
    },
)


def load_environment() -> dict[str, str]:
    """The process environment, with `.env` from the project root filling unset names."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    return dict(os.environ)


def read(setting: Setting, env: dict[str, str]) -> Any:
    """One setting's value from `env` (its default when unset or empty), or ConfigError."""
    raw = env.get(setting.name) or setting.default
    try:
        return setting.reader(raw)
    except ValueError as error:
        raise ConfigError(f"{setting.name} {error}") from None


def resolve_data_dir(env: dict[str, str]) -> Path:
    return read(SETTINGS["DATA_DIR"], env)


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    env = load_environment() if env is None else env
    values = {setting.field_name: read(setting, env) for setting in TABLE if setting.field_name}
    values.update(overrides)
    _derive(values)
    return Settings(**values)


def _derive(values: dict[str, Any]) -> None:
    """The rules that join several settings, applied after each was read on its own."""
    if values["web_worker_class"] == "sync":
        # gunicorn would quietly turn a sync worker with threads into gthread
        values["web_threads"] = 1
    if values["db_pool_max"] is None:  # empty means one per thread, plus one
        values["db_pool_max"] = values["web_threads"] + 1
    if values["session_max_days"] < values["jwt_refresh_token_days"]:
        raise ConfigError("SESSION_MAX_DAYS must not be below JWT_REFRESH_TOKEN_DAYS")
    if values["db_pool_max"] < values["db_pool_min"]:
        raise ConfigError("DB_POOL_MAX must not be below DB_POOL_MIN")
    production = values["app_env"] == "production"
    if values["graphql_introspection"] is None:
        # Introspection tells anyone with a token the whole schema: on while developing, off in
        # production unless the operator turns it on.
        values["graphql_introspection"] = not production
    else:
        values["graphql_introspection"] = values["graphql_introspection"] == "on"
    values["jwt_secret_keys"] = _jwt_secret_keys(
        values["jwt_secret_keys"], production, values["data_dir"]
    )
    values["webhook_secrets_key"] = _webhook_secrets_key(
        values["webhook_secrets_key"], production, values["data_dir"]
    )


def _jwt_secret_keys(configured: str, production: bool, data_dir: Path) -> tuple[str, ...]:
    """The signing keys, newest first: the first signs, every one verifies (a rotation adds the
    new key in front, and removes the old one from the end once its tokens may go)."""
    if not configured:
        if production:
            raise ConfigError(
                "JWT_SECRET_KEY is required in production: set it to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters"
            )
        # Development and tests: one random secret, generated once and kept so tokens survive
        # restarts.
        configured = _kept_secret(data_dir / "jwt-secret", lambda: secrets.token_urlsafe(48))
    keys = tuple(key.strip() for key in configured.split(","))
    for position, key in enumerate(keys, start=1):
        # Every key counts, not only the newest: an old key still verifies, so a weak one would
        # let anyone who guesses it sign tokens until it is removed.
        if len(key) < MIN_SECRET_LENGTH:
            which = f" (key {position} of {len(keys)})" if len(keys) > 1 else ""
            raise ConfigError(
                f"JWT_SECRET_KEY{which} must be at least {MIN_SECRET_LENGTH} characters "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    if len(set(keys)) != len(keys):
        raise ConfigError("JWT_SECRET_KEY lists a key twice")
    return keys


def _webhook_secrets_key(configured: str, production: bool, data_dir: Path) -> str:
    from cryptography.fernet import Fernet  # here: only this setting needs it

    if not configured:
        if production:
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


def readme_table() -> str:
    """The README's configuration table, made from TABLE (`expense-api settings` prints it)."""
    lines = ["| name | default | meaning |", "|---|---|---|"]
    for setting in TABLE:
        default = f"`{setting.default}`" if setting.default else "—"
        lines.append(f"| `{setting.name}` | {default} | {setting.readme_meaning} |")
    return "\n".join(lines) + "\n"
