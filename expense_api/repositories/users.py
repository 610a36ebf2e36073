from __future__ import annotations

from psycopg import Connection

from ..errors import Conflict
from ..sqlfiles import queries
from .integrity import refusing


class EmailTaken(Conflict):
    code = "email_taken"


def create(conn: Connection, *, name, email, password_hash, currency, timezone) -> dict:
    taken = EmailTaken("An account with this email already exists.")
    with refusing({"users_email_lower_key": taken}):
        return queries.users.insert(
            conn,
            name=name,
            email=email,
            password_hash=password_hash,
            currency=currency,
            timezone=timezone,
        )


def get_for_login(conn: Connection, email: str) -> dict | None:
    return queries.users.get_for_login(conn, email=email)
