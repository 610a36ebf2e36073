"""Transactions: a ledger's, a page at a time (batched across the ledgers of a list, each
page with its own period), one by id, a transaction's ledger, and their mutations."""

from __future__ import annotations

from ariadne import MutationType, ObjectType

from ....services import transactions
from ...core import pagination
from ...schemas.transactions import (
    TransactionInputSchema,
    TransactionPatchSchema,
    TransactionQuerySchema,
    TransactionSchema,
)
from ..context import connection, given, item, items, load, once_per_ledger, owner_ledger
from ..execution import writes
from .alerts import with_alerts

ledger = ObjectType("Ledger")
transaction = ObjectType("Transaction")
mutation = MutationType()
PERIOD_FIELDS = ("month", "year", "from_", "to")


@ledger.field("transactions")
def resolve_transactions(node, info, first=50, after=None, filter=None):
    asked = {**(filter or {}), "limit": first, "cursor": after}
    if "tags" in asked:  # REST's repeated `tag`
        asked["tag"] = asked.pop("tags")
    args = load(TransactionQuerySchema, given(**asked), node.actor)
    limit = args.pop("limit")
    cursor = args.pop("cursor", None)
    period_filter = {name: args.pop(name) for name in PERIOD_FIELDS if name in args}

    def load_all(actors):
        return transactions.pages_for_ledgers(
            info.context.conn,
            actors,
            period_filter=period_filter,
            limit=limit + 1,
            after=pagination.decode(cursor) if cursor else None,
            **args,
        )

    key = ("transactions", repr(sorted(asked.items())))
    rows, next_cursor = pagination.page(info.context.batch(key, node, load_all), limit)
    edges = [
        {"cursor": pagination.encode(row["occurred_on"], row["id"]), "node": value}
        for row, value in zip(rows, items(TransactionSchema, rows, node), strict=True)
    ]
    return connection(edges, next_cursor)


@ledger.field("transaction")
@once_per_ledger
def resolve_transaction(node, info, id):
    row = transactions.get(info.context.conn, node.actor, id)
    return item(TransactionSchema, row, node.actor, node)


transaction.set_field("ledger", owner_ledger)


@writes(mutation, "createTransaction")
def create_transaction(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(TransactionInputSchema, input, actor)
    row = transactions.create(context.conn, actor, body)
    return with_alerts(TransactionSchema, "transaction", row, actor)


@writes(mutation, "updateTransaction")
def update_transaction(context, id, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(TransactionPatchSchema, input, actor, partial=True)
    row = transactions.update(context.conn, actor, id, body)
    return with_alerts(TransactionSchema, "transaction", row, actor)


@writes(mutation, "deleteTransaction")
def delete_transaction(context, id, ledgerId=None):
    transactions.delete(context.conn, context.actor(ledgerId), id)
    return True


BINDABLES = [ledger, transaction, mutation]
