"""Rate limits per account and per client address, shared by every worker and instance.

Fixed windows of RATE_LIMIT_WINDOW_SECONDS, aligned to the Unix epoch and keyed by their start,
so every process agrees on which window a request falls in (clocks kept by NTP). Each key
('account:<id>', 'address:<ip>') may spend its limit in a window.

The shared count lives in the store THROTTLE_STORE names (repositories/rate_limits*.py), but a
request does not ask it: each process leases a block of the window's allowance with one atomic
increment (`block = max(1, limit // 50)`) and spends it locally, asking again only when the block
is spent. So the common request costs no round trip, and the store sees one lease per block.

The bound: the store never grants more than the limit, so no window serves more than the limit
(a lease near the end is cut to what is left). A process may refuse while others still hold
unspent blocks: at most (P - 1) x block requests of the limit go unserved when P processes served
the key in that window (2% of the limit per other process; exact with block 1, limits under 100).
Blocks left unspent when a window ends are simply dropped.

When the store cannot be reached the request is served unchecked (fail open: a limiter outage
must not become a service outage), with a warning and a metric; the store is tried again after
STORE_RETRY_SECONDS, so an outage costs each request nothing. Logins keep their own throttle,
which fails closed (services/auth/throttle.py).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv6Address, ip_address
from typing import Protocol

from ..config import Settings
from ..domain.errors import Throttled
from ..ops import metrics
from ..repositories.rate_limits import StoreUnavailable

log = logging.getLogger(__name__)

BLOCKS_PER_LIMIT = 50
STORE_RETRY_SECONDS = 5.0
# Keys one process remembers in a window: a flood from many addresses cannot grow it without
# bound (forgetting drops unspent blocks: stricter, never looser).
MAX_KEYS = 100_000


class RateLimited(Throttled):
    code = "rate_limited"


class Store(Protocol):
    def lease(self, key: str, window_start: int, amount: int, window_seconds: int) -> int:
        """Adds `amount` to the key's count in the window; the count after it, every process's
        leases included. StoreUnavailable when the store cannot be reached."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Decision:
    """What one request was told: the limit, what is left of it (this process's view: exact
    with one process, at most the other processes' unspent blocks off), and the seconds until
    the window ends. `allowed` False: 429 with Retry-After `reset`."""

    limit: int
    remaining: int
    reset: int
    allowed: bool = True


@dataclass
class _Allowance:
    unspent: int = 0  # leased by this process and not yet spent
    taken: int = 0  # the store's count after this process's last lease


def refusal(decision: Decision) -> RateLimited:
    return RateLimited(
        f"Too many requests; try again in {decision.reset} seconds.", retry_after=decision.reset
    )


def account_key(user_id: int) -> str:
    return f"account:{user_id}"


def address_key(address: str) -> str:
    """An IPv6 client is counted by its /64, the block one subscriber is given: counting single
    addresses would give each of them 2^64 fresh limits."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return f"address:{address[:64]}"
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return f"address:{parsed.ipv4_mapped}"
        return f"address:{IPv6Address(int(parsed) >> 64 << 64)}/64"
    return f"address:{parsed}"


class RateLimiter:
    def __init__(self, settings: Settings, store: Store, clock: Callable[[], float] = time.time):
        self.window = settings.rate_limit_window_seconds
        self.limits = {
            "account": settings.rate_limit_per_account,
            "address": settings.rate_limit_per_address,
        }
        self.store = store
        self.clock = clock  # tests move it to the next window instead of sleeping
        self._lock = threading.Lock()
        self._window_start: int | None = None
        self._allowances: dict[str, _Allowance] = {}
        self._store_down_until = 0.0

    def charge(self, kind: str, key: str) -> Decision:
        """Counts one request on `key` (of kind account or address): allowed or not (then
        `refusal`). Never raises for the store: unreachable, the request is served unchecked."""
        decision = self._decide(key, self.limits[kind])
        if not decision.allowed:
            metrics.rate_limited(kind)
        return decision

    def _decide(self, key: str, limit: int) -> Decision:
        now = self.clock()
        start = int(now // self.window) * self.window
        reset = max(1, math.ceil(start + self.window - now))
        with self._lock:
            allowance = self._allowance(start, key)
            if allowance.unspent or allowance.taken >= limit:
                return self._spend(allowance, limit, reset)
        block = max(1, limit // BLOCKS_PER_LIMIT)
        taken = self._lease(key, start, block)
        if taken is None:  # unchecked: nothing was counted, so nothing is spent
            return Decision(limit, limit, reset)
        with self._lock:
            allowance = self._allowance(start, key)
            # What this lease won: the block, or what was left of the limit before it.
            allowance.unspent += max(0, min(block, limit - (taken - block)))
            allowance.taken = max(allowance.taken, taken)
            return self._spend(allowance, limit, reset)

    def _allowance(self, start: int, key: str) -> _Allowance:
        if start != self._window_start or len(self._allowances) >= MAX_KEYS:
            self._window_start, self._allowances = start, {}  # every key's window ended at once
        allowance = self._allowances.get(key)
        if allowance is None:
            allowance = self._allowances[key] = _Allowance()
        return allowance

    @staticmethod
    def _spend(allowance: _Allowance, limit: int, reset: int) -> Decision:
        if not allowance.unspent:
            return Decision(limit, 0, reset, allowed=False)
        allowance.unspent -= 1
        return Decision(limit, max(0, limit - allowance.taken) + allowance.unspent, reset)

    def _lease(self, key: str, start: int, block: int) -> int | None:
        """The store's count after leasing `block`, or None while the store is unreachable."""
        if time.monotonic() < self._store_down_until:
            metrics.rate_limit_unchecked()
            return None
        try:
            return self.store.lease(key, start, block, self.window)
        except StoreUnavailable as error:
            self._store_down_until = time.monotonic() + STORE_RETRY_SECONDS
            log.warning(
                "rate limits unchecked for %ss: their store cannot be reached: %s",
                STORE_RETRY_SECONDS,
                error,
            )
            metrics.rate_limit_unchecked()
            return None

    def close(self) -> None:
        self.store.close()


def make_store(settings: Settings, database_url: str) -> Store:
    """The store THROTTLE_STORE names (the login throttle's too)."""
    if settings.throttle_store == "redis":
        from ..repositories.rate_limits_redis import RedisLeaseStore

        return RedisLeaseStore(settings)
    from ..repositories.rate_limits import PostgresLeaseStore

    return PostgresLeaseStore(settings, database_url)
