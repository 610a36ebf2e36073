from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .alerts import AlertSchema, DryRunAlertSchema
from .base import (
    BaseSchema,
    CalendarDate,
    FreeText,
    ListQuerySchema,
    Money,
    Name,
    PeriodQuerySchema,
    UtcTimestamp,
)

TYPES = ("INCOME", "EXPENSE")
MAX_TAG_FILTERS = 20  # a transaction carries at most 20 tags: more can match nothing


class MemberRefSchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class TransactionSchema(BaseSchema):
    id = fields.Integer(required=True)
    amount = Money(required=True)
    type = fields.String(required=True, metadata={"enum": list(TYPES)})
    category_id = fields.Integer(required=True, data_key="categoryId")
    category = fields.String(required=True, metadata={"description": "the category's name"})
    description = fields.String(required=True)
    occurred_on = CalendarDate(required=True, data_key="date")
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    created_by = fields.Nested(
        MemberRefSchema,
        required=True,
        allow_none=True,
        data_key="createdBy",
        metadata={"description": "the member who recorded it; null if the account is gone"},
    )


class TransactionWithAlertsSchema(TransactionSchema):
    alerts = fields.List(
        fields.Nested(AlertSchema),
        required=True,
        metadata={"description": "budget alerts this write fired"},
    )


class TransactionInputSchema(BaseSchema):
    amount = Money(required=True, request_body=True)
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    category_id = fields.Integer(
        required=True,
        strict=True,
        data_key="categoryId",
        validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "one of your own categories"},
    )
    description = FreeText(load_default="", validate=validate.Length(0, 500))
    occurred_on = CalendarDate(required=True, data_key="date")


class TransactionPatchSchema(TransactionInputSchema):
    """Any subset of the fields, at least one (loaded with partial=True)."""

    OPENAPI_KEYWORDS = {"minProperties": 1}  # the document says "at least one" too

    description = FreeText(validate=validate.Length(0, 500))

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


class TransactionQuerySchema(PeriodQuerySchema, ListQuerySchema):
    type = fields.String(validate=validate.OneOf(TYPES))
    category_id = fields.Integer(
        data_key="categoryId",
        validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "the transaction's category, or one of its split lines'"},
    )
    payee = Name(
        validate=validate.Length(1, 200),
        metadata={"description": "the payee's name, exactly but for case"},
    )
    tags = fields.List(
        Name(validate=validate.Length(1, 40)),
        data_key="tag",
        validate=validate.Length(1, MAX_TAG_FILTERS),
        metadata={
            "description": "a tag's name, case-insensitively; repeat it (`tag=a&tag=b`) for "
            "transactions that carry every one given"
        },
    )
    q = fields.String(
        validate=validate.Length(1, 100),
        metadata={"description": "case-insensitive text in the description"},
    )
    min_amount = Money(request=True, data_key="minAmount")
    max_amount = Money(request=True, data_key="maxAmount")

    @validates_schema
    def _amount_range(self, data, **kwargs):
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and low > high:
            raise ValidationError("minAmount must not be above maxAmount.", "minAmount")


class TransactionPageSchema(BaseSchema):
    items = fields.List(fields.Nested(TransactionSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        data_key="nextCursor",
        metadata={"description": "pass as `cursor` for the next page; null on the last page"},
    )


class DryRunQuerySchema(BaseSchema):
    dry_run = fields.Boolean(
        load_default=False,
        data_key="dryRun",
        metadata={
            "description": "answer what would happen (the transaction and its alerts, or "
            "the 409) without writing anything"
        },
    )


class DryRunTransactionSchema(TransactionWithAlertsSchema):
    id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null for a create: not stored"}
    )
    alerts = fields.List(fields.Nested(DryRunAlertSchema), required=True)
