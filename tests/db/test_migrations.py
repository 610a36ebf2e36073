"""Migrations apply from scratch, roll back completely, and apply again."""

from __future__ import annotations

import psycopg

from devtools.servers import throwaway_database
from expense_api.db.migrate import MIGRATIONS_DIR, apply_migrations, rollback_migrations, yoyo_url


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


def _has_column(url: str, table: str, column: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
            " WHERE table_name = %s AND column_name = %s)",
            (table, column),
        ).fetchone()[0]


def _roll_back_newer_than(url: str, migration_id: str) -> None:
    """Rolls back the migrations applied after `migration_id`, so it is the newest."""
    with psycopg.connect(url) as conn:
        newer = conn.execute(
            "SELECT count(*) FROM _yoyo_migration WHERE migration_id > %s", (migration_id,)
        ).fetchone()[0]
    if newer:
        rollback_migrations(url, count=newer)


def test_rolling_back_system_roles_refuses_while_an_account_is_disabled(
    admin_url, database_template
):
    """Dropping disabled_at would let a disabled account log in again, silently: refused, and
    nothing changes, until the account is enabled."""
    import pytest

    with throwaway_database(admin_url, "expense_api_roles", template=database_template) as url:
        newer = sorted(MIGRATIONS_DIR.glob("*.rollback.sql"))[9:]  # those after 0009
        rollback_migrations(url, count=len(newer))
        with psycopg.connect(url) as conn:
            conn.execute(
                "INSERT INTO users (name, email, password_hash, disabled_at)"
                " VALUES ('Off', 'off@example.com', 'x', now())"
            )
        _roll_back_newer_than(url, "0009.system-roles")
        with pytest.raises(psycopg.errors.RaiseException, match="disabled"):
            rollback_migrations(url, count=1)
        assert _has_column(url, "users", "disabled_at")
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE users SET disabled_at = NULL")
        assert rollback_migrations(url, count=1) == ["0009.system-roles"]
        assert not _has_column(url, "users", "disabled_at")


def test_rolling_back_splits_refuses_while_a_transaction_is_split_and_keeps_the_rest(
    admin_url, database_template
):
    """Before 0017 every transaction has a category: a split one has none to fall back to, so
    the rollback is refused and changes nothing until it is made single again; then payees,
    tags and lines go, and every other transaction and its totals stay as they were."""
    import pytest

    with throwaway_database(admin_url, "expense_api_splits", template=database_template) as url:
        _roll_back_newer_than(url, "0017.splits-payees-tags")
        with psycopg.connect(url) as conn:
            user = conn.execute(
                "INSERT INTO users (name, email, password_hash) VALUES ('S', 's@example.com', 'x')"
                " RETURNING id"
            ).fetchone()[0]
            ledger = conn.execute(
                "INSERT INTO ledgers (name, currency, timezone) VALUES ('L', 'USD', 'UTC')"
                " RETURNING id"
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO ledger_members (ledger_id, user_id, role, is_default)"
                " VALUES (%s, %s, 'owner', true)",
                (ledger, user),
            )
            a, b = (
                conn.execute(
                    "INSERT INTO categories (ledger_id, name) VALUES (%s, %s) RETURNING id",
                    (ledger, name),
                ).fetchone()[0]
                for name in ("A", "B")
            )
            conn.execute(
                "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on)"
                " VALUES (%s, %s, 'EXPENSE', 5, '2026-01-02')",
                (ledger, a),
            )
            split = conn.execute(
                "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on)"
                " VALUES (%s, NULL, 'EXPENSE', 3, '2026-01-02') RETURNING id",
                (ledger,),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO transaction_splits (ledger_id, transaction_id, line_no, category_id,"
                " amount, occurred_on, type) VALUES (%(l)s, %(t)s, 1, %(a)s, 1, '-infinity',"
                " 'EXPENSE'), (%(l)s, %(t)s, 2, %(b)s, 2, '-infinity', 'EXPENSE')",
                {"l": ledger, "t": split, "a": a, "b": b},
            )
        with pytest.raises(psycopg.errors.RaiseException, match="split transactions exist"):
            rollback_migrations(url, count=1)
        assert _has_column(url, "transactions", "payee_id")
        with psycopg.connect(url) as conn:
            conn.execute("DELETE FROM transaction_splits WHERE transaction_id = %s", (split,))
            conn.execute("UPDATE transactions SET category_id = %s WHERE id = %s", (b, split))
        assert rollback_migrations(url, count=1) == ["0017.splits-payees-tags"]
        assert not _has_column(url, "transactions", "payee_id")
        with psycopg.connect(url) as conn:
            totals = conn.execute(
                "SELECT category_id, amount FROM monthly_totals WHERE amount > 0 ORDER BY 1"
            ).fetchall()
        assert totals == [(a, 5), (b, 3)]
