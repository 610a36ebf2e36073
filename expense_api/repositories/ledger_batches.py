"""Reads of many ledgers at once (sql/ledger_batches.sql): one statement for a whole list of
ledgers, rows grouped by ledger id. Callers pass only ledgers the acting user belongs to."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from psycopg import Connection

from ..sqlfiles import queries


def _by_ledger(rows: list[dict], ledger_ids: list[int]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row.pop("ledger_id")].append(row)
    return {ledger_id: grouped.get(ledger_id, []) for ledger_id in ledger_ids}


def categories(conn: Connection, *, ledger_ids: list[int]) -> dict[int, list[dict]]:
    return _by_ledger(queries.ledger_batches.categories(conn, ledger_ids=ledger_ids), ledger_ids)


def budgets(
    conn: Connection, *, ledger_ids: list[int], year: int | None, month: int | None
) -> dict[int, list[dict]]:
    rows = queries.ledger_batches.budgets(conn, ledger_ids=ledger_ids, year=year, month=month)
    return _by_ledger(rows, ledger_ids)


def members(conn: Connection, *, ledger_ids: list[int]) -> dict[int, list[dict]]:
    return _by_ledger(queries.ledger_batches.members(conn, ledger_ids=ledger_ids), ledger_ids)


def transaction_pages(
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
) -> dict[int, list[dict]]:
    """Up to `limit` rows of each ledger's period {ledger_id: (first day, last day)}."""
    ledger_ids = list(periods)
    after_date, after_id = after if after else (None, None)
    rows = queries.ledger_batches.transaction_pages(
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
    )
    return _by_ledger(rows, ledger_ids)
