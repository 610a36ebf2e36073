"""Property-based fuzzing of the GraphQL schema with hypothesis-graphql (what schemathesis'
GraphQL support builds on): generated queries and mutations, valid and invalid, sent with a real
token. Bounded for CI (FUZZ_EXAMPLES, as test_fuzz.py). Never a 5xx, never internal text, and
every error carries an extensions.code (anything refused before GraphQL is problem+json)."""

from __future__ import annotations

import os

import hypothesis_graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from expense_api.api.graphql.schema import sdl
from tests.helpers import Accounts, client_from

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15")) * 2
INTERNAL_TEXT = ("Traceback", "psycopg", 'File "', "Exception", "sqlstate", "expense_api")

_text = st.text(max_size=30)
SCALARS = {
    "Decimal": st.one_of(
        st.from_regex(r"\A-?[0-9]{1,8}(\.[0-9]{1,4})?\Z").map(nodes.String),
        st.integers(-(10**20), 10**20).map(nodes.Int),
        _text.map(nodes.String),
    ),
    "Date": st.one_of(
        st.dates().map(lambda d: nodes.String(d.isoformat())), _text.map(nodes.String)
    ),
    "DateTime": _text.map(nodes.String),
}


@pytest.fixture(scope="module")
def fuzz_user(app):
    accounts = Accounts(client_from(app, "10.250.0.2"))
    user = accounts.new_user(name="GraphQL fuzz")
    food = user.post("/api/categories", json={"name": "Food"}).get_json()["id"]
    user.post("/api/budgets", json={"categoryId": food, "amount": "10", "month": 1, "year": 2026})
    user.post(
        "/api/transactions",
        json={"amount": "2", "type": "EXPENSE", "categoryId": food, "date": "2026-01-05"},
    )
    return user


def _check(user, document: str) -> None:
    response = user.post("/api/graphql", json={"query": document})
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text
    assert not any(marker in text for marker in INTERNAL_TEXT), text
    if response.status_code != 200:  # refused before GraphQL (a NUL in the text): problem+json
        assert response.mimetype == "application/problem+json" and response.get_json()["code"]
        return
    body = response.get_json()
    assert body.keys() <= {"data", "errors"} and body, body
    for error in body.get("errors", []):
        assert error["extensions"]["code"] not in (None, "internal_error"), error
        assert error["message"], error


def _fuzz(strategy_of):
    schema_sdl = sdl()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True)  # fmt: skip
    @given(document=st.one_of(
        strategy_of(schema_sdl, custom_scalars=SCALARS),
        strategy_of(schema_sdl, custom_scalars=SCALARS, mode=hypothesis_graphql.Mode.NEGATIVE),
    ))  # fmt: skip
    def run(user, document):
        _check(user, document)

    return run


def test_fuzz_queries(fuzz_user):
    _fuzz(hypothesis_graphql.queries)(fuzz_user)


def test_fuzz_mutations(fuzz_user):
    _fuzz(hypothesis_graphql.mutations)(fuzz_user)
