from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .base import BaseSchema, CalendarDate, Money, Percent, PeriodQuerySchema


class SummarySchema(BaseSchema):
    from_ = CalendarDate(required=True, data_key="from")
    to = CalendarDate(required=True)
    currency = fields.String(required=True)
    total_income = Money(required=True, data_key="totalIncome")
    total_expense = Money(required=True, data_key="totalExpense")
    savings = Money(required=True, signed=True)
    savings_rate = Percent(
        required=True,
        allow_none=True,
        data_key="savingsRate",
        metadata={"description": "savings / income in percent; null when income is 0"},
    )


class CategoryShareSchema(BaseSchema):
    category_id = fields.Integer(required=True, data_key="categoryId")
    category = fields.String(required=True)
    amount = Money(required=True)
    share = Percent(required=True, metadata={"description": "of the period's total expense"})


class CategoryBreakdownSchema(BaseSchema):
    from_ = CalendarDate(required=True, data_key="from")
    to = CalendarDate(required=True)
    total = Money(required=True, allow_zero=True)
    items = fields.List(fields.Nested(CategoryShareSchema), required=True)


class MonthQuerySchema(BaseSchema):
    """`month` and `year`; `month` alone: that month of the current year; neither: the current
    month (in the ledger's time zone). A `year` alone names no month: 422."""

    month = fields.Integer(
        validate=validate.Range(1, 12),
        metadata={"description": "with `year`, or alone: that month of the current year"},
    )
    year = fields.Integer(
        validate=validate.Range(1900, 2999),
        metadata={"description": "only with `month` (a year alone names no month: 422)"},
    )

    @validates_schema
    def _year_needs_month(self, data, **kwargs):
        if "year" in data and "month" not in data:
            raise ValidationError("A year alone names no month: give month too.", "month")


class BudgetUsageItemSchema(BaseSchema):
    budget_id = fields.Integer(required=True, data_key="budgetId")
    category_id = fields.Integer(required=True, allow_none=True, data_key="categoryId")
    category = fields.String(required=True, allow_none=True)
    budget = Money(required=True)
    spent = Money(required=True)
    remaining = Money(
        required=True,
        signed=True,
        metadata={"description": "`available` minus `spent`; negative when over"},
    )
    percent_used = Percent(
        required=True,
        allow_none=True,
        data_key="percentUsed",
        metadata={"description": "`spent` against `available`; null when nothing is available "
                  "(a deficit carried in took it all)"},
    )  # fmt: skip
    mode = fields.String(required=True, metadata={"enum": ["hard", "soft"]})
    carried = Money(
        required=True,
        signed=True,
        metadata={"description": "what the month carried from the month before under its "
                  "budget's rollover (negative: a deficit); 0 without rollover"},
    )  # fmt: skip
    available = Money(
        required=True,
        signed=True,
        metadata={"description": "`budget` plus `carried`: what a hard budget lets the month "
                  "spend"},
    )  # fmt: skip
    rollover = fields.String(
        required=True, metadata={"enum": ["none", "surplus", "deficit", "both"]}
    )


class BudgetUsageSchema(BaseSchema):
    month = fields.Integer(required=True)
    year = fields.Integer(required=True)
    items = fields.List(fields.Nested(BudgetUsageItemSchema), required=True)


class TrendsQuerySchema(PeriodQuerySchema):
    """`from` and `to` (or one of them, as for any period), or `months` (default 12) up to the
    current month; not month/year."""

    months = fields.Integer(validate=validate.Range(1, 120))

    @validates_schema
    def _trend_period(self, data, **kwargs):
        if "month" in data or "year" in data:
            raise ValidationError(
                "Trends take from and to, or months.", "month" if "month" in data else "year"
            )
        if "months" in data and ("from_" in data or "to" in data):
            raise ValidationError("Give months, or from and to, not both.", "months")


class TrendPointSchema(BaseSchema):
    month = fields.String(
        required=True, metadata={"example": "2026-02", "pattern": r"^\d{4}-\d{2}$"}
    )
    income = Money(required=True)
    expense = Money(required=True)
    savings = Money(required=True, signed=True)


class TrendsSchema(BaseSchema):
    items = fields.List(fields.Nested(TrendPointSchema), required=True)
