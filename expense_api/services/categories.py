"""Categories: names unique per tenant (ignoring case and surrounding spaces), deletable only
while nothing uses them."""

from __future__ import annotations

from psycopg import Connection

from ..errors import found
from ..repositories import categories


def create(conn: Connection, user: dict, *, name: str) -> dict:
    return categories.insert(conn, user_id=user["id"], name=name)


def list_all(conn: Connection, user: dict) -> list[dict]:
    return categories.list_for_user(conn, user_id=user["id"])


def get(conn: Connection, user: dict, category_id: int) -> dict:
    return found(categories.get(conn, user_id=user["id"], category_id=category_id), "category")


def rename(conn: Connection, user: dict, category_id: int, *, name: str) -> dict:
    row = categories.rename(conn, user_id=user["id"], category_id=category_id, name=name)
    return found(row, "category")


def delete(conn: Connection, user: dict, category_id: int) -> None:
    if not categories.delete(conn, user_id=user["id"], category_id=category_id):
        found(None, "category")


def exists(conn: Connection, user: dict, category_id: int) -> bool:
    return categories.get(conn, user_id=user["id"], category_id=category_id) is not None
