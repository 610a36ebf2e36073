"""Calls into the import service as the tests make them (each in a transaction of its own, as
a door's): shared by the import and foreign-row tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from expense_api.domain.bankfiles import Row
from expense_api.services import ledgers
from expense_api.services.imports import commits, previews


def actor_of(conn, user):
    return ledgers.actor_in(conn, user_id=user.id, ledger_id=user.ledger_id)


def bank_row(line, day, amount, **extra) -> Row:
    """A bank file's row of March 2026."""
    return Row(line=line, date=date(2026, 3, day), amount=Decimal(amount), **extra)


def preview(conn, user, parsed, account="checking"):
    with conn.transaction():
        return previews.create(conn, actor_of(conn, user), parsed, account=account, file_name="f")


def commit(conn, user, import_id, overrides=None):
    with conn.transaction():
        return commits.commit(conn, actor_of(conn, user), import_id, overrides)
