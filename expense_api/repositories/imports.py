"""Imports and their rows (sql/imports.sql): a preview staged in one statement, a commit that
writes every row set-based, and the reads of both."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from psycopg import Connection
from psycopg.types.json import Jsonb

from ..db.sqlfiles import queries

ROW_COLUMNS = (
    "line", "occurred_on", "amount", "type", "payee", "description", "bank_id", "import_key",
    "currency", "category_id", "category_name", "tags", "splits", "decision", "transaction_id",
    "reason", "rate",
)  # fmt: skip
_PLURAL = {
    "line": "lines", "occurred_on": "dates", "amount": "amounts", "type": "types",
    "payee": "payees", "description": "descriptions", "bank_id": "bank_ids",
    "import_key": "import_keys", "currency": "currencies", "category_id": "category_ids",
    "category_name": "category_names", "tags": "tags", "splits": "splits",
    "decision": "decisions", "transaction_id": "transaction_ids", "reason": "reasons",
    "rate": "rates",
}  # fmt: skip


def insert(conn: Connection, *, ledger_id: int, created_by: int, **fields) -> dict:
    return queries.imports.insert(conn, ledger_id=ledger_id, created_by=created_by, **fields)


def stage_rows(conn: Connection, *, ledger_id: int, import_id: int, rows: list[dict]) -> int:
    """Writes the rows (dicts with ROW_COLUMNS) in one statement."""
    columns = {_PLURAL[column]: [row[column] for row in rows] for column in ROW_COLUMNS}
    columns["tags"] = [Jsonb(list(tags)) for tags in columns["tags"]]
    columns["splits"] = [None if lines is None else Jsonb(lines) for lines in columns["splits"]]
    return queries.imports.stage_rows(conn, ledger_id=ledger_id, import_id=import_id, **columns)


def known_bank_ids(conn, *, ledger_id: int, account: str, bank_ids: list[str]) -> dict[str, int]:
    rows = queries.imports.known_bank_ids(
        conn, ledger_id=ledger_id, account=account, bank_ids=bank_ids
    )
    return {row["bank_id"]: row["id"] for row in rows}


def known_import_keys(conn, *, ledger_id: int, account: str, keys: list[str]) -> dict[str, int]:
    rows = queries.imports.known_import_keys(
        conn, ledger_id=ledger_id, account=account, import_keys=keys
    )
    return {row["import_key"]: row["id"] for row in rows}


def hand_entered_near(
    conn,
    *,
    ledger_id: int,
    ledger_currency: str,
    amounts: list[Decimal],
    foreign: list[tuple[str, Decimal]],
    first: date,
    last: date,
) -> list[dict]:
    """Hand-entered transactions a row may match: in the ledger's currency with one of
    `amounts`, or with one of the (currency, amount in it) pairs `foreign`; each with its
    `currency` and `amount` in it."""
    return queries.imports.hand_entered_near(
        conn, ledger_id=ledger_id, ledger_currency=ledger_currency, amounts=amounts,
        currencies=[currency for currency, _ in foreign],
        foreign_amounts=[amount for _, amount in foreign], first=first, last=last,
    )  # fmt: skip


def rates_on(
    conn: Connection, *, ledger_id: int, pairs: list[tuple[str, date]]
) -> dict[tuple[str, date], Decimal]:
    """{(currency, day): the ledger's rate of that day} for the pairs that have one."""
    rows = queries.imports.rates_on(
        conn,
        ledger_id=ledger_id,
        currencies=[currency for currency, _ in pairs],
        days=[day for _, day in pairs],
    )
    return {(row["currency"], row["day"]): row["rate"] for row in rows}


def categories_by_name(conn: Connection, *, ledger_id: int) -> dict[str, dict]:
    """{lower-case name: {id, name}} of the ledger's categories."""
    return {row["key"]: row for row in queries.imports.category_ids(conn, ledger_id=ledger_id)}


def get(conn: Connection, *, ledger_id: int, import_id: int) -> dict | None:
    return queries.imports.get(conn, ledger_id=ledger_id, id=import_id)


def lock(conn: Connection, *, ledger_id: int, import_id: int) -> str | None:
    """Locks the import; its status (None: no such import in the ledger)."""
    return queries.imports.lock(conn, ledger_id=ledger_id, id=import_id)


def list_ids(conn: Connection, *, ledger_id: int, limit: int, before_id: int | None) -> list[int]:
    rows = queries.imports.list_page(conn, ledger_id=ledger_id, limit=limit, before_id=before_id)
    return [row["id"] for row in rows]


def rows_page(conn, *, ledger_id: int, import_id: int, decision, after_line: int, limit: int):
    return queries.imports.rows_page(
        conn, ledger_id=ledger_id, import_id=import_id, decision=decision,
        after_line=after_line, limit=limit,
    )  # fmt: skip


def set_overrides(conn: Connection, *, ledger_id: int, import_id: int, overrides: list[dict]):
    queries.imports.set_overrides(
        conn, ledger_id=ledger_id, import_id=import_id,
        lines=[o["line"] for o in overrides], skips=[o["skip"] for o in overrides],
        make_new=[o["make_new"] for o in overrides],
        category_ids=[o["category_id"] for o in overrides],
    )  # fmt: skip


def ensure_categories(conn: Connection, *, ledger_id: int, names: list[str]) -> list[dict]:
    return queries.imports.ensure_categories(conn, ledger_id=ledger_id, names=names)


def write_rows(
    conn: Connection, *, ledger_id: int, import_id: int, account: str, created_by: int, digits: int
):
    """The commit's writes, each one statement for all rows: payees and tags made, the new
    transactions (their totals deferred, then added in one ordered upsert), their lines and
    tags, the row -> transaction links. `digits`: the ledger currency's fraction digits (a row
    in another currency is converted to them)."""
    ids = {"ledger_id": ledger_id, "import_id": import_id}
    queries.imports.ensure_payees(conn, **ids)
    queries.imports.ensure_tags(conn, **ids)
    queries.totals.defer_for_transaction(conn)
    queries.imports.insert_transactions(
        conn, **ids, account=account, created_by=created_by, digits=digits
    )
    _link_created(conn, **ids)
    queries.imports.mark_imported_meanwhile(conn, **ids)
    queries.imports.insert_splits(conn, **ids)
    queries.imports.insert_tags(conn, **ids)
    queries.totals.keep_for_transaction(conn)
    queries.imports.totals_of_new_rows(conn, **ids)


def _link_created(conn: Connection, *, ledger_id: int, import_id: int) -> None:
    """Each new row's transaction, paired by its bank id or import key here rather than by a
    join: a join of the import's rows to its transactions in the commit's own transaction
    has no statistics for either side (both just written), and a planner that walks one side
    once per row of the other made a commit of 3,000 rows take 5 s (bench/imports.py)."""
    ids = {"ledger_id": ledger_id, "import_id": import_id}
    written = queries.imports.written_keys(conn, **ids)
    by_bank = {row["bank_id"]: row["id"] for row in written if row["bank_id"] is not None}
    by_key = {row["import_key"]: row["id"] for row in written if row["bank_id"] is None}
    lines, transaction_ids = [], []
    for row in queries.imports.new_row_keys(conn, **ids):
        found = by_bank.get(row["bank_id"]) if row["bank_id"] else by_key.get(row["import_key"])
        if found is not None:
            lines.append(row["line"])
            transaction_ids.append(found)
    if lines:
        queries.imports.set_transaction_ids(conn, **ids, lines=lines, ids=transaction_ids)


def category_names_needed(conn: Connection, *, ledger_id: int, import_id: int) -> list[str]:
    rows = queries.imports.category_names_needed(conn, ledger_id=ledger_id, import_id=import_id)
    return [row["name"] for row in rows]


def link_matches(conn: Connection, *, ledger_id: int, import_id: int, account: str) -> list[int]:
    rows = queries.imports.link_matches(
        conn, ledger_id=ledger_id, import_id=import_id, account=account
    )
    return [row["id"] for row in rows]


def raised_scopes(conn: Connection, *, ledger_id: int, import_id: int) -> list[dict]:
    return queries.imports.created_scopes(conn, ledger_id=ledger_id, import_id=import_id)


def created_ids(conn: Connection, *, ledger_id: int, import_id: int) -> list[int]:
    rows = queries.imports.created_ids(conn, ledger_id=ledger_id, import_id=import_id)
    return [row["id"] for row in rows]


def set_committed(conn: Connection, *, ledger_id: int, import_id: int, over_budget: list) -> None:
    queries.imports.set_committed(
        conn, ledger_id=ledger_id, id=import_id, over_budget=Jsonb(over_budget)
    )


def set_status(conn, *, ledger_id: int, import_id: int, status: str, kept=None) -> None:
    queries.imports.set_status(
        conn, ledger_id=ledger_id, id=import_id, status=status,
        kept=None if kept is None else json.dumps(kept),
    )  # fmt: skip


def created_for_undo(conn: Connection, *, ledger_id: int, import_id: int) -> list[dict]:
    return queries.imports.undo_split_created(conn, ledger_id=ledger_id, import_id=import_id)


def delete_transactions(conn: Connection, *, ledger_id: int, ids: list[int]) -> None:
    queries.imports.delete_transactions(conn, ledger_id=ledger_id, ids=ids)


def unlink_matches(conn: Connection, *, ledger_id: int, import_id: int) -> list[int]:
    rows = queries.imports.unlink_matches(conn, ledger_id=ledger_id, import_id=import_id)
    return [row["id"] for row in rows]
