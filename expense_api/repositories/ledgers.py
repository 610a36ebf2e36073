from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries
from . import by_ledger


def insert(conn: Connection, *, name: str, currency: str, timezone: str) -> dict:
    return queries.ledgers.insert(conn, name=name, currency=currency, timezone=timezone)


def time_zone_known(conn: Connection, *, name: str) -> bool:
    return queries.ledgers.time_zone_known(conn, name=name)


def count_for_user_locked(conn: Connection, *, user_id: int) -> int:
    """How many ledgers the user belongs to, counted after locking their row (two statements:
    the count's snapshot must follow the lock)."""
    queries.ledgers.lock_member(conn, user_id=user_id)
    return queries.ledgers.count_for_user(conn, user_id=user_id)


def local_times(conn: Connection, *, name: str) -> list[dict]:
    """(moment, local) now and half a year on, in a zone the database knows."""
    return queries.ledgers.local_times(conn, name=name)


def add_member(
    conn: Connection, *, ledger_id: int, user_id: int, role: str, is_default: bool = False
) -> dict:
    """The new member, as `member` shows it."""
    return queries.ledgers.add_member(
        conn, ledger_id=ledger_id, user_id=user_id, role=role, is_default=is_default
    )


def membership(conn: Connection, *, ledger_id: int, user_id: int) -> dict | None:
    return queries.ledgers.membership(conn, ledger_id=ledger_id, user_id=user_id)


def list_for_user(conn: Connection, *, user_id: int) -> list[dict]:
    return queries.ledgers.list_for_user(conn, user_id=user_id)


def get_for_member(conn: Connection, *, ledger_id: int, user_id: int) -> dict | None:
    return queries.ledgers.get_for_member(conn, ledger_id=ledger_id, user_id=user_id)


def lock(conn: Connection, *, ledger_id: int) -> bool:
    """Locks the ledger's row until the end of the transaction; False when it does not exist."""
    return queries.ledgers.lock(conn, ledger_id=ledger_id) is not None


def get_for_member_locked(conn: Connection, *, ledger_id: int, user_id: int) -> dict | None:
    """get_for_member, the ledger's row locked until the end of the transaction."""
    return queries.ledgers.get_for_member_locked(conn, ledger_id=ledger_id, user_id=user_id)


def rename(conn: Connection, *, ledger_id: int, name: str) -> dict | None:
    """The renamed ledger's own columns (not the member's role and default flag)."""
    return queries.ledgers.rename(conn, ledger_id=ledger_id, name=name)


def is_anyones_default(conn: Connection, *, ledger_id: int) -> bool:
    return bool(queries.ledgers.is_anyones_default(conn, ledger_id=ledger_id))


def delete(conn: Connection, *, ledger_id: int) -> bool:
    return queries.ledgers.delete(conn, ledger_id=ledger_id) == 1


def members(conn: Connection, *, ledger_id: int) -> list[dict]:
    return queries.ledgers.members(conn, ledger_id=ledger_id)


def members_for_ledgers(conn: Connection, *, ledger_ids: list[int]) -> dict[int, list[dict]]:
    rows = queries.ledgers.members_for_ledgers(conn, ledger_ids=ledger_ids)
    return by_ledger(rows, ledger_ids)


def member(conn: Connection, *, ledger_id: int, user_id: int) -> dict | None:
    return queries.ledgers.member(conn, ledger_id=ledger_id, user_id=user_id)


def owner_count(conn: Connection, *, ledger_id: int) -> int:
    return queries.ledgers.owner_count(conn, ledger_id=ledger_id)


def set_role(conn: Connection, *, ledger_id: int, user_id: int, role: str) -> bool:
    return queries.ledgers.set_role(conn, ledger_id=ledger_id, user_id=user_id, role=role) == 1


def remove_member(conn: Connection, *, ledger_id: int, user_id: int) -> bool:
    return queries.ledgers.remove_member(conn, ledger_id=ledger_id, user_id=user_id) == 1
