from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries


def lock_inviter(conn: Connection, *, user_id: int) -> None:
    queries.invitations.lock_inviter(conn, user_id=user_id)


def created_within(conn: Connection, *, user_id: int, seconds: int) -> dict:
    return queries.invitations.created_within(conn, user_id=user_id, seconds=seconds)


def member_with_email(conn: Connection, *, ledger_id: int, email: str) -> bool:
    return bool(queries.invitations.member_with_email(conn, ledger_id=ledger_id, email=email))


def account_with_email(conn: Connection, *, email: str) -> int | None:
    return queries.invitations.account_with_email(conn, email=email)


def revoke_pending_for_email(conn: Connection, *, ledger_id: int, email: str) -> list[dict]:
    """The invitations revoked (as listed before)."""
    return queries.invitations.revoke_pending_for_email(conn, ledger_id=ledger_id, email=email)


def insert(
    conn: Connection,
    *,
    ledger_id: int,
    email: str,
    role: str,
    invited_by: int,
    invitee_id: int | None,
) -> dict:
    return queries.invitations.insert(
        conn,
        ledger_id=ledger_id,
        email=email,
        role=role,
        invited_by=invited_by,
        invitee_id=invitee_id,
    )


def list_for_ledger(conn: Connection, *, ledger_id: int) -> list[dict]:
    return queries.invitations.list_for_ledger(conn, ledger_id=ledger_id)


def revoke(conn: Connection, *, ledger_id: int, id: int) -> dict | None:
    """The revoked invitation as listed before; None when none was pending."""
    return queries.invitations.revoke(conn, ledger_id=ledger_id, id=id)


def get_in_ledger(conn: Connection, *, ledger_id: int, id: int) -> dict | None:
    return queries.invitations.get_in_ledger(conn, ledger_id=ledger_id, id=id)


def pending_for_invitee(conn: Connection, *, user_id: int) -> list[dict]:
    return queries.invitations.pending_for_invitee(conn, user_id=user_id)


def ledger_of(conn: Connection, *, user_id: int, id: int) -> int | None:
    row = queries.invitations.ledger_of(conn, user_id=user_id, id=id)
    return None if row is None else row["ledger_id"]


def lock_for_invitee(conn: Connection, *, user_id: int, id: int) -> dict | None:
    return queries.invitations.lock_for_invitee(conn, user_id=user_id, id=id)


def answer(conn: Connection, *, ledger_id: int, id: int, status: str) -> dict | None:
    """The answered invitation; None when it was not pending."""
    return queries.invitations.answer(conn, ledger_id=ledger_id, id=id, status=status)


def join(conn: Connection, *, ledger_id: int, user_id: int, role: str) -> dict | None:
    """The new member; None when they already were one."""
    return queries.invitations.join(conn, ledger_id=ledger_id, user_id=user_id, role=role)
