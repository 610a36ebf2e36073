"""/api/budgets: create-or-update by (month, year, category), list, get, delete."""

from __future__ import annotations

from flask.views import MethodView

from ..services import budgets
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, problem_response
from .schemas.budgets import (
    BudgetInputSchema,
    BudgetListSchema,
    BudgetQuerySchema,
    BudgetSchema,
    SavedBudgetSchema,
)

blp = Blueprint("budgets", __name__, url_prefix="/api/budgets", description="Monthly budgets")

_NOT_FOUND = "No such budget of yours"


@blp.route("")
class Budgets(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(BudgetInputSchema)
    @blp.response(201, SavedBudgetSchema, description="Created")
    @blp.alt_response(200, schema=SavedBudgetSchema, description="Updated: same id")
    def post(self, body):
        """Create the budget of (month, year, category), or update the one there"""
        budget, created = budgets.save(get_conn(), actor(), body)
        return budget, 201 if created else 200

    @authenticated(blp)
    @blp.arguments(BudgetQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, BudgetListSchema)
    def get(self, year=None, month=None):
        """List budgets, optionally of one month and/or year"""
        items = budgets.list_all(get_conn(), actor(), year=year, month=month)
        return {"items": items}


@blp.route("/<id:budget_id>")
class Budget(MethodView):
    @authenticated(blp)
    @blp.response(200, BudgetSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, budget_id):
        """Get a budget"""
        return budgets.get(get_conn(), actor(), budget_id)

    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 404, _NOT_FOUND)
    def delete(self, budget_id):
        """Delete a budget (and its alerts)"""
        budgets.delete(get_conn(), actor(), budget_id)
