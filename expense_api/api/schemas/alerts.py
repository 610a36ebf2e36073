from __future__ import annotations

from marshmallow import fields, validate

from .base import BaseSchema, UtcTimestamp


class AlertSchema(BaseSchema):
    id = fields.Integer(required=True)
    ledger_id = fields.Integer(
        required=True, data_key="ledgerId", metadata={"description": "the ledger it belongs to"}
    )
    budget_id = fields.Integer(required=True, data_key="budgetId")
    kind = fields.String(
        required=True,
        metadata={
            "enum": ["threshold", "limit", "recurring_skipped"],
            "description": "recurring_skipped: the budget refused a recurring rule's date",
        },
    )
    percent_used = fields.String(
        required=True, data_key="percentUsed", metadata={"example": "85.00"}
    )
    recurring_id = fields.Integer(
        required=True,
        allow_none=True,
        data_key="recurringId",
        metadata={"description": "the rule a recurring_skipped alert is about; else null"},
    )
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    read_at = UtcTimestamp(
        required=True,
        allow_none=True,
        data_key="readAt",
        metadata={"description": "when you read it (each member has their own read state)"},
    )


class DryRunAlertSchema(AlertSchema):
    id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: not stored"}
    )


class AlertQuerySchema(BaseSchema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread alerts"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(validate=validate.Length(1, 200))


class AlertPageSchema(BaseSchema):
    items = fields.List(fields.Nested(AlertSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True, data_key="nextCursor")
