"""Reports of a ledger: summary, categoryBreakdown, budgetUsage, trends. Batched as the lists
are: asked under `ledgers`, each report is read for all the listed ledgers at once (one
statement per report and level, each ledger with its own period and currency: the figures
`ledger(id)` gives for each), through the analytics cache as REST's reports are (read per
ledger; the misses computed together). Under `ledger(id)`, the one-ledger read, as REST's."""

from __future__ import annotations

from ariadne import ObjectType

from ....services import reports
from ...core.views import analytics_cache
from ...schemas.base import PeriodQuerySchema
from ...schemas.reports import (
    BudgetUsageSchema,
    CategoryBreakdownSchema,
    MonthQuerySchema,
    SummarySchema,
    TrendsQuerySchema,
    TrendsSchema,
)
from ..context import dump, given, load

ledger = ObjectType("Ledger")


def _report(read_for_ledgers, query_schema, out_schema):
    def resolve(node, info, **asked):
        query = load(query_schema, given(**asked), node.actor)

        def load_all(actors):
            # The same analytics cache as REST's reports (never stale: docs/ARCHITECTURE.md).
            return read_for_ledgers(info.context.conn, actors, query, cache=analytics_cache())

        answer = info.context.batch((info.field_name, repr(sorted(asked.items()))), node, load_all)
        return dump(out_schema, answer, node.actor)

    return resolve


ledger.set_field("summary", _report(reports.summary_for_ledgers, PeriodQuerySchema, SummarySchema))
ledger.set_field(
    "categoryBreakdown",
    _report(reports.category_breakdown_for_ledgers, PeriodQuerySchema, CategoryBreakdownSchema),
)
ledger.set_field(
    "budgetUsage", _report(reports.budget_usage_for_ledgers, MonthQuerySchema, BudgetUsageSchema)
)
ledger.set_field("trends", _report(reports.trends_for_ledgers, TrendsQuerySchema, TrendsSchema))

BINDABLES = [ledger]
