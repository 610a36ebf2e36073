"""Rules: a ledger's (read one ledger at a time: limits.ONE_LEDGER_AT_A_TIME), a rule's ledger,
and their mutations, through the same service and schemas as REST's /api/ledgers/{id}/rules."""

from __future__ import annotations

from ariadne import MutationType, ObjectType

from ....services import rules
from ...schemas.rules import (
    RuleApplyResultSchema,
    RuleApplySchema,
    RuleInputSchema,
    RulePatchSchema,
    RuleSchema,
)
from ..context import dump, given, item, items, load, once_per_ledger, owner_ledger
from ..execution import writes

ledger = ObjectType("Ledger")
rule = ObjectType("Rule")
mutation = MutationType()


@ledger.field("rules")
@once_per_ledger
def resolve_rules(node, info):
    return items(RuleSchema, rules.list_all(info.context.conn, node.actor), node)


rule.set_field("ledger", owner_ledger)


@writes(mutation, "createRule")
def create_rule(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(RuleInputSchema, input, actor)
    return item(RuleSchema, rules.create(context.conn, actor, body), actor)


@writes(mutation, "updateRule")
def update_rule(context, id, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(RulePatchSchema, input, actor, partial=True)
    return item(RuleSchema, rules.update(context.conn, actor, id, body), actor)


@writes(mutation, "deleteRule")
def delete_rule(context, id, ledgerId=None):
    rules.delete(context.conn, context.actor(ledgerId), id)
    return True


@writes(mutation, "applyRule")
def apply_rule(context, id, ledgerId=None, onlyUncategorized=True, **period):
    actor = context.actor(ledgerId)
    query = load(RuleApplySchema, given(onlyUncategorized=onlyUncategorized, **period), actor)
    only = query.pop("only_uncategorized")
    result = rules.apply(context.conn, actor, id, period_filter=query, only_uncategorized=only)
    return dump(RuleApplyResultSchema, result, actor)


BINDABLES = [ledger, rule, mutation]
