"""Ledgers, the tenant: who acts in which ledger, and what their role lets them do.

Every rule about a ledger's contents starts from an `Actor` (a member acting in one ledger) and
asks `authorize` before any repository work, so every door (REST, GraphQL, the worker) refuses
the same things: a user who is not a member never gets an Actor (404, the ledger does not exist
for them); a member without the role gets 403 `forbidden`.

Membership changes (roles, removals) and deleting a ledger first lock the ledger's row and read
the caller's role again under that lock: two owners demoting each other one after the other
see each other's change, so a ledger always keeps an owner.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from enum import Enum
from functools import cache

from psycopg import Connection

from ..domain.errors import Conflict, Forbidden, NotFound, ValidationFailed, found
from ..repositories import ledgers
from .changes import hook

DEFAULT_NAME = "Personal"
ROLES = ("owner", "editor", "viewer")
TIME_ZONE_MESSAGE = "Must be an IANA time zone name the database knows, such as Europe/Berlin."


class LedgerIsDefault(Conflict):
    code = "ledger_is_default"


class TooManyLedgers(Conflict):
    code = "too_many_ledgers"


# The ledgers one person may belong to (their own and shared ones). A household needs a few; the
# bound keeps `ledgers { ... }` in GraphQL as cheap as its cost rule prices it (api/graphql/limits).
MAX_LEDGERS_PER_USER = 25


def check_room_for_another_ledger(conn: Connection, user_id: int) -> None:
    """409 too_many_ledgers when the user already belongs to MAX_LEDGERS_PER_USER ledgers,
    counted under a lock on their row."""
    if ledgers.count_for_user_locked(conn, user_id=user_id) >= MAX_LEDGERS_PER_USER:
        raise TooManyLedgers(
            f"You belong to {MAX_LEDGERS_PER_USER} ledgers, the most one person may: delete or "
            "leave one first."
        )


class LastOwner(Conflict):
    code = "last_owner"


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
    # False only when the query that found this actor saw no enabled webhook endpoint in the
    # ledger: the write path then renders no webhook event (services/changes/hook.py).
    # An endpoint created since is in the same race as one created a moment after the write.
    has_webhooks: bool = True


def authorize(actor: Actor, action: Action) -> None:
    """The one authorization check: raises Forbidden unless the actor's role allows it."""
    if action not in ROLE_ACTIONS[actor.role]:
        raise Forbidden(
            f"Your role in this ledger ({actor.role}) does not allow this.", code="forbidden"
        )


def authorize_each(actors: list[Actor], action: Action) -> list[int]:
    """Every actor authorized for the action (a many-ledger read refuses as a ledger's read
    would, before any database work); their ledger ids, in order."""
    for actor in actors:
        authorize(actor, action)
    return [actor.ledger_id for actor in actors]


def actor_in(conn: Connection, *, user_id: int, ledger_id: int) -> Actor:
    """The user acting in a ledger they belong to; NotFound when they do not belong to it."""
    row = ledgers.membership(conn, ledger_id=ledger_id, user_id=user_id)
    if row is None:
        raise NotFound("No such ledger.")
    return Actor(
        user_id, ledger_id, row["role"], row["currency"], row["timezone"], row["has_webhooks"]
    )


@cache
def python_time_zones() -> frozenset[str]:
    """The IANA names Python's zoneinfo knows (periods work a ledger's dates out with it)."""
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(conn: Connection, name: str) -> None:
    """A time zone a user or a ledger may have: an IANA name that Python knows and that the
    database knows too, or 422 naming `timezone`. The database is the authority, asked each
    time (one cheap query: a server upgrade may drop a zone, and the embedded PostgreSQL's list
    is not the machine's): its worker works each ledger's dates out with it (sql/recurring.sql,
    claim_due), so a zone it does not know would leave the ledger's rules without a due date.
    And both must read the name alike: the same wall-clock time now and half a year on (a name
    PostgreSQL takes for a fixed-offset abbreviation, such as CET, would put the worker's "today"
    an hour from the API's all summer)."""
    known = name in python_time_zones() and ledgers.time_zone_known(conn, name=name)
    if not known or not _read_alike(conn, name):
        raise ValidationFailed({"timezone": [TIME_ZONE_MESSAGE]})


def _read_alike(conn: Connection, name: str) -> bool:
    zone = zoneinfo.ZoneInfo(name)
    return all(
        row["moment"].astimezone(zone).replace(tzinfo=None) == row["local"]
        for row in ledgers.local_times(conn, name=name)
    )


def create_default(conn: Connection, user: dict) -> dict:
    """A new user's personal ledger, with their currency and time zone; they own it."""
    return _create(conn, user, DEFAULT_NAME, user["currency"], user["timezone"], is_default=True)


def create(
    conn: Connection, user: dict, *, name: str, currency: str | None, timezone: str | None
) -> dict:
    """A new (shared) ledger owned by the user; currency and time zone default to the user's
    (a time zone the database does not know, the user's too, is 422)."""
    timezone = timezone or user["timezone"]
    check_time_zone(conn, timezone)
    check_room_for_another_ledger(conn, user["id"])
    return _create(conn, user, name, currency or user["currency"], timezone, is_default=False)


def _create(
    conn: Connection, user: dict, name: str, currency: str, timezone: str, *, is_default: bool
) -> dict:
    """The ledger and its owner, each with its change-log entry (by the owner: the ledger's
    first entries); the ledger as its owner sees it."""
    row = ledgers.insert(conn, name=name, currency=currency, timezone=timezone)
    owner = ledgers.add_member(
        conn, ledger_id=row["id"], user_id=user["id"], role="owner", is_default=is_default
    )
    ledger = {**row, "is_default": is_default, "role": "owner"}
    # A new ledger has no webhook endpoint: nothing to render for one.
    actor = Actor(user["id"], row["id"], "owner", currency, timezone, has_webhooks=False)
    hook.record(conn, actor, "ledger", "created", after=hook.render(actor, "ledger", ledger))
    hook.record(conn, actor, "member", "created", after=hook.render(actor, "member", owner))
    return ledger


def list_for_user(conn: Connection, user_id: int) -> list[dict]:
    """The ledgers the user belongs to, each with their role and default flag."""
    return ledgers.list_for_user(conn, user_id=user_id)


def get(conn: Connection, actor: Actor) -> dict:
    authorize(actor, Action.READ)
    row = ledgers.get_for_member(conn, ledger_id=actor.ledger_id, user_id=actor.user_id)
    return found(row, "ledger")


def rename(conn: Connection, actor: Actor, *, name: str) -> dict:
    authorize(actor, Action.MANAGE)
    old = found(
        ledgers.get_for_member_locked(conn, ledger_id=actor.ledger_id, user_id=actor.user_id),
        "ledger",
    )
    renamed = ledgers.rename(conn, ledger_id=actor.ledger_id, name=name)
    row = {**old, **found(renamed, "ledger")}
    hook.record(
        conn,
        actor,
        "ledger",
        "updated",
        before=hook.render(actor, "ledger", old),
        after=hook.render(actor, "ledger", row),
    )
    return row


def delete(conn: Connection, actor: Actor) -> None:
    """Deletes the ledger and everything in it; never a ledger that is a member's default (their
    v1 paths act on it)."""
    authorize(actor, Action.MANAGE)
    _locked(conn, actor, Action.MANAGE)
    if ledgers.is_anyones_default(conn, ledger_id=actor.ledger_id):
        raise LedgerIsDefault(
            "This ledger is a member's default ledger; it cannot be deleted.",
        )
    # No change-log entry: the ledger's log is deleted with it (the contract says so).
    ledgers.delete(conn, ledger_id=actor.ledger_id)


def members(conn: Connection, actor: Actor) -> list[dict]:
    authorize(actor, Action.READ)
    return ledgers.members(conn, ledger_id=actor.ledger_id)


def members_for_ledgers(conn: Connection, actors: list[Actor]) -> dict[int, list[dict]]:
    """members for many ledgers in one statement ({ledger_id: rows}), each actor authorized as
    members authorizes it, before any database work."""
    return ledgers.members_for_ledgers(conn, ledger_ids=authorize_each(actors, Action.READ))


def change_role(conn: Connection, actor: Actor, user_id: int, *, role: str) -> dict:
    """Gives a member a role. Making another member owner transfers ownership: they become
    owner and the caller becomes an editor. The last owner cannot be demoted."""
    authorize(actor, Action.MANAGE)
    if role not in ROLES:
        raise ValidationFailed({"role": [f"Must be one of: {', '.join(ROLES)}."]})
    actor = _locked(conn, actor, Action.MANAGE)
    target = _member(conn, actor, user_id)
    if target["role"] == role:
        return target
    if role == "owner":  # a transfer (the target is not the caller: the caller is an owner)
        caller = _member(conn, actor, actor.user_id)
        _set_role(conn, actor, target, "owner")
        _set_role(conn, actor, caller, "editor")
    else:
        if target["role"] == "owner":
            _refuse_last_owner(conn, actor, "demoted")
        _set_role(conn, actor, target, role)
    return _member(conn, actor, user_id)


def _set_role(conn: Connection, actor: Actor, member: dict, role: str) -> None:
    """Gives `member` (as read under the ledger's lock) the role, with its entry."""
    ledgers.set_role(conn, ledger_id=actor.ledger_id, user_id=member["user_id"], role=role)
    hook.record(
        conn,
        actor,
        "member",
        "updated",
        before=hook.render(actor, "member", member),
        after=hook.render(actor, "member", {**member, "role": role}),
    )


def remove_member(conn: Connection, actor: Actor, user_id: int) -> None:
    """The owner removes a member; any member may remove themself (leave). The last owner
    cannot leave, and nobody is removed from their own default ledger."""
    action = Action.READ if user_id == actor.user_id else Action.MANAGE
    authorize(actor, action)
    actor = _locked(conn, actor, action)
    target = _member(conn, actor, user_id)
    if target["role"] == "owner":
        _refuse_last_owner(conn, actor, "removed")
    if target["is_default"]:
        raise LedgerIsDefault(
            "This ledger is the member's default ledger; they cannot be removed from it."
        )
    _remove(conn, actor, target)


def _remove(conn: Connection, actor: Actor, target: dict) -> None:
    """Removes `member` (as read under the ledger's lock), with its entry."""
    ledgers.remove_member(conn, ledger_id=actor.ledger_id, user_id=target["user_id"])
    hook.record(conn, actor, "member", "deleted", before=hook.render(actor, "member", target))


# Account erasure (services/account_data.py) ends every membership of the account: these two
# are `remove_member` (leaving) and `delete` without the default-ledger rule, which protects a
# member's v1 paths; the member, and so their paths, go with the erasure.


def leave_with_account(conn: Connection, actor: Actor) -> None:
    """The actor leaves the ledger because their account is being erased, their own default
    ledger included, with the member's `deleted` entry. The last owner cannot leave
    (`last_owner`: the erasure refuses such an account first, as `sole_owner`)."""
    authorize(actor, Action.READ)
    actor = _locked(conn, actor, Action.READ)
    target = _member(conn, actor, actor.user_id)
    if target["role"] == "owner":
        _refuse_last_owner(conn, actor, "removed")
    _remove(conn, actor, target)


def delete_with_account(conn: Connection, actor: Actor) -> None:
    """Deletes a ledger whose only member is the actor, whose account is being erased (their
    default ledger too). No entry: the ledger's log goes with it."""
    authorize(actor, Action.MANAGE)
    actor = _locked(conn, actor, Action.MANAGE)
    if [row["user_id"] for row in ledgers.members(conn, ledger_id=actor.ledger_id)] != [
        actor.user_id
    ]:
        raise Conflict("The ledger has other members.", code="ledger_has_members")
    ledgers.delete(conn, ledger_id=actor.ledger_id)


def _locked(conn: Connection, actor: Actor, action: Action) -> Actor:
    """Locks the ledger's row until the end of the transaction and returns the caller as they
    are now (their role may have changed, or they may have been removed, while they waited)."""
    if not ledgers.lock(conn, ledger_id=actor.ledger_id):
        raise NotFound("No such ledger.")
    current = actor_in(conn, user_id=actor.user_id, ledger_id=actor.ledger_id)
    authorize(current, action)
    return current


def _member(conn: Connection, actor: Actor, user_id: int) -> dict:
    return found(ledgers.member(conn, ledger_id=actor.ledger_id, user_id=user_id), "member")


def _refuse_last_owner(conn: Connection, actor: Actor, what: str) -> None:
    """Call under the ledger's lock (_locked): the count cannot change until commit."""
    if ledgers.owner_count(conn, ledger_id=actor.ledger_id) <= 1:
        raise LastOwner(
            f"The ledger's last owner cannot be {what}; make another member owner first."
        )
