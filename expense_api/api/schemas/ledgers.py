from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .auth import _is_currency, _is_timezone, currency_codes, timezone_names
from .base import BaseSchema, Name, UtcTimestamp
from .exports import RestoreDocument

ROLES = ["owner", "editor", "viewer"]


class LedgerSchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    currency = fields.String(required=True, metadata={"example": "EUR"})
    timezone = fields.String(required=True, metadata={"example": "Europe/Berlin"})
    is_default = fields.Boolean(
        required=True,
        data_key="isDefault",
        metadata={"description": "whether this is your default ledger (where v1 paths act)"},
    )
    role = fields.String(
        required=True, metadata={"enum": ROLES, "description": "your role in this ledger"}
    )
    created_at = UtcTimestamp(required=True, data_key="createdAt")


class LedgerListSchema(BaseSchema):
    items = fields.List(fields.Nested(LedgerSchema), required=True)


def _name(**kwargs):
    return Name(validate=validate.Length(1, 100), **kwargs)


class LedgerInputSchema(BaseSchema):
    # A restore brings its own currency and time zone: neither beside it.
    OPENAPI_KEYWORDS = {
        "not": {
            "anyOf": [{"required": ["restore", "currency"]}, {"required": ["restore", "timezone"]}]
        }
    }

    name = _name(required=True)
    currency = fields.String(
        validate=_is_currency,
        metadata={
            "description": "ISO 4217 code; fixes how many fraction digits amounts have. "
            "Defaults to your currency.",
            "example": "EUR",
            "enum": sorted(currency_codes()),
        },
    )
    timezone = fields.String(
        validate=_is_timezone,
        metadata={
            "description": "IANA time zone name that the service's database knows too (422 "
            "validation_error otherwise, yours too when it is the default); defaults to yours",
            "example": "Europe/Berlin",
            "enum": sorted(timezone_names()),
        },
    )

    restore = RestoreDocument(
        metadata={
            "description": "a JSON export of a ledger (GET /api/ledgers/{id}/export?format=json), "
            "whole: the new ledger holds its data (its currency and time zone, so neither is "
            "given beside it). Each reference inside it (a category id, a payee or tag name) "
            "must be to an item of the document's own lists, else 422 naming its path "
            "(`restore.transactions.3.categoryId`). Recurring rules come back paused."
        }
    )

    @validates_schema
    def _restore_brings_its_own(self, data, **kwargs):
        if "restore" in data:
            for key in ("currency", "timezone"):
                if key in data:
                    raise ValidationError("A restore takes the document's own.", key)


class LedgerRenameSchema(BaseSchema):
    name = _name(required=True)


class MemberSchema(BaseSchema):
    user_id = fields.Integer(required=True, data_key="userId")
    name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ROLES})
    joined_at = UtcTimestamp(required=True, data_key="joinedAt")


class MemberListSchema(BaseSchema):
    items = fields.List(fields.Nested(MemberSchema), required=True)


class MemberRoleSchema(BaseSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
