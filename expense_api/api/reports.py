"""/api/summary, /api/category-breakdown, /api/budget-usage, /api/trends."""

from __future__ import annotations

from flask.views import MethodView

from ..services import reports
from .core.blueprint import Blueprint
from .core.read_connection import read_conn
from .core.views import actor, analytics_cache, authenticated
from .schemas.base import PeriodQuerySchema
from .schemas.reports import (
    BudgetUsageSchema,
    CategoryBreakdownSchema,
    MonthQuerySchema,
    SummarySchema,
    TrendsQuerySchema,
    TrendsSchema,
)

blp = Blueprint("reports", __name__, url_prefix="/api", description="Reports")


@blp.route("/summary")
class Summary(MethodView):
    @authenticated(blp)
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200, SummarySchema)
    def get(self, query):
        """Income, expense, savings and savings rate of a period

        The period: month with year, or from and to, never both kinds; from after to is 422.
        A part means what a person would mean, in the ledger's time zone: month alone is that
        month of the current year, year alone the whole year, from alone runs to today (empty,
        `to` before `from`, when after today), to alone starts at the ledger's first
        transaction (at `to` itself when there is none on or before it). None: the current
        month. The answer's `from` and `to` say which days were counted."""
        return reports.summary(read_conn(), actor(), query, cache=analytics_cache())


@blp.route("/category-breakdown")
class CategoryBreakdown(MethodView):
    @authenticated(blp)
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200, CategoryBreakdownSchema)
    def get(self, query):
        """Expenses per category in a period, largest first

        The period as for /api/summary: month with year, or from and to, never both kinds,
        from not after to; a part means what a person would mean (month alone: of the current
        year; year alone: the whole year; from alone: up to today; to alone: from the ledger's
        first transaction); none: the current month, in the ledger's time zone."""
        return reports.category_breakdown(read_conn(), actor(), query, cache=analytics_cache())


@blp.route("/budget-usage")
class BudgetUsage(MethodView):
    @authenticated(blp)
    @blp.arguments(MonthQuerySchema, location="query")
    @blp.response(200, BudgetUsageSchema)
    def get(self, query):
        """Each budget of a month against what was spent

        month with year, or month alone (that month of the current year); none: the current
        month, in the ledger's time zone. A year alone names no month: 422."""
        return reports.budget_usage(read_conn(), actor(), query, cache=analytics_cache())


@blp.route("/trends")
class Trends(MethodView):
    @authenticated(blp)
    @blp.arguments(TrendsQuerySchema, location="query")
    @blp.response(200, TrendsSchema)
    def get(self, query):
        """Income, expense and savings per month, zeros included

        from and to (from not after to), or one of them (from alone: up to today; to alone:
        from the ledger's first transaction), or months (default 12) up to the current month,
        in the ledger's time zone. months with from or to, and month or year, are 422."""
        return reports.trends(read_conn(), actor(), query, cache=analytics_cache())
