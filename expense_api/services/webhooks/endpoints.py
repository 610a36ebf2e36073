"""Webhook endpoints of a ledger (owner only): created with a secret shown once, listed,
changed, deleted, their secret rotated, and their deliveries listed and sent again.

The URL is checked when it is set (created or changed) and again at every delivery
(services/webhooks/network.py): https only in production; no loopback, private, link-local or
metadata address unless WEBHOOK_ALLOW_PRIVATE_NETWORKS. Secrets are stored encrypted
(services/webhooks/signing.py). A rotation keeps the old secret signing beside the new one for
`ROTATION_OVERLAP`, so receivers can switch without losing a delivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from psycopg import Connection

from ...config import Settings
from ...domain.errors import Conflict, NotFound, ValidationFailed, found
from ...repositories import ledgers as ledger_rows
from ...repositories import webhooks
from ..changes import hook
from ..ledgers import Action, Actor, authorize
from . import network, signing
from .outbox import EVENTS

MAX_PER_LEDGER = 10
ROTATION_OVERLAP = timedelta(hours=24)


class TooManyWebhooks(Conflict):
    code = "too_many_webhooks"


def check_url(url: str, settings: Settings) -> network.Target:
    """The URL's checked target; ValidationFailed on `url` saying why it is refused."""
    try:
        return network.check_url(
            url,
            https_only=settings.is_production,
            allow_private=settings.webhook_allow_private_networks,
        )
    except network.UrlRefused as error:
        raise ValidationFailed({"url": [str(error)]}) from None


def _check_events(events: list[str]) -> list[str]:
    unknown = [name for name in events if name not in EVENTS]
    if unknown:
        raise ValidationFailed(
            {"events": [f"Unknown event {unknown[0]!r}; one of: {', '.join(EVENTS)}."]}
        )
    return list(dict.fromkeys(events))  # in the order given, once each


def create(
    conn: Connection,
    actor: Actor,
    settings: Settings,
    *,
    url: str,
    events: list[str],
    description: str = "",
) -> dict:
    """The new endpoint, with its secret (the only time it is shown)."""
    authorize(actor, Action.MANAGE)
    events = _check_events(events)
    check_url(url, settings)
    # Creations in one ledger queue on its row, so two at once cannot pass the limit.
    if not ledger_rows.lock(conn, ledger_id=actor.ledger_id):
        raise NotFound("No such ledger.")
    if webhooks.count_for_ledger(conn, ledger_id=actor.ledger_id) >= MAX_PER_LEDGER:
        raise TooManyWebhooks(f"A ledger has at most {MAX_PER_LEDGER} webhook endpoints.")
    secret = signing.new_secret()
    row = webhooks.insert(
        conn,
        ledger_id=actor.ledger_id,
        url=url,
        events=events,
        description=description,
        secret=signing.encrypt(settings.webhook_secrets_key, secret),
    )
    # The shape has no secret (nor has the GET): it never reaches the log.
    hook.record(conn, actor, "webhook", "created", after=hook.render(actor, "webhook", row))
    return {**row, "secret": secret}


def list_all(conn: Connection, actor: Actor) -> list[dict]:
    authorize(actor, Action.MANAGE)
    return webhooks.list_for_ledger(conn, ledger_id=actor.ledger_id)


def get(conn: Connection, actor: Actor, webhook_id: int) -> dict:
    authorize(actor, Action.MANAGE)
    return found(webhooks.get(conn, ledger_id=actor.ledger_id, id=webhook_id), "webhook")


def update(
    conn: Connection, actor: Actor, settings: Settings, webhook_id: int, changes: dict
) -> dict:
    """Changes url, events, description or enabled (true re-enables a disabled endpoint)."""
    authorize(actor, Action.MANAGE)
    if "events" in changes:
        changes = {**changes, "events": _check_events(changes["events"])}
    if "url" in changes:
        check_url(changes["url"], settings)
    old = _locked(conn, actor, webhook_id)
    row = webhooks.update(conn, ledger_id=actor.ledger_id, id=webhook_id, changes=changes)
    _record_update(conn, actor, old, row)
    return row


def delete(conn: Connection, actor: Actor, webhook_id: int) -> None:
    authorize(actor, Action.MANAGE)
    deleted = found(webhooks.delete(conn, ledger_id=actor.ledger_id, id=webhook_id), "webhook")
    hook.record(conn, actor, "webhook", "deleted", before=hook.render(actor, "webhook", deleted))


def rotate_secret(
    conn: Connection, actor: Actor, settings: Settings, webhook_id: int, now: datetime
) -> dict:
    """A new secret (shown once); the current one keeps signing beside it for 24 hours."""
    authorize(actor, Action.MANAGE)
    old = _locked(conn, actor, webhook_id)
    secret = signing.new_secret()
    row = webhooks.rotate_secret(
        conn,
        ledger_id=actor.ledger_id,
        id=webhook_id,
        secret=signing.encrypt(settings.webhook_secrets_key, secret),
        until=now + ROTATION_OVERLAP,
    )
    # Logged though the shape does not change: the audit trail says when a secret was rotated
    # and by whom, and neither secret ever appears in it.
    _record_update(conn, actor, old, row)
    return {**row, "secret": secret}


def _locked(conn: Connection, actor: Actor, webhook_id: int) -> dict:
    """The endpoint as it is, locked until the end of the transaction (NotFound: none)."""
    return found(webhooks.get_for_update(conn, ledger_id=actor.ledger_id, id=webhook_id), "webhook")


def _record_update(conn: Connection, actor: Actor, old: dict, new: dict) -> None:
    hook.record(
        conn,
        actor,
        "webhook",
        "updated",
        before=hook.render(actor, "webhook", old),
        after=hook.render(actor, "webhook", new),
    )


def list_deliveries(
    conn: Connection, actor: Actor, webhook_id: int, *, limit: int, before_id: int | None
) -> list[dict]:
    """The endpoint's deliveries, newest first (NotFound for no such endpoint)."""
    get(conn, actor, webhook_id)
    return webhooks.list_deliveries(
        conn,
        ledger_id=actor.ledger_id,
        endpoint_id=webhook_id,
        limit=limit,
        before_id=before_id,
    )


def redeliver(
    conn: Connection, actor: Actor, webhook_id: int, delivery_id: int, now: datetime
) -> dict:
    """Sends the delivery's event again, as soon as the delivery job runs (same webhook-id)."""
    authorize(actor, Action.MANAGE)
    row = webhooks.redeliver(
        conn, ledger_id=actor.ledger_id, endpoint_id=webhook_id, id=delivery_id, now=now
    )
    return found(row, "delivery")
