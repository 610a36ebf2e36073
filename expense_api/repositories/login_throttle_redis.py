"""Failed-login counters in Redis (THROTTLE_STORE=redis): shared by every worker and instance,
counting per key in a fixed window that starts with the key's first failure."""

from __future__ import annotations

from functools import cached_property

from psycopg import Connection

from ..config import Settings

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

    def seconds_blocked(self, conn: Connection, limits: dict[str, int]) -> int | None:
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

    def clear(self, conn: Connection, key: str) -> None:
        self.client.delete(self.PREFIX + key)
