"""Data that tests create through the API as a logged-in `User` (see conftest.py), or straight
in the database for tests below the API, shared by the test modules so that none imports another
test module. Each asserts that the API accepted it."""

from __future__ import annotations

import uuid


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


def repository_user(conn) -> tuple[int, int]:
    """A user with one category, written straight to the database (for tests that call the
    services on connections of their own); returns (user id, category id)."""
    user_id = conn.execute(
        "INSERT INTO users (name, email, password_hash) VALUES ('Repo', %s, 'x') RETURNING id",
        (f"repo-{uuid.uuid4().hex[:12]}@example.com",),
    ).fetchone()[0]
    category_id = conn.execute(
        "INSERT INTO categories (user_id, name) VALUES (%s, 'Food') RETURNING id", (user_id,)
    ).fetchone()[0]
    return user_id, category_id
