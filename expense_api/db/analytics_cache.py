"""The analytics cache: reports kept in Redis under keys that name the ledger's generation.

A ledger's generation (table `ledger_generations`, migration 0012) is a random UUID that
PostgreSQL replaces, by trigger, in the commit of every change to the ledger's data (the trigger
that numbers the change log's entries, migration 0016), whichever door wrote. A report is stored
under `<prefix>:<ledger>:<generation>:<report>:<parameters>`, so a write makes every older entry
unreachable instead of needing a deletion, and there is nothing for a door to remember. Why no
read answered after a write can return data from before it: docs/ARCHITECTURE.md, "The analytics
cache".

This module is only the Redis side: encoding, ms timeouts, and a short pause after a failure so
that an unreachable Redis costs one failed attempt a second, not one per request. Redis failing
in any way (refused, slow, flushed, a damaged entry) is logged and counted, and the caller
computes the report from PostgreSQL (services/reports.py). No HTTP here.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from ..ops import metrics

log = logging.getLogger(__name__)

KEY_PREFIX = "expense-api:analytics:v1"  # v1: the encoding below; a new one gets a new prefix
PAUSE_AFTER_FAILURE_SECONDS = 1.0


def _encode_value(value):
    if isinstance(value, Decimal):
        return {"$d": str(value)}  # exact: never through a float
    if isinstance(value, date):
        return {"$t": value.isoformat()}
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _decode_object(doc: dict):
    if len(doc) == 1:
        if "$d" in doc:
            return Decimal(doc["$d"])
        if "$t" in doc:
            return date.fromisoformat(doc["$t"])
    return doc


def encode(report: dict) -> bytes:
    return json.dumps(report, default=_encode_value, separators=(",", ":")).encode()


def decode(raw: bytes) -> dict:
    return json.loads(raw, object_hook=_decode_object, parse_float=Decimal)


def key(ledger_id: int, generation: str, report: str, params: tuple) -> str:
    return f"{KEY_PREFIX}:{ledger_id}:{generation}:{report}:{':'.join(map(str, params))}"


class AnalyticsCache:
    """Get and set with short timeouts; any failure is counted, logged once an outage, and makes
    the cache step aside for PAUSE_AFTER_FAILURE_SECONDS."""

    def __init__(
        self,
        client,
        *,
        ttl_seconds: int,
        clock: Callable[[], float] = time.monotonic,
        pause_seconds: float = PAUSE_AFTER_FAILURE_SECONDS,
    ):
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.pause_seconds = pause_seconds
        self._paused_until = 0.0
        self._failing = False
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, timeout_ms: int, ttl_seconds: int, **kwargs) -> AnalyticsCache:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as error:  # the optional extra is missing
            raise RuntimeError(
                "ANALYTICS_CACHE_URL needs redis-py: install expense-api[redis]"
            ) from error

        seconds = timeout_ms / 1000
        client = redis.Redis.from_url(
            url,
            socket_timeout=seconds,
            socket_connect_timeout=seconds,
            retry=Retry(NoBackoff(), 0),  # one try: PostgreSQL answers sooner than a retry
            health_check_interval=0,
        )
        return cls(client, ttl_seconds=ttl_seconds, **kwargs)

    def usable(self) -> bool:
        return self.clock() >= self._paused_until

    def get(self, name: str, report: str) -> dict | None:
        """The stored report, or None (missing, or Redis failed: counted and logged)."""
        try:
            raw = self.client.get(name)
        except Exception as error:
            self._failed("get", error)
            return None
        self._recovered()
        if raw is None:
            return None
        try:
            return decode(raw)
        except ValueError as error:  # a damaged or foreign entry: computed again, overwritten
            metrics.CACHE_ERRORS.labels(operation="decode").inc()
            log.warning("analytics cache: unreadable entry for %s (%s)", report, error)
            return None

    def set(self, name: str, value: dict) -> None:
        try:
            self.client.set(name, encode(value), ex=self.ttl_seconds)
        except Exception as error:
            self._failed("set", error)
        else:
            self._recovered()

    def _failed(self, operation: str, error: Exception) -> None:
        metrics.CACHE_ERRORS.labels(operation=operation).inc()
        with self._lock:
            self._paused_until = self.clock() + self.pause_seconds
            first = not self._failing
            self._failing = True
        if first:
            log.warning(
                "analytics cache unavailable (%s: %s); reports come from PostgreSQL",
                operation,
                error,
            )
        else:
            log.debug("analytics cache still unavailable (%s: %s)", operation, error)

    def _recovered(self) -> None:
        if self._failing:
            with self._lock:
                was_failing, self._failing = self._failing, False
            if was_failing:
                log.warning("analytics cache available again")


def from_settings(settings) -> AnalyticsCache | None:
    """None unless ANALYTICS_CACHE_URL is set."""
    if not settings.analytics_cache_url:
        return None
    return AnalyticsCache.from_url(
        settings.analytics_cache_url,
        timeout_ms=settings.analytics_cache_timeout_ms,
        ttl_seconds=settings.analytics_cache_ttl_seconds,
    )
