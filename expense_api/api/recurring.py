"""/api/recurring: recurring rules (create, list, get, change, delete), their occurrences and a
preview of their next dates. The worker creates the occurrences (services/recurring/runs.py)."""

from __future__ import annotations

from flask.views import MethodView

from ..services.recurring import rules as recurring
from .core import pagination
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, problem_response
from .schemas.recurring import (
    OccurrencePageSchema,
    OccurrenceQuerySchema,
    PreviewQuerySchema,
    PreviewSchema,
    RecurringInputSchema,
    RecurringListSchema,
    RecurringPatchSchema,
    RecurringSchema,
)

blp = Blueprint(
    "recurring", __name__, url_prefix="/api/recurring", description="Recurring transactions"
)

_NOT_FOUND = "No such recurring rule in this ledger"


@blp.route("")
class RecurringRules(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(RecurringInputSchema)
    @blp.response(201, RecurringSchema)
    def post(self, body):
        """Create a recurring rule (a start date in the past is caught up by the worker)"""
        return recurring.create(get_conn(), actor(), body)

    @authenticated(blp)
    @blp.response(200, RecurringListSchema)
    def get(self):
        """List the ledger's recurring rules, oldest first"""
        return {"items": recurring.list_all(get_conn(), actor())}


@blp.route("/<id:rule_id>")
class RecurringRule(MethodView):
    @authenticated(blp)
    @blp.response(200, RecurringSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, rule_id):
        """Get a recurring rule"""
        return recurring.get(get_conn(), actor(), rule_id)

    @authenticated(blp)
    @blp.arguments(RecurringPatchSchema(partial=True))
    @blp.response(200, RecurringSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def patch(self, body, rule_id):
        """Change a rule: only dates not handled yet change; resuming a paused rule catches up"""
        return recurring.update(get_conn(), actor(), rule_id, body)

    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 404, _NOT_FOUND)
    def delete(self, rule_id):
        """Delete a rule: it stops, and the transactions it created stay"""
        recurring.delete(get_conn(), actor(), rule_id)


@blp.route("/<id:rule_id>/occurrences")
class Occurrences(MethodView):
    @authenticated(blp)
    @blp.arguments(OccurrenceQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, OccurrencePageSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, rule_id, limit, cursor=None):
        """The dates a rule has handled (created or skipped), newest first"""
        items, next_cursor = pagination.occurrences_page(
            get_conn(), actor(), rule_id, limit, cursor
        )
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/<id:rule_id>/preview")
class Preview(MethodView):
    @authenticated(blp)
    @blp.arguments(PreviewQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, PreviewSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, rule_id, count):
        """The next dates the rule will handle (`count` of them, at most 100)"""
        dates = recurring.preview(get_conn(), actor(), rule_id, count=count)
        return {"items": [{"date": day} for day in dates]}
