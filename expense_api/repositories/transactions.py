from __future__ import annotations

from datetime import date
from decimal import Decimal

from psycopg import Connection

from ..db.pool import Batch, Pending
from ..db.sqlfiles import queries
from . import by_ledger

# The fields a client gives (the rest are the service's: id, created_at, created_by).
FIELDS = ("category_id", "type", "amount", "description", "occurred_on")


def allocate_later(batch: Batch, *, ledger_id: int, category_id: int, created_by: int) -> Pending:
    """A new transaction's id and creation time, its category's name (None: not the ledger's)
    and its recorder's name, queued in a batch (sql/transactions.sql, allocate)."""
    return queries.transactions.allocate.later(
        batch, ledger_id=ledger_id, category_id=category_id, created_by=created_by
    )


def insert_later(batch: Batch, *, ledger_id: int, row: dict) -> Pending:
    """Inserts an allocated transaction (`row`: its id, created_at, created_by and the input
    fields), queued in a batch."""
    return queries.transactions.insert.later(
        batch,
        ledger_id=ledger_id,
        id=row["id"],
        created_at=row["created_at"],
        created_by=row["created_by"]["id"],
        **{field: row[field] for field in FIELDS},
    )


def get(conn: Connection, *, ledger_id: int, transaction_id: int) -> dict | None:
    return queries.transactions.get_by_id(conn, ledger_id=ledger_id, id=transaction_id)


def get_for_update(conn: Connection, *, ledger_id: int, transaction_id: int) -> dict | None:
    return queries.transactions.get_for_update(conn, ledger_id=ledger_id, id=transaction_id)


def update(conn: Connection, *, ledger_id: int, transaction_id: int, values: dict) -> dict:
    return queries.transactions.update(conn, ledger_id=ledger_id, id=transaction_id, **values)


def delete(conn: Connection, *, ledger_id: int, transaction_id: int) -> dict | None:
    return queries.transactions.delete(conn, ledger_id=ledger_id, id=transaction_id)


def first_date(conn: Connection, *, ledger_id: int) -> date | None:
    return queries.transactions.first_date(conn, ledger_id=ledger_id)


def first_dates(conn: Connection, *, ledger_ids: list[int]) -> dict[int, date | None]:
    rows = queries.transactions.first_dates(conn, ledger_ids=ledger_ids)
    return {row["ledger_id"]: row["first_date"] for row in rows}


def list_page(
    conn: Connection,
    *,
    ledger_id: int,
    date_from: date,
    date_to: date,
    limit: int,
    after: tuple[date, int] | None = None,
    type: str | None = None,
    category_id: int | None = None,
    q: str | None = None,
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    payee: str | None = None,
    tags: list[str] | None = None,
) -> list[dict]:
    """Up to `limit` rows of the ledger between date_from and date_to, newest first, after a
    keyset position (date, id); each filter None (tags: None or empty) is not applied.
    category_id matches the transaction's category or one of its split lines."""
    after_date, after_id = after if after else (None, None)
    return queries.transactions.list_page(
        conn,
        ledger_id=ledger_id,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        after_date=after_date,
        after_id=after_id,
        type=type,
        category_id=category_id,
        q=q,
        min_amount=min_amount,
        max_amount=max_amount,
        payee=payee,
        tags=tags or None,
    )


def pages_for_ledgers(
    conn: Connection,
    *,
    periods: dict[int, tuple[date, date]],
    limit: int,
    after: tuple[date, int] | None = None,
    type: str | None = None,
    category_id: int | None = None,
    q: str | None = None,
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    payee: str | None = None,
    tags: list[str] | None = None,
) -> dict[int, list[dict]]:
    """Up to `limit` rows of each ledger's period {ledger_id: (first day, last day)}, with
    list_page's filters."""
    ledger_ids = list(periods)
    after_date, after_id = after if after else (None, None)
    rows = queries.transactions.pages_for_ledgers(
        conn,
        ledger_ids=ledger_ids,
        date_froms=[periods[i][0] for i in ledger_ids],
        date_tos=[periods[i][1] for i in ledger_ids],
        limit=limit,
        after_date=after_date,
        after_id=after_id,
        type=type,
        category_id=category_id,
        q=q,
        min_amount=min_amount,
        max_amount=max_amount,
        payee=payee,
        tags=tags or None,
    )
    return by_ledger(rows, ledger_ids)
