"""The caller, their ledgers, a ledger's members and invitations, the caller's pending
invitations, and the mutations of ledgers, members and invitations. A ledger's other fields are
its resources' (categories.py, transactions.py, ...)."""

from __future__ import annotations

from ariadne import MutationType, ObjectType, QueryType

from ....services import invitations, ledgers
from ...schemas.auth import CallerSchema
from ...schemas.invitations import InvitationInputSchema, InvitationSchema, MyInvitationSchema
from ...schemas.ledgers import LedgerInputSchema, LedgerRenameSchema, MemberRoleSchema, MemberSchema
from ..context import dump, load, once_per_ledger
from ..execution import writes

query = QueryType()
ledger = ObjectType("Ledger")
mutation = MutationType()


@query.field("me")
def resolve_me(_, info):
    context = info.context
    return dump(CallerSchema, context.user, context.actor())


@query.field("ledgers")
def resolve_ledgers(_, info):
    context = info.context
    return context.ledger_nodes(ledgers.list_for_user(context.conn, context.user["id"]))


@query.field("ledger")
def resolve_ledger(_, info, id):
    context = info.context
    return context.ledger_node(context.actor(id))


@query.field("invitations")
def resolve_my_invitations(_, info):
    context = info.context
    rows = invitations.pending_for(context.conn, context.user["id"])
    return dump(MyInvitationSchema, rows, context.actor(), many=True)


@ledger.field("members")
def resolve_members(node, info):
    conn = info.context.conn
    rows = info.context.batch(
        ("members",), node, lambda actors: ledgers.members_for_ledgers(conn, actors)
    )
    return dump(MemberSchema, rows, node.actor, many=True)


@ledger.field("invitations")
@once_per_ledger
def resolve_ledger_invitations(node, info):
    rows = invitations.list_for_ledger(info.context.conn, node.actor)
    return dump(InvitationSchema, rows, node.actor, many=True)


@writes(mutation, "createLedger")
def create_ledger(context, input):
    body = load(LedgerInputSchema, input, context.actor())
    row = ledgers.create(
        context.conn,
        context.user,
        name=body["name"],
        currency=body.get("currency"),
        timezone=body.get("timezone"),
    )
    return context.ledger_nodes([row])[0]


@writes(mutation, "updateLedger")
def update_ledger(context, id, input):
    actor = context.actor(id)
    body = load(LedgerRenameSchema, input, actor)
    return context.ledger_nodes([ledgers.rename(context.conn, actor, **body)])[0]


@writes(mutation, "deleteLedger")
def delete_ledger(context, id):
    ledgers.delete(context.conn, context.actor(id))
    return True


@writes(mutation, "updateMember")
def update_member(context, ledgerId, userId, input):
    actor = context.actor(ledgerId)
    body = load(MemberRoleSchema, input, actor)
    return dump(MemberSchema, ledgers.change_role(context.conn, actor, userId, **body), actor)


@writes(mutation, "removeMember")
def remove_member(context, ledgerId, userId):
    ledgers.remove_member(context.conn, context.actor(ledgerId), userId)
    return True


@writes(mutation, "createInvitation")
def create_invitation(context, ledgerId, input):
    actor = context.actor(ledgerId)
    body = load(InvitationInputSchema, input, actor)
    return dump(InvitationSchema, invitations.create(context.conn, actor, **body), actor)


@writes(mutation, "revokeInvitation")
def revoke_invitation(context, ledgerId, id):
    invitations.revoke(context.conn, context.actor(ledgerId), id)
    return True


@writes(mutation, "acceptInvitation")
def accept_invitation(context, id):
    return context.ledger_nodes([invitations.accept(context.conn, context.user["id"], id)])[0]


@writes(mutation, "declineInvitation")
def decline_invitation(context, id):
    invitations.decline(context.conn, context.user["id"], id)
    return True


BINDABLES = [query, ledger, mutation]
