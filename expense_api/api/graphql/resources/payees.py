"""Payees: a ledger's payees in use (batched across the ledgers of a list), through the same
service and schemas as REST's GET /api/ledgers/<id>/payees (api/payees.py)."""

from __future__ import annotations

from ariadne import ObjectType

from ....services import payees
from ...schemas.payees import PayeeQuerySchema, PayeeSchema
from ..context import dump, given, load

ledger = ObjectType("Ledger")


@ledger.field("payees")
def resolve_payees(node, info, q=None, limit=50):
    args = load(PayeeQuerySchema, given(q=q, limit=limit), node.actor)

    def load_all(actors):
        return payees.list_for_ledgers(info.context.conn, actors, **args)

    rows = info.context.batch(("payees", q, limit), node, load_all)
    return dump(PayeeSchema, rows, node.actor, many=True)


BINDABLES = [ledger]
