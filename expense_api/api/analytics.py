"""/api/summary, /api/category-breakdown, /api/budget-usage, /api/trends."""

from __future__ import annotations

from flask.views import MethodView

from .. import periods
from ..analytics import service
from ..db import get_conn
from ..jsonio import Blueprint
from ..schemas.analytics import (
    BudgetUsageSchema,
    CategoryBreakdownSchema,
    MonthQuerySchema,
    SummarySchema,
    TrendsQuerySchema,
    TrendsSchema,
)
from ..schemas.common import PeriodQuerySchema
from .common import authenticated, currency, user, user_id

blp = Blueprint("analytics", __name__, url_prefix="/api", description="Reports")


@blp.route("/summary")
class Summary(MethodView):
    @authenticated(blp)
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200, SummarySchema)
    def get(self, query):
        """Income, expense, savings and savings rate of a period"""
        period = periods.resolve(query, user()["timezone"])
        return service.summary(get_conn(), user_id=user_id(), currency=currency(), period=period)


@blp.route("/category-breakdown")
class CategoryBreakdown(MethodView):
    @authenticated(blp)
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200, CategoryBreakdownSchema)
    def get(self, query):
        """Expenses per category in a period, largest first"""
        period = periods.resolve(query, user()["timezone"])
        return service.category_breakdown(get_conn(), user_id=user_id(), period=period)


@blp.route("/budget-usage")
class BudgetUsage(MethodView):
    @authenticated(blp)
    @blp.arguments(MonthQuerySchema, location="query")
    @blp.response(200, BudgetUsageSchema)
    def get(self, query):
        """Each budget of a month against what was spent"""
        if "month" in query:
            year, month = query["year"], query["month"]
        else:
            current = periods.current_month(user()["timezone"]).start
            year, month = current.year, current.month
        return service.budget_usage(get_conn(), user_id=user_id(), year=year, month=month)


@blp.route("/trends")
class Trends(MethodView):
    @authenticated(blp)
    @blp.arguments(TrendsQuerySchema, location="query")
    @blp.response(200, TrendsSchema)
    def get(self, query):
        """Income, expense and savings per month, zeros included"""
        if "from_" in query:
            period = periods.Period(query["from_"], query["to"])
        else:
            period = periods.last_months(query.get("months", 12), user()["timezone"])
        return service.trends(get_conn(), user_id=user_id(), period=period)
