from __future__ import annotations

from marshmallow import fields, validate

from .base import BaseSchema, TrimmedString, UtcTimestamp
from .transactions import MemberRefSchema

ROLES = ["editor", "viewer"]
STATUSES = ["pending", "accepted", "declined", "expired"]


class InvitationInputSchema(BaseSchema):
    email = TrimmedString(
        required=True,
        validate=[validate.Length(3, 254), validate.Email()],
        metadata={"format": "email"},
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class InvitationSchema(BaseSchema):
    id = fields.Integer(required=True)
    ledger_id = fields.Integer(required=True, data_key="ledgerId")
    email = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ROLES})
    status = fields.String(
        required=True,
        metadata={"enum": STATUSES, "description": "`expired`: pending past `expiresAt`"},
    )
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    expires_at = UtcTimestamp(
        required=True, data_key="expiresAt", metadata={"description": "7 days after createdAt"}
    )


class InvitationListSchema(BaseSchema):
    items = fields.List(fields.Nested(InvitationSchema), required=True)


class MyInvitationSchema(InvitationSchema):
    ledger_name = fields.String(required=True, data_key="ledgerName")
    invited_by = fields.Nested(
        MemberRefSchema,
        required=True,
        data_key="invitedBy",
        metadata={"description": "the owner who invited you"},
    )


class MyInvitationListSchema(BaseSchema):
    items = fields.List(fields.Nested(MyInvitationSchema), required=True)
