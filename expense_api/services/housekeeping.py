"""Housekeeping: deleting what has expired (sessions, failed-login and rate-limit counters,
idempotency keys, webhook history past WEBHOOK_HISTORY_DAYS, security events past
SECURITY_EVENTS_DAYS)."""

from __future__ import annotations

from psycopg import Connection

from ..config import Settings
from ..repositories import auth_sessions, idempotency_keys, login_throttle, rate_limits, webhooks
from .auth import events


def prune(conn: Connection, settings: Settings) -> dict[str, int]:
    """How many rows of each kind were deleted."""
    return {
        "sessions": auth_sessions.delete_expired(conn),
        "login_counters": login_throttle.delete_stale(
            conn, window_seconds=settings.login_throttle_seconds
        ),
        # Redis (THROTTLE_STORE=redis) expires its own; PostgreSQL's rows are deleted here.
        "rate_limit_counters": rate_limits.delete_stale(
            conn, window_seconds=settings.rate_limit_window_seconds
        ),
        "idempotency_keys": idempotency_keys.delete_expired(conn),
        "webhook_events": webhooks.delete_expired_events(conn, days=settings.webhook_history_days),
        "security_events": events.prune(conn, days=settings.security_events_days),
    }
