"""Data that tests create through the API as a logged-in `User` (see conftest.py), or straight
in the database for tests below the API, shared by the test modules so that none imports another
test module. Each asserts that the API accepted it."""

from __future__ import annotations

import contextvars
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal

from expense_api.repositories import ledgers as ledger_rows
from expense_api.services import ledgers
from expense_api.worker import jobs


def category(user, name="General") -> int:
    """Creates a category; returns its id."""
    response = user.post("/api/categories", json={"name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def record(user, category_id, amount="10.00", type="EXPENSE", date="2026-03-15", **extra):
    """Records a transaction; returns it as the API answered it."""
    body = {"amount": amount, "type": type, "categoryId": category_id, "date": date, **extra}
    response = user.post("/api/transactions", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def save(user, **body):
    """Creates or updates a budget (March 2026, 500 unless given); returns the response, since
    tests check refusals too."""
    body.setdefault("amount", "500")
    body.setdefault("month", 3)
    body.setdefault("year", 2026)
    return user.post("/api/budgets", json=body)


def repository_ledger(conn) -> tuple[int, int]:
    """A user with their default ledger and one category in it, written straight to the
    database (for tests that call the services on connections of their own); returns (ledger
    id, category id). `acting` gives the owner acting in it."""
    user = conn.execute(
        "INSERT INTO users (name, email, password_hash) VALUES ('Repo', %s, 'x')"
        " RETURNING id, currency, timezone",
        (f"repo-{uuid.uuid4().hex[:12]}@example.com",),
    ).fetchone()
    ledger_id = ledgers.create_default(
        conn, {"id": user[0], "currency": user[1], "timezone": user[2]}
    )["id"]
    category_id = conn.execute(
        "INSERT INTO categories (ledger_id, name) VALUES (%s, 'Food') RETURNING id", (ledger_id,)
    ).fetchone()[0]
    return ledger_id, category_id


def acting(conn, ledger_id: int) -> ledgers.Actor:
    """The ledger's (first) owner acting in it, as the services take it."""
    owner = conn.execute(
        "SELECT user_id FROM ledger_members WHERE ledger_id = %s AND role = 'owner'"
        " ORDER BY joined_at LIMIT 1",
        (ledger_id,),
    ).fetchone()[0]
    return ledgers.actor_in(conn, user_id=owner, ledger_id=ledger_id)


def ledger(conn, owner, *, name="Shared", currency="USD", timezone="UTC") -> int:
    """Another ledger owned by `owner` (a logged-in User), made with the service layer's
    repositories (not through /api/ledgers); returns its id."""
    row = ledger_rows.insert(conn, name=name, currency=currency, timezone=timezone)
    ledger_rows.add_member(conn, ledger_id=row["id"], user_id=owner.id, role="owner")
    return row["id"]


def member(conn, ledger_id: int, user, role: str) -> None:
    """Adds a logged-in User to a ledger with `role`."""
    ledger_rows.add_member(conn, ledger_id=ledger_id, user_id=user.id, role=role)


def recurring(user, category_id, *, path="/api/recurring", **fields) -> dict:
    """Creates a recurring rule (monthly, 10.00 expense unless given); returns it."""
    body = {"amount": "10.00", "type": "EXPENSE", "categoryId": category_id,
            "frequency": "monthly", **fields}  # fmt: skip
    response = user.post(path, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def run_worker(database, now: datetime) -> int:
    """Runs the recurring job as the worker would at `now` until nothing is due; returns how
    many dates it handled."""
    handled = 0
    while batch := jobs.create_due_occurrences(database, lambda: now):
        handled += batch
    return handled


def graphql(user, query: str, variables: dict | None = None, **request) -> dict:
    """Runs one GraphQL operation as the user; asserts HTTP 200 and returns the body."""
    body = {"query": query, **({"variables": variables} if variables is not None else {})}
    response = user.post("/api/graphql", json=body, **request)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def graphql_codes(body: dict) -> list[str]:
    """The extensions.code of each error of a GraphQL answer (every error must have one)."""
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def race(count: int, work):
    """Runs work(i) in `count` threads released at the same moment; returns the results."""
    barrier = threading.Barrier(count, timeout=60)

    def run(index):
        barrier.wait()
        return work(index)

    # Each thread in a copy of the caller's context: the door a direct service call runs in
    # (tests/conftest.py) goes with it.
    contexts = [contextvars.copy_context() for _ in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda i: contexts[i].run(run, i), range(count)))


def spend(user, category_id, amount, date="2026-03-10", type="EXPENSE", **query):
    body = {"amount": amount, "type": type, "categoryId": category_id, "date": date}
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return user.post("/api/transactions" + suffix, json=body)


def budget(user, month, amount, *, category_id=None, mode="hard", rollover="none", **extra):
    body = {"categoryId": category_id, "amount": amount, "month": month, "year": 2026,
            "mode": mode, "rollover": rollover, **extra}  # fmt: skip
    response = user.post("/api/budgets", json=body)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def breakdown(user, **period) -> dict[str, str]:
    query = "&".join(f"{k}={v}" for k, v in {"month": 3, "year": 2026, **period}.items())
    items = user.get(f"/api/category-breakdown?{query}").get_json()["items"]
    return {item["category"]: item["amount"] for item in items}


def add_rate(conn, user, currency: str, day: str, rate: str) -> None:
    conn.execute(
        "INSERT INTO ledger_rates (ledger_id, currency, day, rate) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (ledger_id, currency, day) DO UPDATE SET rate = EXCLUDED.rate",
        (user.ledger_id, currency, day, Decimal(rate)),
    )


def posted(user, path: str, body: dict) -> dict:
    """POSTs `body`, which must succeed (200 or 201); the answer."""
    response = user.post(path, json=body)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()
