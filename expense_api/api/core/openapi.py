"""The OpenAPI document and interactive docs, written by flask-smorest from the views' schemas.

Errors are documented as problem+json with our ProblemSchema; protected operations declare the
bearer scheme and their 401 through `authenticated` (see api/core/views.py).
"""

from __future__ import annotations

import http

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api as SmorestApi
from flask_smorest.utils import prepare_response

from ...db import retry
from .. import dashboard, docs
from ..schemas.base import ProblemSchema
from .problems import PROBLEM_MIMETYPE

API_DESCRIPTION = f"""\
Expense and budget tracking with exact money and race-free budget enforcement.

All errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.
A query parameter an operation does not list is 422 `validation_error` on every operation, and
paths match exactly: `//` or a trailing slash is 404, never a redirect. No text, anywhere in a
request, may hold a NUL character or an unpaired surrogate (422). Rules between parameters or
fields, and rules about stored data (a category of the ledger, a cursor the service issued, an
amount's fraction digits, which follow the ledger's currency), are in each operation's text:
OpenAPI's schemas cannot state them.
Authenticate with `Authorization: Bearer <accessToken>` from POST /api/auth/login, or with a
personal access token (`Bearer eat_...`, POST /api/auth/tokens). Such a token's refusals apply
to every operation, so operations do not list them: a `read` token gets 403
`insufficient_scope` on any write (any method but GET, HEAD and OPTIONS; a GraphQL mutation),
and every operation under /api/auth/ but `GET /api/auth/me` and `GET /api/auth/events`, and
`DELETE /api/me`, answer 403 `session_required` to any personal access token; an expired one
is 401 `token_expired`.

A request whose database transaction PostgreSQL aborts for a deadlock or a serialization
failure is run again by the service ({retry.ATTEMPTS} runs at most, with short random pauses);
only when every run is aborted is the answer 503 `transaction_conflict` with `Retry-After`. It is
never a 500, and never `database_unavailable`, which means the database cannot be reached.
While it cannot be, the 503 comes within the pool timeout (`DB_POOL_TIMEOUT`, 3 s by default)
of the request's arrival.

Request bodies are `application/json`, in any case, with no parameter but `charset=utf-8`;
any other Content-Type (`+json` types such as `application/json-patch+json` included) is 415
`unsupported_media_type`, and a body that is not UTF-8 or not JSON is 400 `malformed_json`.
A bank-file upload (`POST /api/ledgers/{{ledger_id}}/imports`) is the exception: it takes
`multipart/form-data` only (415 for anything else), up to 20 MB where JSON bodies stop at 1 MiB
(413 `payload_too_large` above either).
A query string that is not UTF-8 once percent-decoded is 400 `malformed_query`; a parameter
given twice is 422 `validation_error` naming it (no parameter is repeatable). An amount given
as a string is the plain decimal alone: no sign, exponent, separator or white space.

Some answers come from the HTTP server before any operation is chosen, so no operation lists
them: 400 `malformed_request` (not valid HTTP/1.1: a CR or LF inside a header value, a header
line without a colon), 414 `uri_too_long` (a request line over 4094 bytes),
431 `header_too_large` (a header over 8190 bytes, or more than 100 headers). They are problem
details too, with `X-Request-ID`, and close the connection (`Connection: close`), as does the
refusal of any request body over 64 KiB (a 413 among them).
"""


class SchemaKeywords(BasePlugin):
    """A marshmallow schema's `OPENAPI_KEYWORDS` (say `{"minProperties": 1}` for a PATCH body
    that must change something) added to its component: rules about the whole object that no
    field can carry."""

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        return dict(getattr(schema, "OPENAPI_KEYWORDS", {})) or None


class Api(SmorestApi):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """Our errors module answers every error; flask-smorest's own handler is not used."""

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def configure(app: Flask) -> Api:
    app.config.update(
        API_TITLE="expense-api",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        # No OPENAPI_SWAGGER_UI_PATH: flask-smorest's page loads Swagger UI from a CDN; ours
        # (api/docs.py) serves the files itself.
        API_SPEC_OPTIONS={
            "info": {"description": API_DESCRIPTION},
            "servers": [{"url": "/", "description": "this server"}],
        },
    )
    api = Api(app, spec_kwargs={"extra_plugins": [SchemaKeywords()]})
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token (a JWT) from POST /api/auth/login, or a personal "
            "access token (`eat_...`) from POST /api/auth/tokens",
        },
    )
    docs.init_app(app, api)
    dashboard.init_app(app, api)
    _describe_itself(app, api)
    return api


def _describe_itself(app: Flask, api: Api) -> None:
    """flask-smorest leaves its document's own route out of it, and the docs routes are plain
    Flask views: they are described here."""
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    error = {"$ref": f"#/components/responses/{api.DEFAULT_ERROR_RESPONSE_NAME}"}
    for endpoint, summary, content_types in (
        ("api-docs.openapi_json", "This OpenAPI 3 document", {"application/json": "object"}),
        ("docs.page", "Interactive documentation (Swagger UI)", {"text/html": "string"}),
        (
            "docs.asset_file",
            "A file of the interactive documentation (Swagger UI's, served by this service)",
            dict.fromkeys(docs.ASSET_MEDIA_TYPES, "string"),
        ),
        ("dashboard.page", "The household dashboard (sign in there)", {"text/html": "string"}),
        (
            "dashboard.asset_file",
            "A file of the dashboard (its script and style sheet)",
            dict.fromkeys(dashboard.ASSET_MEDIA_TYPES, "string"),
        ),
    ):
        content = {media: {"schema": {"type": kind}} for media, kind in content_types.items()}
        operation = {
            "tags": ["health"],
            "summary": summary,
            "responses": {"200": {"description": "OK", "content": content}, "default": error},
        }
        api.spec.path(rule=rules[endpoint], operations={"get": operation})
