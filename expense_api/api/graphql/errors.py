"""GraphQL errors carry REST's codes: `extensions.code` is the code the REST API would answer
(the domain error's own code, its HTTP status through api/core/problems.py's table, and its extra
members: `budget` for budget_exceeded, `errors` for validation_error). An error of the document
itself (syntax, an unknown field, a wrong argument type, a variable that does not fit) is
`malformed_request` or `validation_error`; a limit has its own code (limits.py). Anything else is
`internal_error` with no detail: the cause goes to the log, never to the client."""

from __future__ import annotations

import logging

from graphql import GraphQLError, GraphQLSyntaxError

from ...domain.errors import DomainError
from ..core.problems import status_of

log = logging.getLogger(__name__)

INTERNAL = "An unexpected error occurred."


def domain_error(error: GraphQLError) -> DomainError | None:
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original if isinstance(original, DomainError) else None


def format_error(error: GraphQLError, debug: bool = False) -> dict:
    formatted = error.formatted
    refused = domain_error(error)
    if refused is not None:
        extensions = {"code": refused.code, "status": status_of(refused), **refused.extra}
        if refused.retry_after is not None:
            extensions["retryAfter"] = refused.retry_after
        formatted["message"] = refused.detail
    elif error.extensions and "code" in error.extensions:  # a limit (limits.py)
        extensions = dict(error.extensions)
    elif isinstance(error, GraphQLSyntaxError):
        extensions = {"code": "malformed_request", "status": 400}
    elif error.path is None:  # the document or its variables do not fit the schema
        where = "variables" if error.message.startswith("Variable '$") else "query"
        extensions = {"code": "validation_error", "status": 422, "errors": {where: [error.message]}}
    else:  # a resolver failed unexpectedly: a bug
        log.error("GraphQL resolver failed", exc_info=error.original_error or error)
        formatted["message"] = INTERNAL
        extensions = {"code": "internal_error", "status": 500}
    formatted["extensions"] = extensions
    return formatted
