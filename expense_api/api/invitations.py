"""Invitations: the owner invites an address into a ledger
(/api/ledgers/<id>/invitations); the invited account lists, accepts or declines its own
(/api/invitations)."""

from __future__ import annotations

from flask.views import MethodView

from ..services import invitations
from ..services.invitations import PER_HOUR
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, problem_response, user
from .schemas.invitations import (
    InvitationInputSchema,
    InvitationListSchema,
    InvitationSchema,
    MyInvitationListSchema,
)
from .schemas.ledgers import LedgerSchema

blp = Blueprint(
    "invitations",
    __name__,
    url_prefix="/api",
    description="Invitations: an owner invites an address into a ledger with a role; the "
    "invited account accepts or declines",
)

_NOT_FOUND = "No such ledger of yours (you are not a member of it)"
_NOT_OWNER = "Your role in the ledger does not allow this (owners only): `forbidden`"
_NOT_YOURS = "No such invitation for you (missing, revoked, or bound to another account)"
_ANSWERED = (
    "Expired (past `expiresAt`): `invitation_expired`; already accepted or declined: "
    "`invitation_answered`; on accept, the member who invited you is no longer an owner: "
    "`invitation_withdrawn`, or you belong to as many ledgers as one person may: "
    "`too_many_ledgers`"
)


@blp.route("/ledgers/<id:ledger_id>/invitations")
class LedgerInvitations(MethodView):
    @authenticated(blp)
    @blp.response(200, InvitationListSchema)
    @problem_response(blp, 403, _NOT_OWNER)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, ledger_id):
        """List a ledger's invitations, newest first (owner)

        Each with its `status`: `pending`, `accepted`, `declined` or `expired` (pending past
        `expiresAt`). Revoked and replaced invitations are not listed."""
        return {"items": invitations.list_for_ledger(get_conn(), actor())}

    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(InvitationInputSchema)
    @blp.response(201, InvitationSchema)
    @problem_response(blp, 403, _NOT_OWNER)
    @problem_response(blp, 404, _NOT_FOUND)
    @problem_response(blp, 409, "A member of the ledger has this email: `already_member`")
    @problem_response(
        blp,
        429,
        f"More than {PER_HOUR} invitations created by you within the last hour: "
        "`too_many_invitations` (Retry-After says when the next one is allowed)",
    )
    def post(self, body, ledger_id):
        """Invite an email address into a ledger as `editor` or `viewer` (owner)

        The invitation is pending for 7 days (`expiresAt`). It binds now to the account that has
        this email (any case); with no such account it binds to nobody and simply expires, and
        registering the address later does not claim it. The answer is the same either way (no
        account enumeration). A pending invitation for the same address is replaced (it is
        revoked).

        Rate limit: each owner creates at most 20 invitations an hour, across their ledgers
        (revoked and replaced ones count); more is 429 `too_many_invitations` with Retry-After
        (the seconds until the oldest of them is an hour old)."""
        return invitations.create(get_conn(), actor(), email=body["email"], role=body["role"])


@blp.route("/ledgers/<id:ledger_id>/invitations/<id:invitation_id>")
class LedgerInvitation(MethodView):
    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 403, _NOT_OWNER)
    @problem_response(blp, 404, "No such ledger of yours, or no such invitation in it")
    @problem_response(blp, 409, "Already accepted or declined: `invitation_answered`")
    def delete(self, ledger_id, invitation_id):
        """Revoke a pending invitation (owner)

        The invitee can no longer accept it, and it leaves the list. An accepted or declined
        invitation cannot be revoked (409 `invitation_answered`); remove the member instead."""
        invitations.revoke(get_conn(), actor(), invitation_id)


@blp.route("/invitations")
class MyInvitations(MethodView):
    @authenticated(blp)
    @blp.response(200, MyInvitationListSchema)
    def get(self):
        """List your pending invitations, newest first

        Only those still open (not answered, revoked or expired), with the ledger's name and who
        invited you."""
        return {"items": invitations.pending_for(get_conn(), user()["id"])}


@blp.route("/invitations/<id:invitation_id>/accept")
class AcceptInvitation(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.response(200, LedgerSchema)
    @problem_response(blp, 404, _NOT_YOURS)
    @problem_response(blp, 409, _ANSWERED)
    def post(self, invitation_id):
        """Accept an invitation: you become a member of its ledger with the invited role

        Answers the ledger as `GET /api/ledgers/{id}` would. The body is optional (none, or
        `{}`). Someone who already belongs to as many ledgers as one person may gets 409
        `too_many_ledgers`."""
        return invitations.accept(get_conn(), user()["id"], invitation_id)


@blp.route("/invitations/<id:invitation_id>/decline")
class DeclineInvitation(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.response(204)
    @problem_response(blp, 404, _NOT_YOURS)
    @problem_response(blp, 409, _ANSWERED)
    def post(self, invitation_id):
        """Decline an invitation

        The body is optional (none, or `{}`)."""
        invitations.decline(get_conn(), user()["id"], invitation_id)
