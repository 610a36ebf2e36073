"""Query resolvers: the caller, their ledgers (whose fields are in ledger_fields.py), their alerts
and invitations. Each calls the same service as the REST view that reads the same thing (the
services authorize)."""

from __future__ import annotations

from ariadne import QueryType

from ...services import alerts, invitations, ledgers
from .. import pagination
from ..schemas.alerts import AlertQuerySchema, AlertSchema
from ..schemas.auth import UserSchema
from ..schemas.invitations import MyInvitationSchema
from .context import connection, dump, given, load

query = QueryType()


@query.field("me")
def resolve_me(_, info):
    context = info.context
    return dump(UserSchema, context.user, context.actor())


@query.field("ledgers")
def resolve_ledgers(_, info):
    context = info.context
    return context.ledger_nodes(ledgers.list_for_user(context.conn, context.user["id"]))


@query.field("ledger")
def resolve_ledger(_, info, id):
    context = info.context
    return context.ledger_node(context.actor(id))


@query.field("notifications")
def resolve_notifications(_, info, ledgerId=None, unread=False, first=50, after=None):
    context = info.context
    actor = context.actor(ledgerId)
    args = load(AlertQuerySchema, given(unread=unread, limit=first, cursor=after), actor)
    page = {
        "unread_only": args["unread"],
        "limit": args["limit"] + 1,
        "before_id": pagination.decode_id(args["cursor"]) if "cursor" in args else None,
    }
    if ledgerId is None:
        rows = alerts.list_page_across_ledgers(context.conn, context.user["id"], **page)
    else:
        rows = alerts.list_page(context.conn, actor, **page)
    items, next_cursor = pagination.page_by_id(rows, args["limit"])
    nodes = dump(AlertSchema, items, actor, many=True)
    edges = [
        {"cursor": pagination.encode_id(row["id"]), "node": n}
        for row, n in zip(items, nodes, strict=True)
    ]
    return connection(edges, next_cursor)


@query.field("invitations")
def resolve_my_invitations(_, info):
    context = info.context
    rows = invitations.pending_for(context.conn, context.user["id"])
    return dump(MyInvitationSchema, rows, context.actor(), many=True)


BINDABLES = [query]
