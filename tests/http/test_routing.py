"""What a request's URL may be: paths are matched exactly (`//` or a trailing slash is a 404
problem, never a redirect or an HTML page), and a query parameter a route does not know is 422 on
every route, whether or not it declares any.

Generated from the app's route map, so a new route is covered without touching this file.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from expense_api.api.app import create_app
from tests.helpers import assert_problem, make_settings

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# A value each path argument's converter accepts; ids need not exist (1 is fine).
SAMPLE_ARGUMENTS = {
    "asset": "init.js",
    "file": "main.js",
    "currency": "EUR",
    # <uuid:...> ids (sessions, personal access tokens): 1 would not even match the route.
    "session_id": "2f1c5e0e-6a7b-4c2d-9e8f-0a1b2c3d4e5f",
    "token_id": "2f1c5e0e-6a7b-4c2d-9e8f-0a1b2c3d4e5f",
}


def _operations(app, **samples):
    """(method, path, rule) for every rule and method, with a sample for every path argument
    (`samples` overriding SAMPLE_ARGUMENTS)."""
    adapter = app.url_map.bind("localhost")
    samples = {**SAMPLE_ARGUMENTS, **samples}
    for rule in app.url_map.iter_rules():
        values = {name: samples.get(name, 1) for name in rule.arguments}
        for method in sorted(rule.methods):
            yield method, adapter.build(rule.endpoint, values, method=method), rule


def _concrete_paths(app):
    for method, path, _rule in _operations(app):
        yield method, path


def _slash_variants(path: str) -> list[str]:
    """The path with a trailing slash, without one, and with each of its slashes doubled."""
    variants = [path + "/", path + "//"]
    if path.endswith("/") and path != "/":
        variants.append(path.rstrip("/"))
    slashes = [index for index, char in enumerate(path) if char == "/"]
    variants += [path[:index] + "/" + path[index:] for index in slashes]
    variants.append(path.replace("/", "//"))
    return variants


def _send(client, method: str, path: str, headers: dict | None = None):
    # PATH_INFO set directly: the test client would read a leading `//` as a host name.
    kwargs = {"json": {}} if method in BODY_METHODS else {}
    return client.open(
        "/", method=method, headers=headers or {}, environ_overrides={"PATH_INFO": path}, **kwargs
    )


def test_known_paths_still_match(app, client, alice):
    """The variants below are refused for their slashes: the exact paths are found."""
    for method, path in _concrete_paths(app):
        if "/1" not in path:  # an id of 1 may well be another user's: 404 there is right
            assert _send(client, method, path, alice.headers).status_code != 404, (method, path)


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "with-token"])
def test_doubled_or_trailing_slashes_are_404_problems_never_redirects(
    app, client, alice, authenticated
):
    headers = alice.headers if authenticated else {}
    checked, failures = 0, []
    for method, path in _concrete_paths(app):
        for variant in _slash_variants(path):
            response = _send(client, method, variant, headers)
            checked += 1
            if 300 <= response.status_code < 400 or "Location" in response.headers:
                failures.append(f"{method} {variant}: {response.status_code} redirect")
            elif response.status_code != 404:
                failures.append(f"{method} {variant}: {response.status_code}, not 404")
            elif method != "HEAD" and response.mimetype != "application/problem+json":
                failures.append(f"{method} {variant}: {response.mimetype}")
    assert not failures, "\n".join(failures)
    assert checked > 100


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api//categories"),
        ("POST", "/api//auth/login"),
        ("GET", "/api/categories//1"),
        ("GET", "//api/auth/me"),
        ("POST", "/api/categories/"),
        ("GET", "/healthz/"),
        ("GET", "/api/docs/"),
        ("GET", "/api/openapi.json/"),
    ],
)
def test_issue_shapes(client, alice, method, path):
    response = _send(client, method, path, alice.headers)
    body = assert_problem(response, 404, "not_found")
    assert "Location" not in response.headers
    assert body["detail"]


def test_no_rule_ends_with_a_slash(app):
    """A rule ending in `/` would make werkzeug redirect the same path without it."""
    assert [rule.rule for rule in app.url_map.iter_rules() if rule.rule.endswith("/")] == []


@pytest.fixture
def app_with_a_slashed_rule(database_url):
    application = create_app(make_settings(), database_url)
    application.add_url_rule("/api/slashed/", "slashed", lambda: {"ok": True})
    yield application
    application.extensions["database"].close()


def test_a_rule_ending_in_a_slash_would_not_redirect_either(app_with_a_slashed_rule):
    client = app_with_a_slashed_rule.test_client()
    assert client.get("/api/slashed/").status_code == 200
    response = client.get("/api/slashed")  # werkzeug's answer: 308 to /api/slashed/
    assert_problem(response, 404, "not_found")
    assert "Location" not in response.headers


def _raw_http(base: str, method: str, path: str) -> tuple[int, str, str | None]:
    """One request with the path sent exactly as written (urllib would normalize it, and
    follow redirects)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        body = b"{}" if method in BODY_METHODS else None
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Content-Type"), response.getheader("Location")
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api//categories"),
        ("POST", "/api//auth/login"),
        ("GET", "//healthz"),
        ("GET", "/readyz/"),
        ("GET", "/api/categories//"),
    ],
)
def test_through_gunicorn(live_server, method, path):
    status, content_type, location = _raw_http(live_server.base, method, path)
    assert (status, content_type, location) == (404, "application/problem+json", None)


UNKNOWN = "unknownParam"

# Routes that take a body and a query parse the body first: a valid body lets the request reach
# its query. (Ids need not exist: parsing comes before any lookup.)
VALID_BODIES = {
    ("POST", "/api/transactions"): {
        "amount": "1.00", "type": "EXPENSE", "categoryId": 1, "date": "2026-01-01",
    },
    ("PATCH", "/api/transactions/<id:transaction_id>"): {"amount": "1.00"},
}  # fmt: skip
VALID_BODIES.update({
    (method, "/api/ledgers/<id:ledger_id>" + path.removeprefix("/api")): body
    for (method, path), body in list(VALID_BODIES.items())
})  # fmt: skip
# Routes with a required query parameter get it, so that the unknown one is the only error.
VALID_QUERIES = {("GET", "/api/ledgers/<id:ledger_id>/export"): {"format": "csv"}}


def test_an_unknown_query_parameter_is_422_on_every_route(app, alice):
    checked, failures = [], []
    # A ledger alice belongs to: a non-member's ledger path is 404 before its query is read.
    for method, path, rule in _operations(app, ledger_id=alice.ledger_id):
        if method == "OPTIONS":  # a CORS preflight carries the real request's query: see below
            continue
        body = VALID_BODIES.get((method, rule.rule), {} if method in ("POST", "PATCH") else None)
        kwargs = {"json": body} if body is not None else {}
        query = {**VALID_QUERIES.get((method, rule.rule), {}), UNKNOWN: "1"}
        response = alice.request(method, path, query_string=query, **kwargs)
        checked.append(f"{method} {rule.rule}")
        if response.status_code != 422:
            failures.append(f"{method} {path}: {response.status_code}")
        elif method != "HEAD":
            problem = assert_problem(response, 422, "validation_error")
            if problem["errors"] != {UNKNOWN: ["Unknown field."]}:
                failures.append(f"{method} {path}: {problem['errors']}")
    assert not failures, "\n".join(failures)
    for operation in ("GET /healthz", "GET /api/openapi.json", "POST /api/auth/login",
                      "GET /api/categories", "GET /api/transactions", "DELETE /api/budgets/<id:budget_id>"):  # fmt: skip
        assert operation in checked


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/categories", "bogus=1"),
        ("/api/categories", "bogus"),
        ("/api/categories", "limit=5"),  # a parameter of other routes, not of this one
        ("/api/auth/me", "x=1&x=2"),
        ("/healthz", "x=1"),
        ("/readyz", "x=1"),
        ("/api/openapi.json", "x=1"),
        ("/api/docs", "url=https://evil.example.net/openapi.json"),
    ],
)
def test_issue_query_shapes(alice, path, query):
    name = query.split("=")[0].split("&")[0]
    body = assert_problem(alice.get(f"{path}?{query}"), 422, "validation_error")
    assert body["errors"] == {name: ["Unknown field."]}


def test_unknown_parameters_are_refused_before_the_token_is_checked(client):
    """They need nothing from the user, and name nothing private: the document lists them all."""
    body = assert_problem(client.get("/api/auth/me?x=1"), 422, "validation_error")
    assert body["errors"] == {"x": ["Unknown field."]}


def test_post_with_an_unknown_parameter_does_nothing(alice):
    assert_problem(alice.post("/api/categories?bogus=1", json={"name": "Food"}), 422)
    assert_problem(alice.post("/api/auth/logout?bogus=1"), 422)
    assert alice.get("/api/categories").get_json() == {"items": []}
    assert alice.get("/api/auth/me").status_code == 200  # logout did not happen


def test_declared_parameters_still_work_and_an_empty_query_is_no_parameter(alice):
    assert alice.get("/api/transactions?limit=5&type=EXPENSE").status_code == 200
    assert alice.post("/api/transactions?dryRun=true", json={}).status_code == 422  # the body
    assert alice.get("/api/categories?").status_code == 200
    assert alice.get("/healthz?").status_code == 200


def test_a_name_postgresql_could_not_store_is_named_generically(alice):
    body = assert_problem(alice.get("/api/categories?a%00b=1"), 422, "validation_error")
    assert list(body["errors"]) == ["_query"]


def test_options_with_a_query_is_not_refused(client):
    """Browsers send a CORS preflight to the same URL, query included, before a GET with
    filters; OPTIONS does nothing with the query either way."""
    assert client.options("/api/transactions?year=2026&month=1").status_code == 200
    assert client.options("/api/categories?bogus=1").status_code == 200


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("type=%FF", "type"),  # a value that is not UTF-8
        ("type=EXPENSE&note=%C3", "note"),  # a sequence cut short
        ("%FFx=1", None),  # a name that is not UTF-8: not echoed back
        ("type=%ED%A0%80", "type"),  # an encoded surrogate is not UTF-8 either
    ],
)
def test_a_query_string_that_is_not_utf8_is_400(alice, query, named):
    """As a body that is not UTF-8 is 400 malformed_json: never decoded with U+FFFD in its place
    and then served (a filter on a mangled value would silently match nothing)."""
    body = assert_problem(alice.get(f"/api/transactions?{query}"), 400, "malformed_query")
    if named:
        assert repr(named) in body["detail"]


def test_a_query_string_in_raw_non_ascii_bytes_is_400_unless_utf8(alice):
    """Bytes sent without percent-encoding count the same (through gunicorn they reach the app
    as they were sent)."""
    environ = {"QUERY_STRING": "type=\xff"}  # the WSGI environ holds bytes as latin-1 text
    response = alice.client.get(
        "/api/transactions", headers=alice.headers, environ_overrides=environ
    )
    assert_problem(response, 400, "malformed_query")


def test_a_utf8_query_string_is_read_as_utf8(alice):
    body = assert_problem(alice.get("/api/transactions?type=%C3%A9"), 422, "validation_error")
    assert "type" in body["errors"]  # read as "é", then refused by the schema: not a 400
    assert alice.get("/api/transactions?type=EXPENSE&limit=5").status_code == 200


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        ("/api/transactions", "type=INCOME&type=EXPENSE", "type"),
        ("/api/transactions", "limit=5&limit=5", "limit"),
        ("/api/transactions", "type=EXPENSE&limit=1&limit=2", "limit"),
    ],
)
def test_a_single_valued_parameter_given_twice_is_422_naming_it(alice, path, query, named):
    body = assert_problem(alice.get(f"{path}?{query}"), 422, "validation_error")
    assert body["errors"] == {named: ["Give this parameter once."]}


def test_a_repeatable_parameter_stays_repeatable(app):
    """No route has one yet; the rule is the parser's (blueprint.JsonParser), for every schema: a
    List field takes each value given."""
    from marshmallow import Schema, fields

    from expense_api.api.core.blueprint import JsonParser

    class Tags(Schema):
        tag = fields.List(fields.String())
        kind = fields.String()

    with app.test_request_context("/?tag=a&tag=b&kind=x"):
        from flask import request

        assert JsonParser().parse(Tags, request, location="query") == {
            "tag": ["a", "b"],
            "kind": "x",
        }
