from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .auth import UserSchema
from .base import BaseSchema, ListQuerySchema, StrictBoolean, UtcTimestamp

SYSTEM_ROLES = ["user", "admin"]


class AdminUserSchema(UserSchema):
    disabled = fields.Boolean(
        required=True, metadata={"description": "a disabled account cannot log in"}
    )
    last_login_at = UtcTimestamp(
        required=True, allow_none=True, data_key="lastLoginAt",
        metadata={"description": "the last successful login; null if never"},
    )  # fmt: skip


class AdminUserListSchema(BaseSchema):
    items = fields.List(fields.Nested(AdminUserSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        data_key="nextCursor",
        metadata={"description": "pass as `cursor` for the next page; null on the last page"},
    )


class AdminUserQuerySchema(ListQuerySchema):
    q = fields.String(
        validate=validate.Length(1, 254),
        metadata={"description": "only accounts whose name or email contains this (any case)"},
    )


class AdminUserPatchSchema(BaseSchema):
    OPENAPI_KEYWORDS = {"minProperties": 1}  # the document says "at least one" too
    role = fields.String(validate=validate.OneOf(SYSTEM_ROLES), metadata={"enum": SYSTEM_ROLES})
    disabled = StrictBoolean(
        metadata={"description": "true ends every session of the account at once"},
    )

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("Give `role`, `disabled` or both.", "_schema")


class StatsSchema(BaseSchema):
    users = fields.Integer(required=True)
    ledgers = fields.Integer(required=True)
    transactions = fields.Integer(required=True)
    database_bytes = fields.Integer(
        required=True, data_key="databaseBytes", metadata={"description": "pg_database_size"}
    )
