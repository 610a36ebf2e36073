"""Rules: a rule (its match, what it sets, its position), its input and a change of it, and
`apply`'s period and answer."""

from __future__ import annotations

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from ...domain.rules import MAX_PATTERN, MAX_TEXT, pattern_error
from ...services.rules import MAX_PER_LEDGER
from ...services.transactions import MAX_TAGS
from .base import BaseSchema, Money, Name, PeriodQuerySchema, UtcTimestamp
from .transactions import TYPES


def _valid_pattern(pattern: str) -> None:
    reason = pattern_error(pattern)
    if reason is not None:
        raise ValidationError(reason)


class RuleTextMatchSchema(BaseSchema):
    """Exactly one of the three (the parent names the field when not)."""

    OPENAPI_KEYWORDS = {"minProperties": 1, "maxProperties": 1}

    contains = Name(
        validate=validate.Length(1, MAX_TEXT),
        metadata={"description": "the text anywhere, ignoring case"},
    )
    equals = Name(
        validate=validate.Length(1, MAX_TEXT),
        metadata={"description": "the whole text, ignoring case and surrounding white space"},
    )
    regex = fields.String(
        validate=[validate.Length(1, MAX_PATTERN), _valid_pattern],
        metadata={
            "description": f"an RE2 regular expression (at most {MAX_PATTERN} characters; no "
            "backreferences or lookaround), searched anywhere in the text, ignoring case: "
            "anchor it with ^ and $ for the whole text. Matching takes time linear in the "
            "text, whatever the pattern"
        },
    )


_CONDITION = "Give exactly one of contains, equals or regex."


class RuleMatchSchema(BaseSchema):
    """A rule's conditions, as they are shown (only those given)."""

    payee = fields.Nested(
        RuleTextMatchSchema, metadata={"description": "the payee (a row without one: empty text)"}
    )
    description = fields.Nested(RuleTextMatchSchema)
    amountMin = Money(metadata={"description": "the unsigned amount is at least this"})
    amountMax = Money(metadata={"description": "the unsigned amount is at most this"})
    type = fields.String(validate=validate.OneOf(TYPES), metadata={"enum": list(TYPES)})


class RuleMatchInputSchema(RuleMatchSchema):
    """Every condition given must hold; at least one is given."""

    OPENAPI_KEYWORDS = {"minProperties": 1}

    amountMin = Money(
        request_body=True, metadata={"description": "the unsigned amount is at least this"}
    )
    amountMax = Money(
        request_body=True, metadata={"description": "the unsigned amount is at most this"}
    )

    @validates_schema
    def _conditions(self, data, **kwargs):
        errors = {
            name: [_CONDITION] for name in ("payee", "description") if name in data
            if len(data[name]) != 1
        }  # fmt: skip
        if errors:
            raise ValidationError(errors)
        low, high = data.get("amountMin"), data.get("amountMax")
        if low is not None and high is not None and low > high:
            raise ValidationError("amountMin must not be above amountMax.", "amountMin")


class RuleSetSchema(BaseSchema):
    """What a rule sets, as it is shown: null where it leaves that alone."""

    categoryId = fields.Integer(required=True, allow_none=True)
    payee = fields.String(required=True, allow_none=True)
    tags = fields.List(fields.String(), required=True, allow_none=True)


class RuleSetInputSchema(BaseSchema):
    """At least one of the three (the parent names the field when not)."""

    OPENAPI_KEYWORDS = {"minProperties": 1}

    categoryId = fields.Integer(
        strict=True,
        validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "one of the ledger's categories"},
    )
    payee = Name(validate=validate.Length(1, 200))
    tags = fields.List(
        Name(validate=validate.Length(1, 40)),
        validate=validate.Length(1, MAX_TAGS),
        metadata={
            "description": "added to a transaction's tags (a rule never takes one away); a "
            "repeated one (ignoring case) counts once"
        },
    )

    @post_load
    def _tags_once(self, data, **kwargs):
        if data.get("tags"):
            once: dict[str, str] = {}
            for tag in data["tags"]:
                once.setdefault(tag.casefold(), tag)
            data["tags"] = list(once.values())
        return {name: data.get(name) for name in ("categoryId", "payee", "tags")}


class RuleSchema(BaseSchema):
    id = fields.Integer(required=True)
    position = fields.Integer(
        required=True, metadata={"description": "1 is tried first; positions run 1..n"}
    )
    match = fields.Nested(RuleMatchSchema, required=True)
    set_ = fields.Nested(RuleSetSchema, required=True, data_key="set", attribute="set")
    created_at = UtcTimestamp(required=True, data_key="createdAt")


class RuleListSchema(BaseSchema):
    items = fields.List(fields.Nested(RuleSchema), required=True)


class RuleInputSchema(BaseSchema):
    position = fields.Integer(
        strict=True,
        validate=validate.Range(1, MAX_PER_LEDGER),
        metadata={
            "description": "where it goes (the rules from there on move down one); default, "
            "or past the end: last"
        },
    )
    match = fields.Nested(RuleMatchInputSchema, required=True)
    set_ = fields.Nested(RuleSetInputSchema, required=True, data_key="set", attribute="set")

    @validates_schema
    def _something_each(self, data, **kwargs):
        if "match" in data and not data["match"]:
            raise ValidationError(
                "Give at least one condition: payee, description, amountMin, amountMax or type.",
                "match",
            )
        if "set" in data and not any(value is not None for value in data["set"].values()):
            raise ValidationError("Give at least one of categoryId, payee or tags.", "set")


class RulePatchSchema(RuleInputSchema):
    """Any of position, match and set (loaded with partial=True), at least one; match and set
    each replace the rule's whole match or set."""

    OPENAPI_KEYWORDS = {"minProperties": 1}

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


class RuleApplySchema(PeriodQuerySchema):
    """The transaction list's period (none: the current month) and which transactions."""

    only_uncategorized = fields.Boolean(
        load_default=True,
        data_key="onlyUncategorized",
        metadata={
            "description": "only transactions in the ledger's category named Uncategorized "
            "(ignoring case; none such: nothing changes). Default true"
        },
    )


class RuleApplyResultSchema(BaseSchema):
    changed = fields.Integer(
        required=True, metadata={"description": "how many transactions the rule changed"}
    )
    refused = fields.Integer(
        required=True,
        metadata={
            "description": "how many it would have changed but a hard budget refused "
            "(those are left as they were)"
        },
    )
