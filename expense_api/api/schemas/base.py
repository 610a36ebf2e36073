"""Shared schema pieces: the strict base schema, field types, and the problem document."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from marshmallow.experimental.context import Context

from ...domain.currencies import MAX_RATE, RateError, parse_rate, rate_text
from ...domain.money import MAX_AMOUNT, AmountError, format_amount, parse_amount
from ...domain.periods import MAX_YEAR, MIN_YEAR, DateError, parse_calendar_date, utc_timestamp


class BaseSchema(Schema):
    """Unknown fields are an error, not silently dropped: a typo must not pass unnoticed."""

    class Meta:
        unknown = RAISE


class UtcTimestamp(fields.DateTime):
    """Timestamps go out as ISO 8601 in UTC with a `Z`: `2026-11-25T10:43:57.123Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else utc_timestamp(value)


class TrimmedString(fields.String):
    """A string with surrounding white space removed before validation."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


_CONTROL_CLASS = r"\x00-\x1f\x7f-\x9f"
_CONTROL_BUT_LAYOUT_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"


class Name(TrimmedString):
    """A name: trimmed, in Unicode NFC (so "é" typed two ways is one name), no control
    characters; the document's pattern says so (and that it is not all white space)."""

    def __init__(self, **kwargs):
        pattern = rf"^[^{_CONTROL_CLASS}]*[^\s{_CONTROL_CLASS}][^{_CONTROL_CLASS}]*$"
        super().__init__(metadata={"pattern": pattern, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs))
        if _CONTROL.search(text):
            raise ValidationError("Must not contain control characters.")
        return text


class FreeText(TrimmedString):
    """Free text such as a description: trimmed, NFC; tabs and line breaks allowed, other
    control characters not (the document's pattern says so)."""

    def __init__(self, **kwargs):
        pattern = rf"^[^{_CONTROL_BUT_LAYOUT_CLASS}]*$"
        super().__init__(metadata={"pattern": pattern, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs))
        if _CONTROL_BUT_LAYOUT.search(text):
            raise ValidationError("Must not contain control characters other than tab and newline.")
        return text


def _figure(description: str, data_key: str | None = None) -> fields.String:
    """An amount of a budget refusal, as Money answers it (the ledger currency's digits); may be
    negative (a deficit carried, what is left when already over)."""
    return fields.String(
        required=True,
        data_key=data_key,
        metadata={
            "format": "decimal",
            "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
            "example": "12.34",
            "description": description,
        },
    )


class ExceededBudgetSchema(Schema):
    """The budget a 409 budget_exceeded names: the first that would end over what it has
    available (by period; in a month, the category's before the overall one). It may be a later
    month than the write's own, when the write lowers what a rollover chain carries into it."""

    id = fields.Integer(required=True)
    category_id = fields.Integer(
        required=True,
        allow_none=True,
        data_key="categoryId",
        metadata={"description": "null: the overall budget"},
    )
    year = fields.Integer(required=True)
    month = fields.Integer(required=True, metadata={"minimum": 1, "maximum": 12})
    amount = _figure("the budget's own amount")
    carried = _figure(
        "what the month carries from the month before under its rollover (negative: a "
        "deficit), with this write in; 0 without rollover"
    )
    available = _figure("`amount` plus `carried`: what the month may spend")
    spent = _figure(
        "what the month has spent without this write (a changed transaction's earlier figure "
        "taken out)"
    )
    remaining = _figure("`available` minus `spent`")
    would_exceed_by = _figure(
        "how far over `available` the month would end with this write", "wouldExceedBy"
    )


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error is answered."""

    type = fields.String(
        required=True, metadata={"example": "https://expense-api.dev/problems/not_found"}
    )
    title = fields.String(required=True, metadata={"example": "Not Found"})
    status = fields.Integer(required=True, metadata={"example": 404})
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "stable snake_case identifier"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "per-field messages (validation errors only)"},
    )
    # An uploaded bank file that cannot be read (422 unreadable_file): where, and for a CSV
    # whose columns could not be told apart, the columns it saw (send a `mapping`).
    line = fields.Raw(
        allow_none=True,
        metadata={
            "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string"}],
            "description": "unreadable_file: the line (or the element's path) where the file "
            "could not be read; null when it is the whole file",
        },
    )
    columns = fields.List(
        fields.String(),
        metadata={"description": "unreadable_file naming `mapping`: the columns the file has"},
    )
    ledgers = fields.List(
        fields.Dict(),
        metadata={"description": "sole_owner only: the ledgers ({id, name}) you are the only "
                  "owner of while other people belong to them"},
    )  # fmt: skip
    budget = fields.Nested(
        ExceededBudgetSchema,
        metadata={"description": "budget_exceeded only: the budget that refuses, its figures "
                  "against what it has available"},
    )  # fmt: skip


def request_currency() -> str:
    """The authenticated user's currency, set for the request by api.common.authenticated."""
    return Context.get()["currency"]


class Money(fields.Field):
    """An exact amount: in, a JSON number or decimal string checked against the user's currency's
    minor units; out, a string with exactly that many fraction digits ("500.00")."""

    def __init__(
        self,
        *,
        allow_zero: bool = False,
        request_body: bool = False,
        request: bool = False,
        signed: bool = False,
        own_currency: bool = False,
        **kwargs,
    ):
        self.allow_zero = allow_zero
        # own_currency: the amount is in the object's `currency` (None: the ledger's), so the
        # digits are checked by the service once it knows that currency (a PATCH may not say).
        self.own_currency = own_currency
        sign = "-?" if signed else ""  # signed: results such as savings may be negative
        as_string = {
            "type": "string",
            "format": "decimal",
            "pattern": rf"^{sign}[0-9]+(\.[0-9]+)?$",
        }
        if request or request_body:
            # What parse_amount takes: digits only (no white space, sign or exponent), at most
            # 12 before the point (below MAX_AMOUNT), not zero. (The fraction digits the
            # currency allows depend on the ledger: the description says so; an amount in its
            # own currency has at most the 4 any currency has.)
            fraction = "{1,4}" if own_currency else "+"
            as_string = {
                "type": "string",
                "format": "decimal",
                "pattern": rf"^0*[0-9]{{1,12}}(\.[0-9]{fraction})?$",
                "not": {"pattern": r"^0*(\.0*)?$"},
            }
        if request_body:  # a JSON body may carry the amount as a number or as a string
            # 0.001 up to (not including) a trillion: written out in full by any JSON encoder
            # (no exponent form, which is refused).
            as_number = {
                "type": "number",
                "minimum": 0.001,
                "maximum": int(MAX_AMOUNT),  # a whole number: exact in the document, no float
                "exclusiveMaximum": True,
            }
            shape = {"oneOf": [as_string, as_number]}
        else:
            shape = as_string
        metadata = {
            **shape,
            "example": "12.34",
            "description": "Exact decimal with at most the currency's fraction digits (2 for "
            "USD, 0 for JPY, 3 for KWD); answered as a string with exactly that many.",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        currency = None if self.own_currency else request_currency()
        try:
            return parse_amount(value, currency, allow_zero=self.allow_zero)
        except AmountError as error:
            raise ValidationError(str(error)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        currency = (obj.get("currency") if self.own_currency else None) or request_currency()
        return format_amount(value, currency)


class Rate(fields.Field):
    """An exchange rate, ledger-currency units per one unit of another currency: in, a JSON
    number or decimal string of at most 12 significant digits (domain/currencies.parse_rate);
    out, a plain decimal string without trailing zeros ("0.9217")."""

    def __init__(self, *, request_body: bool = False, **kwargs):
        as_string = {"type": "string", "format": "decimal", "pattern": r"^[0-9]+(\.[0-9]+)?$"}
        if request_body:
            # What parse_rate takes: not zero, below MAX_RATE (at most 9 digits before the point).
            as_string = {
                **as_string,
                "pattern": r"^0*[0-9]{1,9}(\.[0-9]+)?$",
                "not": {"pattern": r"^0*(\.0*)?$"},
            }
            # As a JSON number at least 0.0001: encoders write smaller ones in exponent form
            # (Python's json: 1e-05), which is refused; send those as strings.
            as_number = {
                "type": "number",
                "minimum": 0.0001,
                "maximum": int(MAX_RATE),
                "exclusiveMaximum": True,
            }
            shape = {"oneOf": [as_string, as_number]}
        else:
            shape = as_string
        metadata = {
            **shape,
            "example": "0.9217",
            "description": "Ledger-currency units per one unit of the currency: positive, at "
            "most 12 significant digits, no exponent.",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        try:
            return parse_rate(value)
        except RateError as error:
            raise ValidationError(str(error)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else rate_text(value)


class CalendarDate(fields.Field):
    """A calendar date: in, YYYY-MM-DD or an ISO 8601 date-time (its own offset's date);
    out, YYYY-MM-DD."""

    def __init__(self, **kwargs):
        metadata = {
            "type": "string",
            "format": "date",
            # The years MIN_YEAR..MAX_YEAR (1900-2999); a date-time may follow the date.
            "pattern": r"^(19|2[0-9])[0-9]{2}-",
            "example": "2026-02-01",
            "description": "YYYY-MM-DD, or an ISO 8601 date-time whose date (in its own offset) "
            "is taken",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        try:
            return parse_calendar_date(value)
        except DateError as error:
            raise ValidationError(str(error)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()


class Percent(fields.String):
    """A percent string with exactly two decimals, rounded half-up ("12.50")."""

    def __init__(self, **kwargs):
        metadata = {
            "pattern": r"^-?[0-9]+\.[0-9]{2}$",
            "example": "12.50",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)


class PeriodQuerySchema(BaseSchema):
    """A period or a part of one (see periods.resolve); month/year and from/to never
    together, `from` not after `to`."""

    month = fields.Integer(
        validate=validate.Range(1, 12),
        metadata={"description": "with `year`, or alone: that month of the current year"},
    )
    year = fields.Integer(
        validate=validate.Range(MIN_YEAR, MAX_YEAR),
        metadata={"description": "with `month`, or alone: the whole year"},
    )
    from_ = CalendarDate(
        data_key="from",
        metadata={
            "description": "first day (inclusive); alone: up to today. YYYY-MM-DD, or an ISO "
            "8601 date-time whose date (in its own offset) is taken"
        },
    )
    to = CalendarDate(
        metadata={
            "description": "last day (inclusive); alone: from the ledger's first transaction. "
            "YYYY-MM-DD, or an ISO 8601 date-time whose date (in its own offset) is taken"
        },
    )

    @validates_schema
    def _one_kind_of_period(self, data, **kwargs):
        has_month = "month" in data or "year" in data
        has_range = "from_" in data or "to" in data
        if has_month and has_range:
            raise ValidationError("Give month and year, or from and to, not both.", "_schema")
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ValidationError("from must not be after to.", "from")


class ListQuerySchema(BaseSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(validate=validate.Length(1, 200))


class StrictBoolean(fields.Boolean):
    """JSON true or false only: not 1, "yes" or "true"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
