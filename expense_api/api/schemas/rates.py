"""Exchange rates: a rate, the list's query and page, a PUT's body, an ECB file's upload and
what its import wrote (../shared/API.md "Several currencies")."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate, validates_schema

from ...domain.currencies import MAX_RATE, RateError, parse_rate, rate_text
from ...domain.ratefiles import MAX_BYTES
from ...services.rates import MAX_ITEMS
from .auth import _is_currency, currency_codes
from .base import BaseSchema, CalendarDate, ListQuerySchema

_RATE_TEXT = {
    "type": "string",
    "format": "decimal",
    # At most 9 digits before the point (below MAX_RATE), not zero; the 12 significant digits
    # are the description's (a pattern for them would say nothing clearer).
    "pattern": r"^0*[0-9]{1,9}(\.[0-9]+)?$",
    "not": {"pattern": r"^0*(\.0*)?$"},
}
_RATE_DESCRIPTION = (
    "Ledger-currency units per one unit of the currency: an exact positive decimal of at most "
    "12 significant digits, below 1,000,000,000; answered as a plain decimal string without "
    "trailing zeros."
)


class Rate(fields.Field):
    """A rate: in, a JSON number or a decimal string (currencies.parse_rate); out, a plain
    decimal string without trailing zeros ("0.92")."""

    def __init__(self, *, request: bool = False, **kwargs):
        if request:  # a JSON number too: from 0.0001 (written out in full by any encoder)
            shape = {
                "oneOf": [
                    _RATE_TEXT,
                    {
                        "type": "number",
                        "minimum": 0.0001,
                        "maximum": int(MAX_RATE),
                        "exclusiveMaximum": True,
                    },
                ]
            }
        else:
            shape = {"type": "string", "format": "decimal", "pattern": r"^[0-9]+(\.[0-9]+)?$"}
        metadata = {
            **shape,
            "example": "0.92",
            "description": _RATE_DESCRIPTION,
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_rate(value)
        except RateError as error:
            raise ValidationError(str(error)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else rate_text(value)


def _currency(description: str, **kwargs):
    return fields.String(
        validate=_is_currency,
        metadata={"description": description, "enum": sorted(currency_codes()), "example": "USD"},
        **kwargs,
    )


class RateSchema(BaseSchema):
    currency = _currency("ISO 4217 code of the currency the rate is of", required=True)
    date = CalendarDate(
        attribute="day", required=True, metadata={"description": "the day the rate is of"}
    )
    rate = Rate(required=True)


class RateQuerySchema(ListQuerySchema):
    currency = _currency("only this currency's rates")
    from_ = CalendarDate(data_key="from", metadata={"description": "first day (inclusive)"})
    to = CalendarDate(metadata={"description": "last day (inclusive)"})

    @validates_schema
    def _from_not_after_to(self, data, **kwargs):
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ValidationError("from must not be after to.", "from")


class RatePageSchema(BaseSchema):
    items = fields.List(fields.Nested(RateSchema), required=True)
    next_cursor = fields.String(
        data_key="nextCursor",
        allow_none=True,
        required=True,
        metadata={"description": "pass as `cursor` for the next page; null on the last"},
    )


class RateListSchema(BaseSchema):
    items = fields.List(fields.Nested(RateSchema), required=True)


class RateItemSchema(BaseSchema):
    date = CalendarDate(required=True, metadata={"description": "the day the rate is of"})
    rate = Rate(required=True, request=True)


class RatesPutSchema(BaseSchema):
    items = fields.List(
        fields.Nested(RateItemSchema),
        required=True,
        validate=validate.Length(1, MAX_ITEMS),
        metadata={
            "description": f"1 to {MAX_ITEMS:,} rates of the currency, each date once",
            "example": [{"date": "2026-03-02", "rate": "0.9246"}],
        },
    )

    @validates_schema
    def _each_date_once(self, data, **kwargs):
        first: dict = {}
        errors: dict = {}
        for index, item in enumerate(data.get("items") or []):
            if item["date"] in first:
                errors[index] = {
                    "date": [f"{item['date']} again (also items.{first[item['date']]}.date)."]
                }
            first.setdefault(item["date"], index)
        if errors:
            raise ValidationError({"items": errors})


class RateUploadSchema(BaseSchema):
    file = Upload(
        required=True,
        metadata={
            "description": f"the rates file (at most {MAX_BYTES // (1024 * 1024)} MB): CSV in "
            "the European Central Bank's eurofxref-hist.csv layout"
        },
    )


class RateImportSchema(BaseSchema):
    currencies = fields.List(
        fields.String(metadata={"enum": sorted({*currency_codes(), "EUR"})}),
        required=True,
        metadata={"description": "the currencies the file gave rates of, by code"},
    )
    from_ = CalendarDate(
        data_key="from",
        attribute="from",
        required=True,
        allow_none=True,
        metadata={"description": "the first day the file gave rates of (null: none)"},
    )
    to = CalendarDate(
        required=True,
        allow_none=True,
        metadata={"description": "the last day the file gave rates of (null: none)"},
    )
    rates = fields.Integer(
        required=True,
        metadata={
            "description": "how many rates were created or changed (those the ledger already "
            "had with the same value are not counted)"
        },
    )
    skipped = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "columns of withdrawn currencies the file carries (the ECB's "
            "history still has CYP, EEK, ...), read and skipped"
        },
    )
