"""Invitations to a ledger: the owner invites an address with a role; the account that had that
address when the invitation was made accepts (and becomes a member) or declines it.

An invitation binds at creation to the account with that email (any case), or to nobody: then it
simply expires, and registering the address later never claims it. The owner's answer is the
same either way, so inviting cannot tell whether an address has an account. A new invitation
for an address replaces its pending one. Each owner creates at most `PER_HOUR` invitations an
hour (counted in the table, revoked and replaced ones included): more is `too_many_invitations`.
"""

from __future__ import annotations

from psycopg import Connection

from ..domain.errors import Conflict, NotFound, Throttled, ValidationFailed
from ..repositories import invitations
from ..repositories import ledgers as ledger_rows
from . import ledgers
from .changes import hook
from .ledgers import Action, Actor

ROLES = ("editor", "viewer")
PER_HOUR = 20
WINDOW_SECONDS = 3600


class AlreadyMember(Conflict):
    code = "already_member"


class InvitationExpired(Conflict):
    code = "invitation_expired"


class InvitationWithdrawn(Conflict):
    code = "invitation_withdrawn"


class InvitationAnswered(Conflict):
    code = "invitation_answered"


class TooManyInvitations(Throttled):
    code = "too_many_invitations"


def create(conn: Connection, actor: Actor, *, email: str, role: str) -> dict:
    """Invites an address into the actor's ledger (owner); replaces its pending invitation."""
    ledgers.authorize(actor, Action.MANAGE)
    if role not in ROLES:
        raise ValidationFailed({"role": [f"Must be one of: {', '.join(ROLES)}."]})
    # The ledger first, then the inviter: the same order every time.
    if not ledger_rows.lock(conn, ledger_id=actor.ledger_id):
        raise NotFound("No such ledger.")
    invitations.lock_inviter(conn, user_id=actor.user_id)
    recent = invitations.created_within(conn, user_id=actor.user_id, seconds=WINDOW_SECONDS)
    if recent["count"] >= PER_HOUR:
        retry_after = max(1, recent["frees_in"] or 1)
        raise TooManyInvitations(
            f"At most {PER_HOUR} invitations an hour; try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    if invitations.member_with_email(conn, ledger_id=actor.ledger_id, email=email):
        raise AlreadyMember("A member of this ledger has this email.")
    # A revoked invitation leaves the ledger's list: for the log, it is deleted.
    for replaced in invitations.revoke_pending_for_email(
        conn, ledger_id=actor.ledger_id, email=email
    ):
        hook.record(
            conn, actor, "invitation", "deleted", before=hook.render(actor, "invitation", replaced)
        )
    row = invitations.insert(
        conn,
        ledger_id=actor.ledger_id,
        email=email,
        role=role,
        invited_by=actor.user_id,
        invitee_id=invitations.account_with_email(conn, email=email),
    )
    hook.record(conn, actor, "invitation", "created", after=hook.render(actor, "invitation", row))
    return row


def list_for_ledger(conn: Connection, actor: Actor) -> list[dict]:
    """The ledger's invitations with their status (owner): pending, accepted, declined, expired."""
    ledgers.authorize(actor, Action.MANAGE)
    return invitations.list_for_ledger(conn, ledger_id=actor.ledger_id)


def revoke(conn: Connection, actor: Actor, invitation_id: int) -> None:
    """Revokes a pending (or expired) invitation (owner); an answered one stays as it is."""
    ledgers.authorize(actor, Action.MANAGE)
    revoked = invitations.revoke(conn, ledger_id=actor.ledger_id, id=invitation_id)
    if revoked is not None:
        # It leaves the ledger's list (GET shows no revoked invitation): deleted, for the log.
        hook.record(
            conn, actor, "invitation", "deleted", before=hook.render(actor, "invitation", revoked)
        )
        return
    row = invitations.get_in_ledger(conn, ledger_id=actor.ledger_id, id=invitation_id)
    if row is None or row["status"] == "revoked":
        raise NotFound("No such invitation.")
    raise InvitationAnswered(f"This invitation was already {row['status']}.")


def pending_for(conn: Connection, user_id: int) -> list[dict]:
    """The open invitations bound to the user (not answered, revoked or expired)."""
    return invitations.pending_for_invitee(conn, user_id=user_id)


def accept(conn: Connection, user_id: int, invitation_id: int) -> dict:
    """The invitee joins the ledger with the invited role; answers the ledger as they see it.

    Joining is a membership change: the ledger's row is locked first, as for every other one
    (services/ledgers.py), then the invitation's, so two accepts at once make one membership and
    the inviter's role cannot change meanwhile. An invitation whose maker is no longer an owner
    is withdrawn: it was an owner's word."""
    ledger_id = invitations.ledger_of(conn, user_id=user_id, id=invitation_id)
    if ledger_id is None or not ledger_rows.lock(conn, ledger_id=ledger_id):
        raise NotFound("No such invitation.")
    row = _open(conn, user_id, invitation_id)
    if not row["inviter_is_owner"]:
        raise InvitationWithdrawn(
            "The member who invited you is no longer an owner of this ledger; ask an owner to "
            "invite you again."
        )
    ledgers.check_room_for_another_ledger(conn, user_id)
    answered = invitations.answer(conn, ledger_id=row["ledger_id"], id=row["id"], status="accepted")
    member = invitations.join(conn, ledger_id=row["ledger_id"], user_id=user_id, role=row["role"])
    # The invitee acts in the ledger from now on: both entries are theirs, in the invited ledger.
    actor = ledgers.actor_in(conn, user_id=user_id, ledger_id=row["ledger_id"])
    hook.record(
        conn,
        actor,
        "invitation",
        "updated",
        before=hook.render(actor, "invitation", row),
        after=hook.render(actor, "invitation", answered),
    )
    if member is not None:  # they were a member already: the membership did not change
        hook.record(conn, actor, "member", "created", after=hook.render(actor, "member", member))
    return ledgers.get(conn, actor)


def decline(conn: Connection, user_id: int, invitation_id: int) -> None:
    row = _open(conn, user_id, invitation_id)
    answered = invitations.answer(conn, ledger_id=row["ledger_id"], id=row["id"], status="declined")
    # The invitee is no member of the ledger (no Actor there); the entry is theirs all the same.
    hook.record_by_person(
        conn,
        user_id,
        row["ledger_id"],
        "invitation",
        "updated",
        before=hook.render_in(row["currency"], "invitation", row),
        after=hook.render_in(row["currency"], "invitation", answered),
    )


def _open(conn: Connection, user_id: int, invitation_id: int) -> dict:
    """The user's invitation, locked, still open to an answer."""
    row = invitations.lock_for_invitee(conn, user_id=user_id, id=invitation_id)
    if row is None:
        raise NotFound("No such invitation.")
    if row["status"] != "pending":
        raise InvitationAnswered(f"This invitation was already {row['status']}.")
    if row["expired"]:
        raise InvitationExpired("This invitation has expired; ask for a new one.")
    return row
