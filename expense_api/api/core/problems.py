"""Every failure leaves the REST API as RFC 9457 problem+json.

Domain errors (expense_api.domain.errors) get the status of their kind; HTTP-only refusals (415, a
malformed body) are `HttpError`s; everything else that can go wrong (werkzeug's HTTP errors,
webargs validation, JWT failures, database outages, bugs) is turned into the same shape here, so
no HTML page and no stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from flask import Flask, Response, current_app, json
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from ...db import retry
from ...db.pool import is_database_outage
from ...db.retry import is_transaction_conflict
from ...domain import errors

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://expense-api.dev/problems/"

# Default codes for plain HTTP statuses when nothing more specific is known.
STATUS_CODES = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "database_unavailable",
}

# The status of each kind of domain error; the most specific class wins (see status_of).
KIND_STATUS: dict[type[errors.DomainError], int] = {
    errors.ValidationFailed: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.Throttled: 429,
    errors.Unavailable: 503,
    errors.DomainError: 400,
}


class HttpError(errors.DomainError):
    """A refusal that exists only over HTTP (415, a malformed body): subclasses set `status`,
    and may set `headers` the answer carries."""

    status = 400
    headers: dict[str, str] = {}


def status_of(error: errors.DomainError) -> int:
    """The HTTP status of a domain error (GraphQL reports it in an error's extensions)."""
    if isinstance(error, HttpError):
        return error.status
    for kind in type(error).__mro__:
        if kind in KIND_STATUS:
            return KIND_STATUS[kind]
    return 400


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    response = current_app.response_class(
        json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


LOCATIONS = {"json", "query", "headers", "form", "files"}  # webargs' (files: an upload's form)


def flatten_messages(messages: Any) -> dict[str, list[str]]:
    """webargs nests messages by location ({"json": {"amount": [...]}}); clients want the field."""
    if isinstance(messages, dict) and messages.keys() <= LOCATIONS:
        merged: dict[str, list[str]] = {}
        for location_messages in messages.values():
            for name, value in flatten_messages(location_messages).items():
                merged.setdefault(name, []).extend(value)
        return merged
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, dict | list):
                    walk(prefix, item)
                else:
                    flat.setdefault(prefix or "_schema", []).append(str(item))
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    walk("", messages)
    return flat


def render(error: errors.DomainError) -> Response:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else {}
    headers.update(getattr(error, "headers", None) or {})  # an HttpError's own (WWW-Authenticate)
    return problem(status_of(error), error.code, error.detail, headers=headers, **error.extra)


def _handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return _handle_unexpected(error)
    data = getattr(error, "data", None) or {}
    headers = dict(getattr(error, "headers", None) or {})
    if "messages" in data:  # webargs/marshmallow validation, raised by flask-smorest's parser
        return problem(
            422,
            "validation_error",
            "The request is not valid.",
            errors=flatten_messages(data["messages"]),
            headers=headers,
        )
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(sorted(error.valid_methods))  # type: ignore[attr-defined]
    detail = data.get("message") or error.description or HTTPStatus(status).phrase
    return problem(status, STATUS_CODES.get(status, "http_error"), detail, headers=headers)


def _handle_unexpected(error: BaseException) -> Response:
    original = getattr(error, "original_exception", None) or error
    if is_transaction_conflict(original):  # one that escaped the retry (api/core/retry.py)
        log.warning("transaction aborted outside the retry: %s", original)
        return render(retry.conflict())
    if is_database_outage(original):
        log.warning("database unavailable: %s", original)
        return problem(
            503,
            "database_unavailable",
            "The database is not reachable; try again shortly.",
            headers={"Retry-After": "2"},
        )
    if isinstance(original, psycopg.errors.QueryCanceled):
        log.error("statement timeout", exc_info=original)
        return problem(503, "query_timeout", "The request took too long; try again later.")
    if not isinstance(original, InternalServerError):
        log.error("unhandled error", exc_info=original)
    return problem(500, "internal_error", "An unexpected error occurred.")


def init_app(app: Flask) -> None:
    app.register_error_handler(errors.DomainError, render)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(psycopg.Error, _handle_unexpected)
    app.register_error_handler(PoolTimeout, _handle_unexpected)
