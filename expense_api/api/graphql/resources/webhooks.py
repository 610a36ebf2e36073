"""Webhook endpoints (owner: the services authorize): a ledger's, one by id, an endpoint's
deliveries, and their mutations. Pages through the same helper as REST (api/core/pagination.py).

A ledger's endpoints are read one ledger at a time (limits.ONE_LEDGER_AT_A_TIME): refused below
`ledgers`; an endpoint's deliveries per endpoint: refused below the `webhooks` list
(limits.ONE_ITEM_AT_A_TIME)."""

from __future__ import annotations

from datetime import UTC, datetime

from ariadne import MutationType, ObjectType
from flask import current_app

from ....services.webhooks import endpoints as webhooks
from ...core import pagination
from ...schemas.webhooks import (
    DeliveryQuerySchema,
    DeliverySchema,
    WebhookInputSchema,
    WebhookPatchSchema,
    WebhookSchema,
    WebhookWithSecretSchema,
)
from ..context import connection, dump, given, item, items, load, once_per_ledger
from ..execution import writes

ledger = ObjectType("Ledger")
webhook = ObjectType("Webhook")
mutation = MutationType()


@ledger.field("webhooks")
@once_per_ledger
def resolve_webhooks(node, info):
    return items(WebhookSchema, webhooks.list_all(info.context.conn, node.actor), node)


@ledger.field("webhook")
@once_per_ledger
def resolve_webhook(node, info, id):
    row = webhooks.get(info.context.conn, node.actor, id)
    return item(WebhookSchema, row, node.actor, node)


@webhook.field("deliveries")
def resolve_deliveries(value, info, first=50, after=None):
    actor = value.actor
    args = load(DeliveryQuerySchema, given(limit=first, cursor=after), actor)
    rows, next_cursor = pagination.deliveries_page(
        info.context.conn, actor, value["id"], args["limit"], args.get("cursor")
    )
    edges = [
        {"cursor": pagination.encode_id(row["id"]), "node": node}
        for row, node in zip(rows, dump(DeliverySchema, rows, actor, many=True), strict=True)
    ]
    return connection(edges, next_cursor)


def _settings():
    return current_app.config["SETTINGS"]


@writes(mutation, "createWebhook")
def create_webhook(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(WebhookInputSchema, input, actor)
    row = webhooks.create(context.conn, actor, _settings(), **body)
    return dump(WebhookWithSecretSchema, row, actor)


@writes(mutation, "updateWebhook")
def update_webhook(context, id, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(WebhookPatchSchema, input, actor, partial=True)
    row = webhooks.update(context.conn, actor, _settings(), id, body)
    return item(WebhookSchema, row, actor)


@writes(mutation, "deleteWebhook")
def delete_webhook(context, id, ledgerId=None):
    webhooks.delete(context.conn, context.actor(ledgerId), id)
    return True


@writes(mutation, "rotateWebhookSecret")
def rotate_webhook_secret(context, id, ledgerId=None):
    actor = context.actor(ledgerId)
    now = datetime.now(UTC)
    row = webhooks.rotate_secret(context.conn, actor, _settings(), id, now)
    return dump(WebhookWithSecretSchema, row, actor)


@writes(mutation, "redeliverWebhookDelivery")
def redeliver_webhook_delivery(context, webhookId, deliveryId, ledgerId=None):
    actor = context.actor(ledgerId)
    now = datetime.now(UTC)
    row = webhooks.redeliver(context.conn, actor, webhookId, deliveryId, now)
    return dump(DeliverySchema, row, actor)


BINDABLES = [ledger, webhook, mutation]
