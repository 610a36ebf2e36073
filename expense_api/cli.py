"""`expense-api` command: serve, migrate, rollback, prune."""

from __future__ import annotations

import argparse
import os
import sys

from .config import ConfigError, load_settings
from .database_url import database_url
from .migrate import apply_migrations, rollback_migrations


def _serve(args) -> int:
    load_settings()  # fail fast, before gunicorn, on a bad configuration
    argv = ["gunicorn", "-c", "python:expense_api.gunicorn_conf", "wsgi:app"]
    os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606  # gunicorn becomes this process


def _migrate(args) -> int:
    with database_url(load_settings()) as url:
        applied = apply_migrations(url)
    print("applied: " + (", ".join(applied) if applied else "nothing, up to date"))
    return 0


def _rollback(args) -> int:
    with database_url(load_settings()) as url:
        rolled_back = rollback_migrations(url, args.count)
    print("rolled back: " + (", ".join(rolled_back) if rolled_back else "nothing"))
    return 0


def _prune(args) -> int:
    import psycopg

    from .sqlfiles import queries

    settings = load_settings()
    with database_url(settings) as url, psycopg.connect(url) as conn:
        sessions = queries.auth_sessions.delete_expired(conn)
        counters = queries.login_throttle.delete_stale(
            conn, window_seconds=settings.login_throttle_seconds
        )
        keys = queries.idempotency_keys.delete_expired(conn)
    print(
        f"deleted {sessions} expired sessions, {counters} stale login counters and "
        f"{keys} expired idempotency keys"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="expense-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the service under gunicorn").set_defaults(run=_serve)
    commands.add_parser("migrate", help="apply pending migrations").set_defaults(run=_migrate)
    rollback = commands.add_parser("rollback", help="roll back the newest migrations")
    rollback.add_argument("--count", type=int, default=1)
    rollback.set_defaults(run=_rollback)
    commands.add_parser(
        "prune", help="delete expired sessions, counters and idempotency keys"
    ).set_defaults(run=_prune)
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except ConfigError as error:
        print(f"expense-api: configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
