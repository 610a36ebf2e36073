from __future__ import annotations

from psycopg import Connection

from ..db.sqlfiles import queries


def ping(conn: Connection) -> None:
    queries.health.ping(conn)
