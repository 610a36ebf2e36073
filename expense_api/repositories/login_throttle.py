"""Failed-login counters in PostgreSQL (the default store: nothing more to run)."""

from __future__ import annotations

from psycopg import Connection

from ..config import Settings
from ..db.pool import Database
from ..db.sqlfiles import queries


class PostgresStore:
    def __init__(self, settings: Settings, database: Database):
        self.window = settings.login_throttle_seconds
        self.database = database

    def seconds_blocked(self, conn: Connection, limits: dict[str, int]) -> int | None:
        (email_key, email_limit), (address_key, address_limit) = limits.items()
        return queries.login_throttle.seconds_blocked(
            conn, email_key=email_key, address_key=address_key, email_limit=email_limit,
            address_limit=address_limit, window_seconds=self.window,
        )  # fmt: skip

    def record_failure(self, keys: list[str]) -> None:
        # Its own transaction: the caller answers 401 and rolls back, the count must stay.
        with self.database.independent_transaction() as conn:
            for key in sorted(keys):  # a fixed order, so two concurrent failures cannot deadlock
                queries.login_throttle.record_failure(conn, key=key, window_seconds=self.window)

    def count_attempt(self, key: str) -> int:
        with self.database.independent_transaction() as conn:
            return queries.login_throttle.record_failure(conn, key=key, window_seconds=self.window)

    def clear(self, conn: Connection, key: str) -> None:
        queries.login_throttle.clear(conn, key=key)


def delete_stale(conn: Connection, *, window_seconds: int) -> int:
    return queries.login_throttle.delete_stale(conn, window_seconds=window_seconds)
