from __future__ import annotations

from marshmallow import ValidationError, fields, pre_dump, validate, validates_schema

from ...services.transactions import MAX_LINES, MAX_TAGS, MIN_LINES
from .alerts import AlertSchema, DryRunAlertSchema
from .auth import _is_currency, currency_codes
from .base import (
    BaseSchema,
    CalendarDate,
    FreeText,
    ListQuerySchema,
    Money,
    Name,
    PeriodQuerySchema,
    Rate,
    UtcTimestamp,
    request_currency,
)

TYPES = ("INCOME", "EXPENSE")


class MemberRefSchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class SplitLineSchema(BaseSchema):
    category_id = fields.Integer(required=True, data_key="categoryId")
    category = fields.String(required=True, metadata={"description": "the category's name"})
    amount = Money(
        required=True,
        own_currency=True,
        metadata={"description": "in the transaction's currency, with its digits"},
    )
    memo = fields.String(required=True, allow_none=True)
    ledger_amount = Money(
        required=True,
        data_key="ledgerAmount",
        metadata={
            "description": "the line's share of the transaction's `ledgerAmount` (largest "
            "remainder: the lines sum to it exactly); what the line's category counts"
        },
    )


class TransactionSchema(BaseSchema):
    id = fields.Integer(required=True)
    amount = Money(
        required=True,
        own_currency=True,
        metadata={"description": "in the transaction's `currency`, with its digits"},
    )
    type = fields.String(required=True, metadata={"enum": list(TYPES)})
    category_id = fields.Integer(
        required=True,
        allow_none=True,
        data_key="categoryId",
        metadata={"description": "null for a split transaction (its lines have categories)"},
    )
    category = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the category's name; null for a split transaction"},
    )
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
    payee = fields.String(required=True, allow_none=True)
    tags = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "in name order, each in the case first used in the ledger"},
    )
    splits = fields.List(
        fields.Nested(SplitLineSchema),
        required=True,
        metadata={"description": "the lines of a split transaction, in order; [] when not split"},
    )
    currency = fields.Method(
        "_currency",
        required=True,
        metadata={
            "type": "string",
            "example": "EUR",
            "description": "ISO 4217; the ledger's unless the transaction was recorded in another",
        },
    )
    rate = Rate(
        required=True,
        allow_none=True,
        metadata={
            "description": "ledger-currency units per one unit of `currency`, recorded with "
            "the transaction (never recomputed); null in the ledger's own currency"
        },
    )
    ledger_amount = Money(
        required=True,
        data_key="ledgerAmount",
        metadata={
            "description": "`amount` x `rate` rounded half up to the ledger currency's digits "
            "(`amount` itself in the ledger's currency): what budgets, totals and reports count"
        },
    )

    @pre_dump
    def _lines_in_its_currency(self, row, **kwargs):
        """A line's amount is in its transaction's currency: its row says which."""
        currency = row.get("currency")
        if currency is None or not row.get("splits"):
            return row
        return {**row, "splits": [{**line, "currency": currency} for line in row["splits"]]}

    def _currency(self, row) -> str:
        return row.get("currency") or request_currency()


class TransactionWithAlertsSchema(TransactionSchema):
    alerts = fields.List(
        fields.Nested(AlertSchema),
        required=True,
        metadata={"description": "budget alerts this write fired"},
    )


class SplitLineInputSchema(BaseSchema):
    category_id = fields.Integer(
        required=True,
        strict=True,
        data_key="categoryId",
        validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "one of the ledger's categories"},
    )
    amount = Money(
        required=True,
        request_body=True,
        own_currency=True,
        metadata={"description": "in the transaction's currency, with its digits"},
    )
    memo = FreeText(allow_none=True, validate=validate.Length(1, 200))


class WholeNested(fields.Nested):
    """A nested object loaded whole even when its parent is loaded partially (a PATCH): a
    split line without its category is an error, not a line with a field left unchanged."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        return super()._deserialize(value, attr, data, partial=False, **kwargs)


class TransactionInputSchema(BaseSchema):
    """categoryId, or splits for a split transaction: exactly one of them."""

    amount = Money(
        required=True,
        request_body=True,
        own_currency=True,
        metadata={
            "description": "in `currency` (default the ledger's), with at most its fraction "
            "digits (2 for USD, 0 for JPY, 3 for KWD)"
        },
    )
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    category_id = fields.Integer(
        strict=True,
        allow_none=True,
        data_key="categoryId",
        validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "one of the ledger's categories; absent or null with `splits`"},
    )
    description = FreeText(load_default="", validate=validate.Length(0, 500))
    occurred_on = CalendarDate(required=True, data_key="date")
    payee = Name(
        allow_none=True,
        validate=validate.Length(1, 200),
        metadata={"description": "who was paid or paid you; null (or absent) for none"},
    )
    tags = fields.List(
        Name(validate=validate.Length(1, 40)),
        validate=validate.Length(0, MAX_TAGS),
        metadata={"description": "compared case-insensitively; a repeated one counts once"},
    )
    splits = fields.List(
        WholeNested(SplitLineInputSchema),
        allow_none=True,
        validate=validate.Length(MIN_LINES, MAX_LINES),
        metadata={
            "description": "2 to 50 lines summing exactly to `amount` (else 422 "
            "`splits_mismatch`), in the transaction's currency; null or absent for a single "
            "category"
        },
    )
    currency = fields.String(
        validate=_is_currency,
        metadata={
            "description": "ISO 4217; default (and null) the ledger's. In another currency the "
            "transaction records a `rate`: the one given, else the ledger's rate for that "
            "currency on its date (the latest on or before it; none: 422 `rate_unknown`)",
            "example": "EUR",
            "enum": sorted(currency_codes()),
        },
        allow_none=True,
    )
    rate = Rate(
        request_body=True,
        allow_none=True,
        metadata={
            "description": "ledger-currency units per one unit of `currency`, positive, at most "
            "12 significant digits; only with a currency other than the ledger's (1 is "
            "accepted for the ledger's own). A PATCH keeps the recorded rate unless it gives "
            "`rate` or a new `currency`"
        },
    )

    @validates_schema
    def _category_or_splits(self, data, partial=False, **kwargs):
        category_id, lines = data.get("category_id"), data.get("splits")
        if category_id is not None and lines is not None:
            raise ValidationError("Give categoryId or splits, not both.", "splits")
        if not partial and category_id is None and lines is None:
            raise ValidationError(
                "Give a category, or splits for a split transaction.", "categoryId"
            )


class TransactionPatchSchema(TransactionInputSchema):
    """Any subset of the fields, at least one (loaded with partial=True). `splits` replaces the
    lines as a whole; `categoryId` turns a split transaction back into a single category."""

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
        validate=validate.Length(1, MAX_TAGS),  # more can match nothing
        metadata={
            "description": "a tag's name, case-insensitively; repeat it (`tag=a&tag=b`) for "
            "transactions that carry every one given"
        },
    )
    q = fields.String(
        validate=validate.Length(1, 100),
        metadata={"description": "case-insensitive text in the description"},
    )
    min_amount = Money(
        request=True,
        data_key="minAmount",
        metadata={"description": "at least this `ledgerAmount` (in the ledger's currency)"},
    )
    max_amount = Money(
        request=True,
        data_key="maxAmount",
        metadata={"description": "at most this `ledgerAmount` (in the ledger's currency)"},
    )

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
