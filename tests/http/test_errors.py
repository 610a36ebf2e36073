"""One error shape for every failure class: problem+json, never HTML or a traceback."""

from __future__ import annotations

from decimal import Decimal

import pytest

from expense_api.api.app import create_app
from expense_api.api.core.jsonio import loads
from expense_api.domain.money import ExponentDecimal
from tests.helpers import assert_problem, make_settings


def test_unknown_route(client):
    assert_problem(client.get("/api/no-such-thing"), 404, "not_found")
    assert_problem(client.get("/"), 404, "not_found")


def test_wrong_method_lists_the_allowed_ones(client):
    body = assert_problem(client.delete("/api/auth/login"), 405, "method_not_allowed")
    assert "detail" in body


def test_wrong_method_allow_header(client):
    response = client.put("/api/auth/me")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", '{"email": "a"}'),
        ("application/x-www-form-urlencoded", "email=a"),
        (None, "{}"),
        # Only application/json is JSON here: not the +json types werkzeug also counts as JSON
        # (their meaning differs: a JSON Patch is a list of operations), nor another charset.
        ("application/json-patch+json", '{"email": "a"}'),
        ("application/merge-patch+json", '{"email": "a"}'),
        ("application/vnd.api+json", '{"email": "a"}'),
        ("text/json", '{"email": "a"}'),
        ("application/json; charset=latin-1", '{"email": "a"}'),
        ("application/json; profile=x", '{"email": "a"}'),
    ],
)
def test_non_json_body_is_415(client, content_type, data):
    response = client.post("/api/auth/login", data=data, content_type=content_type)
    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "Application/JSON; Charset=UTF-8",
        'application/json;charset="utf-8"',
        "APPLICATION/JSON",
    ],
)
def test_json_with_a_charset_is_accepted(client, content_type):
    response = client.post(
        "/api/auth/login", data='{"email": "x@example.com"}', content_type=content_type
    )
    assert_problem(response, 422)  # read as JSON: the password is missing


def test_a_non_json_body_is_415_where_no_body_is_read_too(alice):
    response = alice.post("/api/auth/logout", data="[]", content_type="application/json-patch+json")
    assert_problem(response, 415, "unsupported_media_type")
    assert alice.get("/api/auth/me").status_code == 200  # the logout did not happen


@pytest.mark.parametrize(
    "data", ['{"email": ', "", "   ", "{'email': 'a'}", '{"a": NaN}', '{"a": Infinity}', "\xff\xfe"]
)
def test_malformed_json_is_400(client, data):
    response = client.post("/api/auth/login", data=data, content_type="application/json")
    assert_problem(response, 400, "malformed_json")


def test_deeply_nested_json_is_400(client):
    data = "[" * 100 + "]" * 100
    response = client.post("/api/auth/login", data=data, content_type="application/json")
    assert_problem(response, 400, "malformed_json")


def test_a_json_array_body_is_422(client):
    assert_problem(client.post("/api/auth/login", json=[1, 2]), 422, "validation_error")


def test_body_too_large_is_413(client):
    data = '{"email": "' + "a" * 2_000_000 + '"}'
    response = client.post("/api/auth/login", data=data, content_type="application/json")
    assert_problem(response, 413, "payload_too_large")


def test_json_numbers_become_decimal_never_float():
    parsed = loads('{"a": 12.34, "b": 500, "c": 0.1, "d": 1e3}')
    assert parsed["a"] == Decimal("12.34") and type(parsed["a"]) is Decimal
    assert parsed["b"] == 500 and type(parsed["b"]) is int
    assert parsed["c"] == Decimal("0.1")
    assert isinstance(parsed["d"], ExponentDecimal)


def test_validation_errors_name_the_field(client):
    body = assert_problem(client.post("/api/auth/login", json={"email": 5, "password": "x"}), 422)
    assert body["errors"] == {"email": ["Not a valid string."]}


@pytest.fixture
def buggy_app(database_url):
    application = create_app(make_settings(), database_url)

    @application.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    yield application
    application.extensions["database"].close()


def test_a_bug_is_a_500_problem_without_details(buggy_app):
    response = buggy_app.test_client().get("/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in body["detail"]


@pytest.fixture
def unreachable_app():
    settings = make_settings(DB_POOL_TIMEOUT=1, DB_CONNECT_TIMEOUT=1)
    application = create_app(settings, "postgresql://nobody@127.0.0.1:1/none")
    yield application
    application.extensions["database"].close()


def test_database_down_is_503(unreachable_app):
    client = unreachable_app.test_client()
    body = {"email": "a@example.com", "password": "whatever-password"}
    response = client.post("/api/auth/login", json=body)
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"]
    assert_problem(client.get("/readyz"), 503, "database_unavailable")
    assert client.get("/healthz").status_code == 200


def test_security_headers(client):
    response = client.get("/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
