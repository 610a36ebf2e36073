"""Ledgers, the tenant: who acts in which ledger, and what their role lets them do.

Every rule about a ledger's contents starts from an `Actor` (a member acting in one ledger) and
asks `authorize` before any repository work, so every door (REST, GraphQL, the worker) refuses
the same things: a user who is not a member never gets an Actor (404, the ledger does not exist
for them); a member without the role gets 403 `forbidden`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from psycopg import Connection

from ..errors import Forbidden, NotFound
from ..repositories import ledgers

DEFAULT_NAME = "Personal"


class Action(Enum):
    READ = "read"  # see the ledger and anything in it
    WRITE = "write"  # categories, transactions, budgets (and recurring rules)
    MANAGE = "manage"  # the ledger itself: its name, members, webhooks, deleting it


ROLE_ACTIONS = {
    "viewer": frozenset({Action.READ}),
    "editor": frozenset({Action.READ, Action.WRITE}),
    "owner": frozenset({Action.READ, Action.WRITE, Action.MANAGE}),
}


@dataclass(frozen=True)
class Actor:
    """A member acting in one ledger: money digits follow the ledger's currency, default
    periods its time zone."""

    user_id: int
    ledger_id: int
    role: str
    currency: str
    timezone: str


def authorize(actor: Actor, action: Action) -> None:
    """The one authorization check: raises Forbidden unless the actor's role allows it."""
    if action not in ROLE_ACTIONS[actor.role]:
        raise Forbidden(
            f"Your role in this ledger ({actor.role}) does not allow this.", code="forbidden"
        )


def actor_in(conn: Connection, *, user_id: int, ledger_id: int) -> Actor:
    """The user acting in a ledger they belong to; NotFound when they do not belong to it."""
    row = ledgers.membership(conn, ledger_id=ledger_id, user_id=user_id)
    if row is None:
        raise NotFound("No such ledger.")
    return Actor(user_id, ledger_id, row["role"], row["currency"], row["timezone"])


def create_default(conn: Connection, user: dict) -> dict:
    """A new user's personal ledger, with their currency and time zone; they own it."""
    ledger = ledgers.insert(
        conn, name=DEFAULT_NAME, currency=user["currency"], timezone=user["timezone"]
    )
    ledgers.add_member(
        conn, ledger_id=ledger["id"], user_id=user["id"], role="owner", is_default=True
    )
    return ledger
