"""The GraphQL door: POST /api/graphql (view.py) and the GraphiQL explorer on GET
(explorer.py), over the same services as the REST views. See docs/GRAPHQL.md."""

from __future__ import annotations

from flask import Flask

from ..core import idempotency
from . import explorer, limits
from .view import PATH, blp

REQUEST_SCHEMA = {
    "type": "object",
    "required": ["query"],
    "additionalProperties": False,
    "properties": {
        "query": {"type": "string", "maxLength": limits.MAX_DOCUMENT_BYTES},
        "variables": {"type": "object", "nullable": True},
        "operationName": {"type": "string", "nullable": True},
        "extensions": {"type": "object", "nullable": True},
    },
}

DESCRIPTION = f"""\
One GraphQL operation (a JSON object), or a batch of at most {limits.MAX_BATCH} (a JSON array,
answered by an array in the same order); any other JSON (a string, a number, null, an empty
array, an array holding anything but operations) and an operation of another shape (no `query`
string, `variables` or `extensions` not an object, `operationName` not a string, another member)
is 400 problem+json `malformed_request`. Same
bearer token as REST: 401 problem+json without a valid one, checked before any answer (a revoked
token is 401 whatever the body or document). Field and validation errors are HTTP 200 with
`errors`, each with `extensions.code` equal to REST's code (`budget_exceeded` with `budget`,
`validation_error` with `errors`). Refused before they run, with no database work but the
session check: a document over {limits.MAX_DOCUMENT_BYTES} bytes (`query_too_large`), selections
deeper than {limits.MAX_DEPTH} fields (`query_too_deep`), a cost above {limits.MAX_COST}
(`query_too_complex`: an object costs 1, a list its size and multiplies what is below it by
that size; a connection's size is its `first`, another list's its maximum: webhooks
{limits.LIST_SIZES[("Ledger", "webhooks")]} a ledger, ledgers
{limits.LIST_SIZES[("Query", "ledgers")]} (the most one person may belong to), and where the
service has none an assumed
{limits.LIST_SIZES[("Ledger", "categories")]} categories, budgets or recurring rules and
{limits.LIST_SIZES[("Ledger", "members")]} members or invitations), more than
{limits.MAX_BATCH} operations (`batch_too_large`). An Idempotency-Key works on a request holding a
mutation as on REST POSTs.
The schema: `expense_api/api/graphql/sdl/` (one file per resource), or introspection where it
is on."""


def init_app(app: Flask, api) -> None:
    """Registers the routes; `api` (flask-smorest's) gets their OpenAPI description."""
    explorer.init_app(app)
    app.register_blueprint(blp)
    _describe(app, api)


def _describe(app: Flask, api) -> None:
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    error = {"$ref": f"#/components/responses/{api.DEFAULT_ERROR_RESPONSE_NAME}"}
    answer = {"type": "object", "description": "`data` and/or `errors`"}
    answers = {"oneOf": [answer, {"type": "array", "items": answer}]}  # one, or a batch's
    json_object = {"application/json": {"schema": answers}}
    api.spec.path(
        rule=rules["graphql.graphql"],
        operations={
            "post": {
                "tags": ["graphql"],
                "summary": "Run GraphQL operations",
                "description": DESCRIPTION,
                "security": [{"bearerAuth": []}],
                "parameters": [
                    {
                        "in": "header",
                        "name": idempotency.HEADER,
                        "required": False,
                        "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN},
                        "description": "On a request holding a mutation: as on REST POSTs. Its "
                        "form is checked on every request (422 validation_error otherwise).",
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    REQUEST_SCHEMA,
                                    {
                                        "type": "array",
                                        "items": REQUEST_SCHEMA,
                                        "minItems": 1,
                                        "maxItems": limits.MAX_BATCH,
                                    },
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "`data` and/or `errors`", "content": json_object},
                    "400": error,
                    "401": error,
                    "default": error,
                },
            }
        },
    )
    html = {"text/html": {"schema": {"type": "string"}}}
    files = {media: {"schema": {"type": "string"}} for media in explorer.ASSET_MEDIA_TYPES}
    asset = {"in": "path", "name": "asset", "required": True,
             "schema": {"type": "string", "enum": list(explorer.ASSETS)}}  # fmt: skip
    for endpoint, summary, content, parameters in (
        ("graphql.explorer_page", "The GraphQL explorer (GraphiQL, served by this service)",
         html, []),
        ("graphql.explorer_asset",
         "A file of the GraphQL explorer (GraphiQL's, served by this service)", files, [asset]),
    ):  # fmt: skip
        operation = {
            "tags": ["graphql"],
            "summary": summary,
            "parameters": parameters,
            "responses": {"200": {"description": "OK", "content": content}, "default": error},
        }
        api.spec.path(rule=rules[endpoint], operations={"get": operation})


__all__ = ["PATH", "init_app"]
