"""The audit trail: a ledger's change log read back, newest first, a page at a time.

Every member reads it (READ), but not all of it: the entries of what only owners manage
(webhooks, whose URLs are the owner's configuration, and invitations, which name people's email
addresses) are left out for a role that may not MANAGE the ledger, in the query itself, so a page
is never short of entries the reader may see."""

from __future__ import annotations

from datetime import date

from psycopg import Connection

from ...repositories import changes
from ..ledgers import ROLE_ACTIONS, Action, Actor, authorize

ENTITIES = (
    "transaction", "category", "budget", "recurring", "member", "invitation", "webhook", "rule",
    "import", "ledger", "rate",
)  # fmt: skip
# Seen only by a role that manages the ledger (owners): what owners alone may see elsewhere.
MANAGERS_ONLY = ("webhook", "invitation")


def hidden_from(actor: Actor) -> tuple[str, ...]:
    """The entities whose entries the actor's role does not see."""
    return () if Action.MANAGE in ROLE_ACTIONS[actor.role] else MANAGERS_ONLY


def page(
    conn: Connection,
    actor: Actor,
    *,
    limit: int,
    before_seq: int | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    actor_id: int | None = None,
    from_: date | None = None,
    to: date | None = None,
) -> list[dict]:
    """Up to `limit` entries the actor may see, newest (highest seq) first, before `before_seq`
    when given; `from_`..`to` are days in the ledger's time zone, inclusive."""
    authorize(actor, Action.READ)
    return changes.page(
        conn,
        ledger_id=actor.ledger_id,
        timezone=actor.timezone,
        hidden=hidden_from(actor),
        limit=limit,
        before_seq=before_seq,
        entity=entity,
        entity_id=entity_id,
        actor_id=actor_id,
        from_day=from_,
        to_day=to,
    )
