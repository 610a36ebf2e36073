"""Delivering the webhook outbox, at least once: the delivery job's unit of work.

`deliver_due(database, clock)` (the worker's job interface) sends up to `BATCH` due deliveries,
each in three steps: claim it in a short transaction of its own (FOR UPDATE SKIP LOCKED, so
several jobs share the work; the attempt is counted and the row's next_attempt_at pushed to the
end of a lease, then committed, so no lock is held while the receiver is called); send it over
HTTP with no transaction open; record the outcome in another short transaction. A job that dies
mid-attempt leaves the row pending: it is due again when the lease ends, with the same
`webhook-id` (the event's), so the event is never lost and a receiver can drop a duplicate.

A failed attempt (timeout, connection error, refused address, any non-2xx answer, a redirect,
which is never followed) is retried after the Standard Webhooks schedule with +-20% jitter:
5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, about 28 hours in all, then the delivery is `failed`.
An endpoint that has failed for `DISABLE_AFTER` without a success is disabled (PATCH
`enabled: true` re-enables it); deliveries due to a disabled endpoint fail without a request.

`transport` and `rng` are module-level so tests inject a transport that refuses to connect and
a fixed jitter; the resolver is webhooks/network.py's.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from .. import metrics
from ..config import Settings
from ..database import Database
from ..periods import utc_timestamp
from ..repositories import webhooks
from ..webhooks import network, signing

log = logging.getLogger(__name__)

BACKOFF = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
JITTER = 0.2
DISABLE_AFTER = timedelta(days=5)
BATCH = 20
USER_AGENT = "expense-api-webhooks/1"

Clock = Callable[[], datetime]
transport: httpx.BaseTransport | None = None  # None: a real HTTP transport
rng = random.Random()  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    response_status: int | None = None
    error: str | None = None
    final: bool = False  # no retry whatever the attempt count


def lease(settings: Settings) -> timedelta:
    """How long a claimed attempt keeps its row from other jobs: longer than the attempt can
    take (connect, send, wait for the answer) with room to record the outcome."""
    seconds = settings.webhook_connect_timeout_seconds + 2 * settings.webhook_read_timeout_seconds
    return timedelta(seconds=seconds + 30)


def backoff(attempts: int) -> timedelta:
    """The pause after the `attempts`-th failed attempt, with jitter."""
    step = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    return step * rng.uniform(1 - JITTER, 1 + JITTER)


def deliver_due(database: Database, clock: Clock) -> int:
    """Sends up to BATCH due deliveries, each claimed and finished in its own transaction;
    returns how many were attempted."""
    settings = database.settings
    handled = 0
    with _client(settings) as client:
        for _ in range(BATCH):
            now = clock()
            with database.pool.connection() as conn:  # committed on leaving: the claim holds
                claim = webhooks.claim_due(conn, now=now, lease_until=now + lease(settings))
            if claim is None:
                break
            outcome = attempt(client, settings, claim, now)
            with database.pool.connection() as conn:
                status = _finish(conn, claim, outcome, clock())
            # Counted once its outcome is committed: delivered, retried (pending) or failed.
            metrics.webhook_delivery({"pending": "retried"}.get(status, status))
            handled += 1
    return handled


def _client(settings: Settings) -> httpx.Client:
    timeout = httpx.Timeout(
        connect=settings.webhook_connect_timeout_seconds,
        read=settings.webhook_read_timeout_seconds,
        write=settings.webhook_read_timeout_seconds,
        pool=settings.webhook_connect_timeout_seconds,
    )
    return httpx.Client(
        transport=transport or httpx.HTTPTransport(retries=0),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,  # no proxy from the environment: the checked address is where it goes
    )


def body_of(claim: dict) -> str:
    """The request body: the same bytes on every attempt of an event."""
    document = {
        "type": claim["type"],
        "timestamp": utc_timestamp(claim["event_created_at"]),
        "data": claim["data"],
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def attempt(client: httpx.Client, settings: Settings, claim: dict, now: datetime) -> Outcome:
    """One attempt at one delivery; never raises for what the receiver or the network does."""
    if claim["endpoint_disabled"]:
        return Outcome(False, error="endpoint disabled", final=True)
    try:
        target = network.check_url(
            claim["url"],
            https_only=settings.is_production,
            allow_private=settings.webhook_allow_private_networks,
        )
    except network.UrlRefused as error:
        return Outcome(False, error=f"refused: {error}")
    try:
        keys = settings.webhook_secrets_key
        in_use = [signing.decrypt(keys, claim["secret"])]
        if claim["previous_secret"] is not None and claim["previous_secret_until"] > now:
            in_use.append(signing.decrypt(keys, claim["previous_secret"]))
    except ValueError as error:
        return Outcome(False, error=f"cannot sign: {error}")
    body = body_of(claim)
    headers = {
        "host": target.host_header,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": claim["message_id"],
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signing.signature_header(in_use, claim["message_id"], now, body),
    }
    # To the checked address (no second resolution); the name goes in Host and in TLS (SNI,
    # certificate check).
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with client.stream(
            "POST", target.pinned_url(), content=body.encode(), headers=headers,
            extensions=extensions,
        ) as response:  # fmt: skip
            status = response.status_code
            location = response.headers.get("location", "")
    except httpx.TimeoutException as error:
        return Outcome(False, error=f"timeout: {type(error).__name__}")
    except httpx.HTTPError as error:
        return Outcome(False, error=f"connection error: {type(error).__name__}: {error}"[:500])
    if 200 <= status < 300:
        return Outcome(True, response_status=status)
    if 300 <= status < 400:
        return Outcome(
            False, response_status=status, error=f"redirect not followed: {location}"[:500]
        )
    return Outcome(False, response_status=status, error=f"HTTP {status}")


def _finish(conn, claim: dict, outcome: Outcome, now: datetime) -> str:
    """Records the attempt's outcome; returns the delivery's status after it (delivered,
    pending: to be retried, failed)."""
    key = {"ledger_id": claim["ledger_id"], "id": claim["id"]}
    endpoint = {"ledger_id": claim["ledger_id"], "id": claim["endpoint_id"]}
    if outcome.delivered:
        status, next_at = "delivered", None
        webhooks.note_success(conn, **endpoint)
    else:
        final = outcome.final or claim["attempts"] >= MAX_ATTEMPTS
        status = "failed" if final else "pending"
        next_at = None if final else now + backoff(claim["attempts"])
        if not claim["endpoint_disabled"]:
            webhooks.note_failure(conn, **endpoint, now=now, disable_after=DISABLE_AFTER)
    webhooks.finish_attempt(
        conn,
        **key,
        now=now,
        status=status,
        next_attempt_at=next_at,
        response_status=outcome.response_status,
        last_error=outcome.error,
    )
    log.info(
        "webhook delivery %s (ledger %s, endpoint %s, %s %s) attempt %s: %s%s",
        claim["id"], claim["ledger_id"], claim["endpoint_id"], claim["type"],
        claim["message_id"], claim["attempts"], status,
        f" ({outcome.error})" if outcome.error else f" ({outcome.response_status})",
    )  # fmt: skip
    return status
