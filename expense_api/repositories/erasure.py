"""Erasing an account (sql/erasure.sql): the erasing transaction's own statements. `begin` is
the only code that opens the change log's erasure exception (migration 0023)."""

from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries


def lock_account(conn: Connection, *, user_id: int) -> dict | None:
    return queries.erasure.lock_account(conn, user_id=user_id)


def memberships_locked(conn: Connection, *, user_id: int) -> list[dict]:
    """The account's ledgers with their member and owner counts, read after locking every one
    of them (two statements: the counts' snapshot must follow the locks)."""
    queries.erasure.lock_ledgers(conn, user_id=user_id)
    return queries.erasure.memberships(conn, user_id=user_id)


def begin(conn: Connection, *, user_id: int) -> None:
    queries.erasure.begin(conn, user_id=user_id)


def created_transactions(conn: Connection, *, user_id: int) -> list[dict]:
    return queries.erasure.created_transactions(conn, user_id=user_id)


def forget_creator(conn: Connection, *, ledger_id: int, user_id: int) -> int:
    return queries.erasure.forget_creator(conn, ledger_id=ledger_id, user_id=user_id)


def rules_acting_as(conn: Connection, *, user_id: int) -> list[dict]:
    return queries.erasure.rules_acting_as(conn, user_id=user_id)


def invitations(conn: Connection, *, user_id: int, email: str) -> list[dict]:
    return queries.erasure.invitations(conn, user_id=user_id, email=email)


def delete_invitation(conn: Connection, *, ledger_id: int, id: int) -> bool:
    return queries.erasure.delete_invitation(conn, ledger_id=ledger_id, id=id) == 1


def rewrite_change_logs(
    conn: Connection, *, user_id: int, invitations_to_them: list[tuple[int, int]]
) -> None:
    """Their name out of every change log and webhook payload: entries they made (actor name),
    their member entries, entries of transactions they created, entries of invitations to
    their email ((ledger_id, id) pairs). Run after every entry of the erasure is written."""
    queries.erasure.rename_actor(conn, user_id=user_id)
    queries.erasure.rewrite_member_images(conn, user_id=user_id)
    queries.erasure.rewrite_creator_images(conn, user_id=user_id)
    queries.erasure.rewrite_invitation_images(
        conn,
        ledger_ids=[ledger_id for ledger_id, _ in invitations_to_them],
        ids=[id for _, id in invitations_to_them],
    )
    queries.erasure.rewrite_webhook_payloads(conn, user_id=user_id)


def delete_account(conn: Connection, *, user_id: int) -> bool:
    """The rate-limit counters, then the account (its own rows cascade)."""
    queries.erasure.delete_rate_limit_counters(conn, user_id=user_id)
    return queries.erasure.delete_account(conn, user_id=user_id) == 1
