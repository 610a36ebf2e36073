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

    def count_attempt(self, key: str) -> int:
        """Counts one failure on `key` now, in its own transaction; the count after it."""
        ...

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

    def count_code_attempt(self, conn: Connection, email: str, address: str) -> None:
        """Counts an attempt at a second factor on the email's counter BEFORE the code is
        checked, and refuses it (429) past the limit. `check` alone, then `record_failure`
        after a wrong code, lets every request that arrives while the first ones are being
        checked through: parallel logins of someone who has the password would each try a
        code, however many the limit allows (six digits, three valid codes at a time, are
        worth guessing at that rate). Counted first, at most the limit are ever checked per
        window. A right code clears the counter (`record_success`); a wrong one adds the
        address's failure (`record_code_failure`)."""
        email_key = _keys(email, address)[0]
        if self.store.count_attempt(email_key) > self.settings.login_max_failures_per_email:
            self.check(conn, email, address)  # raises, with the counter's Retry-After
            raise LoginThrottled(
                "Too many failed logins; try again later.",
                retry_after=self.settings.login_throttle_seconds,
            )

    def record_code_failure(self, email: str, address: str) -> None:
        """A wrong second factor, its attempt counted on the email already."""
        self.store.record_failure([_keys(email, address)[1]])

    def record_success(self, conn: Connection, email: str, address: str) -> None:
        # Only the email's counter: one good password must not unlock guessing at other
        # accounts from the same address.
        self.store.clear(conn, _keys(email, address)[0])

    def forget(self, conn: Connection, email: str) -> None:
        """An erased account's failed-login counter goes with it: its key holds the email."""
        self.store.clear(conn, _keys(email, "")[0])
