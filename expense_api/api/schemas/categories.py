from __future__ import annotations

from marshmallow import fields, validate

from .base import BaseSchema, Name, UtcTimestamp


class CategorySchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = UtcTimestamp(required=True, data_key="createdAt")


class CategoryInputSchema(BaseSchema):
    name = Name(
        required=True,
        validate=validate.Length(1, 100),
        metadata={"description": "unique per user, ignoring case and surrounding spaces"},
    )


class CategoryListSchema(BaseSchema):
    items = fields.List(fields.Nested(CategorySchema), required=True)
