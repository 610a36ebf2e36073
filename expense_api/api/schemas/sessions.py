from __future__ import annotations

from marshmallow import fields, validate

from .base import BaseSchema, UtcTimestamp


class SessionSchema(BaseSchema):
    id = fields.UUID(required=True)
    current = fields.Boolean(
        required=True, metadata={"description": "the session of the token making this request"}
    )
    user_agent = fields.String(
        required=True,
        allow_none=True,
        data_key="userAgent",
        metadata={"description": "the User-Agent of the login that started it (512 characters)"},
    )
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    last_used_at = UtcTimestamp(
        required=True,
        data_key="lastUsedAt",
        metadata={"description": "updated at most once a minute"},
    )


class SessionListSchema(BaseSchema):
    items = fields.List(fields.Nested(SessionSchema), required=True)


class PasswordChangeSchema(BaseSchema):
    current_password = fields.String(
        required=True,
        data_key="currentPassword",
        validate=validate.Length(1, 1024),
        load_only=True,
        metadata={"format": "password"},
    )
    # As registration's password (schemas/auth.py RegisterSchema).
    new_password = fields.String(
        required=True,
        data_key="newPassword",
        validate=validate.Length(8, 128),
        load_only=True,
        metadata={"format": "password"},
    )
