"""Shared schema pieces: the strict base schema, field types, and the problem document."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import RAISE, Schema, fields


class BaseSchema(Schema):
    """Unknown fields are an error, not silently dropped: a typo must not pass unnoticed."""

    class Meta:
        unknown = RAISE


class UtcTimestamp(fields.DateTime):
    """Timestamps go out as ISO 8601 in UTC with a `Z`: `2026-11-25T10:43:57.123Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TrimmedString(fields.String):
    """A string with surrounding white space removed before validation."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error is answered."""

    type = fields.String(
        required=True, metadata={"example": "https://expense-api.dev/problems/not_found"}
    )
    title = fields.String(required=True, metadata={"example": "Not Found"})
    status = fields.Integer(required=True, metadata={"example": 404})
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "stable snake_case identifier"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "per-field messages (validation errors only)"},
    )


def now_utc() -> datetime:
    return datetime.now(UTC)
