"""Recurring rules and webhook endpoints on a Ledger: its lists, one by id, a rule's occurrences
and preview, an endpoint's deliveries. Each calls the same service as the REST view that reads
the same thing (the services authorize: webhooks are the owner's), and pages through the same
helpers (api/recurring.py, api/webhooks.py), so the cursors are REST's.

All of them are read one ledger at a time (limits.ONE_LEDGER_AT_A_TIME): refused below
`ledgers`. A rule's occurrences and preview and an endpoint's deliveries are per item: refused
below the `recurring` and `webhooks` lists (limits.ONE_ITEM_AT_A_TIME)."""

from __future__ import annotations

from ariadne import ObjectType

from ...services import recurring, webhooks
from .. import pagination
from ..pagination import deliveries_page, occurrence_position, occurrences_page
from ..schemas.recurring import (
    OccurrenceQuerySchema,
    OccurrenceSchema,
    PreviewQuerySchema,
    PreviewSchema,
    RecurringSchema,
)
from ..schemas.webhooks import DeliveryQuerySchema, DeliverySchema, WebhookSchema
from .context import connection, dump, given, load
from .ledger_fields import _items, ledger, once_per_ledger, resolve_owner_ledger

rule = ObjectType("RecurringRule")
webhook = ObjectType("Webhook")


@ledger.field("recurring")
@once_per_ledger
def resolve_recurring(node, info):
    return _items(RecurringSchema, recurring.list_all(info.context.conn, node["_actor"]), node)


@ledger.field("recurringRule")
@once_per_ledger
def resolve_recurring_rule(node, info, id):
    return _items(RecurringSchema, [recurring.get(info.context.conn, node["_actor"], id)], node)[0]


@ledger.field("webhooks")
@once_per_ledger
def resolve_webhooks(node, info):
    return _items(WebhookSchema, webhooks.list_all(info.context.conn, node["_actor"]), node)


@ledger.field("webhook")
@once_per_ledger
def resolve_webhook(node, info, id):
    return _items(WebhookSchema, [webhooks.get(info.context.conn, node["_actor"], id)], node)[0]


@rule.field("occurrences")
def resolve_occurrences(value, info, first=50, after=None):
    actor = value["_actor"]
    args = load(OccurrenceQuerySchema, given(limit=first, cursor=after), actor)
    rows, next_cursor = occurrences_page(
        info.context.conn, actor, value["id"], args["limit"], args.get("cursor")
    )
    edges = [
        {"cursor": pagination.encode(*occurrence_position(row, value["id"])), "node": node}
        for row, node in zip(rows, dump(OccurrenceSchema, rows, actor, many=True), strict=True)
    ]
    return connection(edges, next_cursor)


@rule.field("preview")
def resolve_preview(value, info, count=12):
    actor = value["_actor"]
    args = load(PreviewQuerySchema, given(count=count), actor)
    days = recurring.preview(info.context.conn, actor, value["id"], count=args["count"])
    preview = dump(PreviewSchema, {"items": [{"date": day} for day in days]}, actor)
    return [entry["date"] for entry in preview["items"]]


@webhook.field("deliveries")
def resolve_deliveries(value, info, first=50, after=None):
    actor = value["_actor"]
    args = load(DeliveryQuerySchema, given(limit=first, cursor=after), actor)
    rows, next_cursor = deliveries_page(
        info.context.conn, actor, value["id"], args["limit"], args.get("cursor")
    )
    edges = [
        {"cursor": pagination.encode_id(row["id"]), "node": node}
        for row, node in zip(rows, dump(DeliverySchema, rows, actor, many=True), strict=True)
    ]
    return connection(edges, next_cursor)


rule.set_field("ledger", resolve_owner_ledger)

BINDABLES = [rule, webhook]
