"""System roles: what admins may do with accounts, and the operator's promote and demote.

An admin (users.role = 'admin') lists accounts, changes their system role, disables and enables
them, and reads counts of what the service holds. Nothing here reads a ledger's contents: an
admin sees a ledger only as a member of it, through the ledger rules like anyone else.

The service must always keep one active admin (an admin who is not disabled). Every change that
could take the last one away first locks every active admin's row, in id order, then counts
them under that lock: of two admins demoting each other at once, the second waits for the first
and then sees that it is no longer an admin itself (or that the other is the last one).
"""

from __future__ import annotations

from psycopg import Connection

from ..domain.errors import Conflict, Forbidden, NotFound, found
from ..repositories import auth_sessions, users

ROLES = ("user", "admin")


class LastAdmin(Conflict):
    code = "last_admin"


def authorize(actor: dict) -> None:
    """The one check of every admin operation: the acting user has the admin system role."""
    if actor.get("role") != "admin":
        raise Forbidden("Only admins may do this.", code="forbidden")


def list_users(
    conn: Connection, actor: dict, *, q: str | None, after_id: int, limit: int
) -> list[dict]:
    """limit + 1 rows at most: the caller tells from the extra one whether a page follows."""
    authorize(actor)
    return [_shown(row) for row in users.admin_list(conn, q=q, after_id=after_id, limit=limit)]


def update_user(
    conn: Connection, actor: dict, user_id: int, *, role: str | None = None,
    disabled: bool | None = None,
) -> dict:  # fmt: skip
    """Changes an account's system role and/or disables or enables it. Disabling ends every
    session of the account at once."""
    authorize(actor)
    admins = users.lock_active_admins(conn)
    if actor["id"] not in admins:  # demoted or disabled since this request's session check
        raise Forbidden("Only admins may do this.", code="forbidden")
    return _change(conn, user_id, admins, role=role, disabled=disabled)


def stats(conn: Connection, actor: dict) -> dict:
    authorize(actor)
    return users.stats(conn)


def promote(conn: Connection, email: str) -> dict:
    """The operator's command (no acting user): the account with this email becomes an admin."""
    return _change(conn, _id_of(conn, email), users.lock_active_admins(conn), role="admin")


def demote(conn: Connection, email: str) -> dict:
    """The operator's command: the admin with this email becomes a user; never the last one."""
    return _change(conn, _id_of(conn, email), users.lock_active_admins(conn), role="user")


def _id_of(conn: Connection, email: str) -> int:
    user_id = users.id_by_email(conn, email)
    if user_id is None:
        raise NotFound(f"No account with the email {email}.")
    return user_id


def _change(
    conn: Connection, user_id: int, admins: list[int], *, role: str | None = None,
    disabled: bool | None = None,
) -> dict:  # fmt: skip
    """`admins`: the active admins, their rows locked by the caller."""
    if role is not None and role not in ROLES:
        raise ValueError(role)
    target = found(users.lock_for_admin(conn, user_id), "user")
    stays_active_admin = (role or target["role"]) == "admin" and not (
        disabled if disabled is not None else target["disabled_at"] is not None
    )
    if target["id"] in admins and not stays_active_admin and len(admins) <= 1:
        raise LastAdmin(
            "This is the last active admin: make another user an admin first.", code="last_admin"
        )
    updated = users.admin_update(conn, user_id, role=role, disabled=disabled)
    if disabled:
        auth_sessions.revoke_all_of_user(conn, user_id=user_id, reason="account_disabled")
    return _shown(updated)


def _shown(row: dict) -> dict:
    """An account as admins see it: `disabled` instead of the time it was disabled."""
    shown = dict(row)
    shown["disabled"] = shown.pop("disabled_at") is not None
    return shown
