"""Rate limits per account and per client address (docs/SECURITY.md, "Rate limits"): the headers
of every /api answer, 429 `rate_limited` with Retry-After past the limit, which key a request is
counted on, new windows, the store shared by workers and instances (PostgreSQL and Redis), and
the failure rule (the limiter fails open, logins stay closed)."""

from __future__ import annotations

import itertools
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from devtools.servers import call
from expense_api.api.app import create_app
from expense_api.repositories.rate_limits import StoreUnavailable
from expense_api.services import housekeeping
from expense_api.services.ratelimits import RateLimiter, address_key
from tests.helpers import Accounts, assert_problem, client_from, make_settings, start_live_server

_addresses = itertools.count(1)


def _address() -> str:
    """An address no other test counts on (TEST-NET-3 and beyond)."""
    n = next(_addresses) + int(time.time() * 1000) % 1_000_000 * 1000
    return f"100.{64 + n // 65536 % 64}.{n // 256 % 256}.{n % 256}"


@pytest.fixture
def make_app(database_url):
    """An app of its own with the given settings (low limits), closed at the end."""
    made = []

    def make(**settings):
        application = create_app(make_settings(**settings), database_url)
        made.append(application)
        return application

    yield make
    for application in made:
        application.extensions["database"].close()


@pytest.fixture
def wide_open(app):
    """Users made through the session's app (high limits), to be used on a limited app."""
    return Accounts(client_from(app, _address()))


def _as(app, user, address=None):
    """The user's requests, sent to `app` from `address`."""
    client = client_from(app, address or _address())
    return lambda method, path, **kw: client.open(
        path, method=method, headers={**user.headers, **kw.pop("headers", {})}, **kw
    )


def _limit_headers(response) -> tuple[int, int, int]:
    return tuple(int(response.headers[name]) for name in _HEADERS)


_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def test_answers_carry_the_accounts_headers_counting_down(make_app, wide_open):
    app = make_app(RATE_LIMIT_PER_ACCOUNT=5, RATE_LIMIT_WINDOW_SECONDS=60)
    send = _as(app, wide_open.new_user())
    seen = [_limit_headers(send("GET", "/api/auth/me")) for _ in range(3)]
    assert [(limit, remaining) for limit, remaining, _ in seen] == [(5, 4), (5, 3), (5, 2)]
    assert all(1 <= reset <= 60 for _, _, reset in seen)
    # Every answer, errors included: a 404 of the account's, a validation error, GraphQL.
    assert _limit_headers(send("GET", "/api/categories/999999"))[:2] == (5, 1)
    graphql = send("POST", "/api/graphql", json={"query": "{ categories { id } }"})
    assert graphql.status_code == 200
    assert _limit_headers(graphql)[:2] == (5, 0)


def test_past_the_accounts_limit_429_with_retry_after_from_any_address(make_app, wide_open):
    app = make_app(RATE_LIMIT_PER_ACCOUNT=3, RATE_LIMIT_WINDOW_SECONDS=60)
    user = wide_open.new_user()
    send = _as(app, user)
    assert [send("GET", "/api/categories").status_code for _ in range(3)] == [200] * 3
    refused = send("GET", "/api/categories")
    assert_problem(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
    assert refused.headers["RateLimit-Remaining"] == "0"
    # Counted on the account: another address with the same token is refused too, writes and
    # GraphQL alike, and nothing is written.
    elsewhere = _as(app, user)
    assert_problem(elsewhere("POST", "/api/categories", json={"name": "X"}), 429, "rate_limited")
    graphql = elsewhere("POST", "/api/graphql", json={"query": "{ categories { id } }"})
    assert_problem(graphql, 429, "rate_limited")
    assert user.get("/api/categories").get_json()["items"] == []


def test_one_accounts_flood_limits_neither_another_account_nor_its_address(make_app, wide_open):
    app = make_app(RATE_LIMIT_PER_ACCOUNT=3, RATE_LIMIT_PER_ADDRESS=3)
    address = _address()
    flooder, other = (
        _as(app, wide_open.new_user(), address),
        _as(app, wide_open.new_user(), address),
    )
    for _ in range(10):
        flooder("GET", "/api/auth/me")
    assert_problem(flooder("GET", "/api/auth/me"), 429, "rate_limited")
    assert other("GET", "/api/auth/me").status_code == 200
    anonymous = client_from(app, address).post("/api/auth/register", json={})
    assert anonymous.status_code == 422  # counted on the address, which is untouched
    assert _limit_headers(anonymous)[:2] == (3, 2)


def test_requests_without_a_usable_token_count_on_the_address(make_app, wide_open):
    app = make_app(RATE_LIMIT_PER_ADDRESS=4)
    address = _address()
    client = client_from(app, address)
    user = wide_open.new_user()
    answers = [
        client.post("/api/auth/login", json={"email": user.data["email"], "password": "no"}),
        client.get("/api/auth/me"),  # no token
        client.get("/api/auth/me", headers={"Authorization": "Bearer not-a-token"}),
        client.get("/api/no-such-path", headers=user.headers),  # no operation: no account
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 404]
    assert [_limit_headers(a)[:2] for a in answers] == [(4, 3), (4, 2), (4, 1), (4, 0)]
    # Past the limit, a bad token's answer becomes the 429, and so does a login, right or wrong.
    refused = client.get("/api/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert_problem(refused, 429, "rate_limited")
    assert "WWW-Authenticate" not in refused.headers
    login = client.post("/api/auth/login", json={"email": user.data["email"], "password": "x"})
    assert_problem(login, 429, "rate_limited")
    # A valid token is counted on its account, not on the exhausted address.
    assert _as(app, user, address)("GET", "/api/auth/me").status_code == 200
    # Another address is not limited.
    assert client_from(app, _address()).get("/api/auth/me").status_code == 401


def test_a_made_up_token_on_register_is_counted_before_the_view_runs(make_app, conn):
    app = make_app(RATE_LIMIT_PER_ADDRESS=2)
    client = client_from(app, _address())
    junk = {"Authorization": "Bearer junk"}
    accounts = Accounts(client)
    for _ in range(2):
        accounts.client.post("/api/auth/register", json={}, headers=junk)  # 422, counted
    email = "never-made@example.com"
    body = {"name": "N", "email": email, "password": Accounts.password}
    assert_problem(client.post("/api/auth/register", json=body, headers=junk), 429, "rate_limited")
    assert conn.execute("SELECT count(*) FROM users WHERE email = %s", (email,)).fetchone() == (0,)


def test_a_new_window_resets_the_count(make_app, wide_open):
    app = make_app(RATE_LIMIT_PER_ACCOUNT=2, RATE_LIMIT_WINDOW_SECONDS=60)
    limiter = app.extensions["rate_limiter"]
    now = time.time()
    limiter.clock = lambda: now
    send = _as(app, wide_open.new_user())
    for _ in range(2):
        send("GET", "/api/auth/me")
    assert_problem(send("GET", "/api/auth/me"), 429, "rate_limited")
    limiter.clock = lambda: now + 60  # the next window
    again = send("GET", "/api/auth/me")
    assert again.status_code == 200
    assert _limit_headers(again)[:2] == (2, 1)


def test_documentation_health_metrics_and_the_dashboard_are_not_limited(make_app):
    app = make_app(RATE_LIMIT_PER_ADDRESS=1)
    client = client_from(app, _address())
    for path in ("/api/openapi.json", "/api/docs", "/api/graphql", "/healthz", "/readyz",
                 "/metrics", "/app") * 2:  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        assert "RateLimit-Limit" not in response.headers, path
    assert client.get("/api/auth/me").headers["RateLimit-Remaining"] == "0"  # the first counted


def test_a_view_run_again_after_a_conflict_is_counted_once(make_app, wide_open, monkeypatch):
    from expense_api.api.core import rate_limiting

    app = make_app(RATE_LIMIT_PER_ACCOUNT=10)
    user = wide_open.new_user()
    with app.test_request_context("/api/auth/me", headers=user.headers):
        app.preprocess_request()
        for _ in range(3):  # as api/core/retry.py would run `authenticated` again
            rate_limiting.charge_account(user.id)
        from flask import g

        assert (g.rate_limit.limit, g.rate_limit.remaining) == (10, 9)


def test_the_429_and_the_headers_are_in_the_document(client):
    document = client.get("/api/openapi.json").get_json()
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            limited = path.startswith("/api/") and not path.startswith(
                ("/api/docs", "/api/openapi.json")
            )
            limited = limited and not (path.startswith("/api/graphql") and method == "get")
            responses = operation["responses"]
            assert ("429" in responses) == limited, (method, path)
            if limited:
                checked += 1
                refused = responses["429"]
                assert "Retry-After" in refused["headers"], (method, path)
                for status, response in responses.items():
                    assert set(_HEADERS) <= response.get("headers", {}).keys(), (path, status)
    assert checked > 50
    # An operation's own 429 is kept beside the rate limit's.
    login = document["paths"]["/api/auth/login"]["post"]["responses"]["429"]["description"]
    assert "Too many failed logins" in login and "`rate_limited`" in login


# --- the limiter and its stores ----------------------------------------------------------------


class CountingStore:
    """The store's contract in memory, shared by several limiters (processes)."""

    def __init__(self):
        self.counts: dict[tuple[str, int], int] = {}
        self.leases = 0

    def lease(self, key, window_start, amount, window_seconds):
        self.leases += 1
        self.counts[key, window_start] = self.counts.get((key, window_start), 0) + amount
        return self.counts[key, window_start]

    def close(self):
        pass


def _limiter(store, limit, now=1_000_020.0):
    settings = make_settings(RATE_LIMIT_PER_ACCOUNT=limit, RATE_LIMIT_WINDOW_SECONDS=60)
    return RateLimiter(settings, store, clock=lambda: now)


@pytest.mark.parametrize("limit", [1, 7, 99, 1200, 5000])
def test_processes_sharing_a_store_serve_at_most_the_limit_and_lease_by_blocks(limit):
    store = CountingStore()
    processes = [_limiter(store, limit) for _ in range(4)]
    served = []
    for turn in range(2 * limit):
        # Round robin: every process spends blocks, as gunicorn's workers would.
        decision = processes[turn % 4].charge("account", "account:1")
        served.append(decision.allowed)
    block = max(1, limit // 50)
    assert sum(served) <= limit
    # The bound of docs/SECURITY.md: at most (P - 1) x block left unserved.
    assert sum(served) >= limit - 3 * block
    assert served[: limit - 3 * block] == [True] * (limit - 3 * block)
    # A lease per block (and one for each process to learn the limit is spent), not per request.
    assert store.leases <= limit // block + 4 + 4


def test_one_process_is_exact_and_its_remaining_counts_down_by_one():
    limiter = _limiter(CountingStore(), 1200)
    remaining = [limiter.charge("account", "account:1").remaining for _ in range(1200)]
    assert remaining == list(range(1199, -1, -1))
    assert not limiter.charge("account", "account:1").allowed


def test_ipv6_clients_are_counted_by_their_64_block():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") == "address:2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1") == "address:192.0.2.1"


def test_housekeeping_deletes_ended_windows_only(app, conn):
    # The suite's windows last a day (tests/helpers.py): one of two days ago has ended.
    conn.execute(
        "INSERT INTO rate_limit_counters (key, window_start, used) VALUES "
        "('account:-1', now() - interval '2 days', 5), ('account:-2', now(), 5)"
    )
    deleted = housekeeping.prune(conn, app.config["SETTINGS"])["rate_limit_counters"]
    assert deleted >= 1
    left = conn.execute(
        "SELECT key FROM rate_limit_counters WHERE key IN ('account:-1', 'account:-2')"
    ).fetchall()
    assert left == [("account:-2",)]
    conn.execute("DELETE FROM rate_limit_counters WHERE key = 'account:-2'")


# --- when the store cannot be reached --------------------------------------------------------


def _closed_local_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unchecked() -> float:
    from expense_api.ops import metrics

    return metrics.RATE_LIMIT_UNCHECKED._value.get()


def test_an_unreachable_redis_store_fails_open_but_login_stays_closed(make_app, wide_open, caplog):
    pytest.importorskip("redis")
    url = f"redis://127.0.0.1:{_closed_local_port()}/0"
    app = make_app(THROTTLE_STORE="redis", REDIS_URL=url, RATE_LIMIT_PER_ACCOUNT=1)
    user = wide_open.new_user()
    before = _unchecked()
    send = _as(app, user)
    with caplog.at_level("WARNING"):
        answers = [send("GET", "/api/auth/me") for _ in range(3)]  # past the limit, unchecked
    assert [a.status_code for a in answers] == [200] * 3
    assert _limit_headers(answers[0])[:2] == (1, 1)  # nothing could be counted
    assert _unchecked() - before == 3
    assert "rate limits unchecked" in caplog.text
    login = client_from(app, _address()).post(
        "/api/auth/login", json={"email": user.data["email"], "password": Accounts.password}
    )
    assert_problem(login, 503, "throttle_unavailable")


def test_an_unreachable_postgres_store_fails_open(make_app, wide_open, monkeypatch):
    app = make_app(RATE_LIMIT_PER_ACCOUNT=1)
    store = app.extensions["rate_limiter"].store

    def down(*args):
        raise StoreUnavailable("connection refused")

    monkeypatch.setattr(store, "lease", down)
    before = _unchecked()
    send = _as(app, wide_open.new_user())
    assert [send("GET", "/api/auth/me").status_code for _ in range(3)] == [200] * 3
    assert _unchecked() - before == 3


# --- shared by gunicorn's workers and by instances -------------------------------------------

LIMIT = 12


def _ready_window(window: int) -> None:
    """Waits out the end of a window if it is near: the count must fall in one window."""
    left = window - time.time() % window
    if left < 30:
        time.sleep(left + 0.5)


def _flood(bases: list[str], token: str, count: int) -> list[int]:
    def one(index):
        status, _, _ = call(bases[index % len(bases)], "GET", "/api/auth/me", token=token)
        return status

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(count)))


def _shared_store_allows_exactly_the_limit(database_url, **store):
    limits = {"RATE_LIMIT_PER_ACCOUNT": str(LIMIT), "RATE_LIMIT_WINDOW_SECONDS": "3600", **store}
    one = start_live_server(database_url, WEB_CONCURRENCY="2", WEB_THREADS="4", **limits)
    try:
        two = start_live_server(database_url, WEB_CONCURRENCY="2", WEB_THREADS="4", **limits)
        try:
            app = create_app(make_settings(), database_url)
            user = Accounts(client_from(app, _address())).new_user()
            app.extensions["database"].close()
            if store.get("THROTTLE_STORE") == "redis":
                _forget_in_redis(user.id)
            _ready_window(3600)
            statuses = _flood([one.base, two.base], user.tokens["accessToken"], 4 * LIMIT)
        finally:
            two.stop()
    finally:
        one.stop()
    assert sorted(statuses) == [200] * LIMIT + [429] * (3 * LIMIT)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_instances_of_two_workers_allow_exactly_the_limit_together(database_url):
    _shared_store_allows_exactly_the_limit(database_url, THROTTLE_STORE="postgres")


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _forget_in_redis(user_id: int) -> None:
    """Redis outlives the test database, whose user ids start again at 1: an earlier run's
    counts for this id are not this user's."""
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    for key in client.scan_iter(f"expense-api:rate-limit:account:{user_id}:*"):
        client.delete(key)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_same_with_redis_as_the_store(database_url):
    if not _redis_answers():
        pytest.skip("no Redis answers on 127.0.0.1:6379: the Redis store is not tested here")
    pytest.importorskip("redis")
    _shared_store_allows_exactly_the_limit(
        database_url, THROTTLE_STORE="redis", REDIS_URL="redis://127.0.0.1:6379/0"
    )


def test_the_postgres_store_adds_up_concurrent_leases(app, database_url):
    from expense_api.repositories.rate_limits import PostgresLeaseStore

    stores = [PostgresLeaseStore(app.config["SETTINGS"], database_url) for _ in range(4)]
    key, start = f"account:test-{time.time_ns()}", int(time.time()) // 60 * 60
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            taken = list(pool.map(lambda i: stores[i % 4].lease(key, start, 3, 60), range(40)))
    finally:
        for store in stores:
            store.close()
    assert sorted(taken) == list(range(3, 121, 3))  # every increment seen once: atomic
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM rate_limit_counters WHERE key = %s", (key,))


def test_a_personal_access_token_counts_on_its_account_even_when_its_scope_refuses(
    make_app, wide_open
):
    app = make_app(RATE_LIMIT_PER_ACCOUNT=4, RATE_LIMIT_PER_ADDRESS=100)
    user = wide_open.new_user()
    session = _as(app, user)
    made = session("POST", "/api/auth/tokens", json={"name": "script", "scope": "read"})
    assert (made.status_code, _limit_headers(made)[:2]) == (201, (4, 3))
    client = client_from(app, _address())
    token = {"Authorization": f"Bearer {made.get_json()['token']}"}
    read = client.get("/api/categories", headers=token)
    assert (read.status_code, _limit_headers(read)[:2]) == (200, (4, 2))
    refused = client.post("/api/categories", json={"name": "X"}, headers=token)
    assert (refused.status_code, _limit_headers(refused)[:2]) == (403, (4, 1))
    # The session's token spends the same account's allowance.
    assert _limit_headers(session("GET", "/api/auth/me"))[:2] == (4, 0)
    assert_problem(client.get("/api/categories", headers=token), 429, "rate_limited")
