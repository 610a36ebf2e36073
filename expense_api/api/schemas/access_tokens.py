from __future__ import annotations

from marshmallow import fields, validate

from ...services.auth import access_tokens
from .base import BaseSchema, Name, UtcTimestamp


class AccessTokenInputSchema(BaseSchema):
    name = Name(
        required=True,
        validate=validate.Length(1, 100),
        metadata={"description": "what the token is for, to recognise it in the list"},
    )
    expires_in_days = fields.Integer(
        load_default=None,
        allow_none=True,
        data_key="expiresInDays",
        strict=True,
        validate=validate.Range(1, access_tokens.MAX_EXPIRES_IN_DAYS),
        metadata={"description": "days until it stops working; absent or null: it never expires"},
    )
    scope = fields.String(
        required=True,
        validate=validate.OneOf(access_tokens.SCOPES),
        metadata={
            "description": "read: GET requests and GraphQL queries only; write: any request "
            "but the account's security"
        },
    )


class AccessTokenSchema(BaseSchema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    scope = fields.String(required=True, metadata={"enum": list(access_tokens.SCOPES)})
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    expires_at = UtcTimestamp(required=True, allow_none=True, data_key="expiresAt")
    last_used_at = UtcTimestamp(
        required=True,
        allow_none=True,
        data_key="lastUsedAt",
        metadata={"description": "updated at most once a minute; null: never used"},
    )


class NewAccessTokenSchema(AccessTokenSchema):
    token = fields.String(
        required=True,
        metadata={
            "description": "the bearer token, `eat_<user id>_<43 characters>`: shown this once "
            "and never again (only its SHA-256 digest is kept)",
            "pattern": r"^eat_[1-9][0-9]{0,18}_[A-Za-z0-9_-]{43}$",
        },
    )


class AccessTokenListSchema(BaseSchema):
    items = fields.List(fields.Nested(AccessTokenSchema), required=True)
