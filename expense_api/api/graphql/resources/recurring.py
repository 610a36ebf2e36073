"""Recurring rules: a ledger's, one by id, a rule's occurrences and preview and its ledger, and
their mutations. Pages through the same helpers as REST (api/core/pagination.py), so the cursors are
REST's.

A ledger's rules are read one ledger at a time (limits.ONE_LEDGER_AT_A_TIME): refused below
`ledgers`. A rule's occurrences and preview are per rule: refused below the `recurring` list
(limits.ONE_ITEM_AT_A_TIME)."""

from __future__ import annotations

from ariadne import MutationType, ObjectType

from ....services.recurring import rules as recurring
from ...core import pagination
from ...schemas.recurring import (
    OccurrenceQuerySchema,
    OccurrenceSchema,
    PreviewQuerySchema,
    PreviewSchema,
    RecurringInputSchema,
    RecurringPatchSchema,
    RecurringSchema,
)
from ..context import connection, dump, given, item, items, load, once_per_ledger, owner_ledger
from ..execution import writes

ledger = ObjectType("Ledger")
rule = ObjectType("RecurringRule")
mutation = MutationType()


@ledger.field("recurring")
@once_per_ledger
def resolve_recurring(node, info):
    return items(RecurringSchema, recurring.list_all(info.context.conn, node.actor), node)


@ledger.field("recurringRule")
@once_per_ledger
def resolve_recurring_rule(node, info, id):
    row = recurring.get(info.context.conn, node.actor, id)
    return item(RecurringSchema, row, node.actor, node)


@rule.field("occurrences")
def resolve_occurrences(value, info, first=50, after=None):
    actor = value.actor
    args = load(OccurrenceQuerySchema, given(limit=first, cursor=after), actor)
    rows, next_cursor = pagination.occurrences_page(
        info.context.conn, actor, value["id"], args["limit"], args.get("cursor")
    )
    edges = [
        {"cursor": pagination.encode(*pagination.occurrence_position(row, value["id"])),
         "node": node}
        for row, node in zip(rows, dump(OccurrenceSchema, rows, actor, many=True), strict=True)
    ]  # fmt: skip
    return connection(edges, next_cursor)


@rule.field("preview")
def resolve_preview(value, info, count=12):
    actor = value.actor
    args = load(PreviewQuerySchema, given(count=count), actor)
    days = recurring.preview(info.context.conn, actor, value["id"], count=args["count"])
    preview = dump(PreviewSchema, {"items": [{"date": day} for day in days]}, actor)
    return [entry["date"] for entry in preview["items"]]


rule.set_field("ledger", owner_ledger)


@writes(mutation, "createRecurring")
def create_recurring(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(RecurringInputSchema, input, actor)
    return item(RecurringSchema, recurring.create(context.conn, actor, body), actor)


@writes(mutation, "updateRecurring")
def update_recurring(context, id, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(RecurringPatchSchema, input, actor, partial=True)
    return item(RecurringSchema, recurring.update(context.conn, actor, id, body), actor)


@writes(mutation, "deleteRecurring")
def delete_recurring(context, id, ledgerId=None):
    recurring.delete(context.conn, context.actor(ledgerId), id)
    return True


BINDABLES = [ledger, rule, mutation]
