"""Query resolvers: the caller, their ledgers and everything in a ledger, their alerts and
invitations. Each calls the same service as the REST view that reads the same thing (the
services authorize); lists under a ledger go through the batched loaders (context.batch)."""

from __future__ import annotations

from ariadne import ObjectType, QueryType

from ...services import (
    alerts,
    budgets,
    categories,
    invitations,
    ledger_batches,
    ledgers,
    reports,
    transactions,
)
from .. import pagination
from ..schemas.alerts import AlertQuerySchema, AlertSchema
from ..schemas.auth import UserSchema
from ..schemas.budgets import BudgetQuerySchema, BudgetSchema
from ..schemas.categories import CategorySchema
from ..schemas.common import PeriodQuerySchema
from ..schemas.invitations import InvitationSchema, MyInvitationSchema
from ..schemas.ledgers import MemberSchema
from ..schemas.reports import (
    BudgetUsageSchema,
    CategoryBreakdownSchema,
    MonthQuerySchema,
    SummarySchema,
    TrendsQuerySchema,
    TrendsSchema,
)
from ..schemas.transactions import TransactionQuerySchema, TransactionSchema
from .context import dump, item, load

query = QueryType()
ledger = ObjectType("Ledger")
owned = [ObjectType(name) for name in ("Category", "Transaction", "Budget")]
PERIOD_FIELDS = ("month", "year", "from_", "to")


def _given(**arguments) -> dict:
    """GraphQL arguments as REST's query parameters: the ones given, by REST's names."""
    return {name: value for name, value in arguments.items() if value is not None}


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
    args = load(AlertQuerySchema, _given(unread=unread, limit=first, cursor=after), actor)
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
    return _connection(edges, next_cursor)


def _connection(edges: list[dict], next_cursor: str | None) -> dict:
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": next_cursor is not None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


@query.field("invitations")
def resolve_my_invitations(_, info):
    context = info.context
    rows = invitations.pending_for(context.conn, context.user["id"])
    return dump(MyInvitationSchema, rows, context.actor(), many=True)


# -- a ledger's contents --------------------------------------------------------------------


def _items(kind, rows, node) -> list[dict]:
    actor = node["_actor"]
    return [item(value, actor, node) for value in dump(kind, rows, actor, many=True)]


def once_per_ledger(resolve):
    """A ledger field read one ledger at a time (limits.ONE_LEDGER_AT_A_TIME) is computed once per
    ledger node and arguments: the many transactions of a page share their `ledger`, so
    `transactions { nodes { ledger { summary } } }` reads the summary once."""

    def memoized(node, info, **arguments):
        memo = node.setdefault("_memo", {})
        key = (info.field_name, repr(sorted(arguments.items())))
        if key not in memo:
            try:
                memo[key] = resolve(node, info, **arguments)
            except Exception as error:
                memo[key] = error
        if isinstance(memo[key], Exception):
            raise memo[key]
        return memo[key]

    return memoized


@ledger.field("categories")
def resolve_categories(node, info):
    rows = info.context.batch(
        ("categories",), node, lambda actors: ledger_batches.categories(info.context.conn, actors)
    )
    return _items(CategorySchema, rows, node)


@ledger.field("budgets")
def resolve_budgets(node, info, month=None, year=None):
    args = load(BudgetQuerySchema, _given(month=month, year=year), node["_actor"])

    def load_all(actors):
        return ledger_batches.budgets(info.context.conn, actors, **args)

    rows = info.context.batch(("budgets", month, year), node, load_all)
    return _items(BudgetSchema, rows, node)


@ledger.field("transactions")
def resolve_transactions(node, info, first=50, after=None, filter=None):
    given = {**(filter or {}), "limit": first, "cursor": after}
    args = load(TransactionQuerySchema, _given(**given), node["_actor"])
    limit = args.pop("limit")
    cursor = args.pop("cursor", None)
    period_filter = {name: args.pop(name) for name in PERIOD_FIELDS if name in args}

    def load_all(actors):
        return ledger_batches.transaction_pages(
            info.context.conn,
            actors,
            period_filter=period_filter,
            limit=limit + 1,
            after=pagination.decode(cursor) if cursor else None,
            **args,
        )

    key = ("transactions", repr(sorted(given.items())))
    rows, next_cursor = pagination.page(info.context.batch(key, node, load_all), limit)
    edges = [
        {"cursor": pagination.encode(row["occurred_on"], row["id"]), "node": value}
        for row, value in zip(rows, _items(TransactionSchema, rows, node), strict=True)
    ]
    return _connection(edges, next_cursor)


@ledger.field("members")
def resolve_members(node, info):
    rows = info.context.batch(
        ("members",), node, lambda actors: ledger_batches.members(info.context.conn, actors)
    )
    return dump(MemberSchema, rows, node["_actor"], many=True)


@ledger.field("invitations")
@once_per_ledger
def resolve_ledger_invitations(node, info):
    rows = invitations.list_for_ledger(info.context.conn, node["_actor"])
    return dump(InvitationSchema, rows, node["_actor"], many=True)


def _one(service, out_schema):
    """A ledger's category, transaction or budget by id (not_found when not in this ledger)."""

    @once_per_ledger
    def resolve(node, info, id):
        actor = node["_actor"]
        return item(dump(out_schema, service(info.context.conn, actor, id), actor), actor, node)

    return resolve


ledger.set_field("category", _one(categories.get, CategorySchema))
ledger.set_field("transaction", _one(transactions.get, TransactionSchema))
ledger.set_field("budget", _one(budgets.get, BudgetSchema))


def _report(service, query_schema, out_schema, **arguments):
    @once_per_ledger
    def resolve(node, info, **given):
        actor = node["_actor"]
        query_args = load(query_schema, _given(**arguments, **given), actor)
        return dump(out_schema, service(info.context.conn, actor, query_args), actor)

    return resolve


ledger.set_field("summary", _report(reports.summary, PeriodQuerySchema, SummarySchema))
ledger.set_field(
    "categoryBreakdown",
    _report(reports.category_breakdown, PeriodQuerySchema, CategoryBreakdownSchema),
)
ledger.set_field("budgetUsage", _report(reports.budget_usage, MonthQuerySchema, BudgetUsageSchema))
ledger.set_field("trends", _report(reports.trends, TrendsQuerySchema, TrendsSchema))


def resolve_owner_ledger(value, info):
    """A category's, transaction's or budget's ledger: the node it was read under, or (for what
    a mutation answers) the ledger the mutation acted in."""
    return value["_ledger"] or info.context.ledger_node(value["_actor"])


for kind in owned:
    kind.set_field("ledger", resolve_owner_ledger)

BINDABLES = [query, ledger, *owned]
