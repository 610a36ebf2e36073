"""/api/notifications: the budget alerts, newest first; marking one read."""

from __future__ import annotations

from flask.views import MethodView

from ..services import alerts
from . import pagination
from .common import actor, authenticated, idempotent, problem_response
from .jsonio import Blueprint
from .request_transaction import get_conn
from .schemas.alerts import AlertPageSchema, AlertQuerySchema, AlertSchema

# The URL (and so the tag) says notifications: that is the contract; the code says alerts.
blp = Blueprint(
    "notifications", __name__, url_prefix="/api/notifications", description="Budget alerts"
)


@blp.route("")
class Alerts(MethodView):
    @authenticated(blp)
    @blp.arguments(AlertQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, AlertPageSchema)
    def get(self, unread, limit, cursor=None):
        """List alerts, newest first"""
        rows = alerts.list_page(
            get_conn(),
            actor(),
            unread_only=unread,
            limit=limit + 1,
            before_id=pagination.decode_id(cursor) if cursor else None,
        )
        items, next_cursor = pagination.page_by_id(rows, limit)
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/<id:alert_id>/read")
class MarkRead(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.response(200, AlertSchema)
    @problem_response(blp, 404, "No such alert of yours")
    def post(self, alert_id):
        """Mark an alert read (reading it again keeps the first time)"""
        return alerts.mark_read(get_conn(), actor(), alert_id)
