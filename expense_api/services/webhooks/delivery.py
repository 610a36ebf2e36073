"""Delivering the webhook outbox, at least once: the delivery job.

Each endpoint's due deliveries go in a **lane** of their own, a thread that sends them one after
another, most overdue first (so a receiver sees them in order), at most `PER_LANE` before it
makes way; `LANES` lanes run at once in a process (fewer if its connection pool is smaller). So
one endpoint's slow or hanging receiver holds its own lane only: the other endpoints' lanes
deliver beside it, and an event for another endpoint gets a lane at the worker's next tick.
`Dispatcher` (the worker's `webhooks` job, `worker/jobs.py`) starts lanes and returns at once;
`deliver_due` starts them and waits for them (the tests, anything that wants the work done).

Each attempt takes three steps: claim the delivery in a short transaction of its own (FOR
UPDATE SKIP LOCKED, so several jobs share the work; the attempt is counted and the row's
next_attempt_at pushed to the end of a lease, then committed, so no lock is held while the
receiver is called); send it over HTTP with no transaction open; record the outcome in another
short transaction, on the lane's own pooled connection. A job that dies mid-attempt leaves the
row pending: it is due again when the lease ends, with the same `webhook-id` (the event's), so
the event is never lost and a receiver can drop a duplicate.

A failed attempt (timeout, connection error, refused address, any non-2xx answer, a redirect,
which is never followed) is retried after the Standard Webhooks schedule with +-20% jitter:
5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, about 28 hours in all, then the delivery is `failed`.
An endpoint that has failed for `DISABLE_AFTER` without a success is disabled (PATCH
`enabled: true` re-enables it); deliveries due to a disabled endpoint fail without a request.

`transport` and `rng` are module-level so tests inject a transport that refuses to connect and
a fixed jitter; the resolver is services/webhooks/network.py's.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from ...config import Settings
from ...db.pool import Database
from ...domain.periods import utc_timestamp
from ...ops import metrics
from ...repositories import webhooks
from ..changes import door, hook
from . import network, signing

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
LANES = 4  # endpoints served at once by one process, a thread each


PER_LANE = 20  # deliveries a lane sends before it makes way for another endpoint
USER_AGENT = "expense-api-webhooks/1"


def lanes_per_ledger(lanes: int) -> int:
    """One ledger holds at most all lanes but one, so another tenant's delivery always finds a
    lane (lanes=1: that one), and ledgers take turns for the lanes that come free."""
    return max(1, lanes - 1)


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
    """Sends what is due, a lane per endpoint (at most LANES lanes, PER_LANE deliveries each),
    and returns once every attempt is recorded; returns how many were attempted."""
    dispatcher = Dispatcher()
    try:
        dispatcher(database, clock)
    finally:
        dispatcher.close()
    return dispatcher.attempted


class Dispatcher:
    """Starts a lane for each endpoint with a due delivery and no lane yet, while lanes are free,
    and returns without waiting for them; `close()` waits for them. `stopping` set: no lane
    starts, and a lane stops after the attempt in hand (recorded)."""

    def __init__(
        self,
        *,
        lanes: int = LANES,
        per_lane: int = PER_LANE,
        stopping: threading.Event | None = None,
    ):
        self.lanes, self.per_lane = lanes, per_lane
        self.stopping = threading.Event() if stopping is None else stopping
        self.attempted = 0  # attempts recorded, in all
        self._lock = threading.Lock()
        self._busy: set[tuple[int, int]] = set()  # (ledger_id, endpoint_id) with a lane
        self._recorded = 0  # attempts recorded since the last call
        self._executor: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None

    def __call__(self, database: Database, clock: Clock) -> int:
        """Lanes started plus attempts recorded since the last call (the worker ticks again at
        once while that is not 0)."""
        settings = database.settings
        # A lane borrows a connection for its claims and records; one is left for the caller.
        lanes = max(1, min(self.lanes, settings.db_pool_max - 1))
        with self._lock:
            recorded, self._recorded = self._recorded, 0
            busy = sorted(self._busy)
        if self.stopping.is_set() or len(busy) >= lanes:
            return recorded
        now = clock()
        with database.pool.connection() as conn:  # committed on leaving: the claims hold
            claims = webhooks.claim_due(
                conn,
                now=now,
                lease_until=now + lease(settings),
                limit=lanes - len(busy),
                busy=busy,
                per_ledger=lanes_per_ledger(lanes),
            )
        if claims:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(lanes, thread_name_prefix="webhook-lane")
                self._client = _client(settings)
            for claim in claims:
                with self._lock:
                    self._busy.add((claim["ledger_id"], claim["endpoint_id"]))
                self._executor.submit(self._lane, database, clock, claim, now)
        return recorded + len(claims)

    def close(self) -> None:
        """Waits for the lanes to finish (each records the attempt in hand), then frees their
        threads and HTTP client; the dispatcher may start lanes again afterwards."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _lane(self, database: Database, clock: Clock, claim: dict, now: datetime) -> None:
        """Sends `claim`, then the endpoint's next due deliveries one by one (PER_LANE in all)."""
        key = (claim["ledger_id"], claim["endpoint_id"])
        settings = database.settings
        try:
            for sent in range(self.per_lane):
                if sent:
                    if self.stopping.is_set():
                        break
                    now = clock()
                    with database.pool.connection() as conn:
                        claim = webhooks.claim_next(
                            conn,
                            ledger_id=key[0],
                            endpoint_id=key[1],
                            now=now,
                            lease_until=now + lease(settings),
                        )
                    if claim is None:
                        break
                outcome = attempt(self._client, settings, claim, now)
                # Recording it is the worker's unit of work (a lane's thread starts with no
                # context: the door is said here), with the endpoint's change if it disables it.
                with door.unit_of_work("worker"), database.pool.connection() as conn:
                    status = _finish(conn, claim, outcome, clock())
                # Counted once its outcome is committed: delivered, retried (pending) or failed.
                metrics.webhook_delivery({"pending": "retried"}.get(status, status))
                with self._lock:
                    self._recorded += 1
                    self.attempted += 1
                if not outcome.delivered and not outcome.final:
                    # A failing receiver gives its lane back (its delivery waits for its retry
                    # anyway): other endpoints and ledgers take their turn. A final outcome
                    # (a disabled endpoint's, a refused address's) cost no request: go on.
                    break
        except Exception:  # the database is down, say: the claimed delivery's lease runs out
            log.exception(
                "webhook lane of endpoint %s (ledger %s) failed; its claimed delivery is due "
                "again when its lease ends",
                key[1],
                key[0],
            )
        finally:
            with self._lock:
                self._busy.discard(key)


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
            _note_failure(conn, endpoint, now)
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


def _note_failure(conn, endpoint: dict, now: datetime) -> None:
    """Notes the endpoint's failure; disabling it changes its REST shape (`enabled`,
    `disabledAt`, `disabledReason`): the service's own change, in the change log."""
    row = webhooks.note_failure(conn, **endpoint, now=now, disable_after=DISABLE_AFTER)
    if row is None or row["disabled_at"] == row["disabled_at_before"]:
        return
    before = {
        **row,
        "enabled": row["disabled_at_before"] is None,
        "disabled_at": row["disabled_at_before"],
        "disabled_reason": row["disabled_reason_before"],
    }
    hook.record_by_service(
        conn,
        row["ledger_id"],
        "webhook",
        "updated",
        before=hook.render_in(row["currency"], "webhook", before),
        after=hook.render_in(row["currency"], "webhook", row),
    )
