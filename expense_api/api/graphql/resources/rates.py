"""Rates: a ledger's exchange rates (read one ledger at a time: limits.ONE_LEDGER_AT_A_TIME) and
putRates, through the same service, pages and schemas as REST's /api/ledgers/{id}/rates."""

from __future__ import annotations

from ariadne import MutationType, ObjectType

from ....services import rates
from ...core import pagination
from ...schemas.rates import RateListSchema, RatePageSchema, RateQuerySchema, RatesPutSchema
from ..context import dump, given, load, once_per_ledger
from ..execution import writes

ledger = ObjectType("Ledger")
mutation = MutationType()


@ledger.field("rates")
@once_per_ledger
def resolve_rates(node, info, currency=None, limit=50, cursor=None, **period):
    query = load(
        RateQuerySchema, given(currency=currency, limit=limit, cursor=cursor, **period), node.actor
    )
    rows, next_cursor = pagination.rates_page(
        info.context.conn,
        node.actor,
        limit=query["limit"],
        cursor=query.get("cursor"),
        currency=query.get("currency"),
        from_day=query.get("from_"),
        to_day=query.get("to"),
    )
    return dump(RatePageSchema, {"items": rows, "next_cursor": next_cursor}, node.actor)


@writes(mutation, "putRates")
def put_rates(context, currency, items, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(RatesPutSchema, {"items": items}, actor)
    rows = rates.put(context.conn, actor, currency, body["items"])
    return dump(RateListSchema, {"items": rows}, actor)


BINDABLES = [ledger, mutation]
