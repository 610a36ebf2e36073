"""Migrations apply from scratch, roll back completely, and apply again."""

from __future__ import annotations

import psycopg

from expense_api.devtools import throwaway_database
from expense_api.migrate import apply_migrations, rollback_migrations, yoyo_url


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename NOT LIKE '%%yoyo%%'"
        ).fetchall()
    return {row[0] for row in rows}


def test_apply_rollback_apply(admin_url):
    with throwaway_database(admin_url, "expense_api_migrations", migrate=False) as url:
        applied = apply_migrations(url)
        assert applied and applied[0].startswith("0001")
        assert {"users", "auth_sessions", "login_throttle"} <= _tables(url)
        assert apply_migrations(url) == []  # idempotent
        rolled_back = rollback_migrations(url, count=len(applied))
        assert sorted(rolled_back) == sorted(applied)
        assert _tables(url) == set()
        assert apply_migrations(url) == applied


def test_yoyo_url_selects_psycopg3():
    assert yoyo_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert yoyo_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
