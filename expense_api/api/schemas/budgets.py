from __future__ import annotations

from marshmallow import fields, validate

from ...domain.periods import MAX_YEAR, MIN_YEAR
from ...domain.rollover import ROLLOVERS
from .alerts import AlertSchema
from .base import BaseSchema, Money, UtcTimestamp


class BudgetInputSchema(BaseSchema):
    category_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        data_key="categoryId",
        validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "one of your categories; null or absent: the overall budget"},
    )
    amount = Money(required=True, request_body=True)
    month = fields.Integer(required=True, strict=True, validate=validate.Range(1, 12))
    year = fields.Integer(required=True, strict=True, validate=validate.Range(MIN_YEAR, MAX_YEAR))
    mode = fields.String(
        load_default=None,
        validate=validate.OneOf(("hard", "soft")),
        metadata={
            "description": "hard budgets refuse expenses that would exceed them; soft "
            "ones only alert. Default on creation: hard; on update: unchanged."
        },
    )
    alert_threshold = fields.Integer(
        load_default=None,
        strict=True,
        data_key="alertThreshold",
        validate=validate.Range(1, 100),
        metadata={
            "description": "percent of the amount that fires a threshold alert. Default "
            "on creation: 80; on update: unchanged."
        },
    )
    rollover = fields.String(
        load_default=None,
        validate=validate.OneOf(ROLLOVERS),
        metadata={
            "description": "what the month takes from the month before when that month has a "
            "budget of the same scope: `surplus` what was left there, `deficit` what was "
            "overspent there (as a negative amount), `both` either, `none` nothing. Default on "
            "creation: none; on update: unchanged."
        },
    )


class BudgetSchema(BaseSchema):
    id = fields.Integer(required=True)
    category_id = fields.Integer(required=True, allow_none=True, data_key="categoryId")
    category = fields.String(required=True, allow_none=True)
    amount = Money(required=True)
    month = fields.Integer(required=True)
    year = fields.Integer(required=True)
    mode = fields.String(required=True, metadata={"enum": ["hard", "soft"]})
    alert_threshold = fields.Integer(required=True, data_key="alertThreshold")
    rollover = fields.String(required=True, metadata={"enum": list(ROLLOVERS)})
    created_at = UtcTimestamp(required=True, data_key="createdAt")


class SavedBudgetSchema(BudgetSchema):
    alerts = fields.List(
        fields.Nested(AlertSchema),
        required=True,
        metadata={
            "description": "budget alerts this write fired: lowering the amount or the "
            "threshold to what the month has already spent fires them, once each, as an "
            "expense does"
        },
    )


class BudgetListSchema(BaseSchema):
    items = fields.List(fields.Nested(BudgetSchema), required=True)


class BudgetQuerySchema(BaseSchema):
    month = fields.Integer(validate=validate.Range(1, 12))
    year = fields.Integer(validate=validate.Range(MIN_YEAR, MAX_YEAR))


class MonthSchema(BaseSchema):
    month = fields.Integer(required=True, strict=True, validate=validate.Range(1, 12))
    year = fields.Integer(required=True, strict=True, validate=validate.Range(MIN_YEAR, MAX_YEAR))


class BudgetCopyInputSchema(BaseSchema):
    source = fields.Nested(MonthSchema, required=True, data_key="from")
    target = fields.Nested(
        MonthSchema,
        required=True,
        data_key="to",
        metadata={"description": "another month than `from`"},
    )


class BudgetCopySchema(BaseSchema):
    created = fields.List(
        fields.Nested(BudgetSchema),
        required=True,
        metadata={"description": "the budgets made in the target month, in the source's order"},
    )
    skipped = fields.List(
        fields.Nested(BudgetSchema),
        required=True,
        metadata={
            "description": "the target month's budgets for scopes the source has, kept as they "
            "are (a copy never overwrites)"
        },
    )
