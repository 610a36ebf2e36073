"""`expense-api` command: serve, worker, migrate, rollback, prune, seed, users promote|demote,
settings."""

from __future__ import annotations

import argparse
import os
import sys

from .config import ConfigError, load_settings
from .db.location import database_url
from .db.migrate import apply_migrations, rollback_migrations
from .ops import logs
from .services.changes import door


def _serve(args) -> int:
    settings = load_settings()  # fail fast, before gunicorn, on a bad configuration
    _check_pool_mode(settings)
    argv = ["gunicorn", "-c", "python:expense_api.ops.gunicorn_conf", "wsgi:app"]
    os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606  # gunicorn becomes this process


def _check_pool_mode(settings) -> None:
    """DB_POOL_MODE=transaction: a pooler's URL is required and its sessions must already carry
    our settings (role-level), else the service refuses to start."""
    if settings.db_pool_mode != "transaction":
        return
    if not settings.database_url:
        raise ConfigError("DB_POOL_MODE=transaction needs DATABASE_URL (the pooler's address)")
    from .db.pool import check_pooled_session_settings

    check_pooled_session_settings(settings.database_url, settings)


def _worker(args) -> int:
    """The background worker (recurring transactions, webhooks, housekeeping) until
    SIGTERM/SIGINT."""
    from .ops.logs import configure
    from .worker.loop import main as run_worker

    settings = load_settings()
    configure(settings.log_format, settings.log_level)  # LOG_FORMAT=json as the API's lines
    if settings.worker_metrics_port:  # run apart: a /metrics of its own (see README)
        from .ops.metrics import serve_metrics

        serve_metrics(settings.worker_metrics_port, settings.host, settings.metrics_token)
    _check_pool_mode(settings)
    with database_url(settings) as url:
        apply_migrations(url)  # up to date already under `serve`; the yoyo lock orders starters
        run_worker(url, settings)
    return 0


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

    from .services.housekeeping import prune

    settings = load_settings()
    with database_url(settings) as url, psycopg.connect(url) as conn:
        deleted = prune(conn, settings)
    print(
        f"deleted {deleted['sessions']} expired sessions, {deleted['login_counters']} stale "
        f"login counters, {deleted['idempotency_keys']} expired idempotency keys and "
        f"{deleted['webhook_events']} webhook events past their history"
    )
    return 0


def _seed(args) -> int:
    import psycopg

    from .demo import DEMO_PASSWORD, seed

    if args.users < 1 or args.transactions < 0:
        print(
            "expense-api: --users must be at least 1 and --transactions not negative",
            file=sys.stderr,
        )
        return 2
    per_user = [args.transactions // args.users] * args.users
    per_user[0] += args.transactions - sum(per_user)
    with database_url(load_settings()) as url:
        apply_migrations(url)
        with psycopg.connect(url) as conn:
            users = seed(conn, per_user, years=args.years, rng_seed=args.seed)
    print(f"seeded {len(users)} users; log in as any of them with password {DEMO_PASSWORD!r}:")
    for user in users[:10]:
        print(f"  {user.email} ({user.transactions} transactions)")
    if len(users) > 10:
        print(f"  ... and {len(users) - 10} more")
    return 0


def _users(args) -> int:
    """promote/demote EMAIL: one short transaction through the service layer, safe while the
    service runs (it locks the admins' rows like the admin routes do)."""
    import psycopg

    from .domain.errors import DomainError
    from .services import admin

    change = admin.promote if args.action == "promote" else admin.demote
    with database_url(load_settings()) as url, psycopg.connect(url) as conn:
        try:
            with conn.transaction():
                user = change(conn, args.email)
        except DomainError as error:
            print(f"expense-api: {error.detail} ({error.code})", file=sys.stderr)
            return 1
    now = "an admin" if user["role"] == "admin" else "a user"
    print(f"{user['email']} (id {user['id']}) is now {now}")
    return 0


def _settings(args) -> int:
    """The configuration table (README's, made from config.TABLE), or the values in force."""
    from .config import TABLE, readme_table

    if not args.current:
        print(readme_table(), end="")
        return 0
    settings = load_settings()
    for setting in TABLE:
        if setting.field_name:
            value = getattr(settings, setting.field_name)
            if setting.secret:
                value = "(set)" if value else "(unset)"
            print(f"{setting.name}={value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="expense-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the service under gunicorn").set_defaults(run=_serve)
    commands.add_parser(
        "worker", help="run the background worker (recurring transactions) until SIGTERM"
    ).set_defaults(run=_worker)
    commands.add_parser("migrate", help="apply pending migrations").set_defaults(run=_migrate)
    rollback = commands.add_parser("rollback", help="roll back the newest migrations")
    rollback.add_argument("--count", type=int, default=1)
    rollback.set_defaults(run=_rollback)
    commands.add_parser(
        "prune", help="delete expired sessions, counters and idempotency keys"
    ).set_defaults(run=_prune)
    seed = commands.add_parser("seed", help="load realistic demo data (COPY, with budgets)")
    seed.add_argument("--users", type=int, default=3, help="demo users to create (default 3)")
    seed.add_argument("--transactions", type=int, default=30_000, help="in total, split evenly")
    seed.add_argument("--years", type=int, default=3, help="history up to this month (default 3)")
    seed.add_argument("--seed", type=int, default=42, help="random seed, for repeatable data")
    seed.set_defaults(run=_seed)
    users = commands.add_parser("users", help="system roles: make a user an admin, or not")
    users.add_argument("action", choices=("promote", "demote"))
    users.add_argument("email")
    users.set_defaults(run=_users)
    settings = commands.add_parser(
        "settings", help="print the settings table (README's); --current: the values in force"
    )
    settings.add_argument("--current", action="store_true", help="values after .env and defaults")
    settings.set_defaults(run=_settings)
    args = parser.parse_args(argv)
    request_id = logs.REQUEST_ID.set(logs.new_request_id())  # this command's change-log entries
    try:
        with door.through("cli"):
            return args.run(args) or 0
    except ConfigError as error:
        print(f"expense-api: configuration error: {error}", file=sys.stderr)
        return 2
    finally:
        logs.REQUEST_ID.reset(request_id)


if __name__ == "__main__":
    sys.exit(main())
