"""/api/budgets: create-or-update by (month, year, category), list, get, delete."""

from __future__ import annotations

from flask.views import MethodView

from ..budgeting import service
from ..db import get_conn
from ..jsonio import Blueprint
from ..schemas.budgets import BudgetInputSchema, BudgetListSchema, BudgetQuerySchema, BudgetSchema
from .common import authenticated, idempotent, problem_response, user_id

blp = Blueprint("budgets", __name__, url_prefix="/api/budgets", description="Monthly budgets")

_NOT_FOUND = "No such budget of yours"


@blp.route("")
class Budgets(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(BudgetInputSchema)
    @blp.response(201, BudgetSchema, description="Created")
    @blp.alt_response(200, schema=BudgetSchema, description="Updated: same id")
    def post(self, body):
        """Create the budget of (month, year, category), or update the one there"""
        budget, created = service.save(get_conn(), user_id=user_id(), values=body)
        return budget, 201 if created else 200

    @authenticated(blp)
    @blp.arguments(BudgetQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, BudgetListSchema)
    def get(self, year=None, month=None):
        """List budgets, optionally of one month and/or year"""
        items = service.list_for_user(get_conn(), user_id=user_id(), year=year, month=month)
        return {"items": items}


@blp.route("/<id:budget_id>")
class Budget(MethodView):
    @authenticated(blp)
    @blp.response(200, BudgetSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, budget_id):
        """Get a budget"""
        return service.get(get_conn(), user_id=user_id(), budget_id=budget_id)

    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 404, _NOT_FOUND)
    def delete(self, budget_id):
        """Delete a budget (and its alerts)"""
        service.delete(get_conn(), user_id=user_id(), budget_id=budget_id)
