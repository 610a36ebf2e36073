"""The analytics cache (ANALYTICS_CACHE_URL) is never stale: each write to what the reports read
replaces the ledger's generation, whichever door wrote; Redis down, slow, flushed or holding
junk only means PostgreSQL answers. Runs against a redis-server of its own on a free loopback
port (skipped, saying so, where redis-server is not installed)."""

from __future__ import annotations

import random
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
import pytest

from devtools.servers import RedisServer
from expense_api.api.app import create_app
from expense_api.db import analytics_cache, sqlfiles
from expense_api.db.analytics_cache import AnalyticsCache
from expense_api.ops import metrics
from expense_api.services import reports
from expense_api.services.ledgers import actor_in
from tests.factories import category, graphql, record, save
from tests.helpers import Accounts, client_from, make_settings

pytestmark = pytest.mark.skipif(
    not RedisServer.available(), reason="redis-server is not installed: no cache to test"
)

MARCH = "/api/summary?year=2026&month=3"


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def cached_app(database_url, redis_server):
    application = create_app(
        make_settings(ANALYTICS_CACHE_URL=redis_server.url, DB_POOL_MAX=40), database_url
    )
    yield application
    application.extensions["database"].close()


@pytest.fixture
def cache(cached_app, redis_server) -> AnalyticsCache:
    if redis_server.process is None:
        redis_server.start()
    cache = cached_app.extensions["analytics_cache"]
    cache._paused_until = 0.0  # a previous test's outage is over
    return cache


@pytest.fixture
def carol(cached_app, cache):
    return Accounts(client_from(cached_app, "10.250.0.1")).new_user(name="Carol")


def _lookups(result: str, report: str = "summary") -> float:
    return metrics.CACHE_LOOKUPS.labels(report=report, result=result)._value.get()


def _expense_total(conn, ledger_id: int) -> Decimal:
    """The database's own figure: the sum of the rows themselves, not of the kept totals."""
    return conn.execute(
        "SELECT coalesce(sum(amount), 0) FROM transactions WHERE ledger_id = %s "
        "AND type = 'EXPENSE' AND occurred_on BETWEEN '2026-03-01' AND '2026-03-31'",
        (ledger_id,),
    ).fetchone()[0]


def test_a_second_read_is_a_hit_and_a_write_makes_it_a_miss(carol, cache):
    food = category(carol, "Food")
    record(carol, food, "10.00", date="2026-03-02")
    hits, misses = _lookups("hit"), _lookups("miss")
    first = carol.get(MARCH).get_json()
    second = carol.get(MARCH).get_json()
    assert first == second and first["totalExpense"] == "10.00"
    assert (_lookups("hit") - hits, _lookups("miss") - misses) == (1, 1)
    record(carol, food, "2.50", date="2026-03-03")
    assert carol.get(MARCH).get_json()["totalExpense"] == "12.50"
    assert _lookups("miss") - misses == 2


def test_the_cached_answer_is_the_computed_answer_for_every_report(carol, cache, database_url):
    """Money stays exact strings and dates stay dates through Redis: each report, read cold and
    then hot, answers exactly what an uncached service answers."""
    rent = category(carol, "Rent")
    record(carol, rent, "1234.56", date="2026-03-01")
    record(carol, rent, "1000.01", type="INCOME", date="2026-02-10")
    save(carol, amount="2000", categoryId=rent)
    paths = (
        MARCH,
        "/api/summary?from=2026-02-05&to=2026-03-20",
        "/api/category-breakdown?year=2026&month=3",
        "/api/budget-usage?year=2026&month=3",
        "/api/trends?from=2026-01-01&to=2026-04-30",
    )
    uncached = create_app(make_settings(), database_url)
    try:
        plain = client_from(uncached, "10.250.0.2")
        for path in paths:
            expected = plain.get(path, headers=carol.headers).get_json()
            assert carol.get(path).get_json() == expected, path  # miss
            assert carol.get(path).get_json() == expected, path  # hit
    finally:
        uncached.extensions["database"].close()


@pytest.mark.parametrize(
    "write",
    ["record", "change", "delete", "budget", "budget_change", "budget_delete", "rename",
     "category_delete"],
)  # fmt: skip
def test_every_kind_of_write_changes_the_generation(carol, cache, conn, write):
    food = category(carol, "Food")
    spent = record(carol, food, "40.00", date="2026-03-02")
    budget = save(carol, amount="100", categoryId=food).get_json()
    spare = category(carol, "Spare")
    carol.get("/api/budget-usage?year=2026&month=3")
    carol.get("/api/category-breakdown?year=2026&month=3")
    before = _generation(conn, carol.ledger_id)
    response = {
        "record": lambda: carol.post("/api/transactions", json={
            "amount": "1", "type": "EXPENSE", "categoryId": food, "date": "2026-03-04"}),
        "change": lambda: carol.patch(f"/api/transactions/{spent['id']}", json={"amount": "41"}),
        "delete": lambda: carol.delete(f"/api/transactions/{spent['id']}"),
        "budget": lambda: save(carol, amount="90"),
        "budget_change": lambda: save(carol, amount="120", categoryId=food),
        "budget_delete": lambda: carol.delete(f"/api/budgets/{budget['id']}"),
        "rename": lambda: carol.patch(f"/api/categories/{food}", json={"name": "Groceries"}),
        "category_delete": lambda: carol.delete(f"/api/categories/{spare}"),
    }[write]()  # fmt: skip
    assert response.status_code < 300, response.get_json()
    assert _generation(conn, carol.ledger_id) != before
    # And the reports say so at once.
    usage = carol.get("/api/budget-usage?year=2026&month=3").get_json()["items"]
    breakdown = carol.get("/api/category-breakdown?year=2026&month=3").get_json()["items"]
    expected_spent = {"record": "41.00", "change": "41.00", "delete": "0.00"}.get(write, "40.00")
    food_usage = [item for item in usage if item["categoryId"] == food]
    if write == "budget_delete":
        assert food_usage == []
    else:
        assert food_usage[0]["spent"] == expected_spent
    if write == "rename":
        assert breakdown[0]["category"] == "Groceries"


def _generation(conn, ledger_id: int) -> str | None:
    row = conn.execute(
        "SELECT generation FROM ledger_generations WHERE ledger_id = %s", (ledger_id,)
    ).fetchone()
    return row and str(row[0])


def _logged(conn, ledger_id: int, transaction_id: int) -> None:
    """The change-log entry every write has (the write hook's, written here by hand)."""
    conn.execute(
        "INSERT INTO ledger_changes (ledger_id, via, entity, entity_id, op)"
        " VALUES (%s, 'import', 'transaction', %s, 'created')",
        (ledger_id, transaction_id),
    )


def test_a_write_through_another_door_is_seen_too(carol, cache, conn):
    """Any writer, here plain SQL as an import would run it, replaces the generation with its
    change-log entry (migration 0016's commit trigger): nothing for a door to remember."""
    food = category(carol, "Food")
    record(carol, food, "5.00", date="2026-03-02")
    assert carol.get(MARCH).get_json()["totalExpense"] == "5.00"
    with conn.transaction():
        [new_id] = conn.execute(
            "INSERT INTO transactions (ledger_id, category_id, created_by, type, amount, "
            "occurred_on) VALUES (%s, %s, %s, 'EXPENSE', 7, '2026-03-09') RETURNING id",
            (carol.ledger_id, food, carol.id),
        ).fetchone()
        _logged(conn, carol.ledger_id, new_id)
    assert carol.get(MARCH).get_json()["totalExpense"] == "12.00"


def test_one_transaction_writing_many_rows_bumps_once(carol, cache, conn):
    food = category(carol, "Food")
    record(carol, food, "1.00", date="2026-03-02")
    with conn.transaction():
        for day in range(1, 20):
            [new_id] = conn.execute(
                "INSERT INTO transactions (ledger_id, category_id, created_by, type, amount, "
                "occurred_on) VALUES (%s, %s, %s, 'EXPENSE', 1, %s) RETURNING id",
                (carol.ledger_id, food, carol.id, f"2026-03-{day:02d}"),
            ).fetchone()
            _logged(conn, carol.ledger_id, new_id)
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred triggers run now
        written = conn.execute(
            "SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables "
            "WHERE relname = 'ledger_generations'"
        ).fetchone()[0]
    assert written == 1  # 19 entries (and 38 rows of totals) written, one generation
    assert carol.get(MARCH).get_json()["totalExpense"] == "20.00"


def test_a_transaction_that_wrote_neither_reads_nor_fills_the_cache(
    carol, cache, cached_app, database_url
):
    """Its own uncommitted rows are in what it reads but not in the generation yet: stored, they
    would outlive a rollback."""
    food = category(carol, "Food")
    record(carol, food, "3.00", date="2026-03-02")
    carol.get(MARCH)  # cached: 3.00
    query = {"year": 2026, "month": 3}
    with psycopg.connect(database_url) as own:
        actor = actor_in(own, user_id=carol.id, ledger_id=carol.ledger_id)
        own.execute(
            "INSERT INTO transactions (ledger_id, category_id, created_by, type, amount, "
            "occurred_on) VALUES (%s, %s, %s, 'EXPENSE', 100, '2026-03-05')",
            (carol.ledger_id, food, carol.id),
        )
        bypasses = _lookups("bypass")
        seen = reports.summary(own, actor, query, cache=cache)
        assert seen["total_expense"] == Decimal("103.00")  # its own write, not the cached 3.00
        assert _lookups("bypass") - bypasses == 1
        own.rollback()
    assert carol.get(MARCH).get_json()["totalExpense"] == "3.00"


def test_a_flushed_cache_is_filled_again(carol, cache):
    food = category(carol, "Food")
    record(carol, food, "8.00", date="2026-03-02")
    carol.get(MARCH)
    cache.client.flushall()
    misses = _lookups("miss")
    assert carol.get(MARCH).get_json()["totalExpense"] == "8.00"
    assert _lookups("miss") - misses == 1
    assert carol.get(MARCH).get_json()["totalExpense"] == "8.00"


def test_a_damaged_entry_is_computed_again(carol, cache):
    food = category(carol, "Food")
    record(carol, food, "8.00", date="2026-03-02")
    carol.get(MARCH)
    for name in cache.client.scan_iter(f"{analytics_cache.KEY_PREFIX}:{carol.ledger_id}:*"):
        cache.client.set(name, b"{not json")
    errors = metrics.CACHE_ERRORS.labels(operation="decode")._value.get()
    assert carol.get(MARCH).get_json()["totalExpense"] == "8.00"
    assert metrics.CACHE_ERRORS.labels(operation="decode")._value.get() - errors == 1


def test_redis_down_means_postgresql_answers(carol, cache, redis_server, monkeypatch):
    food = category(carol, "Food")
    record(carol, food, "4.00", date="2026-03-02")
    carol.get(MARCH)
    monkeypatch.setattr(cache, "clock", _Clock())
    redis_server.kill()
    try:
        errors = metrics.CACHE_ERRORS.labels(operation="get")._value.get()
        record(carol, food, "1.00", date="2026-03-03")
        assert carol.get(MARCH).get_json()["totalExpense"] == "5.00"
        assert metrics.CACHE_ERRORS.labels(operation="get")._value.get() - errors == 1
        bypasses = _lookups("bypass")
        assert carol.get(MARCH).get_json()["totalExpense"] == "5.00"  # paused: no new attempt
        assert _lookups("bypass") - bypasses == 1
    finally:
        redis_server.start()


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def silent_redis():
    """A TCP server that accepts connections and never answers: Redis hung or far away."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for sock in accepted:
        sock.close()
    listener.close()


def test_a_slow_redis_costs_milliseconds_then_steps_aside(silent_redis, carol, cached_app):
    category(carol, "Food")  # the ledger's first write gives it a generation
    clock = _Clock()
    slow = AnalyticsCache.from_url(silent_redis, timeout_ms=5, ttl_seconds=60, clock=clock)
    actor = None
    with cached_app.extensions["database"].pool.connection() as conn:
        actor = actor_in(conn, user_id=carol.id, ledger_id=carol.ledger_id)
        query = {"year": 2026, "month": 3}
        errors = metrics.CACHE_ERRORS.labels(operation="get")._value.get()
        assert reports.summary(conn, actor, query, cache=slow)["total_expense"] == 0
        assert metrics.CACHE_ERRORS.labels(operation="get")._value.get() - errors == 1
        assert not slow.usable()  # paused after the timeout: no more waiting on it
        assert reports.summary(conn, actor, query, cache=slow)["total_expense"] == 0
        assert metrics.CACHE_ERRORS.labels(operation="get")._value.get() - errors == 1
        clock.now += analytics_cache.PAUSE_AFTER_FAILURE_SECONDS
        assert slow.usable()  # tried again a second later
        reports.summary(conn, actor, query, cache=slow)
        assert metrics.CACHE_ERRORS.labels(operation="get")._value.get() - errors == 2


def test_off_without_a_url(app):
    assert app.extensions["analytics_cache"] is None


def _redis_errors() -> float:
    """Failed Redis calls so far. Whichever comes first after the kill fails, a lookup or a
    store (a reader that missed and computed), and pauses the cache for a second: when Redis is
    back within that second, the other kind may never fail at all."""
    return sum(
        metrics.CACHE_ERRORS.labels(operation=operation)._value.get()
        for operation in ("get", "set")
    )


def test_concurrent_writers_and_readers_never_see_data_from_before_an_answered_write(
    cached_app, cache, redis_server, conn, database_url
):
    """Writers record expenses (only ever adding, so the month's total only grows) and, after
    each 201, read the summary through the cache; readers read it all along. Every read must be
    at least the database's own total taken after the last answered write and before the read
    was sent (a stale entry would be below it) and at most the total after the answer. Halfway,
    Redis is killed (a crash), then started again empty; a flush comes later."""
    owner = Accounts(client_from(cached_app, "10.250.0.9")).new_user(name="Stress")
    food = category(owner, "Food")
    ledger_id = owner.ledger_id
    writers, readers, writes_each = 6, 4, 25
    stale = []
    done = threading.Event()
    lock = threading.Lock()
    count = {"writes": 0}

    def check(client, own) -> None:
        floor = _expense_total(own, ledger_id)
        answer = client.get(MARCH, headers=owner.headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        ceiling = _expense_total(own, ledger_id)
        seen = Decimal(answer.get_json()["totalExpense"])
        if not floor <= seen <= ceiling:
            stale.append((floor, seen, ceiling))

    def writer(n: int) -> None:
        client = client_from(cached_app, f"10.251.0.{n}")
        rng = random.Random(n)
        with psycopg.connect(database_url, autocommit=True) as own:
            write_and_check(client, own, rng)

    def write_and_check(client, own, rng) -> None:
        for _ in range(writes_each):
            body = {"amount": f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
                    "type": "EXPENSE", "categoryId": food, "date": "2026-03-11"}  # fmt: skip
            response = client.post("/api/transactions", json=body, headers=owner.headers)
            assert response.status_code == 201, response.get_data(as_text=True)
            check(client, own)
            with lock:
                count["writes"] += 1
                writes = count["writes"]
            if writes == writers * writes_each // 3:
                redis_server.kill()
            elif writes == writers * writes_each // 2:
                redis_server.start()
                cache._paused_until = 0.0  # back at once rather than after the pause
            elif writes == writers * writes_each * 3 // 4:
                cache.client.flushall()

    def reader(n: int) -> None:
        client = client_from(cached_app, f"10.252.0.{n}")
        with psycopg.connect(database_url, autocommit=True) as own:
            while not done.is_set():
                check(client, own)

    hits, errors = _lookups("hit"), _redis_errors()
    with ThreadPoolExecutor(writers + readers) as pool:
        reading = [pool.submit(reader, n) for n in range(readers)]
        writing = [pool.submit(writer, n) for n in range(writers)]
        for future in writing:
            future.result()
        done.set()
        for future in reading:
            future.result()
    assert stale == []
    assert count["writes"] == writers * writes_each
    final = owner.get(MARCH).get_json()["totalExpense"]
    assert Decimal(final) == _expense_total(conn, ledger_id)
    assert _lookups("hit") > hits  # the cache did serve
    assert _redis_errors() > errors  # and was killed


def _spend(user, base: str, category_id: int, amount: str, day: str) -> None:
    body = {"amount": amount, "type": "EXPENSE", "categoryId": category_id, "date": day}
    assert user.post(f"{base}/transactions", json=body).status_code == 201


def test_reports_of_listed_ledgers_are_read_per_ledger_and_the_misses_computed_together(
    carol, cache, monkeypatch
):
    """GraphQL's `ledgers { summary }`: each ledger's report is looked up under its own
    generation (one statement reads them all); the misses are computed in one statement and
    stored; a write to one ledger makes only its report a miss."""
    bases = ["/api"] + [
        f"/api/ledgers/{carol.post('/api/ledgers', json={'name': n}).get_json()['id']}"
        for n in ("Second", "Third")
    ]
    for n, base in enumerate(bases, start=1):
        food = carol.post(f"{base}/categories", json={"name": "Food"}).get_json()["id"]
        _spend(carol, base, food, f"{n}.00", "2026-03-02")
    names: list[str] = []
    run = sqlfiles.Query.__call__

    def counted(self, conn, **params):
        names.append(self.name)
        return run(self, conn, **params)

    monkeypatch.setattr(sqlfiles.Query, "__call__", counted)
    query = "{ ledgers { id summary(month: 3, year: 2026) { totalExpense } } }"

    def read() -> list[str]:
        names.clear()
        answer = graphql(carol, query)
        assert "errors" not in answer, answer
        return [ledger["summary"]["totalExpense"] for ledger in answer["data"]["ledgers"]]

    hits, misses = _lookups("hit"), _lookups("miss")
    assert read() == ["1.00", "2.00", "3.00"]
    assert (_lookups("hit") - hits, _lookups("miss") - misses) == (0, 3)
    assert names.count("reports.cache_states") == 1
    assert names.count("reports.summary_for_ledgers") == 1
    assert read() == ["1.00", "2.00", "3.00"]
    assert (_lookups("hit") - hits, _lookups("miss") - misses) == (3, 3)
    assert not [name for name in names if name.startswith("reports.summary")]
    food = carol.get(f"{bases[1]}/categories").get_json()["items"][0]["id"]
    _spend(carol, bases[1], food, "0.50", "2026-03-03")
    assert read() == ["1.00", "2.50", "3.00"]
    assert (_lookups("hit") - hits, _lookups("miss") - misses) == (5, 4)
    assert names.count("reports.summary") == 1 and "reports.summary_for_ledgers" not in names
