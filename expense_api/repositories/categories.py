from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries
from ..domain.errors import Conflict
from . import by_ledger
from .integrity import CATEGORY_REFERENCES, refusing


class CategoryExists(Conflict):
    code = "category_exists"


class CategoryInUse(Conflict):
    code = "category_in_use"


def _name_taken(name: str):
    return refusing(
        {
            "categories_ledger_name_key": CategoryExists(
                f"This ledger has a category named {name!r}."
            )
        }
    )


def insert(conn: Connection, *, ledger_id: int, name: str) -> dict:
    with _name_taken(name):
        return queries.categories.insert(conn, ledger_id=ledger_id, name=name)


def list_for_ledger(conn: Connection, *, ledger_id: int) -> list[dict]:
    return queries.categories.list_for_ledger(conn, ledger_id=ledger_id)


def list_for_ledgers(conn: Connection, *, ledger_ids: list[int]) -> dict[int, list[dict]]:
    rows = queries.categories.list_for_ledgers(conn, ledger_ids=ledger_ids)
    return by_ledger(rows, ledger_ids)


def get(conn: Connection, *, ledger_id: int, category_id: int) -> dict | None:
    return queries.categories.get_by_id(conn, ledger_id=ledger_id, id=category_id)


def get_for_update(conn: Connection, *, ledger_id: int, category_id: int) -> dict | None:
    return queries.categories.get_for_update(conn, ledger_id=ledger_id, id=category_id)


def rename(conn: Connection, *, ledger_id: int, category_id: int, name: str) -> dict | None:
    with _name_taken(name):
        return queries.categories.rename(conn, ledger_id=ledger_id, id=category_id, name=name)


def delete(conn: Connection, *, ledger_id: int, category_id: int) -> dict | None:
    """The deleted category; None when there was none."""
    in_use = CategoryInUse(
        "Transactions, budgets or recurring rules use this category; move or delete them first."
    )
    with refusing(dict.fromkeys(CATEGORY_REFERENCES, in_use)):
        return queries.categories.delete(conn, ledger_id=ledger_id, id=category_id)
