"""The fields of a Ledger: its lists (batched across the ledgers of a list: context.batch), the
ones read one ledger at a time (computed once per ledger node), and the `ledger` field of what it
holds. Each calls the same service as the REST view that reads the same thing."""

from __future__ import annotations

from ariadne import ObjectType

from ...services import budgets, categories, invitations, ledgers, reports, transactions
from .. import pagination
from ..common import analytics_cache
from ..schemas.budgets import BudgetQuerySchema, BudgetSchema
from ..schemas.categories import CategorySchema
from ..schemas.common import PeriodQuerySchema
from ..schemas.invitations import InvitationSchema
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
from .context import connection, dump, given, item, load

ledger = ObjectType("Ledger")
owned = [ObjectType(name) for name in ("Category", "Transaction", "Budget")]
PERIOD_FIELDS = ("month", "year", "from_", "to")


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
        ("categories",), node, lambda actors: categories.list_for_ledgers(info.context.conn, actors)
    )
    return _items(CategorySchema, rows, node)


@ledger.field("budgets")
def resolve_budgets(node, info, month=None, year=None):
    args = load(BudgetQuerySchema, given(month=month, year=year), node["_actor"])

    def load_all(actors):
        return budgets.list_for_ledgers(info.context.conn, actors, **args)

    rows = info.context.batch(("budgets", month, year), node, load_all)
    return _items(BudgetSchema, rows, node)


@ledger.field("transactions")
def resolve_transactions(node, info, first=50, after=None, filter=None):
    asked = {**(filter or {}), "limit": first, "cursor": after}
    args = load(TransactionQuerySchema, given(**asked), node["_actor"])
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
        for row, value in zip(rows, _items(TransactionSchema, rows, node), strict=True)
    ]
    return connection(edges, next_cursor)


@ledger.field("members")
def resolve_members(node, info):
    rows = info.context.batch(
        ("members",), node, lambda actors: ledgers.members_for_ledgers(info.context.conn, actors)
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
    def resolve(node, info, **asked):
        actor = node["_actor"]
        query_args = load(query_schema, given(**arguments, **asked), actor)
        # The same analytics cache as REST's reports (never stale: docs/ARCHITECTURE.md).
        answer = service(info.context.conn, actor, query_args, cache=analytics_cache())
        return dump(out_schema, answer, actor)

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

BINDABLES = [ledger, *owned]
