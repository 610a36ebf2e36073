from __future__ import annotations

import psycopg
from psycopg import Connection

from ..errors import Conflict
from ..sqlfiles import queries


class EmailTaken(Conflict):
    code = "email_taken"


def create(conn: Connection, *, name, email, password_hash, currency, timezone) -> dict:
    try:
        with conn.transaction():  # a savepoint, so the request's transaction survives the error
            return queries.users.insert(
                conn,
                name=name,
                email=email,
                password_hash=password_hash,
                currency=currency,
                timezone=timezone,
            )
    except psycopg.errors.UniqueViolation:
        raise EmailTaken("An account with this email already exists.") from None


def get_for_login(conn: Connection, email: str) -> dict | None:
    return queries.users.get_for_login(conn, email=email)


def get_by_id(conn: Connection, user_id: int) -> dict | None:
    return queries.users.get_by_id(conn, user_id=user_id)
