"""Unicode and text edge cases: never a 500, nothing PostgreSQL cannot store, one name one row."""

from __future__ import annotations

import pytest

from tests.factories import category
from tests.helpers import assert_problem


def _raw(user, path, text, method="POST"):
    return user.request(method, path, data=text, content_type="application/json")


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "a\\u0000b"}',
        '{"name": "\\ud800"}',
        '{"name": "x\\udfffy"}',
        '{"\\u0000": 1, "name": "a"}',
    ],
)
def test_nul_and_unpaired_surrogates_are_422(alice, raw):
    response = _raw(alice, "/api/categories", raw)
    assert_problem(response, 422, "validation_error")
    assert alice.get("/api/categories").get_json()["items"] == []


@pytest.mark.parametrize(
    "raw",
    [
        '{"email": "a\\u0000@x.io", "password": "password123"}',
        '{"email": "\\ud83d@x.io", "password": "password123"}',
        '{"email": "a@x.io", "password": "pass\\udc00word"}',
    ],
)
def test_login_with_unstorable_text_is_422_not_500(client, raw):
    assert_problem(client.post("/api/auth/login", data=raw, content_type="application/json"), 422)


def test_register_with_a_nul_in_the_password_is_422(client):
    raw = '{"name": "N", "email": "nul-pass@example.com", "password": "abc\\u0000defgh"}'
    assert_problem(
        client.post("/api/auth/register", data=raw, content_type="application/json"), 422
    )


@pytest.mark.parametrize("name", ["tab\there", "bell\x07", "line\nbreak", "del\x7f", "c1\x85x"])
def test_control_characters_in_names_are_422(alice, name):
    assert (
        "name" in assert_problem(alice.post("/api/categories", json={"name": name}), 422)["errors"]
    )


def test_descriptions_keep_line_breaks_but_not_other_controls(alice):
    food = category(alice)
    body = {"amount": "1", "type": "EXPENSE", "categoryId": food, "date": "2026-01-01"}
    ok = alice.post("/api/transactions", json={**body, "description": "line one\nline\ttwo"})
    assert ok.status_code == 201 and ok.get_json()["description"] == "line one\nline\ttwo"
    bad = alice.post("/api/transactions", json={**body, "description": "escape \x1b[31m"})
    assert "description" in assert_problem(bad, 422)["errors"]


def test_names_are_unicode_normalized(alice):
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"
    created = alice.post("/api/categories", json={"name": decomposed})
    assert created.get_json()["name"] == composed
    assert_problem(alice.post("/api/categories", json={"name": composed}), 409, "category_exists")


@pytest.mark.parametrize(
    "name", ["日本語の食費", "🍕 Pizza", "Ünïcödé", "עברית", "x" * 100, "👨‍👩‍👧‍👦"]
)
def test_unicode_names_round_trip(alice, name):
    created = alice.post("/api/categories", json={"name": name})
    assert created.status_code == 201
    assert alice.get(f"/api/categories/{created.get_json()['id']}").get_json()["name"] == name


def test_case_insensitive_uniqueness_beyond_ascii(alice):
    assert alice.post("/api/categories", json={"name": "ÉPICERIE"}).status_code == 201
    assert_problem(alice.post("/api/categories", json={"name": "épicerie"}), 409)


@pytest.mark.parametrize("query", ["q=a%00b", "q=%00", "cursor=%00"])
def test_nul_in_query_strings_is_422(alice, query):
    assert_problem(alice.get(f"/api/transactions?{query}"), 422, "validation_error")


def test_unicode_search(alice):
    food = category(alice)
    body = {
        "amount": "1",
        "type": "EXPENSE",
        "categoryId": food,
        "date": "2026-01-01",
        "description": "Crème brûlée",
    }
    alice.post("/api/transactions", json=body)
    found = alice.get("/api/transactions?from=2026-01-01&to=2026-01-31&q=BRÛLÉE").get_json()[
        "items"
    ]
    assert [t["description"] for t in found] == ["Crème brûlée"]
