from __future__ import annotations

from psycopg import Connection

from ..sqlfiles import queries


def seconds_blocked(
    conn: Connection,
    *,
    email_key: str,
    address_key: str,
    email_limit: int,
    address_limit: int,
    window_seconds: int,
) -> int | None:
    return queries.login_throttle.seconds_blocked(
        conn,
        email_key=email_key,
        address_key=address_key,
        email_limit=email_limit,
        address_limit=address_limit,
        window_seconds=window_seconds,
    )


def record_failure(conn: Connection, *, keys: list[str], window_seconds: int) -> None:
    for key in sorted(keys):  # a fixed order, so two concurrent failures cannot deadlock
        queries.login_throttle.record_failure(conn, key=key, window_seconds=window_seconds)


def clear(conn: Connection, key: str) -> None:
    queries.login_throttle.clear(conn, key=key)
