from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries
from ..domain.errors import Conflict
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


def record_login(conn: Connection, user_id: int, password_hash: str) -> bool:
    """False: the password changed (or the account was disabled or erased) since the login
    checked it."""
    return queries.users.record_login(conn, user_id=user_id, password_hash=password_hash) == 1


def admin_list(conn: Connection, *, q: str | None, after_id: int, limit: int) -> list[dict]:
    return queries.users.admin_list(conn, q=q, after_id=after_id, limit=limit)


def lock_for_admin(conn: Connection, user_id: int) -> dict | None:
    return queries.users.lock_for_admin(conn, user_id=user_id)


def id_by_email(conn: Connection, email: str) -> int | None:
    return queries.users.id_by_email(conn, email=email)


def lock_active_admins(conn: Connection) -> list[int]:
    return [row["id"] for row in queries.users.lock_active_admins(conn)]


def admin_update(
    conn: Connection, user_id: int, *, role: str | None, disabled: bool | None
) -> dict:
    return queries.users.admin_update(conn, user_id=user_id, role=role, disabled=disabled)


def stats(conn: Connection) -> dict:
    return queries.users.stats(conn)


def get_password_hash(conn: Connection, user_id: int) -> str | None:
    return queries.users.get_password_hash(conn, user_id=user_id)


def change_password(conn: Connection, *, user_id: int, old_hash: str, new_hash: str) -> bool:
    """False when the hash is no longer `old_hash` (another change came first)."""
    changed = queries.users.change_password(
        conn, user_id=user_id, old_hash=old_hash, new_hash=new_hash
    )
    return changed == 1
