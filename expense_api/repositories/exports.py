"""A ledger's contents read for an export (page by page, in one snapshot the caller opens) and
written back set-based for a restore (sql/exports.sql)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from psycopg import Connection

from ..db.sqlfiles import queries

PAGE_SIZE = 1000  # transactions per statement of an export: memory stays one page


def ledger(conn: Connection, *, ledger_id: int) -> dict:
    return queries.exports.ledger(conn, ledger_id=ledger_id)


def lists(conn: Connection, *, ledger_id: int) -> dict[str, list[dict]]:
    """The ledger's small lists: categories, payees, tags, budgets, recurring rules, rules."""
    names = ("categories", "payees", "tags", "budgets", "recurring", "rules")
    return {name: getattr(queries.exports, name)(conn, ledger_id=ledger_id) for name in names}


def span(conn: Connection, *, ledger_id: int, date_from: date, date_to: date) -> dict:
    """{first, last, balance} of the transactions in the period (first/last None: none)."""
    return queries.exports.span(conn, ledger_id=ledger_id, date_from=date_from, date_to=date_to)


def transactions(
    conn: Connection, *, ledger_id: int, date_from: date, date_to: date
) -> Iterator[dict]:
    """The period's transactions, oldest first, read a keyset page (PAGE_SIZE) at a time."""
    page_size = PAGE_SIZE
    after_date, after_id = date.min, 0
    while True:
        rows = queries.exports.transactions_page(
            conn, ledger_id=ledger_id, date_from=date_from, date_to=date_to,
            after_date=after_date, after_id=after_id, limit=page_size,
        )  # fmt: skip
        yield from rows
        if len(rows) < page_size:
            return
        after_date, after_id = rows[-1]["occurred_on"], rows[-1]["id"]


def rates(conn: Connection, *, ledger_id: int) -> Iterator[list[dict]]:
    """The ledger's rates by currency then day, a keyset page (PAGE_SIZE) at a time."""
    after_currency, after_day = "", date.min
    while True:
        rows = queries.exports.rates_page(
            conn, ledger_id=ledger_id, after_currency=after_currency, after_day=after_day,
            limit=PAGE_SIZE,
        )  # fmt: skip
        if rows:
            yield rows
        if len(rows) < PAGE_SIZE:
            return
        after_currency, after_day = rows[-1]["currency"], rows[-1]["day"]


def insert_named(conn: Connection, what: str, *, ledger_id: int, names: list[str]) -> dict:
    """Inserts categories, payees or tags (`what`) by name; {lower(name): new id}."""
    if not names:
        return {}
    rows = getattr(queries.exports, f"insert_{what}")(conn, ledger_id=ledger_id, names=names)
    return {row["name"].lower(): row["id"] for row in rows}


def allocate_transaction_ids(conn: Connection, count: int) -> list[int]:
    if not count:
        return []
    return [row["id"] for row in queries.exports.allocate_transaction_ids(conn, count=count)]


def insert_transactions(conn: Connection, *, ledger_id: int, created_by: int, columns: dict):
    if columns["ids"]:
        queries.exports.insert_transactions(
            conn, ledger_id=ledger_id, created_by=created_by, **columns
        )


def insert_splits(conn: Connection, *, ledger_id: int, columns: dict) -> None:
    if columns["transaction_ids"]:
        queries.exports.insert_splits(conn, ledger_id=ledger_id, **columns)


def insert_transaction_tags(conn: Connection, *, ledger_id: int, columns: dict) -> None:
    if columns["transaction_ids"]:
        queries.exports.insert_transaction_tags(conn, ledger_id=ledger_id, **columns)


def insert_budgets(conn: Connection, *, ledger_id: int, columns: dict) -> None:
    if columns["category_ids"]:
        queries.exports.insert_budgets(conn, ledger_id=ledger_id, **columns)


def insert_recurring(conn: Connection, *, ledger_id: int, acts_as: int, columns: dict) -> None:
    if columns["category_ids"]:
        queries.exports.insert_recurring(conn, ledger_id=ledger_id, acts_as=acts_as, **columns)


def insert_rates(conn: Connection, *, ledger_id: int, columns: dict) -> list[dict]:
    """The rates written: {id, currency, day, rate, old_rate (None)} each."""
    if not columns["currencies"]:
        return []
    return queries.exports.insert_rates(conn, ledger_id=ledger_id, **columns)
