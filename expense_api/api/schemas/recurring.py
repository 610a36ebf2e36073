from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from ...services.recurring.dates import FREQUENCIES, WEEKDAYS
from ...services.recurring.rules import EARLIEST_START_YEARS
from .auth import _is_currency, currency_codes
from .base import (
    BaseSchema,
    CalendarDate,
    FreeText,
    ListQuerySchema,
    Money,
    UtcTimestamp,
    request_currency,
)
from .transactions import TYPES, TransactionInputSchema

MAX_INTERVAL = 1000
MAX_COUNT = 100_000


def _month_day(value: int) -> None:
    if not (1 <= value <= 31 or value == -1):
        raise ValidationError("Must be 1..31, or -1 for the month's last day.")


class RecurringInputSchema(TransactionInputSchema):
    """What each date records (a transaction's fields but its date), and the schedule."""

    class Meta(TransactionInputSchema.Meta):
        # A rule records a single category (no split lines, payee or tags yet), and no rate: in
        # another currency, each occurrence takes the ledger's rate of its date.
        exclude = ("occurred_on", "splits", "payee", "tags", "rate")

    currency = fields.String(
        validate=_is_currency,
        allow_none=True,
        metadata={
            "description": "ISO 4217; default (and null) the ledger's. In another currency each "
            "occurrence takes the ledger's rate for it on the occurrence's date (the latest on "
            "or before it); a date without one is skipped with reason `rate_unknown`. A rule "
            "takes no `rate`",
            "example": "EUR",
            "enum": sorted(currency_codes()),
        },
    )

    category_id = fields.Integer(
        required=True,
        strict=True,
        data_key="categoryId",
        validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "one of the ledger's categories"},
    )

    frequency = fields.String(required=True, validate=validate.OneOf(list(FREQUENCIES)))
    repeat_interval = fields.Integer(
        load_default=1,
        strict=True,
        data_key="interval",
        validate=validate.Range(1, MAX_INTERVAL),
        metadata={"description": "every how many days/weeks/months/years (default 1)"},
    )
    by_weekday = fields.List(
        fields.String(validate=validate.OneOf(list(WEEKDAYS))),
        load_default=None,
        allow_none=True,
        data_key="byWeekday",
        validate=validate.Length(1, 7),
        metadata={"description": "weekly rules only; default: the start date's weekday"},
    )
    by_month_day = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        data_key="byMonthDay",
        validate=_month_day,
        metadata={
            "description": "monthly rules only; default: the start date's day. 29, 30 or 31 "
            "give the last day of shorter months; -1 is always the last day",
            "minimum": -1,
            "maximum": 31,
            "not": {"enum": [0]},
        },
    )
    start_date = CalendarDate(
        required=True,
        data_key="startDate",
        metadata={
            "description": "the first date it may fall on; dates before today are caught up. At "
            f"most {EARLIEST_START_YEARS} years before today in the ledger's time zone (422 "
            "validation_error otherwise; checked when given, so a PATCH of other fields keeps "
            "an older one), and as late as 2999-12-31"
        },
    )
    end_date = CalendarDate(
        load_default=None,
        allow_none=True,
        data_key="endDate",
        metadata={"description": "the last date it may fall on (inclusive); not with count"},
    )
    max_occurrences = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        data_key="count",
        validate=validate.Range(1, MAX_COUNT),
        metadata={"description": "how many dates it handles in all; not with endDate"},
    )
    paused = fields.Boolean(
        load_default=False,
        metadata={"description": "a paused rule handles no date; resuming catches up"},
    )


class RecurringPatchSchema(RecurringInputSchema):
    """Any subset of the fields, at least one (loaded with partial=True): no defaults."""

    OPENAPI_KEYWORDS = {"minProperties": 1}  # the document says "at least one" too

    description = FreeText(validate=validate.Length(0, 500))
    repeat_interval = fields.Integer(
        strict=True, data_key="interval", validate=validate.Range(1, MAX_INTERVAL)
    )
    paused = fields.Boolean()

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


class RecurringSchema(BaseSchema):
    id = fields.Integer(required=True)
    amount = Money(
        required=True,
        own_currency=True,
        metadata={"description": "in the rule's `currency`, with its digits"},
    )
    currency = fields.Method(
        "_currency",
        required=True,
        metadata={
            "type": "string",
            "example": "EUR",
            "description": "ISO 4217; the ledger's unless the rule was given another (each "
            "occurrence then takes the ledger's rate of its date)",
        },
    )
    type = fields.String(required=True, metadata={"enum": list(TYPES)})
    category_id = fields.Integer(required=True, data_key="categoryId")
    category = fields.String(required=True, metadata={"description": "the category's name"})
    description = fields.String(required=True)
    frequency = fields.String(required=True, metadata={"enum": list(FREQUENCIES)})
    repeat_interval = fields.Integer(required=True, data_key="interval")
    by_weekday = fields.List(fields.String(), required=True, allow_none=True, data_key="byWeekday")
    by_month_day = fields.Integer(required=True, allow_none=True, data_key="byMonthDay")
    start_date = CalendarDate(required=True, data_key="startDate")
    end_date = CalendarDate(required=True, allow_none=True, data_key="endDate")
    max_occurrences = fields.Integer(required=True, allow_none=True, data_key="count")
    paused = fields.Boolean(required=True)
    paused_reason = fields.String(
        required=True,
        allow_none=True,
        data_key="pausedReason",
        metadata={
            "enum": ["member_left", "member_cannot_write", "failing", None],
            "description": "why the worker paused it (its member left the ledger or may no "
            "longer write, or its handling failed ten times in a row); null when running or "
            "paused by a member",
        },
    )
    next_date = CalendarDate(
        required=True,
        allow_none=True,
        data_key="nextDate",
        metadata={"description": "the next date it will handle; null when it has ended"},
    )
    failures = fields.Integer(
        required=True,
        metadata={
            "description": "how many times in a row the worker failed to handle its next date "
            "(an unexpected error); 0 once a date is handled or the rule is resumed"
        },
    )
    retry_at = UtcTimestamp(
        required=True,
        allow_none=True,
        data_key="retryAt",
        metadata={"description": "after a failure, when the worker tries again; null otherwise"},
    )
    last_error = fields.String(
        required=True,
        allow_none=True,
        data_key="lastError",
        metadata={
            "description": "the last failure: the error's class and a short message; null "
            "when none since the last date handled"
        },
    )
    created_at = UtcTimestamp(required=True, data_key="createdAt")

    def _currency(self, row) -> str:
        return row.get("currency") or request_currency()


class RecurringListSchema(BaseSchema):
    items = fields.List(fields.Nested(RecurringSchema), required=True)


class OccurrenceSchema(BaseSchema):
    occurrence_date = CalendarDate(required=True, data_key="date")
    status = fields.String(required=True, metadata={"enum": ["created", "skipped"]})
    reason = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "enum": ["budget_exceeded", "rate_unknown", None],
            "description": "why it was skipped: `budget_exceeded` (a hard budget refused it) or "
            "`rate_unknown` (a rule in another currency, and the ledger has no rate for it on "
            "or before the date); null when created",
        },
    )
    transaction_id = fields.Integer(
        required=True,
        allow_none=True,
        data_key="transactionId",
        metadata={"description": "the transaction it created; null if skipped or deleted since"},
    )
    budget_id = fields.Integer(
        required=True,
        allow_none=True,
        data_key="budgetId",
        metadata={"description": "the hard budget that refused it; null when created"},
    )


class OccurrencePageSchema(BaseSchema):
    items = fields.List(fields.Nested(OccurrenceSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        data_key="nextCursor",
        metadata={"description": "pass as `cursor` for the next page; null on the last page"},
    )


class OccurrenceQuerySchema(ListQuerySchema):
    pass


class PreviewQuerySchema(BaseSchema):
    count = fields.Integer(
        load_default=12,
        validate=validate.Range(1, 100),
        metadata={"description": "how many dates (default 12, at most 100)"},
    )


class PreviewDateSchema(BaseSchema):
    date = CalendarDate(required=True)


class PreviewSchema(BaseSchema):
    items = fields.List(
        fields.Nested(PreviewDateSchema),
        required=True,
        metadata={"description": "the next dates it will handle, oldest first"},
    )
