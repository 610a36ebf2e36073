"""Where failed-login counters live, shared by every worker and instance: PostgreSQL (default,
nothing more to run) or Redis (THROTTLE_STORE=redis), counting per key in a fixed window."""

from __future__ import annotations

from functools import cached_property

from ..config import Settings
from ..db import get_conn, get_database
from ..repositories import login_throttle


class PostgresStore:
    def __init__(self, settings: Settings):
        self.window = settings.login_throttle_seconds

    def seconds_blocked(self, limits: dict[str, int]) -> int | None:
        (email_key, email_limit), (address_key, address_limit) = limits.items()
        return login_throttle.seconds_blocked(
            get_conn(), email_key=email_key, address_key=address_key, email_limit=email_limit,
            address_limit=address_limit, window_seconds=self.window,
        )  # fmt: skip

    def record_failure(self, keys: list[str]) -> None:
        # Its own transaction: the request answers 401 and rolls back, the count must stay.
        with get_database().independent_transaction() as conn:
            login_throttle.record_failure(conn, keys=keys, window_seconds=self.window)

    def clear(self, key: str) -> None:
        login_throttle.clear(get_conn(), key)


# INCR, and start the window with the first failure: atomic, so concurrent failures all count.
_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisStore:
    PREFIX = "expense-api:login-throttle:"

    def __init__(self, settings: Settings):
        self.window = settings.login_throttle_seconds
        self.url = settings.redis_url

    @cached_property
    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    @cached_property
    def _increment(self):
        return self.client.register_script(_INCREMENT)

    def seconds_blocked(self, limits: dict[str, int]) -> int | None:
        keys = [self.PREFIX + key for key in limits]
        pipe = self.client.pipeline()
        for key in keys:
            pipe.get(key)
            pipe.ttl(key)
        answers = pipe.execute()
        blocked = []
        for index, limit in enumerate(limits.values()):
            count, ttl = answers[2 * index], answers[2 * index + 1]
            if count is not None and int(count) >= limit and ttl > 0:
                blocked.append(ttl)
        return max(blocked) if blocked else None

    def record_failure(self, keys: list[str]) -> None:
        for key in keys:
            self._increment(keys=[self.PREFIX + key], args=[self.window])

    def clear(self, key: str) -> None:
        self.client.delete(self.PREFIX + key)


def make_store(settings: Settings):
    return RedisStore(settings) if settings.throttle_store == "redis" else PostgresStore(settings)
