"""The change log's audit trail: an entry, a page of them, and the list's query."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from ...services.changes.door import DOORS
from ...services.changes.hook import OPS
from ...services.changes.log import ENTITIES
from .base import BaseSchema, CalendarDate, ListQuerySchema, UtcTimestamp
from .transactions import MemberRefSchema

_IMAGE = (
    "the {} as its REST GET shows it ({}); an object whose shape is the entity's. A webhook's "
    "secret never appears."
)


class ChangeSchema(BaseSchema):
    seq = fields.Integer(
        required=True,
        metadata={"description": "the entry's place in the ledger's commit order (increasing)"},
    )
    at = UtcTimestamp(
        required=True, metadata={"description": "when the change's transaction began, in UTC"}
    )
    actor = fields.Nested(
        MemberRefSchema,
        required=True,
        allow_none=True,
        metadata={"description": "who made the change; null: the service itself"},
    )
    via = fields.String(
        required=True,
        metadata={"enum": list(DOORS), "description": "the door the change came through"},
    )
    request_id = fields.String(
        required=True,
        allow_none=True,
        data_key="requestId",
        metadata={"description": "the X-Request-ID of the request that made it; else null"},
    )
    entity = fields.String(required=True, metadata={"enum": list(ENTITIES)})
    entity_id = fields.Integer(
        required=True,
        data_key="entityId",
        metadata={"description": "the entity's id (a member's: their user id)"},
    )
    op = fields.String(required=True, metadata={"enum": list(OPS)})
    before = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": _IMAGE.format("entity before the change", "null when created")},
    )
    after = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": _IMAGE.format("entity after the change", "null when deleted")},
    )


class ChangePageSchema(BaseSchema):
    items = fields.List(fields.Nested(ChangeSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        data_key="nextCursor",
        metadata={"description": "pass as `cursor` for the next page; null on the last page"},
    )


_ID = validate.Range(1, 2**63 - 1)


class ChangeQuerySchema(ListQuerySchema):
    entity = fields.String(validate=validate.OneOf(ENTITIES))
    entity_id = fields.Integer(
        data_key="entityId",
        validate=_ID,
        metadata={"description": "one entity's history (with `entity`: that kind's)"},
    )
    actor_id = fields.Integer(
        data_key="actorId", validate=_ID, metadata={"description": "the changes a person made"}
    )
    from_ = CalendarDate(
        data_key="from",
        metadata={
            "description": "first day (inclusive) in the ledger's time zone. YYYY-MM-DD, or an "
            "ISO 8601 date-time whose date (in its own offset) is taken"
        },
    )
    to = CalendarDate(
        metadata={
            "description": "last day (inclusive) in the ledger's time zone. YYYY-MM-DD, or an "
            "ISO 8601 date-time whose date (in its own offset) is taken"
        },
    )

    @validates_schema
    def _range_runs_forward(self, data, **kwargs):
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ValidationError("from must not be after to.", "from")
