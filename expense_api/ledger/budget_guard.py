"""The seam where budget enforcement runs, inside the write's own database transaction.

`before_write` is called with the transaction as it was (None when creating) and as it will be
(None when deleting), before anything is written. It may refuse the write by raising, and
returns the alerts the write fires. Budgets arrive with the budgets issue; until then no budget
exists, so nothing is refused and no alert fires.
"""

from __future__ import annotations

from psycopg import Connection


def before_write(conn: Connection, *, user_id: int, old: dict | None, new: dict | None) -> list:
    return []
