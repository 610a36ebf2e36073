"""Property-based fuzzing of every operation from the service's own OpenAPI document.

Bounded for CI (FUZZ_EXAMPLES per operation, default 15). For every generated request, valid or
not, with a real token: no 5xx, the status code is documented, the body matches the documented
schema, and every error is problem+json.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import Accounts, client_from

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture(scope="module")
def fuzz_user(app):
    """A user with a category, a transaction, a budget and an alert, so ids 1, 2, ... may exist."""
    accounts = Accounts(client_from(app, "10.250.0.1"))
    user = accounts.new_user(name="Fuzz")
    food = user.post("/api/categories", json={"name": "Food"}).get_json()["id"]
    user.post(
        "/api/budgets",
        json={"categoryId": food, "amount": "10", "month": 1, "year": 2026, "mode": "soft"},
    )
    user.post(
        "/api/transactions",
        json={"amount": "20", "type": "EXPENSE", "categoryId": food, "date": "2026-01-05"},
    )
    return user


@pytest.fixture(scope="module")
def erasable_user(app):
    """Who DELETE /api/me's cases act as, from an address of their own: its wrong passwords
    count toward the login throttle (of this user's email and this address), which must not
    lock the fuzz user out of the logins other cases need."""
    return Accounts(client_from(app, "10.250.0.2")).new_user(name="Erasable")


schema = schemathesis.pytest.from_fixture("fuzz_schema")


# One test for every operation (subtests): the suite's 120 s per test is far too little for
# them all on a loaded 2-core machine (GraphQL's operations included), and grows with every
# route added.
@pytest.mark.timeout(900)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_every_operation(case, fuzz_user, erasable_user):
    # Always a real token (schemathesis would send a made-up one): the point is to reach the
    # validation and business code; bad tokens are tested in test_tokens.py.
    token_headers = fuzz_user.headers
    if case.path == "/api/me":
        token_headers = erasable_user.headers
    logout = case.path == "/api/auth/logout"
    if logout:  # logging out the shared session would leave every later case a revoked token
        token_headers = _new_session(fuzz_user)
    case.headers = {**(case.headers or {}), **token_headers}
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), (
            response.status_code,
            response.text,
        )
        body = response.json()
        assert {"type", "title", "status", "detail", "code"} <= body.keys()
    if logout and case.method == "POST" and response.status_code < 400:
        # A logout that answered success has really ended that session, and only that one.
        # (Other methods are schemathesis probing for 405; OPTIONS answers 200 with no body.)
        assert response.status_code == 204
        assert fuzz_user.client.get("/api/auth/me", headers=token_headers).status_code == 401
        assert fuzz_user.get("/api/auth/me").status_code == 200


def _new_session(user) -> dict:
    tokens = Accounts(user.client).login(user.data["email"], user.data["password"])
    return {"Authorization": f"Bearer {tokens['accessToken']}"}
