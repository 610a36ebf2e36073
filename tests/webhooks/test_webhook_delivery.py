"""Webhook delivery over real HTTP to a local receiver (pytest-httpserver on 127.0.0.1), verified
with the `standardwebhooks` library: at least once, the same webhook-id on every attempt, backoff
on an injected clock, timeouts, a killed delivery process, several jobs at once, SSRF at delivery
(a transport that fails the test if asked to connect), rotation overlap and redelivery.

These tests run on a database of their own: the delivery job claims due rows of every ledger,
so it must not meet the rest of the suite's deliveries (nor they its receivers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from devtools.servers import throwaway_database
from expense_api.api.app import create_app
from expense_api.config import PROJECT_ROOT
from expense_api.db.pool import Database
from expense_api.services.webhooks import delivery as webhook_delivery
from expense_api.services.webhooks import network
from expense_api.services.webhooks.delivery import Dispatcher, deliver_due
from tests.factories import category, record, save
from tests.helpers import TEST_SECRET, Accounts, make_settings


@pytest.fixture(scope="module")
def hooks_url(admin_url, database_template):
    with throwaway_database(admin_url, "expense_api_webhooks", template=database_template) as url:
        yield url


@pytest.fixture(scope="module")
def hooks_app(hooks_url):
    application = create_app(make_settings(), hooks_url)
    yield application
    application.extensions["database"].close()


def _database(url, **settings) -> Database:
    database = Database(url, make_settings(**{"WEBHOOK_READ_TIMEOUT_SECONDS": 1, **settings}))
    database.pool.open(wait=True)
    return database


@pytest.fixture(scope="module")
def database(hooks_url):
    """What the delivery job runs on (a read timeout of 1 s: the hanging receiver's test)."""
    db = _database(hooks_url)
    yield db
    db.close()


@pytest.fixture
def db(hooks_url):
    with psycopg.connect(hooks_url, autocommit=True) as connection:
        yield connection
        connection.execute("DELETE FROM webhook_events")  # deliveries go with them
        connection.execute("DELETE FROM webhook_endpoints")


@pytest.fixture
def owner(hooks_app, db):
    return Accounts(hooks_app.test_client()).new_user(name="Owner")


class Clock:
    """The delivery job's injected clock: starts at the real time, moves when told."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each request and answers the statuses it
    is given in turn (then `default`); `hold()` makes it hang until `release()`."""

    def __init__(self, server: HTTPServer):
        self.server, self.requests, self.statuses, self.default = server, [], [], 200
        self.arrived, self.released = threading.Event(), threading.Event()
        self.released.set()
        self.location = None
        self.delay = 0.0  # seconds each answer takes
        self.in_flight = self.most_in_flight = 0  # requests being answered at once
        self._counting = threading.Lock()
        server.expect_request("/hook", method="POST").respond_with_handler(self._answer)

    @property
    def url(self) -> str:
        return self.server.url_for("/hook")

    def hold(self) -> None:
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    def _answer(self, request):
        with self._counting:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.requests.append((dict(request.headers), request.get_data(as_text=True)))
        self.arrived.set()
        self.released.wait(30)
        time.sleep(self.delay)
        with self._counting:
            self.in_flight -= 1
        status = self.statuses.pop(0) if self.statuses else self.default
        headers = {"Location": self.location} if self.location else {}
        return Response("", status=status, headers=headers)


def _receiver():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    receiver = Receiver(server)
    try:
        yield receiver
    finally:
        receiver.release()  # a test that failed while holding it
        server.clear()
        server.stop()


@pytest.fixture
def receiver():
    yield from _receiver()


@pytest.fixture
def other_receiver():
    """Another tenant's receiver."""
    yield from _receiver()


@pytest.fixture(autouse=True)
def no_jitter(monkeypatch):
    """The backoff schedule exactly (jitter is +-20% at random otherwise)."""

    class NoJitter:
        def uniform(self, low, high):
            return 1.0

    monkeypatch.setattr(webhook_delivery, "rng", NoJitter())


def endpoint(user, url, events=("alert.threshold", "alert.limit", "transaction.created")):
    response = user.post("/api/webhooks", json={"url": url, "events": list(events)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def deliveries(user, hook) -> list[dict]:
    return user.get(f"/api/webhooks/{hook['id']}/deliveries").get_json()["items"]


def verify(secret: str, request) -> dict:
    headers, body = request
    return Webhook(secret).verify(body, headers)


# --- At least once, exactly as signed -----------------------------------------------------------


def test_a_threshold_alert_from_an_expense_arrives_once_with_the_right_body(
    owner, receiver, database
):
    hook = endpoint(owner, receiver.url, events=["alert.threshold"])
    food = category(owner, "Food")
    save(owner, categoryId=food, amount="100", alertThreshold=80)
    expense = record(owner, food, amount="85.00")
    assert deliver_due(database, Clock()) == 1
    assert deliver_due(database, Clock()) == 0  # delivered: never again
    [request] = receiver.requests
    body = verify(hook["secret"], request)  # the reference verifier accepts the signature
    [alert] = expense["alerts"]
    assert body["type"] == "alert.threshold"
    assert body["data"] == alert and alert["kind"] == "threshold"
    assert body["data"]["percentUsed"] == "85.00"
    assert body["timestamp"].endswith("Z")
    headers = {k.lower(): v for k, v in request[0].items()}
    assert headers["webhook-id"].startswith("msg_")
    assert headers["content-type"] == "application/json"
    [delivery] = deliveries(owner, hook)
    assert (delivery["status"], delivery["attempts"], delivery["responseStatus"]) == (
        "delivered",
        1,
        200,
    )
    assert (delivery["nextAttemptAt"], delivery["lastError"]) == (None, None)


def test_a_refused_change_sends_nothing_and_a_committed_one_always_sends(owner, receiver, database):
    endpoint(owner, receiver.url)
    food = category(owner, "Food")
    save(owner, categoryId=food, amount="100")  # hard
    refused = owner.post(
        "/api/transactions",
        json={"amount": "150", "type": "EXPENSE", "categoryId": food, "date": "2026-03-02"},
    )
    assert refused.status_code == 409
    assert deliver_due(database, Clock()) == 0
    assert receiver.requests == []
    record(owner, food, amount="10.00", date="2026-03-02")
    assert deliver_due(database, Clock()) == 1
    assert receiver.requests[0][1].startswith('{"type":"transaction.created"')


def test_500_twice_then_200_is_three_attempts_with_one_id_and_backoff(owner, receiver, database):
    hook = endpoint(owner, receiver.url)
    receiver.statuses = [500, 500]
    record(owner, category(owner))
    clock = Clock()
    assert deliver_due(database, clock) == 1
    [pending] = deliveries(owner, hook)
    assert (pending["status"], pending["attempts"], pending["responseStatus"]) == (
        "pending",
        1,
        500,
    )
    assert pending["lastError"] == "HTTP 500"
    due = datetime.fromisoformat(pending["nextAttemptAt"])
    assert abs(due - (clock.now + timedelta(seconds=5))) < timedelta(milliseconds=2)
    clock.advance(seconds=4)
    assert deliver_due(database, clock) == 0  # not due yet
    clock.advance(seconds=1)
    assert deliver_due(database, clock) == 1
    second = datetime.fromisoformat(deliveries(owner, hook)[0]["nextAttemptAt"])
    assert abs(second - (clock.now + timedelta(minutes=5))) < timedelta(milliseconds=2)
    clock.advance(minutes=4, seconds=59)
    assert deliver_due(database, clock) == 0
    clock.advance(seconds=1)
    assert deliver_due(database, clock) == 1
    [done] = deliveries(owner, hook)
    assert (done["status"], done["attempts"], done["responseStatus"]) == ("delivered", 3, 200)
    ids = {{k.lower(): v for k, v in h.items()}["webhook-id"] for h, _ in receiver.requests}
    bodies = {body for _, body in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1 and len(bodies) == 1
    verify(hook["secret"], receiver.requests[0])
    # Each later attempt is signed for its own time (the clock's), with the same secret.
    for headers, body in receiver.requests[1:]:
        headers = {k.lower(): v for k, v in headers.items()}
        stamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
        expected = Webhook(hook["secret"]).sign(headers["webhook-id"], stamp, body)
        assert headers["webhook-signature"] == expected


def test_after_the_last_attempt_the_delivery_fails(owner, receiver, database, db):
    hook = endpoint(owner, receiver.url)
    receiver.default = 503
    record(owner, category(owner))
    db.execute("UPDATE webhook_deliveries SET attempts = %s", (webhook_delivery.MAX_ATTEMPTS - 1,))
    assert deliver_due(database, Clock()) == 1
    [failed] = deliveries(owner, hook)
    assert (failed["status"], failed["attempts"], failed["nextAttemptAt"]) == (
        "failed",
        webhook_delivery.MAX_ATTEMPTS,
        None,
    )
    total = sum(webhook_delivery.BACKOFF, timedelta())
    assert timedelta(hours=20) < total < timedelta(hours=30)  # about a day of retries


def test_a_hanging_receiver_is_cut_off_by_the_read_timeout(owner, receiver, database, db):
    hook = endpoint(owner, receiver.url)
    receiver.hold()
    record(owner, category(owner))
    handled = []
    job = threading.Thread(target=lambda: handled.append(deliver_due(database, Clock())))
    job.start()
    try:
        assert receiver.arrived.wait(30)
        # Mid-request, the job holds no lock on the delivery or its endpoint (NOWAIT: an error
        # if it did), so the API never waits on a slow receiver.
        db.execute("SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints w"
                   " ON w.ledger_id = d.ledger_id AND w.id = d.endpoint_id"
                   " WHERE d.ledger_id = %s FOR UPDATE NOWAIT", (owner.ledger_id,))  # fmt: skip
        job.join(30)
        assert handled == [1]  # returned: the 1 s read timeout cut the request off
    finally:
        receiver.release()
        job.join(30)
    [delivery] = deliveries(owner, hook)
    assert (delivery["status"], delivery["lastError"]) == ("pending", "timeout: ReadTimeout")


def test_an_endpoint_failing_for_days_is_disabled_until_patched(owner, receiver, database):
    hook = endpoint(owner, receiver.url)
    receiver.default = 500
    food = category(owner)
    record(owner, food)
    clock = Clock()
    deliver_due(database, clock)
    assert owner.get(f"/api/webhooks/{hook['id']}").get_json()["enabled"]
    record(owner, food)
    clock.advance(days=5, seconds=1)
    deliver_due(database, clock)  # both due: the second failure, 5 days on, disables it
    shown = owner.get(f"/api/webhooks/{hook['id']}").get_json()
    assert (shown["enabled"], shown["disabledReason"]) == (False, "failing for too long")
    sent = len(receiver.requests)
    clock.advance(days=1)
    deliver_due(database, clock)  # what is still due fails without a request
    assert len(receiver.requests) == sent
    assert {d["status"] for d in deliveries(owner, hook)} == {"failed"}
    record(owner, food)  # a disabled endpoint gets no new deliveries
    assert len(deliveries(owner, hook)) == 2
    owner.patch(f"/api/webhooks/{hook['id']}", json={"enabled": True})
    receiver.default = 200
    record(owner, food)
    assert deliver_due(database, Clock()) == 1
    assert deliveries(owner, hook)[0]["status"] == "delivered"


# --- One slow receiver holds only its own endpoint (issue 25, item 3) ---------------------------


def _event_ids(receiver) -> list[int]:
    import json

    return [json.loads(body)["data"]["id"] for _, body in receiver.requests]


@pytest.fixture
def patient_database(hooks_url):
    """A read timeout of 20 s: a held receiver is not cut off while the test looks on."""
    db = _database(hooks_url, WEBHOOK_READ_TIMEOUT_SECONDS=20)
    yield db
    db.close()


def test_a_slow_receiver_does_not_delay_another_tenants_delivery(
    owner, hooks_app, receiver, other_receiver, patient_database
):
    """The slow endpoint's four due deliveries are older than the other tenant's one, yet that
    one arrives while the slow receiver still holds its first request; the slow endpoint gets
    its deliveries one at a time, oldest first."""
    slow = endpoint(owner, receiver.url)
    food = category(owner)
    sent = [record(owner, food)["id"] for _ in range(4)]
    other = Accounts(hooks_app.test_client()).new_user(name="Other tenant")
    prompt = endpoint(other, other_receiver.url)
    record(other, category(other))
    receiver.hold()
    handled = []
    job = threading.Thread(target=lambda: handled.append(deliver_due(patient_database, Clock())))
    job.start()
    try:
        assert receiver.arrived.wait(30)
        # The old sequential job sent the other tenant's event only after the slow endpoint's
        # four (each held until the read timeout): it did not arrive in these 15 s.
        assert other_receiver.arrived.wait(15), "the other tenant waited for the slow receiver"
        _wait_for(lambda: deliveries(other, prompt)[0]["status"] == "delivered")
        assert len(receiver.requests) == 1 and receiver.in_flight == 1  # still held
    finally:
        receiver.release()
        job.join(60)
    assert handled == [5]
    assert _event_ids(receiver) == sent and receiver.most_in_flight == 1
    assert {d["status"] for d in deliveries(owner, slow)} == {"delivered"}


def test_one_tenants_failing_endpoints_never_hold_every_lane(
    owner, hooks_app, receiver, other_receiver, database
):
    """A tenant with four slow, failing endpoints and a backlog (found by review: the oldest
    deliveries were always theirs, so every lane that came free went back to them, and another
    tenant's delivery waited for 60 attempts): that tenant holds at most all lanes but one,
    ledgers take turns, and a failing receiver gives its lane back."""
    receiver.default, receiver.delay = 500, 0.3
    for n in range(4):
        endpoint(owner, f"{receiver.url}?n={n}")
    food = category(owner)
    for _ in range(6):
        record(owner, food)  # 24 deliveries, older than the other tenant's
    other = Accounts(hooks_app.test_client()).new_user(name="Other tenant")
    prompt = endpoint(other, other_receiver.url)
    record(other, category(other))
    dispatcher, clock = Dispatcher(lanes=4), Clock()
    seen_at = None
    try:
        deadline = time.monotonic() + 60
        while seen_at is None and time.monotonic() < deadline:
            dispatcher(database, clock)
            if other_receiver.arrived.is_set():
                seen_at = len(receiver.requests)
            time.sleep(0.02)
    finally:
        dispatcher.stopping.set()
        dispatcher.close()
    assert seen_at is not None, "the other tenant's delivery never went out"
    assert seen_at <= 3, f"the other tenant waited for {seen_at} of the failing tenant's attempts"
    assert receiver.most_in_flight <= 3  # one lane was always left for others
    _wait_for(lambda: deliveries(other, prompt)[0]["status"] == "delivered")


def test_the_worker_delivers_new_events_of_others_while_a_receiver_hangs(
    owner, hooks_app, receiver, other_receiver, patient_database
):
    """Through the worker's loop and its webhooks job: an event recorded for another tenant
    while the slow receiver holds a request is delivered at the next ticks, the worker's other
    jobs keep ticking, and stopping the loop waits for the held attempt to be recorded."""
    from expense_api.worker import jobs, loop

    slow = endpoint(owner, receiver.url)
    food = category(owner)
    for _ in range(3):
        record(owner, food)
    other = Accounts(hooks_app.test_client()).new_user(name="Other tenant")
    prompt = endpoint(other, other_receiver.url)
    receiver.hold()
    ticks, stop = [], threading.Event()
    counting = jobs.Job("count", lambda database, clock: ticks.append(clock()) or 0)
    webhooks_job = next(job for job in jobs.JOBS if job.name == "webhooks")
    worker = threading.Thread(
        target=loop.run,
        args=(patient_database,),
        kwargs={"tick_seconds": 1, "jobs": [webhooks_job, counting], "stop": stop},
    )
    worker.start()
    try:
        assert receiver.arrived.wait(30)
        seen = len(ticks)
        record(other, category(other))  # after the slow delivery began
        assert other_receiver.arrived.wait(15), "the other tenant waited for the slow receiver"
        _wait_for(lambda: deliveries(other, prompt)[0]["status"] == "delivered")
        assert len(receiver.requests) == 1 and receiver.in_flight == 1  # still held
        assert len(ticks) > seen  # the worker's other jobs ran meanwhile
        stop.set()
        time.sleep(0.5)
        assert worker.is_alive()  # closing the job waits for the held attempt
    finally:
        receiver.release()
        stop.set()
        worker.join(60)
    assert not worker.is_alive()
    # The held attempt was recorded before the loop returned; the lane stopped after it (the
    # worker's stop event is not the test's; it went on while deliveries were due).
    statuses = [d["status"] for d in deliveries(owner, slow)]
    assert statuses[-1] == "delivered" and receiver.most_in_flight == 1


# --- Several jobs, and a job killed mid-delivery ------------------------------------------------


def test_parallel_jobs_deliver_each_event_once(owner, receiver, hooks_url):
    endpoint(owner, receiver.url)
    food = category(owner)
    for _ in range(12):
        record(owner, food)
    databases = [_database(hooks_url) for _ in range(4)]
    try:
        start = threading.Barrier(len(databases))

        def job(database):
            start.wait()
            while deliver_due(database, lambda: datetime.now(UTC)):
                pass

        threads = [threading.Thread(target=job, args=(d,)) for d in databases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for database in databases:
            database.close()
    ids = [{k.lower(): v for k, v in h.items()}["webhook-id"] for h, _ in receiver.requests]
    assert len(ids) == 12 and len(set(ids)) == 12


def _delivery_process(hooks_url) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": hooks_url, "JWT_SECRET_KEY": TEST_SECRET,
           "APP_ENV": "test", "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", "LOG_LEVEL": "INFO",
           "DATA_DIR": str(PROJECT_ROOT / ".data"), "WORKER_TICK_SECONDS": "1"}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "expense_api.cli", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_killing_the_delivery_process_mid_delivery_loses_nothing(owner, receiver, hooks_url, db):
    hook = endpoint(owner, receiver.url)
    receiver.hold()
    record(owner, category(owner))
    first = _delivery_process(hooks_url)
    try:
        assert receiver.arrived.wait(60), "the delivery process never called the receiver"
        first.kill()  # SIGKILL, mid-request: no clean-up of any kind
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    receiver.release()
    [delivery] = deliveries(owner, hook)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    # The claim's lease keeps the row from other jobs until it ends; end it now instead of
    # waiting for it (the lease is the connect + read timeouts and 30 s).
    leased_until = datetime.fromisoformat(delivery["nextAttemptAt"])
    assert leased_until > datetime.now(UTC) + timedelta(seconds=30)
    db.execute("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE ledger_id = %s",
               (owner.ledger_id,))  # fmt: skip
    second = _delivery_process(hooks_url)
    try:
        _wait_for(lambda: deliveries(owner, hook)[0]["status"] == "delivered")
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0, second.stdout.read()
    finally:
        if second.poll() is None:
            second.kill()
    assert "attempt 2: delivered" in second.stdout.read()
    ids = {{k.lower(): v for k, v in h.items()}["webhook-id"] for h, _ in receiver.requests}
    assert len(receiver.requests) == 2 and len(ids) == 1  # at least once, one id
    verify(hook["secret"], receiver.requests[-1])


# --- SSRF at delivery ----------------------------------------------------------------------------


class NoConnection(httpx.BaseTransport):
    """A transport that fails the test if the job asks it for anything."""

    def handle_request(self, request):
        pytest.fail(f"a connection was attempted to {request.url}")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://internal.example/hook",
        "http://[::ffff:10.0.0.5]/hook",
    ],
)
def test_private_targets_are_refused_at_delivery_without_a_connection(
    owner, receiver, hooks_url, monkeypatch, url
):
    """Endpoints made while private networks were allowed (or a name whose address changed
    since): the job, with private networks not allowed, refuses them after resolution."""
    url = url.format(port=receiver.server.port)
    resolved = []
    monkeypatch.setattr(
        network, "resolver", lambda host, port: resolved.append(host) or ["10.0.0.5"]
    )
    hook = endpoint(owner, url)  # allowed here: the API's settings allow private networks
    record(owner, category(owner))
    resolved.clear()
    monkeypatch.setattr(webhook_delivery, "transport", NoConnection())
    strict = _database(hooks_url, WEBHOOK_ALLOW_PRIVATE_NETWORKS="false")
    try:
        assert deliver_due(strict, Clock()) == 1
    finally:
        strict.close()
    [delivery] = deliveries(owner, hook)
    assert delivery["status"] == "pending"
    assert "public addresses only" in delivery["lastError"]
    assert receiver.requests == []
    assert resolved == (["internal.example"] if "internal" in url else [])


@pytest.mark.parametrize(
    "address",
    ["::7f00:1", "::a9fe:a9fe", "64:ff9b::a00:5", "64:ff9b:1::a00:5", "64:ff9b::a9fe:a9fe"],
)
def test_names_resolving_to_embedded_private_addresses_are_refused_at_delivery(
    owner, hooks_url, monkeypatch, address
):
    """A name whose address became an IPv6 wrapping of a private or metadata IPv4 address
    (IPv4-compatible, NAT64 well-known and local-use) after the endpoint was made."""
    answer = ["93.184.216.34"]
    monkeypatch.setattr(network, "resolver", lambda host, port: answer)
    hook = endpoint(owner, "http://hook.test/hook")
    record(owner, category(owner))
    answer[:] = [address]
    monkeypatch.setattr(webhook_delivery, "transport", NoConnection())
    strict = _database(hooks_url, WEBHOOK_ALLOW_PRIVATE_NETWORKS="false")
    try:
        assert deliver_due(strict, Clock()) == 1
    finally:
        strict.close()
    [delivery] = deliveries(owner, hook)
    assert delivery["status"] == "pending"
    assert f"resolves to {address}" in delivery["lastError"]
    assert "public addresses only" in delivery["lastError"]


def test_a_name_with_a_public_ipv6_address_is_delivered_to_it(owner, hooks_url, monkeypatch):
    monkeypatch.setattr(network, "resolver", lambda host, port: ["2606:4700:4700::1111"])
    hook = endpoint(owner, "http://hook.test/hook")
    record(owner, category(owner))
    sent = []
    answer = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(204))
    monkeypatch.setattr(webhook_delivery, "transport", answer)
    strict = _database(hooks_url, WEBHOOK_ALLOW_PRIVATE_NETWORKS="false")
    try:
        assert deliver_due(strict, Clock()) == 1
    finally:
        strict.close()
    [request] = sent
    assert (request.url.host, request.url.port, request.url.path) == (
        "2606:4700:4700::1111",
        None,  # 80, the scheme's
        "/hook",
    )
    assert request.headers["host"] == "hook.test"
    assert deliveries(owner, hook)[0]["status"] == "delivered"


class LoopbackOnly(httpx.BaseTransport):
    """The real transport, for 127.0.0.1 only; anything else fails the test."""

    def __init__(self):
        self.inner, self.hosts = httpx.HTTPTransport(), []

    def handle_request(self, request):
        self.hosts.append(request.url.host)
        if request.url.host != "127.0.0.1":
            pytest.fail(f"a connection was attempted to {request.url}")
        return self.inner.handle_request(request)


def test_a_redirect_to_a_private_address_is_not_followed(owner, receiver, database, monkeypatch):
    hook = endpoint(owner, receiver.url)
    receiver.statuses, receiver.location = [302], "http://10.0.0.5/steal"
    transport = LoopbackOnly()
    monkeypatch.setattr(webhook_delivery, "transport", transport)
    record(owner, category(owner))
    assert deliver_due(database, Clock()) == 1
    assert transport.hosts == ["127.0.0.1"] and len(receiver.requests) == 1
    [delivery] = deliveries(owner, hook)
    assert (delivery["status"], delivery["responseStatus"]) == ("pending", 302)
    assert delivery["lastError"] == "redirect not followed: http://10.0.0.5/steal"


def test_a_name_is_connected_to_at_the_address_that_was_checked(
    owner, receiver, database, monkeypatch
):
    """The job resolves once, checks, and connects to that address (no second resolution for
    a rebinding name to exploit), sending the name as Host."""
    port = receiver.server.port
    resolved = []
    monkeypatch.setattr(
        network, "resolver", lambda host, port: resolved.append(host) or ["127.0.0.1"]
    )
    hook = endpoint(owner, f"http://receiver.test:{port}/hook")
    resolved.clear()
    record(owner, category(owner))
    assert deliver_due(database, Clock()) == 1
    assert deliveries(owner, hook)[0]["status"] == "delivered"
    headers = {k.lower(): v for k, v in receiver.requests[0][0].items()}
    assert headers["host"] == f"receiver.test:{port}"
    assert resolved == ["receiver.test"]  # once, at delivery


# --- Rotation and redelivery ---------------------------------------------------------------------


def test_after_a_rotation_both_secrets_verify_for_24_hours(owner, receiver, database):
    hook = endpoint(owner, receiver.url)
    new = owner.post(f"/api/webhooks/{hook['id']}/rotate-secret").get_json()["secret"]
    food = category(owner)
    record(owner, food)
    assert deliver_due(database, Clock()) == 1
    headers, body = receiver.requests[0]
    assert len({k.lower(): v for k, v in headers.items()}["webhook-signature"].split()) == 2
    assert verify(hook["secret"], (headers, body)) == verify(new, (headers, body))
    record(owner, food)
    later = Clock()
    later.advance(hours=24, seconds=1)
    assert deliver_due(database, later) == 1
    headers, body = (
        {k.lower(): v for k, v in receiver.requests[1][0].items()},
        receiver.requests[1][1],
    )
    stamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    assert headers["webhook-signature"] == Webhook(new).sign(headers["webhook-id"], stamp, body)


def test_redelivering_sends_the_same_event_again_with_the_same_id(owner, receiver, database):
    hook = endpoint(owner, receiver.url)
    record(owner, category(owner))
    assert deliver_due(database, Clock()) == 1
    [delivered] = deliveries(owner, hook)
    response = owner.post(f"/api/webhooks/{hook['id']}/deliveries/{delivered['id']}/redeliver")
    assert response.status_code == 202, response.get_json()
    again = response.get_json()
    assert again["id"] != delivered["id"] and again["status"] == "pending"
    assert deliver_due(database, Clock()) == 1
    assert [d["status"] for d in deliveries(owner, hook)] == ["delivered", "delivered"]
    first, second = ({k.lower(): v for k, v in h.items()} for h, _ in receiver.requests)
    assert first["webhook-id"] == second["webhook-id"]
    assert receiver.requests[0][1] == receiver.requests[1][1]
    verify(hook["secret"], receiver.requests[1])
