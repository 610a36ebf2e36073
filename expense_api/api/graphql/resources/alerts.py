"""Budget alerts (REST's notifications): the caller's, a page at a time, marking one read, and
how a write answers the alerts it fired (`with_alerts`, for transactions and budgets)."""

from __future__ import annotations

from ariadne import MutationType, QueryType
from marshmallow import Schema

from ....services import alerts
from ....services.ledgers import Actor
from ...core import pagination
from ...schemas.alerts import AlertQuerySchema, AlertSchema
from ..context import connection, dump, given, item, load
from ..execution import writes

query = QueryType()
mutation = MutationType()


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
    rows, next_cursor = pagination.page_by_id(rows, args["limit"])
    nodes = dump(AlertSchema, rows, actor, many=True)
    edges = [
        {"cursor": pagination.encode_id(row["id"]), "node": node}
        for row, node in zip(rows, nodes, strict=True)
    ]
    return connection(edges, next_cursor)


@writes(mutation, "markNotificationRead")
def mark_notification_read(context, id, ledgerId=None):
    if ledgerId is None:
        row = alerts.mark_read_in_any_ledger(context.conn, context.user["id"], id)
    else:
        row = alerts.mark_read(context.conn, context.actor(ledgerId), id)
    return dump(AlertSchema, row, context.actor())


def with_alerts(kind: type[Schema], key: str, row: dict, actor: Actor, **extra) -> dict:
    """A write's answer (TransactionResult, BudgetResult): the row written, under `key`, and the
    alerts it fired."""
    fired = row.pop("alerts")
    return {
        key: item(kind, row, actor),
        "alerts": dump(AlertSchema, fired, actor, many=True),
        **extra,
    }


BINDABLES = [query, mutation]
