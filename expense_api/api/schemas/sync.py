"""Delta sync: the query (`since`) and the answer, each list in its resource's REST shape."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import BaseSchema
from .budgets import BudgetSchema
from .categories import CategorySchema
from .ledgers import LedgerSchema, MemberSchema
from .payees import PayeeSchema
from .rates import RateSchema
from .recurring import RecurringSchema
from .rules import RuleSchema
from .tags import TagSchema
from .transactions import TransactionSchema

ENTITIES = [
    "ledger", "member", "category", "payee", "tag", "transaction", "budget", "recurring", "rule",
    "rate",
]  # fmt: skip


class SyncQuerySchema(BaseSchema):
    since = fields.Integer(
        strict=False,
        validate=validate.Range(0, 2**63 - 1),
        metadata={
            "description": "the `knowledge` of an answer you got: what changed after it. "
            "Absent: the ledger's whole state. Above the ledger's current knowledge: 422 "
            "`invalid_knowledge`."
        },
    )


class TombstoneSchema(BaseSchema):
    entity = fields.String(required=True, metadata={"enum": ENTITIES})
    id = fields.Integer(
        required=True, metadata={"description": "the entity's id (a member's: their user id)"}
    )


class SyncSchema(BaseSchema):
    knowledge = fields.Integer(
        required=True,
        metadata={"description": "ask again with `since` set to this for what changes next"},
    )
    has_more = fields.Boolean(
        required=True,
        data_key="hasMore",
        metadata={"description": "more changes wait: ask again at once with this `knowledge`"},
    )
    ledger = fields.Nested(
        LedgerSchema,
        required=True,
        metadata={
            "description": "the ledger as it is now, in every answer (its `role` and "
            "`isDefault` are the caller's own, which a member change can change)"
        },
    )
    members = fields.List(fields.Nested(MemberSchema), required=True)
    categories = fields.List(fields.Nested(CategorySchema), required=True)
    payees = fields.List(
        fields.Nested(PayeeSchema),
        required=True,
        metadata={
            "description": "payees in use whose count or last date a transaction change in the "
            "answer's range changed (GET .../payees's shape); one no longer in use is in "
            "`deleted`"
        },
    )
    tags = fields.List(
        fields.Nested(TagSchema),
        required=True,
        metadata={
            "description": "tags in use whose count a transaction change in the answer's range "
            "changed (GET .../tags's shape); one no longer in use is in `deleted`"
        },
    )
    transactions = fields.List(fields.Nested(TransactionSchema), required=True)
    budgets = fields.List(fields.Nested(BudgetSchema), required=True)
    recurring = fields.List(fields.Nested(RecurringSchema), required=True)
    rules = fields.List(fields.Nested(RuleSchema), required=True)
    rates = fields.List(fields.Nested(RateSchema), required=True)
    deleted = fields.List(
        fields.Nested(TombstoneSchema),
        required=True,
        metadata={"description": "what was deleted after `since` (empty without `since`)"},
    )
