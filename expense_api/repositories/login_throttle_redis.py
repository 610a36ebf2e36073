"""Failed-login counters in Redis (THROTTLE_STORE=redis): shared by every worker and instance,
counting per key in a fixed window that starts with the key's first failure.

When Redis cannot be reached, logins fail closed (503 `throttle_unavailable`, Retry-After)
rather than open: without its counters the throttle cannot tell a password guesser from a user,
and falling back to counting elsewhere would let a guesser restart every count by knocking Redis
over. Clearing a counter after a good password is the exception: that login has already passed
the check, and the counter runs out with its window anyway.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from functools import cached_property

from psycopg import Connection

from ..config import Settings
from ..domain.errors import Unavailable

log = logging.getLogger(__name__)

# Long enough for a Redis restart or failover, short enough for a person at a login form.
RETRY_AFTER_SECONDS = 5

# INCR, and start the window with the first failure: atomic, so concurrent failures all count.
_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class ThrottleStoreUnavailable(Unavailable):
    code = "throttle_unavailable"


@contextlib.contextmanager
def _redis_down_is_unavailable() -> Iterator[None]:
    import redis

    try:
        yield
    except redis.RedisError as error:
        log.warning("login throttle store unavailable: %s", error)
        raise ThrottleStoreUnavailable(
            "Logins are paused because the login throttle cannot count attempts; "
            f"try again in {RETRY_AFTER_SECONDS} seconds.",
            retry_after=RETRY_AFTER_SECONDS,
        ) from error


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

    def seconds_blocked(self, conn: Connection, limits: dict[str, int]) -> int | None:
        keys = [self.PREFIX + key for key in limits]
        with _redis_down_is_unavailable():
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
        with _redis_down_is_unavailable():
            for key in keys:
                self._increment(keys=[self.PREFIX + key], args=[self.window])

    def count_attempt(self, key: str) -> int:
        with _redis_down_is_unavailable():
            return int(self._increment(keys=[self.PREFIX + key], args=[self.window]))

    def clear(self, conn: Connection, key: str) -> None:
        import redis

        try:
            self.client.delete(self.PREFIX + key)
        except redis.RedisError as error:
            log.warning("login throttle counter %s not cleared: %s", key, error)
