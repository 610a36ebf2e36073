"""The domain's errors: what a rule refuses, with a stable `code` and a human `detail`.

They know nothing of HTTP. Each door renders them its own way: the REST API maps each kind to a
status and a problem+json document (api/core/problems.py); a worker logs them; GraphQL will put them
in its `errors`. A kind is a subclass; a specific refusal sets its own `code`.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal a client should see. `extra` holds machine-readable members (for example the
    budget that would be exceeded); `retry_after` says when trying again makes sense."""

    code = "bad_request"

    def __init__(
        self, detail: str, *, code: str | None = None, retry_after: int | None = None, **extra: Any
    ):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code
        self.retry_after = retry_after
        self.extra = extra


class NotFound(DomainError):
    """Missing, or another tenant's: the two are never told apart."""

    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class Throttled(DomainError):
    code = "too_many_requests"


class Unavailable(DomainError):
    """A dependency (the database, the throttle store) cannot answer now; retry later."""

    code = "service_unavailable"


class ValidationFailed(DomainError):
    """Per-field messages: `errors={"field": ["message"]}`."""

    code = "validation_error"

    def __init__(self, errors: dict[str, list[str]], detail: str = "The request is not valid."):
        super().__init__(detail, errors=errors)


def found(row: dict | None, what: str) -> dict:
    """The row, or NotFound: the one place a missing (or someone else's) resource becomes 404.
    Queries filter by the tenant, so another tenant's row is simply not there."""
    if row is None:
        raise NotFound(f"No such {what}.")
    return row
