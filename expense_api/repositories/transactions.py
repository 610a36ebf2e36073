from __future__ import annotations

from datetime import date
from decimal import Decimal

from psycopg import Connection

from ..db.pool import Batch, Pending
from ..db.sqlfiles import queries
from . import by_ledger

# The fields of the transactions row a client gives (the rest are the service's: id,
# created_at, created_by); the payee, tags and split lines are written by their own statements.
FIELDS = ("category_id", "type", "amount", "description", "occurred_on", "currency", "rate")


def _columns(row: dict) -> dict:
    """The row's columns from a transaction's state: `amount` in the ledger's currency (its
    `ledger_amount`), the amount given kept as `foreign_amount` when in another currency."""
    columns = {field: row[field] for field in FIELDS}
    columns["amount"] = row["ledger_amount"]
    columns["foreign_amount"] = row["amount"] if row["currency"] is not None else None
    return columns


def allocate_later(
    batch: Batch,
    *,
    ledger_id: int,
    category_id: int | None,
    split_category_ids: list[int],
    created_by: int,
    payee: str | None,
    tags: list[str],
) -> Pending:
    """A new transaction's id and creation time, the names of its category and its lines'
    categories (None: not the ledger's), its recorder's name and the names its payee and tags
    already have in the ledger, queued in a batch (sql/transactions.sql, allocate)."""
    return queries.transactions.allocate.later(
        batch,
        ledger_id=ledger_id,
        category_id=category_id,
        split_category_ids=split_category_ids,
        created_by=created_by,
        payee=payee,
        tags=tags,
    )


def category_names(conn: Connection, *, ledger_id: int, ids: list[int]) -> dict[int, str]:
    """{id: name} of the ledger's categories among `ids`."""
    rows = queries.transactions.category_names(conn, ledger_id=ledger_id, ids=ids)
    return {row["id"]: row["name"] for row in rows}


def insert_later(batch: Batch, *, ledger_id: int, row: dict, created_by: int) -> None:
    """Inserts the transaction that allocate_later drew an id for, earlier in the same batch
    (`row`: the input fields, payee, tags and splits), with its payee, tags and lines."""
    _ensure_names_later(batch, ledger_id=ledger_id, row=row)
    queries.transactions.insert.later(
        batch, ledger_id=ledger_id, created_by=created_by, payee=row["payee"], **_columns(row)
    )
    _insert_parts_later(batch, ledger_id=ledger_id, row={**row, "id": None})


def lock_and_get_later(batch: Batch, *, ledger_id: int, transaction_id: int) -> Pending:
    """Locks the transaction (until the end of the database transaction) and reads it as
    get() shows it, in one batch; the Pending's value is the row, None when there is none."""
    queries.transactions.lock.later(batch, ledger_id=ledger_id, id=transaction_id)
    return queries.transactions.get_by_id.later(batch, ledger_id=ledger_id, id=transaction_id)


def update_later(
    batch: Batch, *, ledger_id: int, row: dict, splits_changed: bool, tags_changed: bool
) -> Pending:
    """Writes a changed transaction (`row`: the whole new state), replacing its lines and
    tags when they changed; the Pending reads it back as get() shows it."""
    _ensure_names_later(batch, ledger_id=ledger_id, row=row)
    # Old lines go before the row changes: a new date or type would otherwise move them first,
    # through totals rows that neither the old nor the new state counts under.
    if splits_changed:
        queries.transactions.delete_splits.later(batch, ledger_id=ledger_id, id=row["id"])
    queries.transactions.update.later(
        batch,
        ledger_id=ledger_id,
        id=row["id"],
        payee=row["payee"],
        **_columns(row),
    )
    if tags_changed:
        queries.transactions.delete_tags.later(batch, ledger_id=ledger_id, id=row["id"])
    _insert_parts_later(
        batch,
        ledger_id=ledger_id,
        row={
            "id": row["id"],
            "currency": row["currency"],
            "splits": row["splits"] if splits_changed else [],
            "tags": row["tags"] if tags_changed else [],
        },
    )
    return queries.transactions.get_by_id.later(batch, ledger_id=ledger_id, id=row["id"])


def delete_later(batch: Batch, *, ledger_id: int, transaction_id: int) -> Pending:
    """Deletes the transaction (its lines and tags with it), queued in a batch."""
    return queries.transactions.delete.later(batch, ledger_id=ledger_id, id=transaction_id)


def _ensure_names_later(batch: Batch, *, ledger_id: int, row: dict) -> None:
    if row["payee"] is not None:
        queries.transactions.ensure_payee.later(batch, ledger_id=ledger_id, name=row["payee"])
    if row["tags"]:
        queries.transactions.ensure_tags.later(batch, ledger_id=ledger_id, names=row["tags"])


def _insert_parts_later(batch: Batch, *, ledger_id: int, row: dict) -> None:
    lines = row["splits"]
    if lines:
        queries.transactions.insert_splits.later(
            batch,
            ledger_id=ledger_id,
            id=row["id"],
            category_ids=[line["category_id"] for line in lines],
            amounts=[line["ledger_amount"] for line in lines],
            memos=[line.get("memo") for line in lines],
            foreign_amounts=[
                line["amount"] if row["currency"] is not None else None for line in lines
            ],
        )
    if row["tags"]:
        queries.transactions.insert_tags.later(
            batch, ledger_id=ledger_id, id=row["id"], names=row["tags"]
        )


def get(conn: Connection, *, ledger_id: int, transaction_id: int) -> dict | None:
    return queries.transactions.get_by_id(conn, ledger_id=ledger_id, id=transaction_id)


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
