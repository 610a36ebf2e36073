from __future__ import annotations

import json
from decimal import Decimal

import psycopg
from psycopg import Connection

from ..db.pool import Batch, Pending
from ..db.sqlfiles import queries
from . import by_ledger


def upsert(conn: Connection, *, ledger_id: int, values: dict) -> dict:
    """`values`' mode, alert_threshold and rollover None (or absent): the defaults on creation,
    unchanged on update."""
    return queries.budgets.upsert(
        conn, ledger_id=ledger_id, **{"mode": None, "alert_threshold": None, "rollover": None,
                                      **values}
    )  # fmt: skip


def list_for_ledger(conn: Connection, *, ledger_id: int, year=None, month=None) -> list[dict]:
    return queries.budgets.list_for_ledger(conn, ledger_id=ledger_id, year=year, month=month)


def list_for_ledgers(
    conn: Connection, *, ledger_ids: list[int], year=None, month=None
) -> dict[int, list[dict]]:
    rows = queries.budgets.list_for_ledgers(conn, ledger_ids=ledger_ids, year=year, month=month)
    return by_ledger(rows, ledger_ids)


def get(conn: Connection, *, ledger_id: int, budget_id: int) -> dict | None:
    return queries.budgets.get_by_id(conn, ledger_id=ledger_id, id=budget_id)


def get_by_scope(conn: Connection, *, ledger_id: int, year: int, month: int, category_id):
    return queries.budgets.get_by_scope(
        conn, ledger_id=ledger_id, year=year, month=month, category_id=category_id
    )


def delete(conn: Connection, *, ledger_id: int, budget_id: int) -> dict | None:
    """The deleted budget; None when there was none."""
    return queries.budgets.delete(conn, ledger_id=ledger_id, id=budget_id)


def lock_scope_exclusive(conn: Connection, *, ledger_id: int) -> None:
    queries.budgets.lock_scope_exclusive(conn, ledger_id=ledger_id)


def _scope_arrays(scopes) -> dict:
    return {
        "years": [scope.year for scope in scopes],
        "months": [scope.month for scope in scopes],
        "category_ids": [scope.category_id for scope in scopes],
    }


def lock_and_read_chains_later(batch: Batch, *, ledger_id: int, scopes) -> tuple[Pending, Pending]:
    """The budgets a write into `scopes` touches, locked (each scope's month and the later
    months of its rollover chain), and every month of those chains with what it spent, queued
    in a batch: the scope lock (shared), then the row locks, then the read, each a statement of
    its own, in this order, so the read runs once the locks are granted and sees every write
    committed before they were. Their values: (locked budgets, chain months by scope_no)."""
    arrays = _scope_arrays(scopes)
    queries.budgets.lock_scope_shared.later(batch, ledger_id=ledger_id)
    locked = queries.budgets.lock_chains.later(batch, ledger_id=ledger_id, **arrays)
    months = queries.budgets.chains.later(
        batch, ledger_ids=[ledger_id] * len(scopes), forward=True, **arrays
    )
    return locked, months


def enforce_later(
    batch: Batch,
    *,
    ledger_id: int,
    scopes,
    before: list[Decimal],
    after: list[Decimal],
) -> Pending:
    """The budget rule of a write (sql/budgets.sql, enforce), queued in a batch: `scopes` each
    with what the write's old state (`before`) and new state (`after`) spend there. Its value:
    the alerts it fired; a refusal fails the batch (SQLSTATE EB409, its figures in the DETAIL)."""
    return queries.budgets.enforce.later(
        batch, ledger_id=ledger_id, before=before, after=after, **_scope_arrays(scopes)
    )


# enforce_budgets' refusal (migration 0024): its SQLSTATE, and the figures of its DETAIL (JSON)
# that are amounts, sent as exact decimal strings.
REFUSED = "EB409"
_REFUSAL_AMOUNTS = (
    "amount", "carried", "available_before", "available", "spent_before", "spent_after",
    "own_before",
)  # fmt: skip


def refusal_figures(error: BaseException) -> dict | None:
    """The figures of the budget rule's refusal (the refused budget's id, category_id, year and
    month, and its amounts as Decimals); None when `error` is anything else."""
    if not isinstance(error, psycopg.Error) or error.sqlstate != REFUSED:
        return None
    # Amounts arrive as exact decimal strings; parse_float keeps any number off float too.
    figures = json.loads(error.diag.message_detail, parse_float=Decimal)
    return {
        key: Decimal(value) if key in _REFUSAL_AMOUNTS else value for key, value in figures.items()
    }


def chains(conn: Connection, *, ledger_id: int, scopes, forward: bool) -> list[dict]:
    """Each scope's rollover chain with what each month spent, carried and has available
    (sql/budgets.sql, chains)."""
    return queries.budgets.chains(
        conn, ledger_ids=[ledger_id] * len(scopes), forward=forward, **_scope_arrays(scopes)
    )


def chains_for_ledgers(conn: Connection, *, scopes: list[tuple]) -> list[dict]:
    """chains(forward=False) for scopes of several ledgers: (ledger_id, year, month,
    category_id) each."""
    return queries.budgets.chains(
        conn,
        ledger_ids=[scope[0] for scope in scopes],
        years=[scope[1] for scope in scopes],
        months=[scope[2] for scope in scopes],
        category_ids=[scope[3] for scope in scopes],
        forward=False,
    )
