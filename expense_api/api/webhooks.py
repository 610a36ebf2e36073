"""/api/webhooks (and /api/ledgers/<id>/webhooks): a ledger's webhook endpoints, owner only;
their deliveries and redelivery. Delivery itself is services/webhooks/delivery.py."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask.views import MethodView

from ..services.webhooks import endpoints as webhooks
from ..services.webhooks.endpoints import MAX_PER_LEDGER
from .core import pagination
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, problem_response
from .schemas.webhooks import (
    DeliveryPageSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    WebhookInputSchema,
    WebhookListSchema,
    WebhookPatchSchema,
    WebhookSchema,
    WebhookWithSecretSchema,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/webhooks",
    description="Webhooks: signed deliveries (Standard Webhooks) of a ledger's budget alerts "
    "and changes to other systems; owners only",
)

_NOT_OWNER = "Your role in the ledger does not allow this (owners only): `forbidden`"
_NOT_FOUND = "No such webhook in your ledger"


def _settings():
    return current_app.config["SETTINGS"]


def _owner_only(view):
    return problem_response(blp, 403, _NOT_OWNER)(view)


@blp.route("")
class Webhooks(MethodView):
    @authenticated(blp)
    @blp.response(200, WebhookListSchema)
    @_owner_only
    def get(self):
        """List the ledger's webhook endpoints (owner)"""
        return {"items": webhooks.list_all(get_conn(), actor())}

    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(WebhookInputSchema)
    @blp.response(201, WebhookWithSecretSchema)
    @_owner_only
    @problem_response(
        blp, 409, f"The ledger has {MAX_PER_LEDGER} endpoints already: `too_many_webhooks`"
    )
    def post(self, body):
        """Create a webhook endpoint (owner); its secret is shown only in this answer

        Deliveries are POSTed with the Standard Webhooks headers (`webhook-id`,
        `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
        "id.timestamp.body">`) and the body `{"type", "timestamp", "data"}`. Nothing is sent on
        creation. A URL that is not https in production, or that resolves to a loopback,
        private, link-local or metadata address (unless the operator allows private networks),
        is 422 on `url`."""
        return webhooks.create(get_conn(), actor(), _settings(), **body)


@blp.route("/<id:webhook_id>")
class Webhook(MethodView):
    @authenticated(blp)
    @blp.response(200, WebhookSchema)
    @_owner_only
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, webhook_id):
        """Get a webhook endpoint (owner)"""
        return webhooks.get(get_conn(), actor(), webhook_id)

    @authenticated(blp)
    @blp.arguments(WebhookPatchSchema(partial=True))
    @blp.response(200, WebhookSchema)
    @_owner_only
    @problem_response(blp, 404, _NOT_FOUND)
    def patch(self, body, webhook_id):
        """Change a webhook endpoint's url, events, description, or enabled (owner)

        `enabled: true` re-enables an endpoint disabled after days of failed deliveries. A new
        URL is checked as on creation."""
        return webhooks.update(get_conn(), actor(), _settings(), webhook_id, body)

    @authenticated(blp)
    @blp.response(204)
    @_owner_only
    @problem_response(blp, 404, _NOT_FOUND)
    def delete(self, webhook_id):
        """Delete a webhook endpoint and its deliveries (owner)"""
        webhooks.delete(get_conn(), actor(), webhook_id)


@blp.route("/<id:webhook_id>/rotate-secret")
class RotateSecret(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.response(200, WebhookWithSecretSchema)
    @_owner_only
    @problem_response(blp, 404, _NOT_FOUND)
    def post(self, webhook_id):
        """Give a webhook endpoint a new secret (owner); shown only in this answer

        For 24 hours deliveries carry two signatures in `webhook-signature`, one with the new
        secret and one with the secret it replaces, so the receiver can switch over without
        losing a delivery. The body is optional (none, or `{}`)."""
        now = datetime.now(UTC)
        return webhooks.rotate_secret(get_conn(), actor(), _settings(), webhook_id, now)


@blp.route("/<id:webhook_id>/deliveries")
class Deliveries(MethodView):
    @authenticated(blp)
    @blp.arguments(DeliveryQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, DeliveryPageSchema)
    @_owner_only
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, webhook_id, limit, cursor=None):
        """List a webhook endpoint's deliveries, newest first (owner)

        Kept for WEBHOOK_HISTORY_DAYS (30 by default)."""
        items, next_cursor = pagination.deliveries_page(
            get_conn(), actor(), webhook_id, limit, cursor
        )
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/<id:webhook_id>/deliveries/<id:delivery_id>/redeliver")
class Redeliver(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.response(202, DeliverySchema)
    @_owner_only
    @problem_response(blp, 404, "No such webhook in your ledger, or no such delivery of it")
    def post(self, webhook_id, delivery_id):
        """Send a delivery's event again (owner), with the same `webhook-id`

        A pending delivery is made due now; a delivered or failed one gets a new pending
        delivery, answered here, and keeps its own history. The body is optional (none, or
        `{}`)."""
        now = datetime.now(UTC)
        return webhooks.redeliver(get_conn(), actor(), webhook_id, delivery_id, now)
