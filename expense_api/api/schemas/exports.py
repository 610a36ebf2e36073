"""The export's query, and the restore document (a JSON export) as `POST /api/ledgers` loads
it: every field the export writes is accepted (ids as references within the document; names,
creation times and the like, which the restore does not take, are checked for their type
only), every field a restore takes is validated as its own resource's input is, and amounts
in the document's ledger's currency."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema
from marshmallow.experimental.context import Context

from ...services.exports import FORMATS, VERSION
from .auth import _is_currency, _is_timezone, currency_codes, timezone_names
from .base import BaseSchema, CalendarDate, Money, Name, PeriodQuerySchema, Rate
from .budgets import BudgetInputSchema
from .recurring import RecurringInputSchema
from .rules import RuleMatchInputSchema, RuleSetInputSchema
from .transactions import MAX_LINES, MIN_LINES, SplitLineInputSchema, TransactionInputSchema


class ExportQuerySchema(PeriodQuerySchema):
    format = fields.String(
        required=True,
        validate=validate.OneOf(list(FORMATS)),
        metadata={"description": "csv, ofx (OFX 2.2 XML bank statement) or json (the whole "
                  "ledger, for a restore)"},
    )  # fmt: skip


_ID = {"required": True, "strict": True, "validate": validate.Range(1, 2**63 - 1)}
_SHOWN = {"metadata": {"description": "as the export writes it; not restored"}}


class RestoreLedgerSchema(BaseSchema):
    name = fields.String(**_SHOWN)  # the new ledger's name is the request's
    currency = fields.String(
        required=True, validate=_is_currency, metadata={"enum": sorted(currency_codes())}
    )
    timezone = fields.String(
        required=True, validate=_is_timezone, metadata={"enum": sorted(timezone_names())}
    )


class RestoreCategorySchema(BaseSchema):
    id = fields.Integer(**_ID)
    name = Name(required=True, validate=validate.Length(1, 100))
    created_at = fields.String(data_key="createdAt", **_SHOWN)


class RestorePayeeSchema(BaseSchema):
    id = fields.Integer(**_ID)
    name = Name(required=True, validate=validate.Length(1, 200))


class RestoreTagSchema(BaseSchema):
    id = fields.Integer(**_ID)
    name = Name(required=True, validate=validate.Length(1, 40))


class RestoreBudgetSchema(BudgetInputSchema):
    id = fields.Integer(**_ID)
    category = fields.String(allow_none=True, **_SHOWN)
    created_at = fields.String(data_key="createdAt", **_SHOWN)


_LEDGER_AMOUNT = (
    "in the ledger's currency: checked (422 naming it when it is not) and written as the "
    "service computes it"
)


class RestoreSplitLineSchema(SplitLineInputSchema):
    category = fields.String(**_SHOWN)
    ledger_amount = Money(
        data_key="ledgerAmount",
        metadata={
            "description": "the line's share of the transaction's ledgerAmount (largest "
            f"remainder), {_LEDGER_AMOUNT}"
        },
    )


class RestoreTransactionSchema(TransactionInputSchema):
    """A transaction as the export writes it: `splits` [] for one with a category."""

    id = fields.Integer(**_ID)
    category = fields.String(allow_none=True, **_SHOWN)
    created_at = fields.String(data_key="createdAt", **_SHOWN)
    created_by = fields.Dict(allow_none=True, data_key="createdBy", **_SHOWN)
    ledger_amount = Money(
        data_key="ledgerAmount",
        metadata={
            "description": "`amount` x `rate` rounded half up once (the amount itself in the "
            f"ledger's currency), {_LEDGER_AMOUNT}"
        },
    )
    splits = fields.List(
        fields.Nested(RestoreSplitLineSchema),
        allow_none=True,
        validate=lambda lines: (
            len(lines) == 0
            or MIN_LINES <= len(lines) <= MAX_LINES
            or _refuse(f"Give no lines, or {MIN_LINES} to {MAX_LINES}.")
        ),
        metadata={
            "description": f"[] for a transaction with a category, else {MIN_LINES} to "
            f"{MAX_LINES} lines summing exactly to `amount`",
            "maxItems": MAX_LINES,
            "not": {"minItems": 1, "maxItems": MIN_LINES - 1},
        },
    )
    account = Name(allow_none=True, validate=validate.Length(1, 100))
    bank_id = fields.String(allow_none=True, data_key="bankId", validate=validate.Length(1, 255))
    import_key = fields.String(
        allow_none=True, data_key="importId", validate=validate.Length(1, 255)
    )

    @validates_schema
    def _category_or_splits(self, data, partial=False, **kwargs):
        category_id, lines = data.get("category_id"), data.get("splits")
        if category_id is not None and lines:
            raise ValidationError("Give categoryId or splits, not both.", "splits")
        if category_id is None and not lines:
            raise ValidationError(
                "Give a category, or splits for a split transaction.", "categoryId"
            )


def _refuse(message: str):
    raise ValidationError(message)


class RestoreRecurringSchema(RecurringInputSchema):
    class Meta(RecurringInputSchema.Meta):
        # A rule's currency is restored (the export writes it).
        exclude = tuple(
            name for name in getattr(RecurringInputSchema.Meta, "exclude", ()) if name != "currency"
        )

    id = fields.Integer(**_ID)
    amount = Money(
        required=True,
        request_body=True,
        own_currency=True,
        metadata={"description": "in the rule's `currency`, with its digits"},
    )
    currency = fields.String(
        allow_none=True,
        validate=_is_currency,
        metadata={
            "description": "ISO 4217; absent or null: the ledger's",
            "enum": sorted(currency_codes()),
        },
    )
    category = fields.String(**_SHOWN)
    paused_reason = fields.String(allow_none=True, data_key="pausedReason", **_SHOWN)
    next_date = CalendarDate(allow_none=True, data_key="nextDate")
    last_date = CalendarDate(allow_none=True, data_key="lastDate")
    occurrence_count = fields.Integer(
        load_default=0, strict=True, data_key="occurrenceCount", validate=validate.Range(0, None)
    )
    failures = fields.Integer(**_SHOWN)
    retry_at = fields.String(allow_none=True, data_key="retryAt", **_SHOWN)
    last_error = fields.String(allow_none=True, data_key="lastError", **_SHOWN)
    created_at = fields.String(data_key="createdAt", **_SHOWN)

    @validates_schema
    def _schedule(self, data, **kwargs):
        frequency = data.get("frequency")
        if data.get("by_weekday") and frequency != "weekly":
            raise ValidationError("Only a weekly rule takes byWeekday.", "byWeekday")
        if data.get("by_month_day") is not None and frequency != "monthly":
            raise ValidationError("Only a monthly rule takes byMonthDay.", "byMonthDay")
        if data.get("end_date") is not None and data.get("max_occurrences") is not None:
            raise ValidationError("Give count or endDate, not both.", "count")
        end, start = data.get("end_date"), data.get("start_date")
        if end is not None and start is not None and end < start:
            raise ValidationError("endDate must not be before startDate.", "endDate")


def _list(schema):
    return fields.List(fields.Nested(schema), required=True)


class RestoreRateSchema(BaseSchema):
    """A ledger rate as GET /api/ledgers/{id}/rates shows it."""

    currency = fields.String(
        required=True,
        validate=_is_currency,
        metadata={"description": "ISO 4217, not the ledger's", "enum": sorted(currency_codes())},
    )
    date = CalendarDate(required=True)
    rate = Rate(required=True, request_body=True)


class RestoreRuleSchema(BaseSchema):
    """An import rule as the export writes it; `set.categoryId` names one of the document's
    categories. Restored in `position` order."""

    id = fields.Integer(required=True, strict=True)
    position = fields.Integer(required=True, strict=True, validate=validate.Range(1, 500))
    match = fields.Nested(RuleMatchInputSchema, required=True)
    set_ = fields.Nested(RuleSetInputSchema, required=True, data_key="set", attribute="set")

    @validates_schema
    def _something_each(self, data, **kwargs):
        # A rule's own rules (the rules' REST schema says so too): a condition and an effect.
        if "match" in data and not data["match"]:
            raise ValidationError("Give at least one condition.", "match")
        if "set" in data and not any(value is not None for value in data["set"].values()):
            raise ValidationError("Give at least one of categoryId, payee or tags.", "set")


class RestoreSchema(BaseSchema):
    """A JSON export (GET /api/ledgers/{id}/export?format=json), whole."""

    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Equal(VERSION),
        metadata={"enum": [VERSION]},
    )
    ledger = fields.Nested(RestoreLedgerSchema, required=True)
    categories = _list(RestoreCategorySchema)
    payees = _list(RestorePayeeSchema)
    tags = _list(RestoreTagSchema)
    budgets = _list(RestoreBudgetSchema)
    transactions = _list(RestoreTransactionSchema)
    rules = _list(RestoreRuleSchema)
    recurring = _list(RestoreRecurringSchema)
    rates = fields.List(
        fields.Nested(RestoreRateSchema),
        load_default=list,
        metadata={"description": "the ledger's rates (an export before rates has none)"},
    )


class RestoreDocument(fields.Nested):
    """The restore document, its amounts read in its own ledger's currency (not the caller's)."""

    def __init__(self, **kwargs):
        super().__init__(RestoreSchema, **kwargs)

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        currency = None
        if isinstance(value, dict) and isinstance(value.get("ledger"), dict):
            currency = value["ledger"].get("currency")
        if currency not in currency_codes():
            currency = "USD"  # the currency's own error is reported; amounts read as USD's
        with Context({**Context.get(default={}), "currency": currency}):
            return super()._deserialize(value, attr, data, partial=partial, **kwargs)
