"""Payees: a ledger's payees in use, with counts, and the list's query."""

from __future__ import annotations

from marshmallow import fields, validate

from ...services.payees import DEFAULT_LIMIT, MAX_LIMIT
from .base import BaseSchema, CalendarDate


class PayeeSchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(
        required=True, metadata={"description": "as first written in the ledger (its case)"}
    )
    count = fields.Integer(
        required=True, metadata={"description": "how many of the ledger's transactions name it"}
    )
    last_used_on = CalendarDate(
        required=True,
        data_key="lastUsedOn",
        metadata={"description": "the latest date among those transactions (YYYY-MM-DD)"},
    )


class PayeeListSchema(BaseSchema):
    items = fields.List(fields.Nested(PayeeSchema), required=True)


class PayeeQuerySchema(BaseSchema):
    q = fields.String(
        validate=validate.Length(1, 100),
        metadata={
            "description": "only payees whose name holds this text, case-insensitively "
            "(`%` and `_` are plain characters)"
        },
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"at most this many (default {DEFAULT_LIMIT})"},
    )
