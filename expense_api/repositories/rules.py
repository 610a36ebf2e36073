"""Rules (sql/rules.sql): a ledger's ordered rules, and what `apply` runs one over.

A row comes back as the service and the REST shape read it: `match` with its amounts as
Decimals (stored as exact strings in the jsonb), and `set` as {"categoryId", "payee", "tags"}
(null where the rule leaves that alone)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from psycopg import Connection
from psycopg.types.json import Jsonb

from ..db.sqlfiles import queries
from ..domain.errors import ValidationFailed
from .integrity import refusing

AMOUNT_KEYS = ("amountMin", "amountMax")
SET_CATEGORY_FKEY = "rules_ledger_id_set_category_id_fkey"


def _category_must_exist():
    return refusing(
        {SET_CATEGORY_FKEY: ValidationFailed({"set.categoryId": ["No such category."]})}
    )


def shown(row: dict | None) -> dict | None:
    """A row of the rules table as the service reads it (see the module's docstring)."""
    if row is None:
        return None
    match = {
        key: Decimal(value) if key in AMOUNT_KEYS else value for key, value in row["match"].items()
    }
    return {
        "id": row["id"],
        "ledger_id": row["ledger_id"],
        "position": row["position"],
        "match": match,
        "set": {
            "categoryId": row["set_category_id"],
            "payee": row["set_payee"],
            "tags": row["set_tags"],
        },
        "created_at": row["created_at"],
    }


def _columns(match: dict, set_: dict) -> dict:
    stored = {key: str(value) if key in AMOUNT_KEYS else value for key, value in match.items()}
    return {
        "match": Jsonb(stored),
        "set_category_id": set_.get("categoryId"),
        "set_payee": set_.get("payee"),
        "set_tags": set_.get("tags"),
    }


def lock_ledger(conn: Connection, *, ledger_id: int) -> bool:
    """Locks the ledger for a change of its rules; False when it does not exist."""
    return queries.rules.lock_ledger(conn, ledger_id=ledger_id) is not None


def count_for_ledger(conn: Connection, *, ledger_id: int) -> int:
    return queries.rules.count_for_ledger(conn, ledger_id=ledger_id)


def list_for_ledger(conn: Connection, *, ledger_id: int) -> list[dict]:
    return [shown(row) for row in queries.rules.list_for_ledger(conn, ledger_id=ledger_id)]


def get(conn: Connection, *, ledger_id: int, rule_id: int) -> dict | None:
    return shown(queries.rules.get_by_id(conn, ledger_id=ledger_id, id=rule_id))


def insert(conn: Connection, *, ledger_id: int, position: int, match: dict, set_: dict) -> dict:
    with _category_must_exist():
        row = queries.rules.insert(
            conn, ledger_id=ledger_id, position=position, **_columns(match, set_)
        )
    return shown(row)


def update(
    conn: Connection, *, ledger_id: int, rule_id: int, position: int, match: dict, set_: dict
) -> dict:
    with _category_must_exist():
        row = queries.rules.update(
            conn, ledger_id=ledger_id, id=rule_id, position=position, **_columns(match, set_)
        )
    return shown(row)


def shift(
    conn: Connection, *, ledger_id: int, first: int, last: int, step: int, except_id: int = 0
) -> list[dict]:
    """Moves the rules at positions first..last (but except_id) by step; the moved ones."""
    rows = queries.rules.shift(
        conn, ledger_id=ledger_id, first=first, last=last, step=step, except_id=except_id
    )
    return [shown(row) for row in rows]


def delete(conn: Connection, *, ledger_id: int, rule_id: int) -> dict | None:
    return shown(queries.rules.delete(conn, ledger_id=ledger_id, id=rule_id))


def uncategorized_id(conn: Connection, *, ledger_id: int) -> int | None:
    return queries.rules.uncategorized_id(conn, ledger_id=ledger_id)


def transactions_to_apply(
    conn: Connection,
    *,
    ledger_id: int,
    date_from: date,
    date_to: date,
    only_category: int | None,
) -> list[dict]:
    return queries.rules.transactions_to_apply(
        conn,
        ledger_id=ledger_id,
        date_from=date_from,
        date_to=date_to,
        only_category=only_category,
    )
