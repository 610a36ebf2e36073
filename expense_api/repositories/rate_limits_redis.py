"""Rate-limit counters in Redis (THROTTLE_STORE=redis): one key per limit key and window,
expiring after the window, so Redis prunes them itself."""

from __future__ import annotations

from functools import cached_property

from ..config import Settings
from .rate_limits import StoreUnavailable

# INCRBY, and let the key expire once its window is surely over: atomic, so concurrent leases
# from every process add up exactly.
_LEASE = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return used
"""


class RedisLeaseStore:
    PREFIX = "expense-api:rate-limit:"

    def __init__(self, settings: Settings):
        self.url = settings.redis_url

    @cached_property
    def client(self):
        import redis

        # A lease should take a millisecond; one that takes a second means Redis is in trouble,
        # and the request is better served unchecked than held.
        return redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)

    @cached_property
    def _lease(self):
        return self.client.register_script(_LEASE)

    def lease(self, key: str, window_start: int, amount: int, window_seconds: int) -> int:
        import redis

        try:
            return int(
                self._lease(
                    keys=[f"{self.PREFIX}{key}:{window_start}"], args=[amount, 2 * window_seconds]
                )
            )
        except redis.RedisError as error:
            raise StoreUnavailable(str(error)) from error

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
