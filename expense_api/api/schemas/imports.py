"""Bank-file imports: the upload's form, a CSV or QIF `mapping`, an import, its rows, a commit's
overrides, and the lists' queries (../shared/API.md "Import and export")."""

from __future__ import annotations

import codecs
import re

from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate, validates_schema

from ...domain.bankfiles import FORMATS
from ...domain.money import format_amount, minor_units
from ..core import jsonio
from .auth import _is_currency, currency_codes
from .base import (
    BaseSchema,
    CalendarDate,
    ListQuerySchema,
    Money,
    Name,
    Rate,
    StrictBoolean,
    UtcTimestamp,
    request_currency,
)

DECISIONS = ("new", "duplicate", "match", "invalid")
DECISIONS_GIVEN = ("new", "skip")  # what a commit may say of a row
STATUSES = ("preview", "committed", "discarded", "undone")
MAX_SKIP_ROWS = 1000


# --- The mapping: JSON in a form field ------------------------------------------------------


class Column(fields.Field):
    """A CSV column: its header's name (1-200 characters) or its 0-based index."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("A column is a header name or a 0-based index.")
        if isinstance(value, int):
            if not 0 <= value <= 10_000:
                raise ValidationError("A column index is between 0 and 10000.")
            return value
        if isinstance(value, str) and 1 <= len(value.strip()) <= 200:
            return value
        raise ValidationError("A column is a header name (1-200 characters) or a 0-based index.")


_DATE_TOKEN = re.compile(r"YYYY|YY|DD|MM|[^A-Za-z0-9]")


def _is_date_format(value: str) -> None:
    tokens = _DATE_TOKEN.findall(value)
    year = tokens.count("YYYY") + tokens.count("YY")
    if "".join(tokens) != value or tokens.count("DD") != 1 or tokens.count("MM") != 1 or year != 1:
        raise ValidationError(
            "Tokens DD, MM and YYYY or YY, once each, between separators: DD.MM.YYYY."
        )


def _is_encoding(value: str) -> None:
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValidationError("Not an encoding this service knows, such as utf-8.") from None


def _column(description: str):
    return Column(metadata={"description": description})


class CsvMappingSchema(BaseSchema):
    """How to read a CSV: which column holds what, and how its text is written. Its fields are
    named as sent (camelCase): the readers take the mapping as the client wrote it."""

    date = Column(required=True, metadata={"description": "the column of the date"})
    amount = _column("the column of the signed amount (below zero: an expense)")
    debit = _column("the column of money out (instead of amount)")
    credit = _column("the column of money in (instead of amount)")
    payee = _column("the column of the payee")
    description = _column("the column of the description")
    bankId = _column("the column of the bank's own id of the row")
    currency = _column("the column of the row's currency (ISO 4217)")
    dateFormat = fields.String(validate=_is_date_format)
    decimal = fields.String(validate=validate.OneOf([".", ","]))
    delimiter = fields.String(validate=validate.Length(1, 1))
    encoding = fields.String(validate=[validate.Length(1, 40), _is_encoding])
    header = StrictBoolean()
    skipRows = fields.Integer(validate=validate.Range(0, MAX_SKIP_ROWS))

    @validates_schema
    def _amount_or_debit_credit(self, data, **kwargs):
        if "amount" in data and ("debit" in data or "credit" in data):
            raise ValidationError("Give amount, or debit and credit, not both.", "amount")
        if "amount" not in data and "debit" not in data and "credit" not in data:
            raise ValidationError("Give amount, or debit and credit.", "amount")


class QifMappingSchema(BaseSchema):
    """QIF takes its date format only."""

    dateFormat = fields.String(required=True, validate=_is_date_format)


def load_mapping(text: str, file_format: str | None) -> dict:
    """The form field `mapping` (JSON text), checked; the dict as the client sent it. Errors
    are named `mapping.<key>`."""
    try:
        # The service's JSON reading: numbers as Decimal (never a float), no NaN; nesting
        # deep enough to exhaust the parser's recursion is not JSON a mapping can be either.
        value = jsonio.loads(text)
    except (ValueError, RecursionError):
        raise ValidationError({"mapping": ["Not valid JSON."]}) from None
    if not isinstance(value, dict):
        raise ValidationError({"mapping": ["Must be a JSON object."]})
    qif = file_format == "qif" or (file_format is None and value.keys() == {"dateFormat"})
    schema = QifMappingSchema() if qif else CsvMappingSchema()
    try:
        schema.load(value)
    except ValidationError as error:
        raise ValidationError({"mapping": error.messages}) from None
    return value


# --- The upload -----------------------------------------------------------------------------

MAPPING_DESCRIPTION = (
    "CSV and QIF only: a JSON object, as text. CSV: `{date: column, amount: column | debit / "
    "credit: columns, payee?, description?, bankId?, currency?: column, dateFormat? (tokens DD, "
    "MM, YYYY, YY: `DD.MM.YYYY`), decimal? (`.` or `,`), delimiter?, encoding?, header? "
    "(true/false), skipRows?}`, a column being a header name or a 0-based index. QIF: "
    "`{dateFormat}` only. Without it the service detects what it can; what it cannot decide is "
    "422 `unreadable_file` with the `columns` it saw."
)


class UploadSchema(BaseSchema):
    """The multipart form of an upload (its file and its text fields, read together)."""

    file = Upload(
        required=True,
        metadata={
            "description": "the bank file (at most 20 MB): CSV, OFX/QFX, QIF, CAMT.053 or MT940"
        },
    )
    format = fields.String(
        validate=validate.OneOf(FORMATS),
        metadata={"description": "the file's format; detected when omitted"},
    )
    account = Name(
        load_default="default",
        validate=validate.Length(1, 100),
        metadata={
            "description": "a label naming the bank account (deduplication is per account); "
            'default "default"'
        },
    )
    currency = fields.String(
        validate=_is_currency,
        metadata={
            "description": "the currency of a file that names none; default the ledger's",
            "enum": sorted(currency_codes()),
        },
    )
    mapping = fields.String(
        validate=validate.Length(1, 4000), metadata={"description": MAPPING_DESCRIPTION}
    )

    @validates_schema
    def _mapping_is_readable(self, data, **kwargs):
        if "mapping" in data:
            if data.get("format") not in (None, "csv", "qif"):
                raise ValidationError("Only a CSV or QIF file takes a mapping.", "mapping")
            load_mapping(data["mapping"], data.get("format"))


# --- What is answered -----------------------------------------------------------------------


class CountsSchema(BaseSchema):
    new = fields.Integer(required=True)
    duplicate = fields.Integer(required=True)
    match = fields.Integer(required=True)
    invalid = fields.Integer(required=True)


class OverBudgetSchema(BaseSchema):
    budgetId = fields.Integer(required=True)
    categoryId = fields.Integer(required=True, allow_none=True)
    year = fields.Integer(required=True)
    month = fields.Integer(required=True)
    mode = fields.String(required=True, metadata={"enum": ["soft", "hard"]})
    amount = fields.String(required=True, metadata={"description": "the budget's amount"})
    available = fields.String(
        required=True,
        metadata={"description": "its amount plus what it carried under rollover (the amount "
                  "without rollover), after the commit"},
    )  # fmt: skip
    spent = fields.String(required=True, metadata={"description": "its spending after the commit"})


class ImportSchema(BaseSchema):
    """An import, as its GET shows it and the change log's images hold it (the same keys, in
    the same order: services/changes/shapes.py's "import")."""

    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    format = fields.String(required=True, metadata={"enum": list(FORMATS)})
    account = fields.String(required=True)
    file_name = fields.String(required=True, allow_none=True, data_key="fileName")
    currency = fields.String(
        required=True, metadata={"description": "the file's currency (or the one given)"}
    )
    counts = fields.Nested(
        CountsSchema,
        required=True,
        metadata={"description": "rows by decision at preview (a row skipped at commit counts)"},
    )
    over_budget = fields.List(
        fields.Nested(OverBudgetSchema),
        required=True,
        allow_none=True,
        data_key="overBudget",
        metadata={
            "description": "once committed: every budget that ended above what it has "
            "available (hard ones do not refuse imported rows), the later months of a rollover "
            "chain included; null before"
        },
    )
    kept = fields.List(
        fields.Integer(),
        required=True,
        allow_none=True,
        metadata={
            "description": "once undone: the transactions edited since the commit, which the "
            "undo kept; null before"
        },
    )
    created_at = UtcTimestamp(required=True, data_key="createdAt")
    committed_at = UtcTimestamp(required=True, allow_none=True, data_key="committedAt")
    undone_at = UtcTimestamp(required=True, allow_none=True, data_key="undoneAt")


class ImportPageSchema(BaseSchema):
    items = fields.List(fields.Nested(ImportSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        data_key="nextCursor",
        metadata={"description": "pass as `cursor` for the next page; null on the last page"},
    )


class RowAmount(fields.String):
    """A row's amount with its currency's fraction digits; one with more (an invalid row)
    exactly as the file gave it."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        currency = obj.get("currency") or request_currency()
        try:
            minor_units(currency)
        except ValueError:  # a currency without minor units: the row is invalid, shown as given
            return f"{value.normalize():f}"
        shown = format_amount(value, currency)
        exact = value.normalize()
        return shown if -exact.as_tuple().exponent <= minor_units(currency) else f"{exact:f}"


class ImportRowSchema(BaseSchema):
    line = fields.Integer(
        required=True, metadata={"description": "where the row starts in the file (1-based)"}
    )
    date = CalendarDate(required=True, allow_none=True, attribute="occurred_on")
    amount = RowAmount(
        required=True,
        allow_none=True,
        metadata={
            "description": "unsigned, as the file gives it, in the row's `currency`; `type` says "
            "which way"
        },
    )
    type = fields.String(required=True, allow_none=True, metadata={"enum": ["INCOME", "EXPENSE"]})
    payee = fields.String(required=True, allow_none=True)
    description = fields.String(required=True)
    bank_id = fields.String(required=True, allow_none=True, data_key="bankId")
    decision = fields.String(required=True, metadata={"enum": list(DECISIONS)})
    transaction_id = fields.Integer(
        required=True,
        allow_none=True,
        data_key="transactionId",
        metadata={
            "description": "a duplicate's or a match's transaction; once committed, the one a "
            "new row became"
        },
    )
    category_id = fields.Integer(
        required=True,
        allow_none=True,
        data_key="categoryId",
        metadata={"description": "null: Uncategorized (or the file's category, made at commit)"},
    )
    reason = fields.String(
        required=True, allow_none=True, metadata={"description": "why this decision"}
    )
    skip = fields.Boolean(required=True, metadata={"description": "skipped at commit"})
    currency = fields.String(
        required=True,
        metadata={
            "example": "EUR",
            "description": "ISO 4217: the row's own (the file's row, the upload's `currency`, or "
            "the file's)",
        },
    )
    rate = Rate(
        required=True,
        allow_none=True,
        metadata={
            "description": "in a currency other than the ledger's: the rate the commit records "
            "(the file's `rate` column, else the ledger's rate of the row's date, the latest on "
            "or before it); null in the ledger's currency or when there is none (the row is "
            "then invalid)"
        },
    )
    ledger_amount = Money(
        required=True,
        allow_none=True,
        data_key="ledgerAmount",
        metadata={
            "description": "what the row counts in the ledger's currency: `amount` x `rate` "
            "rounded half up to its digits (the amount itself in the ledger's currency); null "
            "for an invalid row"
        },
    )


class ImportRowPageSchema(ImportPageSchema):
    items = fields.List(fields.Nested(ImportRowSchema), required=True)


class ImportQuerySchema(ListQuerySchema):
    pass


class ImportRowQuerySchema(ListQuerySchema):
    decision = fields.String(validate=validate.OneOf(DECISIONS))


# --- The commit -----------------------------------------------------------------------------


class RowOverrideSchema(BaseSchema):
    decision = fields.String(
        validate=validate.OneOf(DECISIONS_GIVEN),
        metadata={"description": "`skip`: not imported; `new`: a match made a new transaction"},
    )
    category_id = fields.Integer(
        data_key="categoryId",
        validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "one of the ledger's categories, instead of the row's"},
    )


class CommitSchema(BaseSchema):
    rows = fields.Dict(
        keys=fields.String(
            validate=validate.Regexp(r"^[1-9][0-9]{0,8}$", error="A line number, such as 12.")
        ),
        values=fields.Nested(RowOverrideSchema),
        metadata={"description": "per line (the row's `line`, as a string): what to change"},
    )
