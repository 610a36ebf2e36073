from __future__ import annotations

from psycopg import Connection

from ..errors import Conflict
from ..sqlfiles import queries
from .integrity import CATEGORY_REFERENCES, refusing


class CategoryExists(Conflict):
    code = "category_exists"


class CategoryInUse(Conflict):
    code = "category_in_use"


def _name_taken(name: str):
    return refusing(
        {"categories_user_name_key": CategoryExists(f"You already have a category named {name!r}.")}
    )


def insert(conn: Connection, *, user_id: int, name: str) -> dict:
    with _name_taken(name):
        return queries.categories.insert(conn, user_id=user_id, name=name)


def list_for_user(conn: Connection, *, user_id: int) -> list[dict]:
    return queries.categories.list_for_user(conn, user_id=user_id)


def get(conn: Connection, *, user_id: int, category_id: int) -> dict | None:
    return queries.categories.get_by_id(conn, user_id=user_id, id=category_id)


def rename(conn: Connection, *, user_id: int, category_id: int, name: str) -> dict | None:
    with _name_taken(name):
        return queries.categories.rename(conn, user_id=user_id, id=category_id, name=name)


def delete(conn: Connection, *, user_id: int, category_id: int) -> bool:
    in_use = CategoryInUse("Transactions or budgets use this category; move or delete them first.")
    with refusing(dict.fromkeys(CATEGORY_REFERENCES, in_use)):
        return queries.categories.delete(conn, user_id=user_id, id=category_id) == 1
