"""The OpenAPI document is valid and describes every route the app serves."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.factories import category

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _spec(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_openapi_3(client):
    validate(_spec(client))


def test_every_route_is_documented(app, client):
    paths = _spec(client)["paths"]
    for rule in app.url_map.iter_rules():  # every one, the document and the docs page included
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in paths, f"{rule.rule} is not in the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], f"{method} {rule.rule} is not documented"


def test_protected_operations_declare_bearer_auth_and_401(client):
    spec = _spec(client)
    public = {
        "/api/auth/register",
        "/api/auth/login",
        "/healthz",
        "/readyz",
        "/metrics",  # open unless METRICS_TOKEN is set (its description says so)
        "/api/openapi.json",
        "/api/docs",
        "/api/docs/{asset}",
        "/api/graphql/{asset}",
        "/app",
        "/app/{file}",
    }
    public_operations = {("get", "/api/graphql")}  # the explorer page; POST takes a token
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            if path in public or (method, path) in public_operations:
                assert "security" not in operation, f"{method} {path}"
                continue
            assert operation.get("security") == [{"bearerAuth": []}], f"{method} {path}"
            assert "401" in operation["responses"], f"{method} {path}"


def test_errors_are_documented_as_problem_json(client):
    spec = _spec(client)
    default_error = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert "application/problem+json" in default_error["content"]
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])


def test_interactive_docs(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "swagger" in response.get_data(as_text=True).lower()


def test_refresh_and_logout_document_idempotency_key_and_the_reuse_grace(client):
    paths = _spec(client)["paths"]
    for path in ("/api/auth/refresh", "/api/auth/logout"):
        operation = paths[path]["post"]
        parameters = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in parameters, path
        assert "422" in operation["responses"], path
    refresh = paths["/api/auth/refresh"]["post"]
    assert "REFRESH_REUSE_GRACE_SECONDS" in refresh["description"]
    assert "5 minutes" in refresh["parameters"][0]["description"]


def test_the_document_states_the_rules_a_schema_can_state(client):
    """What the service refuses, the document says where a schema can say it (the full check
    is tests/http/test_api_document_checks.py, schemathesis with every check)."""
    spec = _spec(client)
    schemas = spec["components"]["schemas"]
    for patch in ("TransactionPatch", "RecurringPatch", "WebhookPatch", "AdminUserPatch"):
        assert schemas[patch]["minProperties"] == 1, patch
    amount = schemas["TransactionInput"]["properties"]["amount"]["oneOf"]
    as_string, as_number = amount
    # digits only (no white space), at most the 4 fraction digits any currency has
    assert as_string["pattern"] == r"^0*[0-9]{1,12}(\.[0-9]{1,4})?$"
    assert as_string["not"] == {"pattern": r"^0*(\.0*)?$"}  # zero is refused
    assert str(as_number["minimum"]) == "0.001" and as_number["exclusiveMaximum"] is True
    assert "USD" in schemas["Register"]["properties"]["currency"]["enum"]
    assert "Asia/Kolkata" in schemas["Register"]["properties"]["timezone"]["enum"]
    assert schemas["Register"]["properties"]["email"]["format"] == "email"
    assert "pattern" in schemas["Register"]["properties"]["name"]
    assert "pattern" in schemas["TransactionInput"]["properties"]["description"]
    by_month_day = schemas["RecurringInput"]["properties"]["byMonthDay"]
    assert (by_month_day["minimum"], by_month_day["maximum"]) == (-1, 31)
    summary = {p["name"]: p for p in spec["paths"]["/api/summary"]["get"]["parameters"]}
    assert summary["from"]["schema"]["pattern"] == "^(19|2[0-9])[0-9]{2}-"
    assert "alone" in summary["month"]["description"]
    assert "to alone" in spec["paths"]["/api/summary"]["get"]["description"]


def test_a_budget_refusal_is_the_documented_problem(client, alice):
    """A 409 budget_exceeded (here on a later month of a rollover chain, the overall budget's
    categoryId null) fits the document's Problem schema, whose `budget` lists every figure."""
    from openapi_schema_validator import OAS30Validator

    spec = _spec(client)
    for month, rollover in ((3, "none"), (4, "surplus")):
        body = {"categoryId": None, "amount": "100", "month": month, "year": 2026,
                "rollover": rollover}  # fmt: skip
        assert alice.post("/api/budgets", json=body).status_code == 201
    food = category(alice)
    expense = {"type": "EXPENSE", "categoryId": food}
    # April spends 120 of its 200 (100 + March's unspent 100); 90 more in March would leave
    # April 110 available: refused for April.
    spent = alice.post("/api/transactions", json={**expense, "amount": "120", "date": "2026-04-02"})
    assert spent.status_code == 201, spent.get_json()
    refused = alice.post(
        "/api/transactions", json={**expense, "amount": "90", "date": "2026-03-02"}
    )
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["code"] == "budget_exceeded"
    assert (problem["budget"]["month"], problem["budget"]["categoryId"]) == (4, None)
    (reference,) = spec["components"]["schemas"]["Problem"]["properties"]["budget"]["allOf"]
    documented = spec["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]
    assert set(documented["properties"]) == set(documented["required"]) == set(problem["budget"]), (
        "every figure of a refusal is documented, and nothing else"
    )
    assert documented["additionalProperties"] is False
    problem_schema = {"$ref": "#/components/schemas/Problem", "components": spec["components"]}
    validator = OAS30Validator(problem_schema)
    errors = [error.message for error in validator.iter_errors(problem)]
    assert errors == []
