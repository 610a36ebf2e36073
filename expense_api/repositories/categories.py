from __future__ import annotations

import psycopg
from psycopg import Connection

from ..errors import Conflict, NotFound
from ..sqlfiles import queries


class CategoryExists(Conflict):
    code = "category_exists"


class CategoryInUse(Conflict):
    code = "category_in_use"


def _not_found() -> NotFound:
    return NotFound("No such category.")


def create(conn: Connection, *, user_id: int, name: str) -> dict:
    try:
        with conn.transaction():
            return queries.categories.insert(conn, user_id=user_id, name=name)
    except psycopg.errors.UniqueViolation:
        raise CategoryExists(f"You already have a category named {name!r}.") from None


def list_for_user(conn: Connection, *, user_id: int) -> list[dict]:
    return queries.categories.list_for_user(conn, user_id=user_id)


def get(conn: Connection, *, user_id: int, category_id: int) -> dict:
    row = queries.categories.get_by_id(conn, user_id=user_id, id=category_id)
    if row is None:
        raise _not_found()
    return row


def rename(conn: Connection, *, user_id: int, category_id: int, name: str) -> dict:
    try:
        with conn.transaction():
            row = queries.categories.rename(conn, user_id=user_id, id=category_id, name=name)
    except psycopg.errors.UniqueViolation:
        raise CategoryExists(f"You already have a category named {name!r}.") from None
    if row is None:
        raise _not_found()
    return row


def delete(conn: Connection, *, user_id: int, category_id: int) -> None:
    try:
        with conn.transaction():
            deleted = queries.categories.delete(conn, user_id=user_id, id=category_id)
    except psycopg.errors.ForeignKeyViolation:
        raise CategoryInUse(
            "Transactions or budgets use this category; move or delete them first."
        ) from None
    if not deleted:
        raise _not_found()
