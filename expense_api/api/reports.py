"""/api/summary, /api/category-breakdown, /api/budget-usage, /api/trends."""

from __future__ import annotations

from flask.views import MethodView

from ..services import reports
from .common import actor, analytics_cache, authenticated
from .jsonio import Blueprint
from .read_connection import read_conn
from .schemas.common import PeriodQuerySchema
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
        """Income, expense, savings and savings rate of a period"""
        return reports.summary(read_conn(), actor(), query, cache=analytics_cache())


@blp.route("/category-breakdown")
class CategoryBreakdown(MethodView):
    @authenticated(blp)
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200, CategoryBreakdownSchema)
    def get(self, query):
        """Expenses per category in a period, largest first"""
        return reports.category_breakdown(read_conn(), actor(), query, cache=analytics_cache())


@blp.route("/budget-usage")
class BudgetUsage(MethodView):
    @authenticated(blp)
    @blp.arguments(MonthQuerySchema, location="query")
    @blp.response(200, BudgetUsageSchema)
    def get(self, query):
        """Each budget of a month against what was spent"""
        return reports.budget_usage(read_conn(), actor(), query, cache=analytics_cache())


@blp.route("/trends")
class Trends(MethodView):
    @authenticated(blp)
    @blp.arguments(TrendsQuerySchema, location="query")
    @blp.response(200, TrendsSchema)
    def get(self, query):
        """Income, expense and savings per month, zeros included"""
        return reports.trends(read_conn(), actor(), query, cache=analytics_cache())
