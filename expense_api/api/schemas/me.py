"""/api/me: erasing the account (its body), and the export's document (the OpenAPI document's
description of what GET /api/me/export streams; services/account_data.py writes it)."""

from __future__ import annotations

from marshmallow import fields, validate

from ...services.account_data import VERSION
from .base import BaseSchema, UtcTimestamp
from .recurring import RecurringSchema


class EraseSchema(BaseSchema):
    password = fields.String(
        required=True,
        validate=validate.Length(1, 1024),
        load_only=True,
        metadata={"format": "password", "description": "the account's password"},
    )
    totp = fields.String(
        validate=validate.Length(1, 64),
        load_only=True,
        metadata={
            "description": "with two-factor sign-in on: a current code or an unused recovery "
            "code (403 `totp_required` without it)"
        },
    )


_WHEN = {"required": True, "allow_none": True}


class ExportedUserSchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ["user", "admin"]})
    currency = fields.String(required=True)
    timezone = fields.String(required=True)
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    last_login_at = UtcTimestamp(data_key="lastLoginAt", **_WHEN)
    disabled_at = UtcTimestamp(data_key="disabledAt", **_WHEN)
    totp_enabled_at = UtcTimestamp(
        data_key="twoFactorEnabledAt",
        metadata={"description": "when two-factor sign-in was turned on; null: off"},
        **_WHEN,
    )
    password_changed_at = UtcTimestamp(data_key="passwordChangedAt", **_WHEN)


class ExportedSessionSchema(BaseSchema):
    id = fields.UUID(required=True)
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    last_used_at = UtcTimestamp(required=True, data_key="lastUsedAt")
    expires_at = UtcTimestamp(required=True, data_key="expiresAt")
    revoked_at = UtcTimestamp(data_key="endedAt", **_WHEN)
    revoked_reason = fields.String(data_key="endedBecause", **_WHEN)
    user_agent = fields.String(data_key="userAgent", **_WHEN)
    address = fields.String(**_WHEN)


class ExportedTokenSchema(BaseSchema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    scope = fields.String(required=True, metadata={"enum": ["read", "write"]})
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    expires_at = UtcTimestamp(data_key="expiresAt", **_WHEN)
    last_used_at = UtcTimestamp(data_key="lastUsedAt", **_WHEN)


class ExportedMembershipSchema(BaseSchema):
    ledger_id = fields.Integer(required=True, data_key="ledgerId")
    name = fields.String(required=True)
    currency = fields.String(required=True)
    timezone = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ["owner", "editor", "viewer"]})
    is_default = fields.Boolean(required=True, data_key="isDefault")
    joined_at = UtcTimestamp(required=True, data_key="joinedAt")


class ExportedInvitationSchema(BaseSchema):
    id = fields.Integer(required=True)
    ledger_id = fields.Integer(required=True, data_key="ledgerId")
    ledger_name = fields.String(
        data_key="ledgerName", metadata={"description": "received invitations only"}
    )
    email = fields.String(required=True)
    role = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"enum": ["pending", "accepted", "declined", "expired", "revoked"]},
    )
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    expires_at = UtcTimestamp(required=True, data_key="expiresAt")
    responded_at = UtcTimestamp(data_key="respondedAt", **_WHEN)


class ExportedRecurringSchema(RecurringSchema):
    ledger_id = fields.Integer(required=True, data_key="ledgerId")


class ExportedImportSchema(BaseSchema):
    id = fields.Integer(required=True)
    ledger_id = fields.Integer(required=True, data_key="ledgerId")
    status = fields.String(required=True)
    format = fields.String(required=True)
    account = fields.String(**_WHEN)
    file_name = fields.String(data_key="fileName", **_WHEN)
    currency = fields.String(**_WHEN)
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    committed_at = UtcTimestamp(data_key="committedAt", **_WHEN)
    undone_at = UtcTimestamp(data_key="undoneAt", **_WHEN)


class ExportedEventSchema(BaseSchema):
    id = fields.Integer(required=True)
    at = UtcTimestamp(required=True)
    kind = fields.String(required=True)
    address = fields.String(**_WHEN)
    user_agent = fields.String(data_key="userAgent", **_WHEN)
    session_id = fields.UUID(data_key="sessionId", **_WHEN)
    detail = fields.Dict(required=True)


def _items(schema, description: str, **kwargs):
    return fields.List(
        fields.Nested(schema), required=True, metadata={"description": description}, **kwargs
    )


class AccountExportSchema(BaseSchema):
    """What GET /api/me/export streams (never a secret: no password hash, two-factor secret,
    recovery code, token or token digest)."""

    version = fields.Integer(required=True, metadata={"enum": [VERSION]})
    exported_at = UtcTimestamp(required=True, data_key="exportedAt")
    user = fields.Nested(ExportedUserSchema, required=True)
    sessions = _items(
        ExportedSessionSchema,
        "every session the service keeps: live ones, and ended or expired ones for a day",
    )
    personal_access_tokens = _items(
        ExportedTokenSchema,
        "names and dates; never the token or its digest",
        data_key="personalAccessTokens",
    )
    memberships = _items(ExportedMembershipSchema, "the ledgers you belong to, your role in each")
    invitations_sent = _items(
        ExportedInvitationSchema, "the invitations you made", data_key="invitationsSent"
    )
    invitations_received = _items(
        ExportedInvitationSchema,
        "the invitations to you (to your account or to your email)",
        data_key="invitationsReceived",
    )
    recurring_acting_as_you = _items(
        ExportedRecurringSchema,
        "the recurring rules that record transactions in your name, in every ledger",
        data_key="recurringActingAsYou",
    )
    imports_uploaded = _items(
        ExportedImportSchema,
        "the bank files you uploaded (not their rows)",
        data_key="importsUploaded",
    )
    ledgers = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": "the JSON export of each ledger you own, as GET "
            "/api/ledgers/{id}/export?format=json answers it (what a restore takes)"
        },
    )
    security_events = _items(
        ExportedEventSchema,
        "your account's security events, newest first",
        data_key="securityEvents",
    )
