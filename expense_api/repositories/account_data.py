"""What the service holds about one account, for its export (sql/account_data.sql)."""

from __future__ import annotations

from collections.abc import Iterator

from psycopg import Connection

from ..db.sqlfiles import queries
from . import security_events

EVENTS_PAGE_SIZE = 1000  # security events per statement of an export: memory stays one page


def account(conn: Connection, *, user_id: int) -> dict | None:
    return queries.account_data.account(conn, user_id=user_id)


def lists(conn: Connection, *, user_id: int) -> dict[str, list[dict]]:
    """The account's bounded lists: sessions, tokens, memberships, invitations, recurring rules
    acting as it, imports it uploaded."""
    return {
        name: getattr(queries.account_data, name)(conn, user_id=user_id)
        for name in (
            "sessions",
            "personal_access_tokens",
            "memberships",
            "invitations_sent",
            "invitations_received",
            "recurring_acting_as",
            "imports_uploaded",
        )
    }


def security_events_pages(conn: Connection, *, user_id: int) -> Iterator[list[dict]]:
    """The account's security events, newest first, a keyset page at a time."""
    before_id = None
    while True:
        rows = security_events.page(
            conn, user_id=user_id, before_id=before_id, limit=EVENTS_PAGE_SIZE
        )
        if rows:
            yield rows
        if len(rows) < EVENTS_PAGE_SIZE:
            return
        before_id = rows[-1]["id"]
