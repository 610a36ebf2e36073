"""Tags: a ledger's tags in use, with counts."""

from __future__ import annotations

from marshmallow import fields

from .base import BaseSchema


class TagSchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(
        required=True, metadata={"description": "as first written in the ledger (its case)"}
    )
    count = fields.Integer(
        required=True, metadata={"description": "how many of the ledger's transactions carry it"}
    )


class TagListSchema(BaseSchema):
    items = fields.List(fields.Nested(TagSchema), required=True)
