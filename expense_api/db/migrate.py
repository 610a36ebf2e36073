"""Applies the yoyo migrations in `migrations/`, under yoyo's lock so concurrent starters wait."""

from __future__ import annotations

import logging

from yoyo import get_backend, read_migrations

from ..config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
log = logging.getLogger(__name__)


def yoyo_url(database_url: str) -> str:
    """yoyo picks its driver from the scheme: psycopg 3 is `postgresql+psycopg://`."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


def apply_migrations(database_url: str) -> list[str]:
    """Applies every pending migration; returns the ids applied (empty when up to date)."""
    backend = get_backend(yoyo_url(database_url))
    try:
        migrations = read_migrations(str(MIGRATIONS_DIR))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        applied = [migration.id for migration in pending]
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return applied
    finally:
        backend.connection.close()


def rollback_migrations(database_url: str, count: int = 1) -> list[str]:
    """Rolls back the newest `count` applied migrations."""
    backend = get_backend(yoyo_url(database_url))
    try:
        migrations = read_migrations(str(MIGRATIONS_DIR))
        with backend.lock():
            applied = backend.to_rollback(migrations)[:count]
            backend.rollback_migrations(applied)
        return [migration.id for migration in applied]
    finally:
        backend.connection.close()
