"""Login throttling: too many failures for one email, or from one client address, get 429.

Counters live in a store every worker process (and every instance behind a load balancer)
shares: PostgreSQL by default, or Redis (repositories/login_throttle*.py). A blocked login is
refused before the password is checked, so a correct guess during the block does not get
through either.
"""

from __future__ import annotations

from typing import Protocol

from psycopg import Connection

from ...config import Settings
from ...db.pool import Database
from ...domain.errors import Throttled
from ...repositories.login_throttle import PostgresStore


class LoginThrottled(Throttled):
    code = "login_throttled"


class Store(Protocol):
    def seconds_blocked(self, conn: Connection, limits: dict[str, int]) -> int | None: ...

    def record_failure(self, keys: list[str]) -> None: ...

    def clear(self, conn: Connection, key: str) -> None: ...


def make_store(settings: Settings, database: Database) -> Store:
    """The store THROTTLE_STORE names."""
    if settings.throttle_store == "redis":
        from ...repositories.login_throttle_redis import RedisStore

        return RedisStore(settings)
    return PostgresStore(settings, database)


def _keys(email: str, address: str) -> tuple[str, str]:
    return f"email:{email.strip().lower()}", f"address:{address}"


class LoginThrottle:
    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store

    def check(self, conn: Connection, email: str, address: str) -> None:
        email_key, address_key = _keys(email, address)
        seconds = self.store.seconds_blocked(
            conn,
            {email_key: self.settings.login_max_failures_per_email,
             address_key: self.settings.login_max_failures_per_address},
        )  # fmt: skip
        if seconds is not None:
            retry_after = max(1, seconds)
            raise LoginThrottled(
                f"Too many failed logins; try again in {retry_after} seconds.",
                retry_after=retry_after,
            )

    def record_failure(self, email: str, address: str) -> None:
        self.store.record_failure(sorted(_keys(email, address)))

    def record_success(self, conn: Connection, email: str, address: str) -> None:
        # Only the email's counter: one good password must not unlock guessing at other
        # accounts from the same address.
        self.store.clear(conn, _keys(email, address)[0])

    def forget(self, conn: Connection, email: str) -> None:
        """An erased account's failed-login counter goes with it: its key holds the email."""
        self.store.clear(conn, _keys(email, "")[0])
